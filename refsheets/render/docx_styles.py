"""The named styles of a Word card and the page they sit on, as data.

One table drives both the template generator (`docx_template`, which writes the styles
into `reference.docx` in the brand's colours and fonts) and the length budget
(`docx_fit`, which measures text with the same fonts, sizes and spacing). The sizes
follow the PDF card's fit steps, from comfortable to the 8.5 pt floor: a long card gets
tighter *styles* (never direct formatting), exactly as the PDF gets tighter CSS.
Sizes are in points unless the name says mm.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

from refsheets.layouts import Layout
from refsheets.render.fit import FIT_STEPS, FitStep

ColorRole = Literal["primary", "accent", "ink", "muted", "rule", "tint", "background"]
FontRole = Literal["body", "heading"]

MM = 72 / 25.4  # points per millimetre
LINE_RATIO = 1.2  # Word's single line for Lato: (winAscent + winDescent) / unitsPerEm


# The fit steps are the PDF card's (refsheets.render.fit): one rule for both formats.


@dataclass(frozen=True)
class ParagraphStyle:
    """A paragraph (or character) style: what Word shows in its style gallery."""

    style_id: str
    name: str
    font: FontRole
    weight: int
    size: float
    color: ColorRole
    italic: bool = False
    caps: bool = False
    tracking: float = 0.0  # letter spacing
    leading: float = 1.2  # line height as a multiple of the size (CSS line-height)
    before: float = 0.0
    after: float = 0.0
    indent: float = 0.0  # left indent of the text
    hanging: float = 0.0  # where a bullet or number hangs, left of the text
    align: Literal["left", "right"] = "left"
    keep_next: bool = False
    keep_lines: bool = False
    rule_below: ColorRole | None = None  # a hairline under the paragraph
    rule_above: ColorRole | None = None
    rule_left: ColorRole | None = None  # a bar left of the paragraph
    rule_width: float = 0.5
    rule_space: float = 0.0  # between the text and the rule
    next_style: str | None = None
    outline_level: int | None = None  # shown in Word's navigation pane
    character: bool = False  # a character style (used inside a paragraph)
    shade: ColorRole | None = None  # background of a character style
    box: ColorRole | None = None  # border around a character style's text
    tab_right: bool = False  # a right-aligned tab stop at the end of the line
    tab_at: float | None = None  # a left tab stop this far from the margin (points)
    exact: float | None = None  # an exact line height (spacers)

    @property
    def line(self) -> float:
        """Word's line spacing ("multiple") for this leading."""
        return self.leading / LINE_RATIO

    @property
    def line_height(self) -> float:
        """The height of one line of text, in points."""
        return self.exact if self.exact is not None else self.size * self.leading


def card_styles(step: FitStep) -> tuple[ParagraphStyle, ...]:
    """The card's styles at `step`, in reading order; character styles last.

    Sizes are rounded to the half point, as Word stores them, so that the length budget
    measures the text at the size it prints.
    """
    return tuple(replace(spec, size=round(spec.size * 2) / 2) for spec in _card_styles(step))


def _card_styles(step: FitStep) -> tuple[ParagraphStyle, ...]:
    s = step.space
    body = step.body_pt
    small = round(body * 0.86, 2)
    label = round(max(body * 0.72, 7), 2)
    fact = round(body * 1.12, 2)
    client = round(step.title_pt * 0.55, 2)
    gap_xs, gap_s, gap_m = 1.2 * s * MM, 2.5 * s * MM, 5 * s * MM
    return (
        ParagraphStyle(
            "CardClient", "Card Client", "heading", 700, client, "primary", leading=1.2,
            after=1.2 * MM, keep_next=True, next_style="CardTitle", rule_left="primary",
            rule_width=4.0, rule_space=14.0,
        ),
        ParagraphStyle(
            "CardTitle", "Card Title", "heading", 800, step.title_pt, "ink", leading=1.12,
            after=gap_m, keep_next=True, outline_level=0, rule_left="primary",
            rule_width=4.0, rule_space=14.0,
        ),
        ParagraphStyle(
            "CardSpacer", "Card Spacer", "body", 400, 1, "ink", exact=8 * s * MM - gap_m,
        ),
        ParagraphStyle(
            "CardEnd", "Card End", "body", 400, 1, "ink", exact=1.0,
        ),
        ParagraphStyle(
            "CardFactLabel", "Card Fact Label", "heading", 700, label, "muted", caps=True,
            tracking=round(label * 0.12, 2), leading=1.2, after=1.2 * MM, keep_next=True,
        ),
        ParagraphStyle("CardFact", "Card Fact", "body", 700, fact, "ink", leading=1.25),
        ParagraphStyle("CardBudget", "Card Budget", "body", 700, fact, "primary", leading=1.25),
        ParagraphStyle(
            "CardFactNote", "Card Fact Note", "body", 400, small, "muted", leading=1.3,
            before=1 * MM,
        ),
        ParagraphStyle(
            "CardHeading", "Card Heading", "heading", 800, label, "primary", caps=True,
            tracking=round(label * 0.14, 2), leading=1.2, before=gap_m, after=gap_s,
            keep_next=True, rule_below="rule", rule_width=0.5, rule_space=1.6 * MM,
            next_style="CardBody", outline_level=1,
        ),
        ParagraphStyle(
            "CardBody", "Card Body", "body", 400, body, "ink", leading=step.leading,
            after=gap_s,
        ),
        ParagraphStyle(
            "CardBullet", "Card Bullet", "body", 400, body, "ink", leading=step.leading,
            after=gap_xs, indent=5 * MM, hanging=3.5 * MM,
        ),
        ParagraphStyle(
            "CardNumbered", "Card Numbered", "body", 400, body, "ink", leading=step.leading,
            after=gap_xs, indent=5 * MM, hanging=5 * MM,
        ),
        ParagraphStyle(
            "CardDeliverable", "Card Deliverable", "body", 400, small, "ink", leading=1.38,
            after=gap_s, indent=4 * MM, hanging=4 * MM, keep_lines=True,
        ),
        ParagraphStyle(
            "CardTags", "Card Tags", "body", 400, label, "ink", leading=2.0, after=gap_m,
        ),
        ParagraphStyle(
            # Single spacing (LINE_RATIO): a smaller multiple lifts the picture onto the
            # line above and leaves the difference empty under it, before the caption.
            "CardPhoto", "Card Photo", "body", 400, body, "ink", leading=LINE_RATIO,
            before=gap_s, after=1.4 * MM, keep_next=True,
        ),
        ParagraphStyle(
            "CardCaption", "Card Caption", "body", 400, label, "muted", italic=True,
            leading=1.35, after=gap_m,
        ),
        ParagraphStyle(
            "CardHeader", "Card Header", "body", 400, 7.5, "muted", leading=1.2,
            tab_right=True,
        ),
        ParagraphStyle(
            "CardFooter", "Card Footer", "body", 400, 7.5, "muted", leading=1.3,
            rule_above="rule", rule_width=0.5, rule_space=2.4 * MM, tab_right=True,
        ),
        ParagraphStyle(
            "CardHeaderKicker", "Card Header Kicker", "body", 400, 7.5, "muted", leading=1.2,
            align="right",
        ),
        # The annex's cover and summary (the Word annex's own pages).
        ParagraphStyle(
            "AnnexKicker", "Annex Kicker", "heading", 700, 9, "accent", caps=True,
            tracking=1.26, leading=1.2, before=26 * MM, after=5 * MM, keep_next=True,
        ),
        ParagraphStyle(
            "AnnexTitle", "Annex Title", "heading", 800, 24, "primary", leading=1.15,
            after=14 * MM, outline_level=0,
        ),
        ParagraphStyle(
            "AnnexLine", "Annex Line", "body", 600, 10.5, "ink", leading=1.5,
            after=2 * MM, tab_at=58 * MM,
        ),
        ParagraphStyle(
            "AnnexStamp", "Annex Stamp", "body", 400, 8.5, "muted", leading=1.3,
            before=60 * MM, rule_above="rule", rule_width=0.5, rule_space=3 * MM,
        ),
        ParagraphStyle(
            "SummaryHeading", "Summary Heading", "heading", 800, 15, "primary", leading=1.2,
            before=8 * MM, after=2 * MM, outline_level=0, keep_next=True,
        ),
        ParagraphStyle(
            "SummaryIntro", "Summary Intro", "body", 400, 9.5, "muted", leading=1.3,
            after=6 * MM,
        ),
        ParagraphStyle(
            "SummaryHead", "Summary Head", "heading", 700, 7.5, "primary", caps=True,
            tracking=0.45, leading=1.2, after=1 * MM,
        ),
        ParagraphStyle(
            "SummaryHeadAmount", "Summary Head Amount", "heading", 700, 7.5, "primary",
            caps=True, tracking=0.45, leading=1.2, after=1 * MM, align="right",
        ),
        ParagraphStyle("SummaryCell", "Summary Cell", "body", 400, 8.5, "ink", leading=1.35),
        ParagraphStyle(
            "SummaryStrong", "Summary Strong", "body", 600, 8.5, "ink", leading=1.35,
        ),
        ParagraphStyle(
            "SummaryNumber", "Summary Number", "body", 700, 8.5, "accent", leading=1.35,
        ),
        ParagraphStyle(
            "SummaryAmount", "Summary Amount", "body", 700, 8.5, "ink", leading=1.35,
            align="right",
        ),
        ParagraphStyle("SummaryNote", "Summary Note", "body", 400, 8.5, "muted", leading=1.35),
        ParagraphStyle(
            "CardKicker", "Card Kicker", "heading", 700, 7.5, "muted", caps=True,
            tracking=1.05, character=True,
        ),
        # Word draws no rounded corners around text: a tag is a tinted lozenge, the
        # nearest Word has to the PDF's pill.
        ParagraphStyle(
            "CardTag", "Card Tag", "body", 600, label, "primary", character=True,
            shade="tint",
        ),
        ParagraphStyle(
            "AnnexLabel", "Annex Label", "body", 400, 10.5, "muted", character=True,
        ),
        ParagraphStyle(
            "CardFooterBrand", "Card Footer Brand", "body", 700, 7.5, "primary",
            character=True,
        ),
    )  # fmt: skip


STYLE_IDS = tuple(spec.style_id for spec in card_styles(FIT_STEPS[0]))


@lru_cache(maxsize=16)
def styles_by_id(step: FitStep) -> dict[str, ParagraphStyle]:
    """The card's styles at `step`, by style id."""
    return {spec.style_id: spec for spec in card_styles(step)}


def band_padding(step: FitStep) -> float:
    """The top and bottom padding of the key-facts cells at `step`."""
    return 3.4 * min(step.space, 1.0) * MM


@dataclass(frozen=True)
class PageGeometry:
    """An A4 page: where the text, header, footer and the two columns go (points)."""

    width: float
    height: float
    margin_left: float
    margin_right: float
    margin_top: float
    margin_bottom: float
    header: float  # distance from the top edge to the header
    footer: float  # distance from the bottom edge to the footer
    logo_height: float
    side_width: float  # the right column: deliverables, tags, photos
    gutter: float  # between the two columns
    band_padding: float  # left and right padding of a key-facts cell
    photo_width: float
    photo_height: float

    @property
    def text_width(self) -> float:
        """The width of the text block."""
        return self.width - self.margin_left - self.margin_right

    @property
    def text_height(self) -> float:
        """The height of the body of the page, between header and footer."""
        return self.height - self.margin_top - self.margin_bottom

    @property
    def main_width(self) -> float:
        """The width of the left column's text (context, approach)."""
        return self.text_width - self.side_width - self.gutter

    @property
    def fact_widths(self) -> tuple[float, float, float, float]:
        """The four key-facts cells (period, amount, place, carried by): 21/21/21/37 %."""
        w = self.text_width
        return (w * 0.21, w * 0.21, w * 0.21, w * 0.37)


def page_geometry(layout: Layout) -> PageGeometry:
    """The page of a Word card: the PDF card's A4 page, margins and columns."""
    side = layout.brand.page_margin_mm * MM
    return PageGeometry(
        width=210 * MM,
        height=297 * MM,
        margin_left=side,
        margin_right=side,
        margin_top=30 * MM,
        margin_bottom=21 * MM,
        header=13 * MM,
        footer=9 * MM,
        logo_height=9 * MM,
        side_width=62 * MM,
        gutter=9 * MM,
        band_padding=4 * MM,
        photo_width=62 * MM,
        photo_height=52 * MM,
    )
