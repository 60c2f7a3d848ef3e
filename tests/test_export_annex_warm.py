"""A warm export: another tender answered with cards already in the cache (issue 15).

The cover's tender words are drawn over a laid-out page that depends only on the layout,
the language and the number of lines of the title; so another tender's annex lays out
nothing, and neither WeasyPrint nor python-docx is imported. The font subsets it needs
come from the cache, where a damaged entry is dropped and cut again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pikepdf
import pytest

from refsheets import load_library
from refsheets.export import ANNEX_DOCX, ANNEX_PDF, LEAN_DOCX, export_tender, plan_export
from refsheets.export.annex import front_html
from refsheets.export.cache import CardCache
from tests.conftest import ROOT, SEED

TODAY = date(2026, 3, 1)

_EXPORT = """
import sys
from datetime import date
from pathlib import Path
from refsheets.export import export_tender
from refsheets.library import load_library
report = export_tender(Path(sys.argv[1]), load_library(Path(sys.argv[2])),
                       out_root=Path(sys.argv[3]), today=date(2026, 3, 1), jobs=1)
print(report.cached, "weasyprint" in sys.modules, "docx" in sys.modules)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(SEED, tmp_path, dirs_exist_ok=True)
    for name in ("layouts", "fonts"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def _other_tender(project: Path, name: str, reference: str) -> Path:
    """The example tender under another name and reference (the same references)."""
    source = (project / "tenders" / "example.yaml").read_text(encoding="utf-8")
    start = source.index("name: >-")
    end = source.index("buyer:")
    text = source[:start] + f"name: {name}\n" + source[end:]
    text = text.replace('reference: "2026-AMO-TL-03"', f'reference: "{reference}"')
    path = project / "tenders" / f"{reference}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_laid_out_cover_holds_no_tender_words(project: Path) -> None:
    library = load_library(project / "data")
    short = [
        plan_export(
            _other_tender(project, name, ref), library, out_root=project / "out", today=TODAY
        )
        for name, ref in (("Tiers-lieu de Montreuil", "A-1"), ("Halle gourmande", "A-2"))
    ]
    assert front_html(short[0]) == front_html(short[1])
    assert "Montreuil" not in front_html(short[0])
    long_name = "Programmation d'un tiers-lieu " * 6
    longer = plan_export(
        _other_tender(project, long_name.strip(), "A-3"),
        library,
        out_root=project / "out",
        today=TODAY,
    )
    assert front_html(longer) != front_html(short[0])  # room for more lines of title


def test_another_tender_lays_nothing_out_and_imports_neither_renderer(project: Path) -> None:
    library = load_library(project / "data")
    first = _other_tender(project, "Tiers-lieu de Montreuil", "A-1")
    export_tender(first, library, out_root=project / "out", today=TODAY, jobs=1)
    second = _other_tender(project, "Halle gourmande de Lens", "A-2")
    result = subprocess.run(
        [sys.executable, "-c", _EXPORT, str(second), str(project / "data"), str(project / "out")],
        capture_output=True,
        text=True,
        check=True,
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.stdout.split()[-2:] == ["False", "False"], result.stdout
    annex = project / "out" / "a-2" / ANNEX_PDF
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", annex, "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Halle gourmande de Lens" in text and "A-2" in text and "Montreuil" not in text


def test_a_damaged_font_subset_in_the_cache_is_cut_again(project: Path) -> None:
    library = load_library(project / "data")
    first = _other_tender(project, "Tiers-lieu de Montreuil", "A-1")
    export_tender(first, library, out_root=project / "out", today=TODAY, jobs=1)
    subsets = sorted((project / "out" / ".cache").rglob("*.ttf"))
    assert subsets  # the merged subsets were kept
    for path in subsets:
        path.write_bytes(path.read_bytes()[:-40] + b"\0" * 40)  # same length, other bytes
    second = _other_tender(project, "Halle gourmande de Lens", "A-2")
    report = export_tender(second, library, out_root=project / "out", today=TODAY, jobs=1)
    assert any("damaged" in warning for warning in report.warnings)
    with pikepdf.open(project / "out" / "a-2" / ANNEX_PDF) as pdf:
        for page in pdf.pages[:2]:
            for font in page.Resources.Font.values():
                program = font.DescendantFonts[0].FontDescriptor.FontFile2.read_bytes()
                assert program[:4] == b"\0\1\0\0" and not program.endswith(b"\0" * 40)


def test_word_cards_without_their_fonts_come_from_the_cache(project: Path) -> None:
    library = load_library(project / "data")
    first = _other_tender(project, "Tiers-lieu de Montreuil", "A-1")
    report = export_tender(first, library, out_root=project / "out", today=TODAY, jobs=1)
    lean = sorted((project / "out" / ".cache").rglob(f"*.{LEAN_DOCX}"))
    # Every Word card but the first (the annex takes the fonts from it), as written out.
    assert len(lean) == len(report.plan.references) - 1 > 1
    written = {p.read_bytes() for p in (project / "out" / "a-1" / "cards").glob("*.docx")}
    assert {CardCache(project / "out" / ".cache").get(p.stem, LEAN_DOCX) for p in lean} < written
    lean[0].write_bytes(lean[0].read_bytes()[:-40] + b"\0" * 40)  # damaged: dropped, made again
    second = _other_tender(project, "Halle gourmande de Lens", "A-2")
    report = export_tender(second, library, out_root=project / "out", today=TODAY, jobs=1)
    assert any("damaged" in warning for warning in report.warnings)
    assert report.cached == {
        "pdf": len(report.plan.references),
        "docx": len(report.plan.references),
    }
    for path in sorted((project / "out" / "a-2" / "cards").glob("*.docx")):
        with zipfile.ZipFile(path) as card:
            names = card.namelist()
            assert "word/document.xml" in names and not any(
                n.startswith("word/fonts/") for n in names
            )
            assert b"<w:embedRegular" not in card.read("word/fontTable.xml")
    with zipfile.ZipFile(project / "out" / "a-2" / ANNEX_DOCX) as annex:
        assert any(n.startswith("word/fonts/") for n in annex.namelist())  # the fonts, once
        body = annex.read("word/document.xml").decode()
    for ref in report.plan.references:
        assert ref.card.title.split()[0] in body
