"""The length budget of a Word card: will it fit one A4 page, and at which fit step?

Word has no layout engine we can call, so the card is measured here, before anything is
written: each paragraph is wrapped greedily at its style's width with the advance widths
of its font file (Word and LibreOffice apply no kerning unless a style asks), and its
height is lines × line height + spacing. The page's height, less the header block and
the key-facts band, is the budget of each of the two columns. The card takes the first
fit step (the PDF's steps, same figures) at which both columns fit, with a safety margin
for the difference between this estimate and a word processor; if even the floor does
not fit, the check names the section that crosses the bottom of the page and by how much,
in the same words as the PDF.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from refsheets.card import Block, Card
from refsheets.layouts import Layout
from refsheets.render.docx_fonts import style_font
from refsheets.render.docx_styles import (
    MM,
    PageGeometry,
    ParagraphStyle,
    band_padding,
    page_geometry,
    styles_by_id,
)
from refsheets.render.fit import FIT_STEPS, FitStep, overflow_message, section_label

# Estimate and word processor differ by a line here and there (line breaking after
# hyphens, rounding to twips): keep this much of the page free.
SAFETY_PT = 6 * MM
_BREAKABLE = " "  # no-break spaces (U+00A0, U+202F) keep their words together


@dataclass(frozen=True)
class Metrics:
    """Advance widths of one font file, in font units."""

    units_per_em: int
    advances: dict[int, int]
    default: int

    def width(self, text: str, size: float, tracking: float = 0.0) -> float:
        """The width of `text` set at `size` points, in points."""
        units = sum(self.advances.get(ord(ch), self.default) for ch in text)
        return units * size / self.units_per_em + tracking * len(text)


@lru_cache(maxsize=32)
def font_metrics(path: Path) -> Metrics:
    """The advance widths of the font at `path`, by code point."""
    import logging

    from fontTools.ttLib import TTFont

    # fontTools warns that Lato's "created" stamp looks low; it is harmless here.
    logging.getLogger("fontTools.ttLib.tables._h_e_a_d").setLevel(logging.ERROR)
    font = TTFont(path, lazy=True)
    hmtx = font["hmtx"]
    advances = {code: hmtx[glyph][0] for code, glyph in font.getBestCmap().items()}
    units = int(font["head"].unitsPerEm)
    return Metrics(units, advances, advances.get(ord("n"), units // 2))


@dataclass(frozen=True)
class Measurer:
    """Measures paragraphs of a card in one layout at one fit step."""

    layout: Layout
    step: FitStep
    page: PageGeometry

    def spec(self, style_id: str) -> ParagraphStyle:
        """The style spec `style_id` at this step."""
        return styles_by_id(self.step)[style_id]

    def lines(self, style_id: str, text: str, width: float) -> int:
        """How many lines `text` takes in a paragraph of `style_id`, `width` points wide."""
        spec = self.spec(style_id)
        metrics = font_metrics(style_font(self.layout, spec).path)
        if spec.caps:
            text = text.upper()
        usable = width - spec.indent - (spec.rule_space + spec.rule_width if spec.rule_left else 0)
        space = metrics.width(" ", spec.size, spec.tracking)
        count, line = 1, 0.0
        for word in text.split(_BREAKABLE):
            word_width = metrics.width(word, spec.size, spec.tracking)
            if line and line + space + word_width > usable:
                count += 1
                line = 0.0
            while word_width > usable:  # a word longer than the line is broken anywhere
                count += 1
                word_width -= usable
            line += (space if line else 0.0) + word_width
        return count

    def height(self, style_id: str, text: str, width: float) -> float:
        """The height of one paragraph, spacing and rules included."""
        spec = self.spec(style_id)
        lines = self.lines(style_id, text, width) if text else 1
        rules = sum(
            spec.rule_space + spec.rule_width for rule in (spec.rule_above, spec.rule_below) if rule
        )
        return spec.before + lines * spec.line_height + spec.after + rules

    def blocks(self, blocks: Iterable[Block], width: float) -> float:
        """The height of running text: paragraphs and lists."""
        style = {"paragraph": "CardBody", "ordered": "CardNumbered", "bullets": "CardBullet"}
        return sum(self.height(style[b.kind], item, width) for b in blocks for item in b.items)

    def tags(self, tags: Iterable[str], width: float) -> float:
        """The height of the tags paragraph: each tag a box that never breaks."""
        para, tag = self.spec("CardTags"), self.spec("CardTag")
        tag_metrics = font_metrics(style_font(self.layout, tag).path)
        gap = font_metrics(style_font(self.layout, para).path).width(" ", para.size)
        lines, line = 1, 0.0
        for label in tags:
            box = tag_metrics.width(f"\u00a0{label}\u00a0", tag.size, tag.tracking) + 2
            if line and line + box > width:
                lines += 1
                line = 0.0
            line += box + gap
        return para.before + lines * para.line_height + para.after


@dataclass(frozen=True)
class SectionHeight:
    """One section of a card: where it goes and how tall it is (points)."""

    key: str  # title, facts, context, approach, deliverables, tags, photo
    column: str  # top, main or side
    height: float


def measure_card(card: Card, layout: Layout, step: FitStep) -> list[SectionHeight]:
    """The heights of the card's sections at `step`, in reading order."""
    page = page_geometry(layout)
    m = Measurer(layout, step, page)
    width = page.text_width
    sections = [
        SectionHeight(
            "title",
            "top",
            m.height("CardClient", card.client, width) + m.height("CardTitle", card.title, width),
        )
    ]
    labels = card.labels
    facts = fact_cells(card, layout)
    cell_heights = []
    for (label, value, style_id, note), cell_width in zip(facts, page.fact_widths, strict=True):
        inner = cell_width - 2 * page.band_padding
        height = m.height("CardFactLabel", label, inner) + m.height(style_id, value, inner)
        if note:
            height += m.height("CardFactNote", note, inner)
        cell_heights.append(height)
    spacer = m.spec("CardSpacer").line_height + m.spec("CardEnd").line_height
    sections.append(
        SectionHeight("facts", "top", max(cell_heights) + 2 * band_padding(step) + spacer)
    )
    main = page.main_width
    for key, label, blocks in (
        ("context", labels.context, card.context),
        ("approach", labels.approach, card.approach),
    ):
        if blocks:
            height = m.height("CardHeading", label, main) + m.blocks(blocks, main)
            sections.append(SectionHeight(key, "main", height))
    side = page.side_width
    if card.deliverables:
        height = m.height("CardHeading", labels.deliverables, side) + sum(
            m.height("CardDeliverable", item, side) for item in card.deliverables
        )
        sections.append(SectionHeight("deliverables", "side", height))
    if card.tags:
        height = m.height("CardHeading", labels.tags, side) + m.tags(card.tags, side)
        sections.append(SectionHeight("tags", "side", height))
    for photo in card.photos:
        photo_spec = m.spec("CardPhoto")
        height = photo_height(page, step) + photo_spec.before + photo_spec.after
        if photo.caption:
            height += m.height("CardCaption", photo.caption, side)
        sections.append(SectionHeight("photo", "side", height))
    return sections


def photo_height(page: PageGeometry, step: FitStep) -> float:
    """How tall a photo prints at `step` (its width is fixed)."""
    return page.photo_height * step.photo_scale


def fact_cells(card: Card, layout: Layout) -> list[tuple[str, str, str, str | None]]:
    """The key-facts band: (label, value, value style, note) per cell, as the PDF prints it."""
    labels = card.labels
    return [
        (labels.period, card.period or "—", "CardFact", None),
        (labels.budget, card.amount or "—", "CardBudget", None),
        (labels.location, card.location or "—", "CardFact", None),
        (labels.carried_by, card.brand.name or layout.brand.name, "CardFact", card.partners),
    ]


@dataclass(frozen=True)
class DocxFit:
    """Whether a Word card fits one page, at which step, or what overflows and by how much."""

    mission_id: str
    fits: bool
    step: int | None  # index in FIT_STEPS; None when it does not fit
    overflow_section: str | None = None  # the section's printed label ("Contexte")
    overflow_mm: float = 0.0

    @property
    def body_pt(self) -> float | None:
        """The body text size the card is set in."""
        return FIT_STEPS[self.step].body_pt if self.step is not None else None

    @property
    def message(self) -> str:
        """A sentence for the user: what overflows, by about how much, what to do."""
        if self.fits:
            return f"mission '{self.mission_id}' fits on one page (body {self.body_pt} pt)"
        return overflow_message(
            "Word card", self.mission_id, self.overflow_section, self.overflow_mm
        )


def _overflow(sections: list[SectionHeight], budget: float) -> tuple[str | None, float]:
    """The first section that crosses the bottom of the page, and by how much (points)."""
    top = sum(s.height for s in sections if s.column == "top")
    worst: tuple[str | None, float] = (None, 0.0)
    if top > budget:
        crossed = 0.0
        for section in sections:
            if section.column == "top":
                crossed += section.height
                if crossed > budget:
                    return section.key, top - budget
    for column in ("main", "side"):
        used = top
        total = top + sum(s.height for s in sections if s.column == column)
        if total <= budget:
            continue
        for section in sections:
            if section.column != column:
                continue
            used += section.height
            if used > budget:
                if total - budget > worst[1]:
                    worst = (section.key, total - budget)
                break
    return worst


def fit_card(card: Card, layout: Layout) -> DocxFit:
    """The first fit step at which `card` fits one page, or what overflows at the floor."""
    page = page_geometry(layout)
    budget = page.text_height - SAFETY_PT
    sections: list[SectionHeight] = []
    for index, step in enumerate(FIT_STEPS):
        sections = measure_card(card, layout, step)
        key, overflow = _overflow(sections, budget)
        if key is None:
            return DocxFit(card.id, True, index)
    key, overflow = _overflow(sections, budget)
    return DocxFit(card.id, False, None, section_label(card, key), overflow / MM)
