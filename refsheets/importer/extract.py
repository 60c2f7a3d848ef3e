"""Reading a portfolio file (.txt, .md, .pdf, .docx) into clean lines of text.

Every format ends up as the same thing: a list of `Line`s, blank lines kept (they
separate paragraphs and page elements) and page breaks marked, so one parser serves all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refsheets.errors import NotFoundError, RefsheetsError

PAGE_BREAK = "\f"
"""The text of a line that marks a page break (PDF pages, Word page breaks, `---`)."""

MAX_BYTES = 50 * 1024 * 1024
SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".docx")

# Characters XML 1.0 forbids, which no card format can hold: dropped on the way in.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
# Invisible characters that only get in the way of matching.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


@dataclass(frozen=True)
class Line:
    """One line of a portfolio, with where it was found (for messages)."""

    text: str
    line: int | None = None  # 1-based line of a text file
    page: int | None = None  # 1-based page of a PDF

    @property
    def is_blank(self) -> bool:
        """True for an empty line (page breaks are not blank)."""
        return self.text == ""

    @property
    def is_page_break(self) -> bool:
        """True for the marker of a page break."""
        return self.text == PAGE_BREAK

    def where(self) -> str:
        """'line 12' or 'page 3', for messages."""
        if self.line is not None:
            return f"line {self.line}"
        if self.page is not None:
            return f"page {self.page}"
        return "start"


def clean_text(text: str) -> str:
    """One line made comparable: NFC, no control or invisible characters, single spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def extract_lines(path: Path | str) -> list[Line]:
    """The lines of the portfolio at `path`, whatever its format.

    Raises NotFoundError when the file does not exist, and RefsheetsError when it cannot
    be read as a portfolio (unknown format, not UTF-8, damaged, no text at all).
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"no file at {path}; give the path of the portfolio to import")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RefsheetsError(
            f"{path} is a '{suffix or 'no extension'}' file; refsheets imports "
            f"{', '.join(SUFFIXES)} portfolios (export it to one of these first)"
        )
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise RefsheetsError(
            f"{path} is {size // (1024 * 1024)} MiB; a portfolio is expected to be under "
            f"{MAX_BYTES // (1024 * 1024)} MiB: split it"
        )
    if suffix == ".pdf":
        lines = list(_pdf_lines(path))
    elif suffix == ".docx":
        lines = list(_docx_lines(path))
    else:
        lines = list(_text_lines(path))
    if not any(line.text and not line.is_page_break for line in lines):
        raise RefsheetsError(f"{path} is empty: it holds no text to import")
    return lines


def _text_lines(path: Path) -> Iterator[Line]:
    raw = path.read_bytes()
    if b"\x00" in raw:
        raise RefsheetsError(
            f"{path} is not a text file (it holds binary data); export the portfolio "
            "as text, PDF or Word"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise RefsheetsError(
            f"{path}:{line}: the file is not UTF-8 (byte 0x{raw[exc.start]:02x}); save it "
            "as UTF-8 (in most editors: 'Save with encoding' > UTF-8)"
        ) from None
    # pdftotext and some exports separate pages with a form feed: keep it as a page break.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    for number, raw_line in enumerate(text.split("\n"), start=1):
        pages = raw_line.split(PAGE_BREAK)
        for i, part in enumerate(pages):
            if i:
                yield Line(PAGE_BREAK, number)
            yield Line(clean_text(part), number)


def _pdf_lines(path: Path) -> Iterator[Line]:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            raise RefsheetsError(
                f"{path} is an encrypted PDF; save an unprotected copy and import that"
            )
        # The layout mode keeps vertical gaps as blank lines and list bullets in place;
        # the plain mode glues paragraphs together and moves bullets to the page's end.
        pages = [page.extract_text(extraction_mode="layout") for page in reader.pages]
    except RefsheetsError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError) as exc:
        raise RefsheetsError(
            f"{path} cannot be read as a PDF ({type(exc).__name__}: {exc}); "
            "check that the file is a complete PDF"
        ) from None
    if not any(text.strip() for text in pages):
        raise RefsheetsError(
            f"{path} has no text layer (a scanned portfolio?); run it through OCR first, "
            "or export the portfolio's text"
        )
    for number, text in enumerate(pages, start=1):
        if number > 1:
            yield Line(PAGE_BREAK, page=number)
        for raw_line in text.split("\n"):
            yield Line(clean_text(raw_line), page=number)


def _docx_lines(path: Path) -> Iterator[Line]:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise RefsheetsError(
            f"{path} cannot be read as a Word document ({type(exc).__name__}); "
            "open it in Word or LibreOffice and save it again as .docx"
        ) from None
    number = 0  # position of the list item in a numbered list
    previous_was_item = False
    page = 1  # counted from the explicit page breaks, for messages
    for paragraph in document.paragraphs:
        marker = _list_marker(paragraph)
        if marker == "1.":
            number += 1
            marker = f"{number}."
        elif marker is None:
            number = 0
        # A paragraph is a block of its own; consecutive list items stay together.
        if not (marker and previous_was_item):
            yield Line("", page=page)
        previous_was_item = marker is not None
        pieces = list(_paragraph_pieces(paragraph._p))
        first_text = True
        for piece in pieces:
            if piece == PAGE_BREAK:
                page += 1
                yield Line(PAGE_BREAK, page=page)
                continue
            for raw_line in piece.split("\n"):
                text = clean_text(raw_line)
                if marker and first_text and text:
                    text = f"{marker} {text}"
                    first_text = False
                yield Line(text, page=page)


def _list_marker(paragraph: Any) -> str | None:
    """'-' for a bulleted paragraph, '1.' for a numbered one, None otherwise."""
    style = (paragraph.style.name or "") if paragraph.style is not None else ""
    if style.startswith("List Number"):
        return "1."
    if style.startswith("List"):
        return "-"
    if paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None:
        return "-"
    return None


def _paragraph_pieces(element: Any) -> Iterable[str]:
    """A paragraph's text with its line breaks, split at its page breaks."""
    from docx.oxml.ns import qn

    text_tag, tab_tag, br_tag, cr_tag = qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
    ppr = element.pPr
    if ppr is not None and ppr.find(qn("w:pageBreakBefore")) is not None:
        yield PAGE_BREAK
    buffer: list[str] = []
    for node in element.iter(text_tag, tab_tag, br_tag, cr_tag):
        if node.tag == text_tag:
            buffer.append(node.text or "")
        elif node.tag == tab_tag:
            buffer.append(" ")
        elif node.tag == br_tag and node.get(qn("w:type")) == "page":
            yield "".join(buffer)
            buffer = []
            yield PAGE_BREAK
        else:
            buffer.append("\n")
    yield "".join(buffer)
