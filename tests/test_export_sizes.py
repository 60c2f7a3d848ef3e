"""What keeps an export small: the fonts once per package (Word cards without their own
copy, the annex PDF with one subset per face), whatever the cache holds."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import date
from pathlib import Path

import docx
import pikepdf

from refsheets.export import export_tender
from refsheets.export.fonts import without_embedded_fonts
from refsheets.library import load_library
from tests.conftest import SEED_TENDERS


def _font_entries(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return [n for n in package.namelist() if n.startswith("word/fonts/")]


def test_an_export_carries_each_font_once(library_copy: Path, tmp_path: Path) -> None:
    report = export_tender(
        SEED_TENDERS / "example.yaml",
        load_library(library_copy),
        out_root=tmp_path / "out",
        today=date(2026, 3, 1),
        jobs=1,
    )
    folder = report.plan.target
    word_cards = sorted((folder / "cards").glob("*.docx"))
    assert len(word_cards) == len(report.plan.references) >= 2
    for path in word_cards:
        assert _font_entries(path.read_bytes()) == []
        docx.Document(str(path))  # still a Word document
    annex = (folder / "annexe-references.docx").read_bytes()
    assert len(_font_entries(annex)) >= 3  # the brand's faces, once

    with pikepdf.open(folder / "annexe-references.pdf") as pdf:
        programs = [
            hashlib.sha256(obj.FontFile2.read_raw_bytes()).hexdigest()
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Dictionary)
            and obj.get("/Type") == "/FontDescriptor"
            and "/FontFile2" in obj
        ]
        names = [
            str(obj.FontName).split("+")[-1]
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"
        ]
    assert len(programs) == len(set(programs)) == len(set(names))  # one subset per face

    # The zip holds what the folder holds (the Word cards without fonts too).
    with zipfile.ZipFile(next(folder.glob("*.zip"))) as archive:
        member = next(n for n in archive.namelist() if n.endswith(".docx") and "/cards/" in n)
        assert _font_entries(archive.read(member)) == []


def test_without_embedded_fonts_keeps_the_document(library_copy: Path, tmp_path: Path) -> None:
    from refsheets.render import render

    (path,) = render(
        load_library(library_copy),
        ["anzin-mediation-numerique-qpv"],
        formats=["docx"],
        out_dir=tmp_path,
    )
    data = path.read_bytes()
    assert _font_entries(data)
    stripped = without_embedded_fonts(data)
    assert _font_entries(stripped) == [] and len(stripped) < len(data) // 3
    with zipfile.ZipFile(io.BytesIO(stripped)) as package:
        assert b"embedRegular" not in package.read("word/fontTable.xml")
        assert b"embedTrueTypeFonts" not in package.read("word/settings.xml")
        assert "word/_rels/fontTable.xml.rels" not in package.namelist()
    before = docx.Document(io.BytesIO(data))
    after = docx.Document(io.BytesIO(stripped))
    assert [p.text for p in after.paragraphs] == [p.text for p in before.paragraphs]
    assert [s.name for s in after.styles] == [s.name for s in before.styles]
    assert without_embedded_fonts(stripped) == stripped  # reproducible, idempotent
