"""Threat: a damaged font file in a library's own layouts (a brand's fonts copied short,
or replaced by something that is not a font).

fontTools, reading the font for the characters it can draw (and for the fit bound),
raised its own error from deep inside, and `check` and `render` ended with "internal
error" (exit 70). The file is now named, with what to do, as a user error (exit 4); the
fit bound gives up on such a font rather than fail.
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
    for command in (["check"], ["render", "good-a", "--out", str(tmp_path / "out")]):
        result = run_cli(["--library", str(library), *command], cwd=tmp_path)
        assert result.returncode == 4, result.stderr
        assert f"the font file {font} of layout 'pop-up' cannot be read" in result.stderr
        assert "put back the family's original file" in result.stderr
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert not (tmp_path / "out" / "good-a.pdf").exists()
