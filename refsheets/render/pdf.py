"""PDF cards: the card object through a layout's Jinja2 template, then WeasyPrint.

Each card is fitted to exactly one A4 page. It is first laid out at the layout's
comfortable setting; a card that spills onto a second page is laid out again with
tighter spacing and type, in small steps down to a floor (body text 8.5 pt). When even
the floor does not fit, the render fails with a RenderError naming the mission, the
section that overflows and by about how much: never a second page, never a silent cut.

Rendering is hermetic: fonts come from `fonts/` through `@font-face`, files are read
only through `SafeFetcher`, any error WeasyPrint logs fails the render, and the PDF
bytes depend on the inputs only (no dates; the file identifier is a hash of the
content; `SOURCE_DATE_EPOCH` fixes fontTools' subset timestamps).
"""

from __future__ import annotations

import contextlib
import ctypes.util
import hashlib
import io
import logging
import os
import sys
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pikepdf
import weasyprint
from weasyprint.text.fonts import FontConfiguration

from refsheets.card import Card
from refsheets.errors import RenderError
from refsheets.layouts import Layout
from refsheets.render.fetcher import SafeFetcher
from refsheets.render.fit import (
    FIT_STEPS,
    FitResult,
    section_label,
    step_css,
)
from refsheets.render.images import PHOTO_CACHE, PHOTO_WIDTH_MM, check_photos
from refsheets.render.pdf_tags import PDF_UA, PDF_VARIANTS, mend_weasyprint_tags
from refsheets.render.sandbox import layout_environment, render_layout_template
from refsheets.render.words import WORD_JOINER, keep_tail, protect_words

TEMPLATE = "card.html.j2"
STYLESHEET = "card.css"
PX_TO_MM = 25.4 / 96
DEFAULT_EPOCH = "1577836800"  # 2020-01-01: any fixed instant will do


SECTION_NAMES = ("title", "facts", "context", "approach", "deliverables", "tags", "photo")


_harfbuzz_warned = False


def warn_if_no_harfbuzz_subset() -> bool:
    """Warn once on stderr when libharfbuzz-subset is missing (cards are 3-10 x slower)."""
    global _harfbuzz_warned
    if ctypes.util.find_library("harfbuzz-subset"):
        return True
    if not _harfbuzz_warned:
        _harfbuzz_warned = True
        print(
            "warning: libharfbuzz-subset is not installed; fonts are subset with fontTools, "
            "which makes each card several times slower (Debian: apt install "
            "libharfbuzz-subset0)",
            file=sys.stderr,
        )
    return False


class _LogCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_log_lock = threading.Lock()


@contextlib.contextmanager
def _weasyprint_log() -> Iterator[_LogCapture]:
    """Collect what WeasyPrint logs meanwhile (it logs failures instead of raising)."""
    capture = _LogCapture()
    logger = logging.getLogger("weasyprint")
    with _log_lock:
        logger.addHandler(capture)
    try:
        yield capture
    finally:
        with _log_lock:
            logger.removeHandler(capture)


def _raise_on_errors(capture: _LogCapture, what: str) -> None:
    errors = [r for r in capture.records if r.levelno >= logging.ERROR]
    if errors:
        details = "; ".join(r.getMessage()[:200] for r in errors[:3])
        raise RenderError(f"{what} could not be rendered completely: {details}")


def _file_url(path: Path) -> str:
    return path.resolve().as_uri()


class CardRenderer:
    """Renders cards in one layout; holds what every render can share.

    The font configuration, the parsed stylesheets and the template are built once per
    layout and reused: parsing `@font-face` and the CSS costs more than laying out a
    card. The fetcher of the last render is kept (`last_fetcher`): callers can see
    exactly which files were read.
    """

    def __init__(self, layout: Layout, library_root: Path | None = None) -> None:
        warn_if_no_harfbuzz_subset()
        os.environ.setdefault("SOURCE_DATE_EPOCH", DEFAULT_EPOCH)
        self.layout = layout
        self.roots: list[Path] = [layout.root, layout.fonts_root]
        if library_root is not None:
            self.roots.append(Path(library_root))
        self.font_config = FontConfiguration()
        self._css_fetcher = SafeFetcher(self.roots)
        self.stylesheets = self._stylesheets()
        self.env = _environment(layout)
        self.charset = _charset(layout)
        self.last_fetcher: SafeFetcher | None = None

    def allow(self, root: Path) -> None:
        """Also serve files under `root` (the library of the cards being rendered)."""
        resolved = Path(root).resolve()
        if resolved not in [r.resolve() for r in self.roots]:
            self.roots.append(resolved)

    def _stylesheets(self) -> list[weasyprint.CSS]:
        layout = self.layout
        generated = [_font_faces_css(layout), _brand_css(layout)]
        generated += [step_css(step, i) for i, step in enumerate(FIT_STEPS)]
        sheets = [
            weasyprint.CSS(
                string="\n".join(generated),
                font_config=self.font_config,
                url_fetcher=self._css_fetcher,
            )
        ]
        with _weasyprint_log() as capture:
            for path in layout.files(STYLESHEET):
                sheets.append(
                    weasyprint.CSS(
                        string=path.read_text(encoding="utf-8"),
                        base_url=_file_url(path.parent) + "/",
                        font_config=self.font_config,
                        url_fetcher=self._css_fetcher,
                    )
                )
        _raise_on_errors(capture, f"the stylesheets of layout '{layout.name}'")
        return sheets

    def html(self, cards: Sequence[Card], steps: Sequence[int], *, title: str | None = None) -> str:
        """The HTML of `cards`, each at its fit step, with the document's metadata."""
        name = _template_name(self.layout)
        first = cards[0]
        brands = sorted({c.brand.name or self.layout.brand.name for c in cards})
        keywords: list[str] = []
        for card in cards:
            keywords += [t for t in card.tags if t not in keywords]
        return render_layout_template(
            self.env,
            name,
            f"the card of mission '{first.id}'",
            cards=list(zip(cards, steps, strict=True)),
            brand=self.layout.brand,
            logo_url=_file_url(self.layout.logo_path),
            photo_urls={p.path: _file_url(p.path) for c in cards for p in c.photos},
            meta={
                "lang": first.lang,
                "title": title or first.title,
                "author": ", ".join(brands),
                "subject": _subject(cards),
                "keywords": [k.replace(",", " ") for k in keywords],
            },
        )

    def render(self, html: str, what: str) -> Any:
        """Lay out `html` (a WeasyPrint Document); RenderError on any logged error."""
        missing = sorted(set(html) - self.charset)
        if missing:
            # Pango would draw these from a system font: a card in two typefaces.
            shown = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in missing[:5])
            raise RenderError(
                f"{what} holds characters that the layout's fonts "
                f"({self.layout.brand.fonts.body}) do not have: {shown}; replace them"
            )
        fetcher = SafeFetcher(self.roots, transform=_photo_transform)
        self.last_fetcher = fetcher
        with _weasyprint_log() as capture:
            document = weasyprint.HTML(
                string=html, base_url=_file_url(self.layout.path) + "/", url_fetcher=fetcher
            ).render(font_config=self.font_config, stylesheets=self.stylesheets)
        if fetcher.refused:
            raise RenderError(
                f"{what} asked for a file it may not read: {fetcher.refused[0].reason}"
            )
        _raise_on_errors(capture, what)
        # The file identifier is a hash of what went in: same inputs, same bytes.
        document.refsheets_digest = hashlib.sha256(
            f"{self.layout.name}\n{html}".encode()
        ).hexdigest()[:32]
        return document

    def write(self, document: Any, what: str, *, variant: str | None = PDF_UA) -> bytes:
        """The PDF bytes of a laid-out document, reproducibly.

        `variant` is PDF/UA-1 by default (tagged: headings, lists, tables, figures with
        their alt); a PDF/A variant is tagged too and also claims PDF/UA-1; None gives
        an untagged PDF (for the annex's page footers, drawn over the cards as artifacts).
        """
        data = self._write_pdf(document, what, variant)
        if variant is None:
            return data
        return _save_pdf(open_mended(data))

    def write_opened(self, document: Any, what: str, *, variant: str = PDF_UA) -> pikepdf.Pdf:
        """The tagged PDF of a laid-out document, mended, opened with pikepdf and not
        saved: for a caller that takes it apart (a batch split into cards) without
        writing and reading the whole batch once more.

        WeasyPrint writes it uncompressed, and each stream is deflated here, once, before
        the parts share them: WeasyPrint deflates in Python, and also packs and deflates
        every other object in object streams, which the split only unpacks (a quarter
        of the write of a tagged batch). The parts come out the same to a reader, and
        their saving packs their objects anew."""
        pdf = open_mended(self._write_pdf(document, what, variant, compressed=False))
        _deflate_streams(pdf)
        return pdf

    def _write_pdf(
        self, document: Any, what: str, variant: str | None, *, compressed: bool = True
    ) -> bytes:
        options: dict[str, Any] = {
            "pdf_identifier": document.refsheets_digest.encode(),
            "uncompressed_pdf": not compressed,
        }
        if variant is None:
            options["pdf_tags"] = False
        else:
            if variant not in PDF_VARIANTS:
                raise RenderError(
                    f"'{variant}' is not a PDF variant refsheets writes; use one of "
                    + ", ".join(PDF_VARIANTS)
                )
            options.update(pdf_variant=variant, pdf_tags=True)
            if variant != PDF_UA:
                document.metadata.xmp_metadata = [_UA_IDENTIFICATION]
        with _weasyprint_log() as capture:
            data: bytes = document.write_pdf(**options)
        _raise_on_errors(capture, what)
        return data

    def fit(self, card: Card, *, start: int = 0, start_pages: int = 2) -> tuple[FitResult, Any]:
        """Find the most comfortable step at which `card` fits; return it with its layout.

        Most cards fit at step 0 (one layout). Otherwise the steps are searched by
        bisection (fitting only gets easier as steps tighten), after a shortcut: a card
        that takes three pages or more at step 0 cannot shrink to one, so only the floor
        is tried, to measure the overflow. `start` > 0 says that the steps before it were
        already seen to spill (a batch laid the card out at step 0 and it took
        `start_pages` pages): the search begins past them.
        """
        what = f"the card of mission '{card.id}'"
        check_photos([card])
        documents: dict[int, Any] = {}

        def pages_at(index: int) -> int:
            documents[index] = self.render(self.html([card], [index]), what)
            return len(documents[index].pages)

        last = len(FIT_STEPS) - 1
        if start == 0:
            first_pages = pages_at(0)
            if first_pages == 1:
                return FitResult(card.id, True, 0, FIT_STEPS[0].body_pt), documents[0]
            start = 1
        else:
            first_pages = start_pages
        low, high = min(start, last), last  # the answer, if any, is in [low, high]
        if first_pages >= 3:
            low = last
        best: int | None = None
        while low <= high:
            middle = (low + high) // 2
            if pages_at(middle) == 1:
                best, high = middle, middle - 1
            else:
                low = middle + 1
        if best is not None:
            return FitResult(card.id, True, best, FIT_STEPS[best].body_pt), documents[best]
        document = documents.get(last) or documents[max(documents)]
        section, overflow = _measure_overflow(document)
        result = FitResult(
            card.id,
            False,
            None,
            None,
            overflow_section=section_label(card, section),
            overflow_mm=overflow,
            pages=len(document.pages),
        )
        return result, document

    def card_pdf(self, card: Card, *, variant: str = PDF_UA) -> bytes:
        """One card, fitted to one A4 page, as PDF bytes."""
        return self.fitted_card_pdf(card, variant=variant)[0]

    def fitted_card_pdf(self, card: Card, *, variant: str = PDF_UA) -> tuple[bytes, FitResult]:
        """One card, fitted to one A4 page, as PDF bytes, with the fit step it took."""
        result, document = self.fit(card)
        if not result.fits:
            raise RenderError(result.message)
        return (
            self.write(document, f"the card of mission '{card.id}'", variant=variant),
            result,
        )

    def cards_pdf(
        self, cards: Sequence[Card], *, title: str | None = None, variant: str = PDF_UA
    ) -> bytes:
        """Many fitted cards in one document, one page each, each anchored by its id."""
        if not cards:
            raise RenderError("no cards to render")
        what = f"the {len(cards)} cards"
        check_photos(cards)
        steps = [0] * len(cards)
        document = self.render(self.html(cards, steps, title=title), what)
        counts = _pages_per_card(document, cards)
        spilled = [i for i, pages in enumerate(counts) if pages != 1]
        if spilled:
            for i in spilled:
                result, _ = self.fit(cards[i], start=int(counts[i] > 1), start_pages=counts[i])
                if not result.fits:
                    raise RenderError(result.message)
                assert result.step is not None
                steps[i] = result.step
            document = self.render(self.html(cards, steps, title=title), what)
            counts = _pages_per_card(document, cards)
            if any(n != 1 for n in counts):  # pragma: no cover - same layout as alone
                bad = cards[next(i for i, n in enumerate(counts) if n != 1)].id
                raise RenderError(f"the card of mission '{bad}' did not fit in the batch")
        return self.write(document, what, variant=variant)


# WeasyPrint identifies a PDF/A file as such only: a tagged PDF/A also says PDF/UA-1.
_UA_IDENTIFICATION = (
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"'
    b' pdfuaid:part="1"/></rdf:RDF>'
)


def open_mended(data: bytes) -> pikepdf.Pdf:
    """WeasyPrint's tagged PDF `data`, opened, its structure tree mended (see pdf_tags:
    footers as artifacts, an IDTree, no Span that says nothing)."""
    pdf = pikepdf.open(io.BytesIO(data))
    mend_weasyprint_tags(pdf)
    return pdf


def _deflate_streams(pdf: pikepdf.Pdf) -> None:
    """Deflate every stream of `pdf` written without a filter (but its XMP metadata,
    which PDF/A wants readable as it is)."""
    for obj in pdf.objects:
        if (
            isinstance(obj, pikepdf.Stream)
            and "/Filter" not in obj
            and obj.get("/Type") != pikepdf.Name.Metadata
        ):
            obj.write(zlib.compress(obj.read_raw_bytes()), filter=pikepdf.Name.FlateDecode)


def _save_pdf(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True, compress_streams=True)
    return buffer.getvalue()


def _subject(cards: Sequence[Card]) -> str:
    first = cards[0]
    colon = "\u00a0: " if first.lang == "fr" else ": "
    if len(cards) > 1:
        return f"{len(cards)} × {first.labels.reference.lower()}"
    period = f", {first.period}" if first.period else ""
    return f"{first.labels.reference}{colon}{first.client}{period}"


def _photo_transform(path: Path) -> bytes | None:
    if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
        return PHOTO_CACHE.get(path)
    return None


def _environment(layout: Layout) -> jinja2.Environment:
    env = layout_environment(str(layout.root), trim_blocks=True, lstrip_blocks=True)
    env.filters["keep_tail"] = keep_tail
    env.filters["words"] = protect_words
    return env


def _charset(layout: Layout) -> frozenset[str]:
    """Every character the layout's fonts can draw (plus the line breaks of HTML)."""
    from fontTools.ttLib import TTFont

    codes: set[int] = set()
    for face in layout.font_faces:
        with TTFont(face.path, lazy=True) as font:  # checked by layout.font_faces
            codes.update(font.getBestCmap())
    # The word joiner holds compounds together (words.py): invisible, drawn from no font.
    return frozenset(map(chr, codes)) | {"\n", "\r", "\t", WORD_JOINER}


def _template_name(layout: Layout) -> str:
    for folder in layout.chain:
        if (folder / TEMPLATE).is_file():
            return f"{folder.name}/{TEMPLATE}"
    raise RenderError(f"the layout '{layout.name}' has no {TEMPLATE}, nor has its base")


def _font_faces_css(layout: Layout) -> str:
    rules = []
    for face in layout.font_faces:
        rules.append(
            "@font-face {"
            f" font-family: {css_string(face.family)};"
            f' src: url("{_file_url(face.path)}");'
            f" font-weight: {face.weight}; font-style: {face.style};"
            " }"
        )
    return "\n".join(rules)


def css_string(text: str) -> str:
    """`text` as a quoted CSS string: every character but letters, digits, space, '.',
    '-' and '_' written as a CSS escape, so a value can never end the string."""
    escaped = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in " .-_") else f"\\{ord(ch):x} " for ch in text
    )
    return f'"{escaped}"'


def _brand_css(layout: Layout) -> str:
    colors = layout.brand.colors
    fonts = layout.brand.fonts
    # Values were validated (#rrggbb, family names of plain characters) and names are
    # quoted as CSS strings besides: no CSS can be smuggled in here.
    return (
        ":root {"
        f" --primary: {colors.primary}; --accent: {colors.accent}; --ink: {colors.ink};"
        f" --muted: {colors.muted}; --rule: {colors.rule}; --background: {colors.background};"
        f" --tint: {colors.tint};"
        f" --font-body: {css_string(fonts.body)}; --font-heading: {css_string(fonts.heading)};"
        f" --photo-w: {PHOTO_WIDTH_MM}mm;"
        " }\n"
        f"@page {{ margin-left: {layout.brand.page_margin_mm}mm;"
        f" margin-right: {layout.brand.page_margin_mm}mm; }}"
    )


def _pages_per_card(document: Any, cards: Sequence[Card]) -> list[int]:
    """How many pages each card takes, found by its anchor (not by index)."""
    starts: dict[str, int] = {}
    for number, page in enumerate(document.pages):
        for anchor in page.anchors:
            starts.setdefault(anchor, number)
    order = [starts.get(card.id, -1) for card in cards]
    counts = []
    for i, start in enumerate(order):
        end = order[i + 1] if i + 1 < len(order) else len(document.pages)
        counts.append(end - start if start >= 0 else 0)
    return counts


@dataclass
class _Walk:
    first_section: str | None = None
    sections: list[str] = field(default_factory=list)
    bottom: float = 0.0


def _walk(box: Any, section: str | None, walk: _Walk) -> None:
    element = getattr(box, "element", None)
    if element is not None and getattr(box, "element_tag", None) is not None:
        name = element.get("data-section")
        if name:
            section = name
    if section is not None and section not in walk.sections:
        walk.sections.append(section)
        if walk.first_section is None:
            walk.first_section = section
    if hasattr(box, "position_y") and hasattr(box, "margin_height") and section is not None:
        walk.bottom = max(walk.bottom, box.position_y + box.margin_height())
    for child in getattr(box, "children", ()):
        _walk(child, section, walk)


def _measure_overflow(document: Any) -> tuple[str | None, float]:
    """The first section found past page 1, and how far the content goes past it (mm)."""
    first: str | None = None
    total = 0.0
    for page in document.pages[1:]:
        page_box = page._page_box
        walk = _Walk()
        _walk(page_box, None, walk)
        first = first or walk.first_section
        top = page_box.content_box_y()
        total += max(0.0, walk.bottom - top)
    return first, total * PX_TO_MM


# One renderer per layout, with the version of the layout's files it was built from.
_renderers: dict[tuple[str, Path, tuple[Path, ...]], tuple[tuple[Any, ...], CardRenderer]] = {}
_renderers_lock = threading.Lock()


def renderer_for(layout: Layout, library_root: Path | None = None) -> CardRenderer:
    """A shared renderer for `layout` (built once per process and layout version)."""
    key = (layout.name, layout.root, layout.chain)
    version = _layout_version(layout)
    with _renderers_lock:
        built, renderer = _renderers.get(key, (None, None))
        if renderer is None or built != version:
            renderer = CardRenderer(layout)
            _renderers[key] = (version, renderer)
    if library_root is not None:
        renderer.allow(library_root)
    return renderer


def _layout_version(layout: Layout) -> tuple[Any, ...]:
    """What tells an edited layout from the one a renderer was built for (a long-running
    process, such as `refsheets preview`, must not keep serving the old CSS or brand)."""
    files = [p for folder in layout.chain for p in sorted(folder.iterdir()) if p.is_file()]
    files += [face.path for face in layout.font_files]
    stats = []
    for path in files:
        with contextlib.suppress(OSError):
            stat = path.stat()
            stats.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stats)


def _library_root_of(cards: Sequence[Card]) -> Path | None:
    for card in cards:
        for photo in card.photos:
            # Photos are validated to lie in the library; its root is their common parent.
            return photo.path.parent
    return None


def card_html(card: Card, layout: Layout) -> str:
    """The HTML of one card at its most comfortable setting (for tests and debugging)."""
    return renderer_for(layout).html([card], [0])


def check_fit(card: Card, layout: Layout, *, library_root: Path | None = None) -> FitResult:
    """Whether `card` fits one A4 page in `layout`, and at which step."""
    renderer = renderer_for(layout, library_root or _library_root_of([card]))
    result, _ = renderer.fit(card)
    return result


def fit_cards(
    cards: Sequence[Card], layout: Layout, *, library_root: Path | None = None
) -> list[FitResult]:
    """Whether each of `cards` fits one A4 page, and at which step, as `check_fit` says,
    for a fraction of the cost: the cards are laid out together at step 0 (one document),
    and only those that spill are fitted alone, from step 1. When the batch cannot be
    laid out at all (a bad photo, a character the fonts lack), each card is fitted alone,
    so that every card gets its own answer."""
    if not cards:
        return []
    renderer = renderer_for(layout, library_root or _library_root_of(cards))
    try:
        check_photos(cards)
        document = renderer.render(
            renderer.html(cards, [0] * len(cards)), f"a batch of {len(cards)} cards"
        )
    except RenderError:
        return [_fit_alone(renderer, card) for card in cards]
    results = []
    for card, pages in zip(cards, _pages_per_card(document, cards), strict=True):
        if pages == 1:
            results.append(FitResult(card.id, True, 0, FIT_STEPS[0].body_pt))
        else:
            results.append(_fit_alone(renderer, card, start=int(pages > 1), start_pages=pages))
    return results


def _fit_alone(
    renderer: CardRenderer, card: Card, *, start: int = 0, start_pages: int = 2
) -> FitResult:
    try:
        result, _ = renderer.fit(card, start=start, start_pages=start_pages)
    except RenderError as exc:  # one card that cannot be laid out never stops the rest
        return FitResult(card.id, False, None, None, problem=exc.message)
    return result


def render_card_pdf(
    card: Card, layout: Layout, *, library_root: Path | None = None, variant: str = PDF_UA
) -> bytes:
    """One card, fitted to one A4 page, as tagged PDF bytes (PDF/UA-1, or the PDF/A
    `variant`); RenderError when it cannot fit."""
    renderer = renderer_for(layout, library_root or _library_root_of([card]))
    return renderer.card_pdf(card, variant=variant)


def render_cards_pdf(
    cards: Sequence[Card],
    layout: Layout,
    *,
    title: str | None = None,
    library_root: Path | None = None,
    variant: str = PDF_UA,
) -> bytes:
    """Many fitted cards in one PDF, one page each; each page has an anchor and a
    bookmark named after its card's id (map pages to cards by those, not by index)."""
    renderer = renderer_for(layout, library_root or _library_root_of(cards))
    return renderer.cards_pdf(cards, title=title, variant=variant)
