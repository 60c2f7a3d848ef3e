"""Word cards: the card object written into a copy of the layout's `reference.docx`.

Every paragraph and run gets a named style of the template and nothing else: no direct
font, size, colour or weight, so a bid manager restyles a whole annex by changing a
style. The card is measured before anything is written (`docx_fit`); a long card gets
the template's styles at a tighter fit step (the PDF's steps), and a card that does not
fit even at the floor fails with a RenderError naming the mission and the section. The
bytes are reproducible: fixed core properties, fixed zip dates, stable entry order.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import docx
from docx.enum.section import WD_SECTION
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from refsheets.card import Card, CardPhoto
from refsheets.errors import RenderError
from refsheets.layouts import Layout
from refsheets.output import atomic_path
from refsheets.render.docx_fit import DocxFit, fact_cells, fit_card, photo_height
from refsheets.render.docx_package import document_bytes
from refsheets.render.docx_styles import PageGeometry, card_styles, page_geometry
from refsheets.render.docx_template import (
    ABSTRACT_ORDERED,
    FOOTER_SEPARATOR,
    contact_parts,
    facts_cell_margins,
    spacing_xml,
    template_path,
)
from refsheets.render.fit import FIT_STEPS, FitStep

FIXED_DATE = datetime(2020, 1, 1, tzinfo=UTC)
LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

_template_cache: dict[tuple[str, int, int], bytes] = {}
_template_lock = threading.Lock()


def _template_bytes(layout: Layout) -> bytes:
    path = template_path(layout)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _template_lock:
        data = _template_cache.get(key)
        if data is None:
            data = _template_cache[key] = path.read_bytes()
    return data


# --------------------------------------------------------------------------- checks


def _check_text(card: Card) -> None:
    """Refuse XML-invalid characters with a sentence (validation refuses them already)."""
    fields: list[tuple[str, str | None]] = [
        ("title", card.title),
        ("client", card.client),
        ("client.location", card.location),
        ("period", card.period),
        ("budget", card.amount),
        ("partners", card.partners),
        ("brand", card.brand.name),
        ("brand email", card.brand.email),
    ]
    for name, blocks in (("context", card.context), ("approach", card.approach)):
        fields += [(name, item) for block in blocks for item in block.items]
    fields += [("deliverables", item) for item in card.deliverables]
    fields += [("tags", tag) for tag in card.tags]
    fields += [("photos.caption", photo.caption) for photo in card.photos]
    for name, text in fields:
        match = _XML_INVALID.search(text or "")
        if match:
            raise RenderError(
                f"the card of mission '{card.id}' cannot be written to Word: its {name} "
                f"contains the control character U+{ord(match.group()):04X}; remove it "
                "(`refsheets check` shows where)"
            )


def check_card_docx(card: Card, layout: Layout) -> DocxFit:
    """Measure `card` for a Word page; RenderError naming the section when it cannot fit."""
    _check_text(card)
    fit = fit_card(card, layout)
    if not fit.fits:
        raise RenderError(fit.message)
    return fit


# --------------------------------------------------------------------------- styles


def _apply_step(document: Any, layout: Layout, step: FitStep) -> None:
    """Set the card styles' sizes and spacing to `step`; keep everything else as designed."""
    styles = document.styles.element
    for spec in card_styles(step):
        element = styles.find(f"{_W}style[@{_W}styleId='{spec.style_id}']")
        if element is None:
            continue  # a designer removed it: the text falls back on Normal
        rpr = element.find(f"{_W}rPr")
        if rpr is not None:
            for tag in ("sz", "szCs"):
                size = rpr.find(f"{_W}{tag}")
                if size is not None:
                    size.set(qn("w:val"), str(round(spec.size * 2)))
        ppr = element.find(f"{_W}pPr")
        if ppr is not None and not spec.character:
            old = ppr.find(f"{_W}spacing")
            new = parse_xml(
                spacing_xml(spec).replace("<w:spacing ", f'<w:spacing xmlns:w="{_W[1:-1]}" ', 1)
            )
            if old is not None:
                old.addprevious(new)
                ppr.remove(old)
            else:
                ppr.append(new)
    facts = styles.find(f"{_W}style[@{_W}styleId='CardFacts']")
    margins = facts.find(f"{_W}tblPr/{_W}tblCellMar") if facts is not None else None
    if margins is not None:
        page = page_geometry(layout)
        wrapped = facts_cell_margins(page, step).replace(
            "<w:tblCellMar>", f'<w:tblCellMar xmlns:w="{_W[1:-1]}">', 1
        )
        margins.addprevious(parse_xml(wrapped))
        margins.getparent().remove(margins)


def _set_language(document: Any, lang: str) -> None:
    """The document's language (spelling, hyphenation) is the cards' own."""
    defaults = document.styles.element.find(f"{_W}docDefaults/{_W}rPrDefault/{_W}rPr/{_W}lang")
    if defaults is not None:
        defaults.set(qn("w:val"), LANGUAGES.get(lang, "fr-FR"))


# --------------------------------------------------------------------------- content


_COMPOUND = re.compile(r"[\w’']+(?:-[\w’']+)+")
_COMPOUND_CHARS = 24  # as the PDF: longer compounds may still break at a hyphen


def add_text(paragraph: Any, text: str, style: Any = None) -> None:
    """Add `text` as a run, its hyphenated compounds ("tiers-lieu") with Word's
    non-breaking hyphen, so that no line ends inside one (as on the PDF card)."""
    run = paragraph.add_run()
    if style is not None:
        set_style(run, style)
    position = 0
    for match in _COMPOUND.finditer(text):
        if len(match.group()) > _COMPOUND_CHARS:
            continue
        pieces = match.group().split("-")
        run.add_text(text[position : match.start()] + pieces[0])
        for piece in pieces[1:]:
            run._r.append(run._r.makeelement(qn("w:noBreakHyphen"), {}))
            run.add_text(piece)
        position = match.end()
    run.add_text(text[position:])


def set_style(item: Any, style: Any) -> None:
    """Give a paragraph, run or table the style object `style`, as python-docx's own
    setters do (the type's default style is written as no style), without their scan
    of every style of the document for the default, on each call: that scan was a third
    of a Word card's time."""
    style_id = None if style.element.default else style.style_id
    if isinstance(item, Paragraph):
        if not _style_new(item._p, "w:pPr", "w:pStyle", style_id):
            item._p.style = style_id
    elif isinstance(item, Run):
        if not _style_new(item._r, "w:rPr", "w:rStyle", style_id):
            item._r.style = style_id
    else:
        item._tbl.tblStyle_val = style_id


def _style_new(element: Any, properties: str, tag: str, style_id: str | None) -> bool:
    """Style a paragraph or run that has no properties yet (all but a few of a card's):
    the properties made with the style alone in them and put first, as python-docx
    would, without its search for their place among every element the schema allows
    (a fifth of a Word card). False, and nothing done, when it has properties."""
    if element.find(qn(properties)) is not None:
        return False
    made = OxmlElement(properties)
    if style_id is not None:
        made.append(OxmlElement(tag, {qn("w:val"): style_id}))
    element.insert(0, made)
    return True


def _paragraph(container: Any, style: Any, text: str = "") -> Any:
    paragraph = container.add_paragraph()
    set_style(paragraph, style)
    if text:
        add_text(paragraph, text)
    return paragraph


def _first_paragraph(cell: Any, style: Any, text: str) -> None:
    paragraph = cell.paragraphs[0]
    set_style(paragraph, style)
    add_text(paragraph, text)


class _CardWriter:
    """Adds one card's body to a document opened from the template."""

    def __init__(self, document: Any, layout: Layout, step: FitStep) -> None:
        self.document = document
        self.layout = layout
        self.step = step
        self.page: PageGeometry = page_geometry(layout)
        # Style objects, not names: python-docx looks a name up by scanning every style.
        self.styles = {style.name: style for style in document.styles}

    def add(self, card: Card) -> None:
        document = self.document
        _paragraph(document, self.styles["Card Client"], card.client)
        _paragraph(document, self.styles["Card Title"], card.title)
        self._facts(card)
        _paragraph(document, self.styles["Card Spacer"])
        table = document.add_table(rows=1, cols=2)
        self._table_layout(
            table,
            self.styles["Card Columns"],
            [self.page.main_width + self.page.gutter, self.page.side_width],
        )
        main, side = table.rows[0].cells
        margin = parse_xml(
            f'<w:tcMar xmlns:w="{_W[1:-1]}"><w:right w:w="{round(self.page.gutter * 20)}" '
            'w:type="dxa"/></w:tcMar>'
        )
        main._tc.get_or_add_tcPr().append(margin)
        self._main(main, card)
        self._side(side, card)
        for cell in (main, side):
            if _is_empty(cell):  # a card without those sections: no stray "Normal" line
                set_style(cell.paragraphs[0], self.styles["Card Body"])
        # Word needs a paragraph after a table; a tiny one, so it never adds a page.
        _paragraph(document, self.styles["Card End"])

    def _table_layout(self, table: Any, style: Any, widths: list[float]) -> None:
        set_style(table, style)
        table.autofit = False
        for column, width in zip(table.columns, widths, strict=True):
            column.width = Pt(width)
            for cell in column.cells:
                cell.width = Pt(width)

    def _facts(self, card: Card) -> None:
        cells = fact_cells(card, self.layout)
        table = self.document.add_table(rows=1, cols=len(cells))
        self._table_layout(table, self.styles["Card Facts"], list(self.page.fact_widths))
        for cell, (label, value, style_id, note) in zip(table.rows[0].cells, cells, strict=True):
            _first_paragraph(cell, self.styles["Card Fact Label"], label)
            _paragraph(
                cell, self.styles["Card Budget" if style_id == "CardBudget" else "Card Fact"], value
            )
            if note:
                _paragraph(cell, self.styles["Card Fact Note"], note)

    def _main(self, cell: Any, card: Card) -> None:
        labels = card.labels
        first = True
        for label, blocks in ((labels.context, card.context), (labels.approach, card.approach)):
            if not blocks:
                continue
            if first:
                _first_paragraph(cell, self.styles["Card Heading"], label)
                first = False
            else:
                _paragraph(cell, self.styles["Card Heading"], label)
            for block in blocks:
                if block.kind == "paragraph":
                    _paragraph(cell, self.styles["Card Body"], block.items[0])
                elif block.kind == "bullets":
                    for item in block.items:
                        _paragraph(cell, self.styles["Card Bullet"], item)
                else:
                    num_id = self._restarted_list()
                    for item in block.items:
                        paragraph = _paragraph(cell, self.styles["Card Numbered"], item)
                        # Numbered lists restart at 1: a list instance per list (a
                        # paragraph property, not run formatting).
                        paragraph._p.get_or_add_pPr().get_or_add_numPr().get_or_add_numId().val = (
                            num_id
                        )

    def _restarted_list(self) -> int:
        numbering = self.document.part.numbering_part.element
        num = numbering.add_num(ABSTRACT_ORDERED)
        override = num.add_lvlOverride(ilvl=0)
        override.add_startOverride(1)
        return int(num.numId)

    def _side(self, cell: Any, card: Card) -> None:
        labels = card.labels
        first = True

        def heading(label: str) -> None:
            nonlocal first
            if first:
                _first_paragraph(cell, self.styles["Card Heading"], label)
                first = False
            else:
                _paragraph(cell, self.styles["Card Heading"], label)

        if card.deliverables:
            heading(labels.deliverables)
            for item in card.deliverables:
                _paragraph(cell, self.styles["Card Deliverable"], item)
        if card.tags:
            heading(labels.tags)
            tags = _paragraph(cell, self.styles["Card Tags"])
            for index, tag in enumerate(card.tags):
                if index:
                    tags.add_run("  ")  # air between two tinted tags
                # No-break spaces keep a tag in one box, with a little air inside it.
                add_text(
                    tags, f"\u00a0{tag.replace(' ', chr(0xA0))}\u00a0", self.styles["Card Tag"]
                )
        for photo in card.photos:
            self._photo(cell, photo)

    def _photo(self, cell: Any, photo: CardPhoto) -> None:
        box_w, box_h = self.page.photo_width, photo_height(self.page, self.step)
        if photo.crop:
            data, width, height = cover_photo(photo.path, box_w, box_h), box_w, box_h
        else:  # the whole photo, as large as the box allows (as on the PDF card)
            data, width, height = fit_photo(photo.path, box_w, box_h)
        paragraph = (
            cell.paragraphs[0] if _is_empty(cell) else _paragraph(cell, self.styles["Card Photo"])
        )
        set_style(paragraph, self.styles["Card Photo"])
        run = paragraph.add_run()
        shape = run.add_picture(io.BytesIO(data), width=Pt(width), height=Pt(height))
        shape._inline.docPr.set("descr", photo.alt)
        # No distance around the picture: without these, LibreOffice adds its default
        # (about 3 mm), which shifts the photo off its column's edge.
        for side in ("distT", "distB", "distL", "distR"):
            shape._inline.set(side, "0")
        caption = photo.caption
        if caption:
            _paragraph(cell, self.styles["Card Caption"], caption)


def _is_empty(cell: Any) -> bool:
    return len(cell.paragraphs) == 1 and not cell.paragraphs[0].runs


def fit_photo(path: Path, width_pt: float, height_pt: float) -> tuple[bytes, float, float]:
    """The whole photo scaled to fit `width_pt` × `height_pt` (≤ 300 dpi), with the
    size it is shown at."""
    from PIL import Image

    from refsheets.render.images import MAX_DPI, inspect_photo

    info = inspect_photo(path)
    with _print_photo(path) as image:
        ratio = image.width / image.height
        if ratio > width_pt / height_pt:
            shown_w, shown_h = width_pt, width_pt / ratio
        else:
            shown_w, shown_h = height_pt * ratio, height_pt
        target_w = round(shown_w / 72 * MAX_DPI)
        scaled: Image.Image = image
        if image.width > target_w:
            scaled = image.resize(
                (target_w, max(1, round(target_w / ratio))), Image.Resampling.LANCZOS
            )
        return _encode(scaled, info.format), shown_w, shown_h


def cover_photo(path: Path, width_pt: float, height_pt: float) -> bytes:
    """The photo cropped to fill `width_pt` × `height_pt` (as the PDF's cover), ≤ 300 dpi.

    Only PNG and JPEG are accepted (checked by `refsheets.render.images`); the bytes are
    reproducible: no metadata, fixed encoder settings.
    """
    from PIL import Image

    from refsheets.render.images import MAX_DPI, inspect_photo

    info = inspect_photo(path)
    ratio = width_pt / height_pt
    with _print_photo(path) as image:
        width, height = image.size
        if width / height > ratio:  # too wide: crop the sides
            new_width = round(height * ratio)
            box = ((width - new_width) // 2, 0, (width - new_width) // 2 + new_width, height)
        else:
            new_height = round(width / ratio)
            box = (0, (height - new_height) // 2, width, (height - new_height) // 2 + new_height)
        cropped = image.crop(box)
        target_w = round(width_pt / 72 * MAX_DPI)
        if cropped.width > target_w:
            target_h = round(target_w / ratio)
            cropped = cropped.resize((target_w, target_h), Image.Resampling.LANCZOS)
        return _encode(cropped, info.format)


@contextlib.contextmanager
def _print_photo(path: Path) -> Iterator[Any]:
    """The photo as the PDF card prints it: decoded strictly and downscaled once per
    process for both formats (`PHOTO_CACHE`), at 300 dpi over the photo's whole box,
    which the Word card's box (the same, or smaller at a tighter step) never exceeds."""
    from PIL import Image

    from refsheets.render.images import PHOTO_CACHE

    image = Image.open(io.BytesIO(PHOTO_CACHE.get(path)))
    try:
        image.load()
        yield image
    finally:
        image.close()


def _encode(image: Any, fmt: str) -> bytes:
    """The image's bytes in its own format, with fixed encoder settings (reproducible)."""
    out = io.BytesIO()
    if fmt == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=88, optimize=True)
    else:
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


# --------------------------------------------------------------------------- header, footer


def _kicker(card: Card) -> str:
    labels = card.labels
    return f"{labels.reference}  ·  {card.client_kind}" if card.client_kind else labels.reference


def _fill_header(
    header: Any, card: Card, logo: Any | None, styles: dict[str, Any], text_width: float
) -> None:
    """The header: the template's logo on the left, the card's kicker on the right,
    centred on the logo's height as on the PDF (a borderless two-cell table: beside an
    inline picture, text would sit on the picture's baseline)."""
    element = header._element
    for child in list(element):
        element.remove(child)
    total = round(text_width * 20)
    half = total // 2
    cell = '<w:tcPr><w:tcW w:w="{}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
    table = parse_xml(
        f'<w:tbl xmlns:w="{_W[1:-1]}"><w:tblPr><w:tblStyle w:val="CardColumns"/>'
        f'<w:tblW w:w="{total}" w:type="dxa"/><w:tblLayout w:type="fixed"/></w:tblPr>'
        f'<w:tblGrid><w:gridCol w:w="{half}"/><w:gridCol w:w="{total - half}"/></w:tblGrid>'
        f"<w:tr><w:tc>{cell.format(half)}"
        '<w:p><w:pPr><w:pStyle w:val="CardHeader"/></w:pPr></w:p></w:tc>'
        f"<w:tc>{cell.format(total - half)}"
        '<w:p><w:pPr><w:pStyle w:val="CardHeaderKicker"/></w:pPr></w:p></w:tc></w:tr></w:tbl>'
    )
    element.append(table)
    # Word wants a paragraph after a table: a 1 pt one, so the header keeps its height.
    element.append(
        parse_xml(f'<w:p xmlns:w="{_W[1:-1]}"><w:pPr><w:pStyle w:val="CardEnd"/></w:pPr></w:p>')
    )
    logo_cell, kicker_cell = header.tables[0].rows[0].cells
    if logo is not None:
        for run in logo.findall(qn("w:r")):
            if run.find(f".//{qn('w:drawing')}") is not None:
                logo_cell.paragraphs[0]._p.append(copy.deepcopy(run))
    set_style(kicker_cell.paragraphs[0].add_run(_kicker(card)), styles["Card Kicker"])


def _fill_footer(footer: Any, card: Card, layout: Layout, styles: dict[str, Any]) -> None:
    """The footer: the brand the layout speaks for and its contact, as on the PDF card
    (the neutral base layout shows the contact of the structure that carried it)."""
    brand = layout.brand
    if brand.entity:
        parts = contact_parts(brand.name, brand.email, None, brand.website)
    else:
        parts = contact_parts(
            card.brand.name or brand.name,
            card.brand.email or brand.email,
            card.brand.phone,
            card.brand.website or brand.website,
        )
    element = footer._element
    for child in list(element):
        element.remove(child)
    paragraph = footer.add_paragraph()
    set_style(paragraph, styles["Card Footer"])
    if parts:
        set_style(paragraph.add_run(parts[0]), styles["Card Footer Brand"])
        for part in parts[1:]:
            paragraph.add_run(FOOTER_SEPARATOR + part)


def _relink_images(element: Any, source_part: Any, target_part: Any) -> None:
    """Point the pictures of a copied header at the same image parts from `target_part`."""
    embed = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}embed"
    for blip in element.iter("{http://schemas.openxmlformats.org/drawingml/2006/main}blip"):
        old = blip.get(embed)
        if old is None:
            continue
        image_part = source_part.related_parts[old]
        blip.set(embed, target_part.relate_to(image_part, RT.IMAGE))


# --------------------------------------------------------------------------- documents


def _new_document(layout: Layout, cards: Sequence[Card]) -> tuple[Any, FitStep]:
    if not cards:
        raise RenderError("no cards to write")
    fits = [check_card_docx(card, layout) for card in cards]
    # Styles are shared by the whole document: the longest card sets the step.
    step = FIT_STEPS[max(fit.step or 0 for fit in fits)]
    return copy.deepcopy(_blank_document(layout, step, cards[0].lang)), step


_blank_documents: dict[tuple[Any, ...], Any] = {}


def _blank_document(layout: Layout, step: FitStep, lang: str) -> Any:
    """The template without its specimen card, its styles at `step`, in `lang`: parsed
    and styled once per process (each card gets a copy, about 1 ms instead of 15)."""
    path = template_path(layout)
    stat = path.stat()
    key = (
        str(path.resolve()),
        stat.st_size,
        stat.st_mtime_ns,
        layout.brand.model_dump_json(),  # the page's geometry, read by the step's styles
        step,
        lang,
    )
    with _template_lock:
        document = _blank_documents.get(key)
    if document is None:
        document = docx.Document(io.BytesIO(_template_bytes(layout)))
        body = document.element.body
        for child in list(body):
            if child.tag != qn("w:sectPr"):
                body.remove(child)  # the template's specimen card
        _apply_step(document, layout, step)
        _set_language(document, lang)
        with _template_lock:
            _blank_documents[key] = document
    return document


def _card_document(cards: Sequence[Card], layout: Layout) -> bytes:
    document, step = _new_document(layout, cards)
    writer = _CardWriter(document, layout, step)
    first_header = document.sections[0].header
    logo_paragraph = first_header._element.find(qn("w:p"))
    logo = copy.deepcopy(logo_paragraph) if logo_paragraph is not None else None
    logo_part = first_header.part
    for index, card in enumerate(cards):
        if index:
            # The previous card's last paragraph ("Card End") carries its section break.
            document.element.body.remove(document.element.body.findall(qn("w:p"))[-1])
            section = document.add_section(WD_SECTION.NEW_PAGE)
            set_style(document.paragraphs[-1], writer.styles["Card End"])
            # The new section shares the previous one's header and footer: give it its
            # own, for this card's kicker and brand.
            for part in (section.header, section.footer):
                part.is_linked_to_previous = True
                part.is_linked_to_previous = False
            if logo is not None:
                logo_copy = copy.deepcopy(logo)
                _relink_images(logo_copy, logo_part, section.header.part)
                _fill_header(section.header, card, logo_copy, writer.styles, writer.page.text_width)
            else:
                _fill_header(section.header, card, None, writer.styles, writer.page.text_width)
        else:
            section = document.sections[0]
            _fill_header(section.header, card, logo, writer.styles, writer.page.text_width)
        _fill_footer(section.footer, card, layout, writer.styles)
        writer.add(card)
    _set_properties(document, cards, layout)
    return document_bytes(document)


def _property(text: str) -> str:
    # python-docx refuses core properties over 255 characters (Word's own limit).
    return text if len(text) <= 255 else text[:254] + "…"


def _set_properties(document: Any, cards: Sequence[Card], layout: Layout) -> None:
    props = document.core_properties
    first = cards[0]
    props.title = _property(first.title if len(cards) == 1 else f"{first.labels.reference}s")
    props.subject = _property(first.client if len(cards) == 1 else "")
    props.author = _property(first.brand.name or layout.brand.name)
    props.keywords = _property(
        ", ".join(dict.fromkeys(tag for card in cards for tag in card.keywords))
    )
    props.language = LANGUAGES.get(first.lang, "fr-FR")
    props.last_modified_by = "refsheets"
    props.comments = ""
    props.revision = 1
    props.created = FIXED_DATE
    props.modified = FIXED_DATE


def build_card_docx(card: Card, layout: Layout) -> bytes:
    """One card as .docx bytes; RenderError when it cannot fit one page."""
    return _card_document([card], layout)


def build_cards_docx(cards: Sequence[Card], layout: Layout) -> bytes:
    """Several cards in one .docx, one page each (a section per card, for its header)."""
    return _card_document(list(cards), layout)


def write_card_docx(card: Card, layout: Layout, target: Path) -> None:
    """Write one card to `target` atomically; nothing is written when it cannot fit."""
    data = build_card_docx(card, layout)
    with atomic_path(Path(target)) as tmp:
        tmp.write_bytes(data)
