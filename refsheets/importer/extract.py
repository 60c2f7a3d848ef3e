"""Reading a portfolio file (.txt, .md, .pdf, .docx) into clean lines of text.

Every format ends up as the same thing: a list of `Line`s, blank lines kept (they
separate paragraphs and page elements) and page breaks marked, so one parser serves all.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refsheets.errors import NotFoundError, RefsheetsError, shorten
from refsheets.files import UnreadableFile, read_limited

PAGE_BREAK = "\f"
"""The text of a line that marks a page break (PDF pages, Word page breaks, `---`)."""

SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".docx")

# What one portfolio may cost. A real one is a few hundred KB of text, a few dozen pages,
# a few thousand paragraphs; each bound is far past that and keeps an import within
# seconds and a few hundred MB (bench/bench_hostile_import.py measures it).
MAX_BYTES = 50 * 1024 * 1024  # a .pdf or .docx on disk
MAX_TEXT_BYTES = 4 * 1024 * 1024  # a .txt or .md
MAX_DOCX_INFLATED = 128 * 1024 * 1024  # every part of a .docx, uncompressed
MAX_DOCX_XML = 16 * 1024 * 1024  # one XML part of a .docx, uncompressed
MAX_DOCX_PARTS = 2000
MAX_PARAGRAPHS = 10_000
MAX_PDF_PAGES = 300
MAX_LINE_CHARS = 20_000  # the parser's patterns then stay well under a second a line

# Characters XML 1.0 forbids, which no card format can hold, and the C1 controls: dropped
# on the way in. The line and paragraph separators (U+0085, U+2028, U+2029) end a line
# in a text file and are a space inside a PDF or Word line.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]")
_LINE_SEPARATORS = re.compile("\r\n|[\r\x85\u2028\u2029]")
# Invisible characters that only get in the way of matching, bidirectional controls
# among them (a portfolio in French or English never needs them).
_INVISIBLE = re.compile(
    "[\u00ad\u200b\u200c\u200d\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)
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
    if not path.exists():
        raise NotFoundError(f"no file at {path}; give the path of the portfolio to import")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise RefsheetsError(
            f"{path} is a '{suffix or 'no extension'}' file; refsheets imports "
            f"{', '.join(SUFFIXES)} portfolios (export it to one of these first)"
        )
    limit = MAX_TEXT_BYTES if suffix not in (".pdf", ".docx") else MAX_BYTES
    try:
        raw = read_limited(path, limit)
    except UnreadableFile as exc:
        if exc.too_big:
            raise RefsheetsError(
                f"{path} is over {limit // (1024 * 1024)} MiB, more than a portfolio "
                f"({suffix}) may be: split it, or check that it is the right file"
            ) from None
        raise RefsheetsError(f"{path} {exc.reason}") from None
    if suffix == ".pdf":
        lines = list(_pdf_lines(path, raw))
    elif suffix == ".docx":
        lines = list(_docx_lines(path, raw))
    else:
        lines = list(_text_lines(path, raw))
    if not any(line.text and not line.is_page_break for line in lines):
        raise RefsheetsError(f"{path} is empty: it holds no text to import")
    for line in lines:
        if len(line.text) > MAX_LINE_CHARS:
            length, most = (f"{n:,}".replace(",", " ") for n in (len(line.text), MAX_LINE_CHARS))
            raise RefsheetsError(
                f"{path}: {line.where()} is {length} characters long; a portfolio's line or "
                f"paragraph is at most {most}: is it the right file?"
            )
    return lines


def _text_lines(path: Path, raw: bytes) -> Iterator[Line]:
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
    text = _LINE_SEPARATORS.sub("\n", text)
    for number, raw_line in enumerate(text.split("\n"), start=1):
        pages = raw_line.split(PAGE_BREAK)
        for i, part in enumerate(pages):
            if i:
                yield Line(PAGE_BREAK, number)
            yield Line(clean_text(part), number)


def _pdf_lines(path: Path, raw: bytes) -> Iterator[Line]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    encrypted = RefsheetsError(
        f"{path} is an encrypted PDF; save an unprotected copy (print it to PDF) and import that"
    )
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise encrypted
        if len(reader.pages) > MAX_PDF_PAGES:
            raise RefsheetsError(
                f"{path} has {len(reader.pages)} pages; a portfolio is at most "
                f"{MAX_PDF_PAGES} pages (each costs about a quarter of a second): "
                "split it, or check that it is the right file"
            )
        # The layout mode keeps vertical gaps as blank lines and list bullets in place;
        # the plain mode glues paragraphs together and moves bullets to the page's end.
        pages = [page.extract_text(extraction_mode="layout") for page in reader.pages]
    except RefsheetsError:
        raise
    except DependencyError:  # pypdf tries the empty password, and AES needs a library
        raise encrypted from None
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise RefsheetsError(
            f"{path} cannot be read as a PDF ({type(exc).__name__}: {shorten(str(exc), 100)}); "
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


def _check_docx_sizes(path: Path, raw: bytes) -> None:
    """Refuse a .docx whose parts inflate past the bounds, before any part is parsed.

    The sizes are those the zip declares; Python's zipfile never inflates an entry past
    its declared size (a lying entry fails its check), so they bound the real work.
    """
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # python-docx says it is not a Word document, below
    if len(entries) > MAX_DOCX_PARTS:
        raise RefsheetsError(
            f"{path} holds {len(entries)} parts; a Word portfolio holds at most "
            f"{MAX_DOCX_PARTS}: is it the right file?"
        )
    total = sum(entry.file_size for entry in entries)
    biggest = max(
        entries, key=lambda entry: entry.file_size if entry.filename.endswith(".xml") else 0
    )
    mib = 1024 * 1024
    if total > MAX_DOCX_INFLATED or (
        biggest.filename.endswith(".xml") and biggest.file_size > MAX_DOCX_XML
    ):
        raise RefsheetsError(
            f"{path} inflates to {total // mib} MiB once unzipped ({shorten(biggest.filename)}: "
            f"{biggest.file_size // mib} MiB); a Word portfolio is at most "
            f"{MAX_DOCX_INFLATED // mib} MiB, and its text {MAX_DOCX_XML // mib} MiB: "
            "is it the right file?"
        )


def _docx_lines(path: Path, raw: bytes) -> Iterator[Line]:
    import io
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    _check_docx_sizes(path, raw)
    try:
        document = docx.Document(io.BytesIO(raw))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise RefsheetsError(
            f"{path} cannot be read as a Word document ({type(exc).__name__}); "
            "open it in Word or LibreOffice and save it again as .docx"
        ) from None
    paragraphs = document.paragraphs
    if len(paragraphs) > MAX_PARAGRAPHS:
        raise RefsheetsError(
            f"{path} has {len(paragraphs)} paragraphs; a Word portfolio has at most "
            f"{MAX_PARAGRAPHS}: split it, or check that it is the right file"
        )
    number = 0  # position of the list item in a numbered list
    previous_was_item = False
    page = 1  # counted from the explicit page breaks, for messages
    style_of = _style_names(document)
    for paragraph in paragraphs:
        marker = _list_marker(paragraph, style_of(paragraph))
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


def _style_names(document: Any) -> Callable[[Any], str]:
    """A paragraph's style name, looked up in a table built once.

    python-docx's `paragraph.style` scans every style of the document for each paragraph
    (about 10 ms a paragraph): 10,000 paragraphs took minutes.
    """
    from docx.enum.style import WD_STYLE_TYPE

    names = {style.style_id: style.name or "" for style in document.styles}
    default_style = document.styles.default(WD_STYLE_TYPE.PARAGRAPH)
    default = (default_style.name or "") if default_style is not None else ""

    def name_of(paragraph: Any) -> str:
        style_id = paragraph._p.style
        return names.get(style_id, default) if style_id is not None else default

    return name_of


def _list_marker(paragraph: Any, style: str) -> str | None:
    """'-' for a bulleted paragraph, '1.' for a numbered one, None otherwise."""
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
