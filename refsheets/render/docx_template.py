"""Generate a layout's Word template, `reference.docx`, from its `brand.yaml`.

The template holds what a designer would set up by hand in Word: the card's named styles
in the brand's fonts and colours, the list numbering, an A4 page with the logo in the
header and the brand's contact in the footer, the fonts embedded, and a specimen card
that shows every style. Cards are written into a copy of it (the specimen is dropped), so
a designer may also restyle `reference.docx` in Word and every card follows.

The package is written part by part (not from python-docx's Letter-size default
template): small, A4, French, and with nothing in it we did not put there. Same inputs,
same bytes; the inputs' digest is stamped in a custom property so a test can tell when
the committed template is older than its `brand.yaml`.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from refsheets.errors import NotFoundError
from refsheets.layouts import Layout
from refsheets.render import docx_package
from refsheets.render.docx_fonts import style_font
from refsheets.render.docx_package import EmbeddedFont, embedded_font, normalize_zip
from refsheets.render.docx_styles import (
    PageGeometry,
    ParagraphStyle,
    band_padding,
    card_styles,
    page_geometry,
    styles_by_id,
)
from refsheets.render.fit import FIT_STEPS, FitStep

TEMPLATE_FILE = "reference.docx"
STAMP_PROPERTY = "refsheets.template.inputs"
GENERATOR_VERSION = "1"
FIXED_DATE = "2020-01-01T00:00:00Z"

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT = "application/vnd.openxmlformats-officedocument"
# numIds linked to the Card Bullet, Card Numbered and Card Deliverable styles; a card
# restarts the numbered list (abstract list 2) for each of its numbered lists.
NUM_BULLET, NUM_ORDERED, NUM_DELIVERABLE = 1, 2, 3
ABSTRACT_ORDERED = 2
LIST_STYLES = {"CardBullet": NUM_BULLET, "CardNumbered": NUM_ORDERED, "CardDeliverable": 3}
EMU_PER_PT = 12700

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_W_ROOT = f'xmlns:w="{W_NS}" xmlns:r="{R_NS}"'
_DRAWING_NS = (
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"'
)


def template_path(layout: Layout) -> Path:
    """Where the layout's Word template is: its own folder, else the nearest parent's."""
    found = layout.find(TEMPLATE_FILE)
    if found is None:
        raise NotFoundError(
            f"the layout '{layout.name}' has no {TEMPLATE_FILE}; generate it with "
            f"`python scripts/make_reference_docx.py {layout.name}`"
        )
    return found


# --------------------------------------------------------------------------- helpers


def _hex(color: str) -> str:
    return color.lstrip("#").upper()


def _twips(points: float) -> int:
    return round(points * 20)


def _color(layout: Layout, role: str) -> str:
    return _hex(str(getattr(layout.brand.colors, role)))


def _text_run(text: str, style_id: str | None = None) -> str:
    props = f'<w:rPr><w:rStyle w:val="{style_id}"/></w:rPr>' if style_id else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _paragraph(style_id: str, runs: str) -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="{style_id}"/></w:pPr>{runs}</w:p>'


# --------------------------------------------------------------------------- styles


def _run_props(layout: Layout, spec: ParagraphStyle) -> str:
    font = style_font(layout, spec)
    name = quoteattr(font.word_name)
    parts = [f"<w:rFonts w:ascii={name} w:hAnsi={name} w:eastAsia={name} w:cs={name}/>"]
    parts.append("<w:b/><w:bCs/>" if font.bold else '<w:b w:val="0"/><w:bCs w:val="0"/>')
    parts.append("<w:i/><w:iCs/>" if font.italic else '<w:i w:val="0"/><w:iCs w:val="0"/>')
    if spec.caps:
        parts.append("<w:caps/>")
    parts.append(f'<w:color w:val="{_color(layout, spec.color)}"/>')
    if spec.tracking:
        parts.append(f'<w:spacing w:val="{_twips(spec.tracking)}"/>')
    size = round(spec.size * 2)
    parts.append(f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>')
    if spec.box:
        parts.append(
            f'<w:bdr w:val="single" w:sz="5" w:space="1" w:color="{_color(layout, spec.box)}"/>'
        )
    if spec.shade:
        parts.append(f'<w:shd w:val="clear" w:color="auto" w:fill="{_color(layout, spec.shade)}"/>')
    return "<w:rPr>" + "".join(parts) + "</w:rPr>"


def _border(layout: Layout, side: str, role: str, width: float, space: int) -> str:
    return (
        f'<w:{side} w:val="single" w:sz="{round(width * 8)}" w:space="{space}" '
        f'w:color="{_color(layout, role)}"/>'
    )


def spacing_xml(spec: ParagraphStyle) -> str:
    """The `w:spacing` of a paragraph style (what a tighter fit step changes)."""
    if spec.exact is not None:
        line = f'w:line="{max(_twips(spec.exact), 1)}" w:lineRule="exact"'
    else:
        line = f'w:line="{round(spec.line * 240)}" w:lineRule="auto"'
    return f'<w:spacing w:before="{_twips(spec.before)}" w:after="{_twips(spec.after)}" {line}/>'


def _paragraph_props(layout: Layout, spec: ParagraphStyle, page: PageGeometry) -> str:
    parts = []
    if spec.keep_next:
        parts.append("<w:keepNext/>")
    if spec.keep_lines:
        parts.append("<w:keepLines/>")
    numbering = LIST_STYLES.get(spec.style_id)
    if numbering:
        parts.append(f'<w:numPr><w:numId w:val="{numbering}"/></w:numPr>')
    if spec.rule_below or spec.rule_above or spec.rule_left:
        space = round(spec.rule_space)
        borders = ""
        if spec.rule_above:
            borders += _border(layout, "top", spec.rule_above, spec.rule_width, space)
        if spec.rule_left:
            borders += _border(layout, "left", spec.rule_left, spec.rule_width, space)
        if spec.rule_below:
            borders += _border(layout, "bottom", spec.rule_below, spec.rule_width, space)
        parts.append(f"<w:pBdr>{borders}</w:pBdr>")
    if spec.tab_right:
        parts.append(f'<w:tabs><w:tab w:val="right" w:pos="{_twips(page.text_width)}"/></w:tabs>')
    elif spec.tab_at is not None:
        parts.append(f'<w:tabs><w:tab w:val="left" w:pos="{_twips(spec.tab_at)}"/></w:tabs>')
    parts.append(spacing_xml(spec))
    indent = spec.indent + (spec.rule_space + spec.rule_width if spec.rule_left else 0)
    if indent or spec.hanging:
        parts.append(f'<w:ind w:left="{_twips(indent)}" w:hanging="{_twips(spec.hanging)}"/>')
    if spec.align == "right":
        parts.append('<w:jc w:val="right"/>')
    if spec.outline_level is not None:
        parts.append(f'<w:outlineLvl w:val="{spec.outline_level}"/>')
    return "<w:pPr>" + "".join(parts) + "</w:pPr>"


def _style_xml(layout: Layout, spec: ParagraphStyle, page: PageGeometry) -> str:
    kind = "character" if spec.character else "paragraph"
    based = "DefaultParagraphFont" if spec.character else "Normal"
    head = (
        f'<w:style w:type="{kind}" w:customStyle="1" w:styleId="{spec.style_id}">'
        f'<w:name w:val="{spec.name}"/><w:basedOn w:val="{based}"/>'
    )
    if spec.next_style:
        head += f'<w:next w:val="{spec.next_style}"/>'
    head += '<w:uiPriority w:val="10"/><w:qFormat/>'
    body = "" if spec.character else _paragraph_props(layout, spec, page)
    return head + body + _run_props(layout, spec) + "</w:style>"


def _cell_margin(side: str, points: float) -> str:
    return f'<w:{side} w:w="{_twips(points)}" w:type="dxa"/>'


def facts_cell_margins(page: PageGeometry, step: FitStep) -> str:
    """The key-facts cells' padding (the fit step changes the top and bottom)."""
    vertical = band_padding(step)
    return (
        "<w:tblCellMar>"
        + _cell_margin("top", vertical)
        + _cell_margin("left", page.band_padding)
        + _cell_margin("bottom", vertical)
        + _cell_margin("right", page.band_padding)
        + "</w:tblCellMar>"
    )


def _columns_table_style() -> str:
    return (
        '<w:style w:type="table" w:customStyle="1" w:styleId="CardColumns">'
        '<w:name w:val="Card Columns"/><w:basedOn w:val="TableNormal"/>'
        '<w:uiPriority w:val="10"/><w:tblPr><w:tblBorders><w:top w:val="nil"/>'
        '<w:left w:val="nil"/><w:bottom w:val="nil"/><w:right w:val="nil"/>'
        '<w:insideH w:val="nil"/><w:insideV w:val="nil"/></w:tblBorders><w:tblCellMar>'
        + _cell_margin("top", 0)
        + _cell_margin("left", 0)
        + _cell_margin("bottom", 0)
        + _cell_margin("right", 0)
        + "</w:tblCellMar></w:tblPr></w:style>"
    )


def _facts_table_style(layout: Layout, page: PageGeometry, step: FitStep) -> str:
    return (
        '<w:style w:type="table" w:customStyle="1" w:styleId="CardFacts">'
        '<w:name w:val="Card Facts"/><w:basedOn w:val="TableNormal"/>'
        '<w:uiPriority w:val="10"/><w:qFormat/>'
        '<w:pPr><w:spacing w:before="0" w:after="0"/></w:pPr>'
        "<w:tblPr><w:tblBorders>"
        + '<w:top w:val="nil"/><w:left w:val="nil"/><w:bottom w:val="nil"/>'
        + '<w:right w:val="nil"/><w:insideH w:val="nil"/>'
        # white gaps between the cells, as in the PDF's band
        + '<w:insideV w:val="single" w:sz="18" w:space="0" '
        + f'w:color="{_color(layout, "background")}"/>'
        + "</w:tblBorders>"
        + facts_cell_margins(page, step)
        + "</w:tblPr>"
        f'<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{_color(layout, "tint")}"/></w:tcPr>'
        "</w:style>"
    )


def styles_xml(layout: Layout, step: FitStep = FIT_STEPS[0]) -> str:
    """`word/styles.xml`: the defaults, Word's four base styles and the card's styles."""
    page = page_geometry(layout)
    body = style_font(layout, styles_by_id(step)["CardBody"])
    name = quoteattr(body.word_name)
    defaults = (
        "<w:docDefaults><w:rPrDefault><w:rPr>"
        f"<w:rFonts w:ascii={name} w:hAnsi={name} w:eastAsia={name} w:cs={name}/>"
        f'<w:color w:val="{_color(layout, "ink")}"/><w:sz w:val="19"/><w:szCs w:val="19"/>'
        '<w:lang w:val="fr-FR" w:eastAsia="fr-FR" w:bidi="ar-SA"/>'
        "</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr>"
        '<w:spacing w:after="0" w:line="240" w:lineRule="auto"/>'
        "</w:pPr></w:pPrDefault></w:docDefaults>"
    )
    base = (
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal">'
        '<w:name w:val="Normal"/><w:qFormat/></w:style>'
        '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
        '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/>'
        "<w:unhideWhenUsed/></w:style>"
        '<w:style w:type="table" w:default="1" w:styleId="TableNormal">'
        '<w:name w:val="Normal Table"/><w:uiPriority w:val="99"/><w:semiHidden/>'
        '<w:unhideWhenUsed/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar>'
        '<w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/>'
        '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/>'
        "</w:tblCellMar></w:tblPr></w:style>"
        '<w:style w:type="numbering" w:default="1" w:styleId="NoList">'
        '<w:name w:val="No List"/><w:uiPriority w:val="99"/><w:semiHidden/>'
        "<w:unhideWhenUsed/></w:style>"
    )
    styles = "".join(_style_xml(layout, spec, page) for spec in card_styles(step))
    return (
        f"{_XML_HEAD}<w:styles {_W_ROOT}>{defaults}{base}{styles}"
        f"{_facts_table_style(layout, page, step)}{_columns_table_style()}</w:styles>"
    )


# --------------------------------------------------------------------------- numbering


def _level(layout: Layout, style_id: str, fmt: str, text: str, role: str, bold: bool) -> str:
    spec = styles_by_id(FIT_STEPS[0])[style_id]
    font = quoteattr(style_font(layout, spec).word_name)
    weight = "<w:b/>" if bold else ""
    # No size of its own: a marker bigger than the text makes LibreOffice space every
    # line of the item wider, which the length budget cannot predict.

    return (
        f'<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:pStyle w:val="{style_id}"/><w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
        f'<w:pPr><w:ind w:left="{_twips(spec.indent)}" w:hanging="{_twips(spec.hanging)}"/></w:pPr>'
        f"<w:rPr><w:rFonts w:ascii={font} w:hAnsi={font}/>{weight}"
        f'<w:color w:val="{_color(layout, role)}"/></w:rPr></w:lvl>'
    )


def numbering_xml(layout: Layout) -> str:
    """`word/numbering.xml`: the bullet and numbered lists, linked to their styles."""
    return (
        f"{_XML_HEAD}<w:numbering {_W_ROOT}>"
        f'<w:abstractNum w:abstractNumId="{NUM_BULLET}"><w:multiLevelType w:val="singleLevel"/>'
        + _level(layout, "CardBullet", "bullet", "•", "accent", False)
        + "</w:abstractNum>"
        f'<w:abstractNum w:abstractNumId="{ABSTRACT_ORDERED}">'
        '<w:multiLevelType w:val="singleLevel"/>'
        + _level(layout, "CardNumbered", "decimal", "%1.", "primary", True)
        + "</w:abstractNum>"
        f'<w:abstractNum w:abstractNumId="{NUM_DELIVERABLE}">'
        '<w:multiLevelType w:val="singleLevel"/>'
        + _level(layout, "CardDeliverable", "bullet", "\u25aa", "accent", False)
        + "</w:abstractNum>"
        f'<w:num w:numId="{NUM_BULLET}"><w:abstractNumId w:val="{NUM_BULLET}"/></w:num>'
        f'<w:num w:numId="{NUM_ORDERED}"><w:abstractNumId w:val="{ABSTRACT_ORDERED}"/></w:num>'
        f'<w:num w:numId="{NUM_DELIVERABLE}"><w:abstractNumId w:val="{NUM_DELIVERABLE}"/></w:num>'
        "</w:numbering>"
    )


# --------------------------------------------------------------------------- fonts


@dataclass(frozen=True)
class _FontEntry:
    word_name: str
    faces: tuple[EmbeddedFont, ...]
    panose: str
    sig: str


def used_fonts(layout: Layout) -> list[_FontEntry]:
    """The faces the styles use, grouped by Word family, with the family's four styles."""
    paths: dict[str, dict[str, Path]] = {}
    for spec in card_styles(FIT_STEPS[0]):
        font = style_font(layout, spec)
        paths.setdefault(font.word_name, {})
    # Each Word family gets every face of it the layout lists (regular, bold, italic,
    # bold italic), so that a bid manager's bold or italic in the card is the real face.
    for face in layout.font_faces:
        family, slot = docx_package.word_font_name(face.path)
        if family in paths:
            paths[family].setdefault(slot, face.path)
    entries = []
    for family, slots in paths.items():
        faces = tuple(
            embedded_font(slots[slot])
            for slot in ("Regular", "Bold", "Italic", "BoldItalic")
            if slot in slots
        )
        entries.append(_FontEntry(family, faces, *_font_signature(faces[0].data)))
    return entries


def _font_signature(data: bytes) -> tuple[str, str]:
    from fontTools.ttLib import TTFont

    os2 = TTFont(io.BytesIO(data), lazy=True)["OS/2"]
    panose = os2.panose
    digits = [
        panose.bFamilyType, panose.bSerifStyle, panose.bWeight, panose.bProportion,
        panose.bContrast, panose.bStrokeVariation, panose.bArmStyle, panose.bLetterForm,
        panose.bMidline, panose.bXHeight,
    ]  # fmt: skip
    words = [
        os2.ulUnicodeRange1, os2.ulUnicodeRange2, os2.ulUnicodeRange3, os2.ulUnicodeRange4,
        os2.ulCodePageRange1, os2.ulCodePageRange2,
    ]  # fmt: skip
    sig = (
        'w:usb0="{:08X}" w:usb1="{:08X}" w:usb2="{:08X}" w:usb3="{:08X}" '
        'w:csb0="{:08X}" w:csb1="{:08X}"'
    ).format(*words)
    return "".join(f"{d:02X}" for d in digits), sig


def font_table(entries: list[_FontEntry]) -> tuple[str, str, dict[str, bytes]]:
    """`fontTable.xml`, its relationships and the `.odttf` parts, keyed by zip name."""
    fonts_xml, rels, parts = [], [], {}
    index = 0
    for entry in entries:
        embeds = []
        for face in entry.faces:
            index += 1
            rel_id = f"rIdFont{index}"
            parts[f"word/fonts/font{index}.odttf"] = face.obfuscated
            rels.append(
                f'<Relationship Id="{rel_id}" Type="{REL}/font" Target="fonts/font{index}.odttf"/>'
            )
            embeds.append(f'<w:embed{face.slot} r:id="{rel_id}" w:fontKey="{face.key}"/>')
        # family "swiss" and the PANOSE digits let Word pick a close sans-serif where the
        # embedded fonts are not honoured.
        fonts_xml.append(
            f"<w:font w:name={quoteattr(entry.word_name)}>"
            f'<w:panose1 w:val="{entry.panose}"/><w:charset w:val="00"/>'
            f'<w:family w:val="swiss"/><w:pitch w:val="variable"/><w:sig {entry.sig}/>'
            + "".join(embeds)
            + "</w:font>"
        )
    table = f"{_XML_HEAD}<w:fonts {_W_ROOT}>{''.join(fonts_xml)}</w:fonts>"
    rels_xml = f'{_XML_HEAD}<Relationships xmlns="{PKG_REL_NS}">{"".join(rels)}</Relationships>'
    return table, rels_xml, parts


# --------------------------------------------------------------------------- header, footer


def logo_png(layout: Layout, height_px: int = 240) -> tuple[bytes, int, int]:
    """The layout's SVG logo as a PNG (cairosvg), with its pixel size."""
    try:
        import cairosvg
    except ImportError as exc:  # a dev dependency: only this generator needs it
        raise NotFoundError(
            "generating a Word template needs cairosvg: `pip install -e '.[dev]'`"
        ) from exc
    from PIL import Image

    png = cairosvg.svg2png(url=str(layout.logo_path), output_height=height_px)
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    return png, width, height


def inline_picture(rel_id: str, width_pt: float, height_pt: float, pic_id: int, name: str) -> str:
    """A `w:drawing` holding an inline picture, `rel_id` pointing at the image part."""
    cx, cy = round(width_pt * EMU_PER_PT), round(height_pt * EMU_PER_PT)
    return (
        f'<w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/>'
        f'<wp:docPr id="{pic_id}" name="Picture {pic_id}" descr={quoteattr(name)}/>'
        '<wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        f'<pic:pic><pic:nvPicPr><pic:cNvPr id="0" name="picture{pic_id}.png"/><pic:cNvPicPr/>'
        f'</pic:nvPicPr><pic:blipFill><a:blip r:embed="{rel_id}"/><a:stretch><a:fillRect/>'
        '</a:stretch></pic:blipFill><pic:spPr><a:xfrm><a:off x="0" y="0"/>'
        f'<a:ext cx="{cx}" cy="{cy}"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
        "</a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing>"
    )


def header_xml(layout: Layout, page: PageGeometry, logo_size: tuple[int, int]) -> str:
    """`word/header1.xml`: the logo at the set height, then the kicker at the right."""
    width_px, height_px = logo_size
    height = page.logo_height
    width = min(height * width_px / height_px, page.text_width / 2)
    height = width * height_px / width_px
    picture = inline_picture("rIdLogo", width, height, 1, layout.brand.name)
    runs = f"<w:r>{picture}</w:r><w:r><w:tab/></w:r>" + _text_run("Référence", "CardKicker")
    return (
        f"{_XML_HEAD}<w:hdr {_W_ROOT} {_DRAWING_NS}>" + _paragraph("CardHeader", runs) + "</w:hdr>"
    )


def contact_parts(name: str | None, *details: str | None) -> list[str]:
    """The footer's pieces: the brand, then its contact details that are set."""
    return [part for part in (name, *details) if part]


FOOTER_SEPARATOR = "  ·  "


def footer_runs(parts: list[str]) -> str:
    """The footer's runs: the brand's name in its character style, then the details."""
    if not parts:
        return ""
    details = "".join(_text_run(FOOTER_SEPARATOR + part) for part in parts[1:])
    return _text_run(parts[0], "CardFooterBrand") + details


def footer_xml(layout: Layout) -> str:
    """`word/footer1.xml`: the brand's name and contact."""
    brand = layout.brand
    runs = footer_runs(contact_parts(brand.name, brand.email, brand.website))
    return f"{_XML_HEAD}<w:ftr {_W_ROOT}>" + _paragraph("CardFooter", runs) + "</w:ftr>"


# --------------------------------------------------------------------------- document


def section_xml(page: PageGeometry) -> str:
    """The `w:sectPr` of a card page: A4, margins, header and footer."""
    return (
        '<w:sectPr><w:headerReference w:type="default" r:id="rIdHeader"/>'
        '<w:footerReference w:type="default" r:id="rIdFooter"/>'
        f'<w:pgSz w:w="{_twips(page.width)}" w:h="{_twips(page.height)}"/>'
        f'<w:pgMar w:top="{_twips(page.margin_top)}" w:right="{_twips(page.margin_right)}" '
        f'w:bottom="{_twips(page.margin_bottom)}" w:left="{_twips(page.margin_left)}" '
        f'w:header="{_twips(page.header)}" w:footer="{_twips(page.footer)}" w:gutter="0"/>'
        '<w:cols w:space="708"/></w:sectPr>'
    )


def _table(style_id: str, widths: list[float], cells: list[str], gutter: float = 0) -> str:
    grid = "".join(f'<w:gridCol w:w="{_twips(w)}"/>' for w in widths)
    margin = f'<w:tcMar><w:right w:w="{_twips(gutter)}" w:type="dxa"/></w:tcMar>'
    row = "".join(
        f'<w:tc><w:tcPr><w:tcW w:w="{_twips(w)}" w:type="dxa"/>'
        f"{margin if i == 0 and gutter else ''}</w:tcPr>{content}</w:tc>"
        for i, (w, content) in enumerate(zip(widths, cells, strict=True))
    )
    return (
        f'<w:tbl><w:tblPr><w:tblStyle w:val="{style_id}"/>'
        f'<w:tblW w:w="{_twips(sum(widths))}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
        '<w:tblLook w:val="0000" w:firstRow="0" w:lastRow="0" w:firstColumn="0" '
        'w:lastColumn="0" w:noHBand="1" w:noVBand="1"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid><w:tr>{row}</w:tr></w:tbl>"
    )


def _specimen(page: PageGeometry) -> str:
    """A card made of placeholders, one per style, for a designer to restyle in Word."""

    def para(style_id: str, text: str) -> str:
        return _paragraph(style_id, _text_run(text))

    facts = [
        para("CardFactLabel", "Période") + para("CardFact", "AAAA–AAAA"),
        para("CardFactLabel", "Montant") + para("CardBudget", "00 000 € HT"),
        para("CardFactLabel", "Lieu") + para("CardFact", "Ville"),
        para("CardFactLabel", "Mission portée par")
        + para("CardFact", "Structure")
        + para("CardFactNote", "En groupement avec… (Card Fact Note)"),
    ]
    main = (
        para("CardHeading", "Contexte (Card Heading)")
        + para("CardBody", "Texte courant de la fiche (Card Body).")
        + para("CardNumbered", "Élément d’une liste numérotée (Card Numbered)")
        + para("CardBullet", "Élément d’une liste à puces (Card Bullet)")
    )
    tags = (_text_run("\u00a0Étiquette\u00a0", "CardTag") + _text_run(" ")) * 3
    side = (
        para("CardHeading", "Réalisations")
        + para("CardDeliverable", "Une réalisation (Card Deliverable)")
        + para("CardHeading", "Expertises et thématiques")
        + _paragraph("CardTags", tags)
        + para("CardCaption", "Légende d’une photo (Card Caption)")
    )
    return (
        para("CardClient", "Client (Card Client)")
        + para("CardTitle", "Titre de la mission (Card Title)")
        + _table("CardFacts", list(page.fact_widths), facts)
        + _paragraph("CardSpacer", "")
        + _table(
            "CardColumns",
            [page.main_width + page.gutter, page.side_width],
            [main, side],
            page.gutter,
        )
    )


def document_xml(page: PageGeometry) -> str:
    """`word/document.xml`: the specimen card and the page set-up."""
    return (
        f"{_XML_HEAD}<w:document {_W_ROOT} {_DRAWING_NS}><w:body>"
        f"{_specimen(page)}{section_xml(page)}</w:body></w:document>"
    )


def _settings_xml() -> str:
    # embedTrueTypeFonts: Word keeps the fonts embedded when a bid manager saves the card.
    return (
        f"{_XML_HEAD}<w:settings {_W_ROOT}><w:embedTrueTypeFonts/>"
        '<w:defaultTabStop w:val="709"/><w:characterSpacingControl w:val="doNotCompress"/>'
        '<w:compat><w:compatSetting w:name="compatibilityMode" '
        'w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat>'
        '<w:themeFontLang w:val="fr-FR"/><w:decimalSymbol w:val=","/>'
        '<w:listSeparator w:val=";"/></w:settings>'
    )


def _core_xml(title: str) -> str:
    return (
        f"{_XML_HEAD}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title><dc:creator>refsheets</dc:creator>"
        "<cp:lastModifiedBy>refsheets</cp:lastModifiedBy><cp:revision>1</cp:revision>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{FIXED_DATE}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_DATE}</dcterms:modified>'
        "<dc:language>fr-FR</dc:language></cp:coreProperties>"
    )


def _app_xml() -> str:
    return (
        f"{_XML_HEAD}<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>refsheets</Application><DocSecurity>0</DocSecurity></Properties>"
    )


def _custom_xml(stamp: str) -> str:
    return (
        f"{_XML_HEAD}<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" '
        f'name="{STAMP_PROPERTY}"><vt:lpwstr>{stamp}</vt:lpwstr></property></Properties>'
    )


def _rels(entries: Iterable[tuple[str, str, str]]) -> str:
    body = "".join(
        f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"/>'
        for rid, kind, target in entries
    )
    return f'{_XML_HEAD}<Relationships xmlns="{PKG_REL_NS}">{body}</Relationships>'


def _content_types() -> str:
    overrides = {
        "/word/document.xml": "wordprocessingml.document.main+xml",
        "/word/styles.xml": "wordprocessingml.styles+xml",
        "/word/numbering.xml": "wordprocessingml.numbering+xml",
        "/word/settings.xml": "wordprocessingml.settings+xml",
        "/word/fontTable.xml": "wordprocessingml.fontTable+xml",
        "/word/header1.xml": "wordprocessingml.header+xml",
        "/word/footer1.xml": "wordprocessingml.footer+xml",
        "/docProps/app.xml": "extended-properties+xml",
        "/docProps/custom.xml": "custom-properties+xml",
    }
    items = "".join(
        f'<Override PartName="{part}" ContentType="{CT}.{kind}"/>'
        for part, kind in overrides.items()
    )
    return (
        f'{_XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="png" ContentType="image/png"/>'
        '<Default Extension="jpeg" ContentType="image/jpeg"/>'
        f'<Default Extension="odttf" ContentType="{CT}.obfuscatedFont"/>'
        '<Override PartName="/docProps/core.xml" '
        'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        f"{items}</Types>"
    )


def template_inputs_digest(layout: Layout) -> str:
    """A digest of everything the template is made from: brand, logo, fonts, generator."""
    digest = hashlib.sha256()
    digest.update(GENERATOR_VERSION.encode())
    digest.update(json.dumps(layout.brand.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(layout.logo_path.read_bytes())
    for face in layout.font_faces:
        digest.update(face.path.read_bytes())
    here = Path(__file__).resolve().parent
    for module in ("docx_template.py", "docx_styles.py", "docx_package.py", "docx_fonts.py"):
        digest.update((here / module).read_bytes())
    return digest.hexdigest()


def build_reference_docx(layout: Layout) -> bytes:
    """The bytes of `reference.docx` for `layout` (reproducible)."""
    page = page_geometry(layout)
    png, width_px, height_px = logo_png(layout)
    fonts, font_rels, font_parts = font_table(used_fonts(layout))
    document_rels = [
        ("rIdStyles", f"{REL}/styles", "styles.xml"),
        ("rIdNumbering", f"{REL}/numbering", "numbering.xml"),
        ("rIdSettings", f"{REL}/settings", "settings.xml"),
        ("rIdFontTable", f"{REL}/fontTable", "fontTable.xml"),
        ("rIdHeader", f"{REL}/header", "header1.xml"),
        ("rIdFooter", f"{REL}/footer", "footer1.xml"),
    ]
    package_rels = [
        ("rId1", f"{REL}/officeDocument", "word/document.xml"),
        (
            "rId2",
            "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
            "docProps/core.xml",
        ),
        ("rId3", f"{REL}/extended-properties", "docProps/app.xml"),
        ("rId4", f"{REL}/custom-properties", "docProps/custom.xml"),
    ]
    parts: dict[str, str | bytes] = {
        "[Content_Types].xml": _content_types(),
        "_rels/.rels": _rels(package_rels),
        "docProps/core.xml": _core_xml(f"Fiche référence — {layout.brand.name}"),
        "docProps/app.xml": _app_xml(),
        "docProps/custom.xml": _custom_xml(template_inputs_digest(layout)),
        "word/document.xml": document_xml(page),
        "word/_rels/document.xml.rels": _rels(document_rels),
        "word/styles.xml": styles_xml(layout),
        "word/numbering.xml": numbering_xml(layout),
        "word/settings.xml": _settings_xml(),
        "word/fontTable.xml": fonts,
        "word/_rels/fontTable.xml.rels": font_rels,
        "word/header1.xml": header_xml(layout, page, (width_px, height_px)),
        "word/_rels/header1.xml.rels": _rels([("rIdLogo", f"{REL}/image", "media/logo.png")]),
        "word/media/logo.png": png,
        "word/footer1.xml": footer_xml(layout),
        **font_parts,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in parts.items():
            package.writestr(name, content.encode() if isinstance(content, str) else content)
    return normalize_zip(out.getvalue())


def template_stamp(path: Path) -> str | None:
    """The inputs digest stamped in a template file, if any."""
    with zipfile.ZipFile(path) as package:
        try:
            text = package.read("docProps/custom.xml").decode()
        except KeyError:
            return None
    marker = f'name="{STAMP_PROPERTY}"><vt:lpwstr>'
    start = text.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return text[start : text.find("<", start)]
