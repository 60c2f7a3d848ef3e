"""Threat: a portfolio given to `refsheets import` that costs without bound.

A 6 MB .docx whose document.xml inflates to 2 GB (MemoryError); 300,000 paragraphs
(minutes); a 3,000-page PDF; a 49 MiB text file (file naming was cubic in the number of
missions); a 200 KB line of `**a ` (the bold and link patterns were quadratic: 103 s);
an AES-256 PDF (a traceback asking for `cryptography`); U+0085 or U+2029 in the text
(exit 70). Each bound gives a clear error before the work is done; the figures are
printed by bench/bench_hostile_import.py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pytest

from refsheets.errors import RefsheetsError
from refsheets.importer import import_portfolio
from refsheets.importer.extract import (
    MAX_DOCX_XML,
    MAX_LINE_CHARS,
    MAX_PARAGRAPHS,
    MAX_PDF_PAGES,
    MAX_TEXT_BYTES,
    extract_lines,
)
from refsheets.importer.parse import MAX_MISSIONS
from tests.conftest import ROOT, run_cli

MISSION = (
    "CC Haute-Somme\n\n2019 - 2020\n\nFeuille de route d'un tiers-lieu\n\nContexte\n\n"
    "{context}\n\nRéalisations\n\n- Ateliers de co-conception\n\n20 000 € HT\n\n"
)


def _docx(path: Path, body: bytes, repeat: int) -> Path:
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            if item.filename == "word/document.xml":
                with out.open(item.filename, "w") as handle:
                    handle.write(
                        b'<w:document xmlns:w="http://schemas.openxmlformats.org/'
                        b'wordprocessingml/2006/main"><w:body>'
                    )
                    for _ in range(repeat):
                        handle.write(body)
                    handle.write(b"</w:body></w:document>")
            else:
                out.writestr(item, source.read(item.filename))
    return path


def _pdf(path: Path, pages: int, **save: object) -> Path:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    pdf.save(path, **save)  # type: ignore[arg-type]
    return path


def test_a_docx_that_inflates_past_the_bound_is_refused_before_parsing(tmp_path: Path) -> None:
    paragraph = b"<w:p><w:r><w:t>Atelier de co-conception</w:t></w:r></w:p>" * 1000
    repeat = MAX_DOCX_XML // len(paragraph) + 2
    path = _docx(tmp_path / "bomb.docx", paragraph, repeat)
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(RefsheetsError, match=r"inflates to 16 MiB once unzipped"):
        extract_lines(path)


def test_a_docx_of_too_many_paragraphs(tmp_path: Path) -> None:
    path = _docx(tmp_path / "many.docx", b"<w:p/>", MAX_PARAGRAPHS + 1)
    with pytest.raises(RefsheetsError, match=r"has 10001 paragraphs; .* at most 10000"):
        extract_lines(path)


def test_a_pdf_of_too_many_pages(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "long.pdf", MAX_PDF_PAGES + 1)
    with pytest.raises(RefsheetsError, match=r"has 301 pages; a portfolio is at most 300"):
        extract_lines(path)


def test_an_aes_encrypted_pdf_is_a_clear_error(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "aes.pdf", 1, encryption=pikepdf.Encryption(owner="o", user="", R=6))
    result = run_cli(["--library", str(tmp_path / "none"), "import", str(path), "--dry-run"])
    assert result.returncode == 1, result.stderr
    assert "aes.pdf is an encrypted PDF; save an unprotected copy" in result.stderr
    assert "cryptography" not in result.stderr


def test_a_text_portfolio_past_the_size_bound(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"a\n" * (MAX_TEXT_BYTES // 2 + 1))
    with pytest.raises(RefsheetsError, match=r"big.txt is over 4 MiB"):
        extract_lines(path)


def test_a_portfolio_that_is_a_fifo(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    os.mkfifo(path)
    with pytest.raises(RefsheetsError, match=r"p.txt is a named pipe \(FIFO\)"):
        extract_lines(path)


def test_a_line_past_the_bound_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(MISSION.format(context="**a " * (MAX_LINE_CHARS // 4 + 1)), encoding="utf-8")
    with pytest.raises(RefsheetsError, match=r"long.txt: line 9 is 20 003 characters long"):
        extract_lines(path)


def test_too_many_missions(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    path.write_text(MISSION.format(context="Un atelier.") * (MAX_MISSIONS + 1), encoding="utf-8")
    with pytest.raises(RefsheetsError, match=r"holds 501 missions; one import takes at most 500"):
        import_portfolio(path, tmp_path / "out", dry_run=True)


def _finishes(code: str) -> None:
    """Run `code` in a child process; fail when it does not end (the quadratic and cubic
    versions ran for minutes on these inputs)."""
    try:
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60, capture_output=True
        )
    except subprocess.TimeoutExpired:
        pytest.fail("did not finish in 60 s: the work is not linear in the input")


def test_bold_and_link_patterns_are_linear() -> None:
    _finishes(
        "from refsheets.importer.extract import Line\n"
        "from refsheets.importer.parse import _strip_markup\n"
        "for unit in ('**a ', '__a ', '[a](', '[[a]'):\n"
        "    _strip_markup(Line(unit * 50_000, 1))\n"
        "assert _strip_markup(Line('Un **gras** et [lien](https://x.fr)', 1)).text"
        " == 'Un gras et lien'\n"
    )


def test_file_naming_is_linear() -> None:
    _finishes(
        "from refsheets.importer.extract import Line\n"
        "from refsheets.importer.parse import Draft\n"
        "from refsheets.importer.write import file_stems\n"
        "drafts = []\n"
        "for i in range(5_000):\n"
        "    d = Draft(i + 1, Line('x', 1)); d.title = 'Atelier'; d.client = 'Lille'\n"
        "    drafts.append(d)\n"
        "stems = file_stems(drafts)\n"
        "assert len(set(stems)) == 5_000 and stems[-1] == 'lille-atelier-5000', stems[-1]\n"
    )


def test_line_and_paragraph_separators(tmp_path: Path) -> None:
    path = tmp_path / "seps.txt"
    context = "Première phase\u0085deuxième phase.\u2029Troisième\u2028phase\u202e."
    path.write_text(MISSION.format(context=context), encoding="utf-8")
    report = import_portfolio(path, tmp_path / "out")
    (mission,) = report.missions
    assert mission.draft.context is not None
    assert "Troisième" in mission.draft.context
    for char in "\u0085\u2028\u2029\u202e":
        assert char not in mission.text
    assert (tmp_path / "out" / mission.path.name).is_file()
