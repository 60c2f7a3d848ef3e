"""Threat: a damaged font file in a library's own layouts (a brand's fonts copied short,
or replaced by something that is not a font).

fontTools, reading the font for the characters it can draw (and for the fit bound),
raised its own error from deep inside, and `check` and `render` (PDF and Word) ended with
"internal error" (exit 70). A layout's font files are now checked when its faces are
first listed (`layouts.check_font_file`), so every reader trusts them: the file is named,
with what to do, as a user error (exit 4).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from refsheets.layouts import LAYOUTS_ROOT
from tests.conftest import run_cli


def test_a_damaged_font_file_is_a_user_error_naming_it(library: Path, tmp_path: Path) -> None:
    shutil.copytree(LAYOUTS_ROOT, library.parent / "layouts")
    shutil.copytree(LAYOUTS_ROOT.parent / "fonts", library.parent / "fonts")
    font = library.parent / "fonts" / "lato" / "Lato-Regular.ttf"
    font.write_bytes(font.read_bytes()[:5000])
    commands = [
        ["check"],
        ["render", "good-a", "--out", str(tmp_path / "out")],
        ["render", "good-a", "--format", "docx", "--out", str(tmp_path / "out")],
    ]
    for command in commands:
        result = run_cli(["--library", str(library), *command], cwd=tmp_path)
        assert result.returncode == 4, result.stderr
        assert f"the font file {font} of layout 'pop-up' cannot be read" in result.stderr
        assert "put back the family's original file" in result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert not list((tmp_path / "out").glob("good-a.*"))  # no card, half made or not
    # Something else under a font's name: the same answer.
    font.write_text("not a font", encoding="utf-8")
    result = run_cli(["--library", str(library), "check"], cwd=tmp_path)
    assert result.returncode == 4 and f"the font file {font}" in result.stderr
