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


def _word_card(library_copy: Path, tmp_path: Path) -> bytes:
    """A Word card as `refsheets render` writes it (with its fonts)."""
    from refsheets.render import render

    (path,) = render(
        load_library(library_copy),
        ["anzin-mediation-numerique-qpv"],
        formats=["docx"],
        out_dir=tmp_path,
    )
    return path.read_bytes()


def test_without_embedded_fonts_keeps_the_document(library_copy: Path, tmp_path: Path) -> None:
    data = _word_card(library_copy, tmp_path)
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


def test_without_embedded_fonts_copies_the_entries_it_keeps(
    library_copy: Path, tmp_path: Path
) -> None:
    """The entries kept go over deflated as they were, whatever wrote the zip: the same
    bytes as inflating them and deflating them again for a zip of ours; for a zip from
    elsewhere (some entries stored, others deflated at another level, extra fields),
    the same entries."""
    from refsheets.render.docx_package import write_zip

    ours = _word_card(library_copy, tmp_path)
    with zipfile.ZipFile(io.BytesIO(ours)) as package:
        entries = {name: package.read(name) for name in package.namelist()}
    stripped = without_embedded_fonts(ours)
    again = without_embedded_fonts(write_zip(entries))  # every entry deflated anew
    assert stripped == again
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as other:
        for number, (name, payload) in enumerate(entries.items()):
            stored = number % 2 == 0
            info = zipfile.ZipInfo(name, date_time=(2001, 2, 3, 4, 5, 6))
            info.extra = b"\xca\xfe\x04\x00" + number.to_bytes(4, "little")  # an extra field
            other.writestr(
                info,
                payload,
                compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
                compresslevel=None if stored else 1,
            )
    from_elsewhere = without_embedded_fonts(buffer.getvalue())
    with (
        zipfile.ZipFile(io.BytesIO(from_elsewhere)) as mine,
        zipfile.ZipFile(io.BytesIO(stripped)) as theirs,
    ):
        assert mine.testzip() is None
        assert {n: mine.read(n) for n in mine.namelist()} == {
            n: theirs.read(n) for n in theirs.namelist()
        }
