"""Reading portfolio files into lines: text, Markdown, Word and PDF, and what is refused."""

from __future__ import annotations

import html
from pathlib import Path

import docx
import pikepdf
import pytest

from refsheets.errors import NotFoundError, RefsheetsError
from refsheets.importer.extract import PAGE_BREAK, clean_text, extract_lines

# Two mission pages, shared by the Word and PDF samples: (header, sections, footer).
SAMPLE_PAGES: list[dict[str, list[str]]] = [
    {
        "header": ["Ville de Roubaix", "2020 - 2021", "Une friche devenue tiers-lieu"],
        "context": ["La Ville de Roubaix veut rendre une friche textile à ses habitants."],
        "approach": ["Trois temps :"],
        "steps": ["écouter les voisins", "prototyper les usages"],
        "deliverables": ["2 ateliers de co-conception", "1 programme du lieu"],
        "tags": ["#tiers-lieu #Friche #co-design"],
        "budget": ["18 500 € HT", "de budget"],
        "footer": ["POP Up", "popupequipe@pop.eu.com"],
        "partner": ["avec la Compagnie des Tiers-lieux", "Hauts de France"],
    },
    {
        "header": ["Commune d'Ennevelin", "2022", "Animer la maison des associations"],
        "context": ["La commune d'Ennevelin rouvre sa maison des associations."],
        "approach": ["POP Café anime le lieu avec les bénévoles."],
        "steps": [],
        "deliverables": ["Programme d'animation sur un an"],
        "tags": [],
        "budget": ["9 000 € TTC", "de budget"],
        "footer": ["POP Café", "contact@pop.cafe"],
        "partner": [],
    },
]


def make_docx(path: Path) -> Path:
    """A Word portfolio: section names as paragraphs, real list styles, page breaks."""
    document = docx.Document()
    for number, page in enumerate(SAMPLE_PAGES):
        if number:
            document.add_page_break()  # type: ignore[no-untyped-call]
        for text in page["header"]:
            document.add_paragraph(text)
        document.add_paragraph("Contexte", style="Heading 2")
        for text in page["context"]:
            document.add_paragraph(text)
        document.add_paragraph("Partis pris", style="Heading 2")
        for text in page["approach"]:
            document.add_paragraph(text)
        for text in page["steps"]:
            document.add_paragraph(text, style="List Number")
        document.add_paragraph("Réalisations", style="Heading 2")
        for text in page["deliverables"]:
            document.add_paragraph(text, style="List Bullet")
        if page["tags"]:
            document.add_paragraph("Expertises et thématiques", style="Heading 2")
            for text in page["tags"]:
                document.add_paragraph(text)
        document.add_paragraph("\n".join(page["budget"]))  # one paragraph, a line break
        for text in page["footer"]:
            document.add_paragraph(text)
        if page["partner"]:
            document.add_paragraph("\n".join(page["partner"]))
    document.save(str(path))
    return path


def make_pdf(path: Path) -> Path:
    """A PDF portfolio with a text layer: a cover page, then one page per mission."""
    import weasyprint

    def paragraphs(lines: list[str]) -> str:
        return "".join(f"<p>{html.escape(line)}</p>" for line in lines)

    pages = ["<section><h1>POP Up</h1><p>Nos références 2020-2024</p></section>"]
    for page in SAMPLE_PAGES:
        steps = "".join(f"<li>{html.escape(s)}</li>" for s in page["steps"])
        items = "".join(f"<li>{html.escape(s)}</li>" for s in page["deliverables"])
        tags = (
            "<h2>Expertises et thématiques</h2>" + paragraphs(page["tags"]) if page["tags"] else ""
        )
        pages.append(
            "<section>"
            + paragraphs(page["header"][:2])
            + f"<h1>{html.escape(page['header'][2])}</h1>"
            + "<h2>Contexte</h2>"
            + paragraphs(page["context"])
            + "<h2>Partis pris</h2>"
            + paragraphs(page["approach"])
            + (f"<ol>{steps}</ol>" if steps else "")
            + f"<h2>Réalisations</h2><ul>{items}</ul>"
            + tags
            + "<p>"
            + "<br>".join(html.escape(line) for line in page["budget"])
            + "</p>"
            + "<footer>"
            + paragraphs(page["footer"])
            + ("<p>" + "<br>".join(page["partner"]) + "</p>" if page["partner"] else "")
            + "</footer></section>"
        )
    document = (
        "<html><head><style>@page { size: A4; margin: 2cm } section { break-after: page }"
        " body { font-family: DejaVu Sans; font-size: 10pt }</style></head><body>"
        + "".join(pages)
        + "</body></html>"
    )
    weasyprint.HTML(string=document).write_pdf(str(path))
    return path


def texts(path: Path) -> list[str]:
    """The non-blank lines read from `path`."""
    return [line.text for line in extract_lines(path) if line.text]


def test_text_lines_keep_blank_lines_and_their_numbers(tmp_path: Path) -> None:
    source = tmp_path / "p.txt"
    source.write_bytes("\ufeffVille de Lille\r\n\r\n2019\u00a0–  2020\n".encode())
    lines = extract_lines(source)
    assert [(line.text, line.line) for line in lines] == [
        ("Ville de Lille", 1),
        ("", 2),
        ("2019 – 2020", 3),
        ("", 4),
    ]


def test_a_form_feed_is_a_page_break(tmp_path: Path) -> None:
    source = tmp_path / "p.txt"
    source.write_text("fin de page\fdébut de page\n", encoding="utf-8")
    assert [line.text for line in extract_lines(source)][:3] == [
        "fin de page",
        PAGE_BREAK,
        "début de page",
    ]


def test_clean_text_drops_invisible_and_control_characters() -> None:
    assert clean_text("co\u00adcon\u200bception\x0b ok\t ") == "coconception ok"


@pytest.mark.parametrize("name", ["empty.txt", "blank.txt"])
def test_an_empty_file_is_refused(name: str) -> None:
    path = Path(__file__).parent / "fixtures" / "import" / name
    with pytest.raises(RefsheetsError, match="is empty"):
        extract_lines(path)


def test_a_missing_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no file at"):
        extract_lines(tmp_path / "nope.txt")


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "portfolio.odt"
    source.write_text("x", encoding="utf-8")
    with pytest.raises(RefsheetsError, match=r"'\.odt' file; refsheets imports"):
        extract_lines(source)


def test_a_text_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    source = tmp_path / "p.txt"
    source.write_bytes("Contexte\nPéronne\n".encode("cp1252"))
    with pytest.raises(RefsheetsError, match=r"p\.txt:2: the file is not UTF-8 \(byte 0xe9\)"):
        extract_lines(source)


def test_binary_data_in_a_text_file_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "p.md"
    source.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(RefsheetsError, match="not a text file"):
        extract_lines(source)


def test_docx_paragraphs_lists_line_and_page_breaks(tmp_path: Path) -> None:
    lines = extract_lines(make_docx(tmp_path / "p.docx"))
    got = [line.text for line in lines]
    assert "Contexte" in got
    assert "- 2 ateliers de co-conception" in got  # List Bullet gets a bullet
    steps = got.index("1. écouter les voisins")
    assert got[steps + 1] == "2. prototyper les usages"  # numbered items stay together
    assert got[got.index("Trois temps :") + 1] == ""  # paragraphs are blocks
    partner = got.index("avec la Compagnie des Tiers-lieux")
    assert got[partner + 1] == "Hauts de France"  # a line break, not a new paragraph
    assert got.count(PAGE_BREAK) == 1


def test_a_damaged_docx_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "p.docx"
    source.write_bytes(b"PK\x03\x04 this is not a zip")
    with pytest.raises(RefsheetsError, match="cannot be read as a Word document"):
        extract_lines(source)


@pytest.mark.slow
def test_pdf_text_layer_keeps_pages_blocks_and_bullets(tmp_path: Path) -> None:
    lines = extract_lines(make_pdf(tmp_path / "p.pdf"))
    got = [line.text for line in lines]
    assert got.count(PAGE_BREAK) == 2  # cover + two mission pages
    assert "Contexte" in got
    assert "• 2 ateliers de co-conception" in got  # bullets stay on their item's line
    assert {line.page for line in lines if line.text == "Contexte"} == {2, 3}


def test_a_pdf_without_text_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "scan.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(source)
    with pytest.raises(RefsheetsError, match="has no text layer"):
        extract_lines(source)


def test_a_damaged_pdf_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "p.pdf"
    source.write_bytes(b"%PDF-1.7\n this is not a PDF body")
    with pytest.raises(RefsheetsError, match="cannot be read as a PDF"):
        extract_lines(source)
