"""The Word annex, assembled from the Word cards' files.

Building a 200-card document with python-docx costs seconds and would be paid again for
every export; the cards' .docx files are already rendered (and cached). So the annex is
put together at the package level: the front matter (cover and summary table) and each
card's body become the sections of one document, each card keeping its own header and
footer; numbering and pictures are renumbered so that nothing collides. Every card was
written from the same layout template, so the styles, fonts and settings are shared;
the styles of the card set tightest are kept (Word styles are per document), which can
only make the other cards shorter.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from refsheets.render.docx_package import write_zip

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_REL_IMAGE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"
_HEADER_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
_FOOTER_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
_BODY = re.compile(r"<w:body>(.*)(<w:sectPr\b.*?</w:sectPr>)\s*</w:body>", re.S)
_CARD_END = '<w:p><w:pPr><w:pStyle w:val="CardEnd"/></w:pPr></w:p>'
_REL = re.compile(r"<Relationship ([^>]*?)/>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')
_NUM = re.compile(r'<w:num w:numId="(\d+)">.*?</w:num>', re.S)
_BODY_SIZE = re.compile(r'w:styleId="CardBody".*?<w:sz w:val="(\d+)"/>', re.S)


@dataclass(frozen=True)
class SummaryRow:
    """One line of the summary table, as the PDF's summary shows it."""

    number: str
    client: str
    kind: str
    title: str
    period: str
    amount: str
    carried_by: str
    partners: str


@dataclass(frozen=True)
class FrontMatter:
    """What the Word annex says before the cards: a cover page, then a summary page."""

    kicker: str
    title: str
    lines: Sequence[tuple[str, str]]  # (label, value) of the cover
    stamp: str
    heading: str
    intro: str
    columns: Sequence[str]  # N°, Client, Intitulé, Période, Montant, Réalisé par
    rows: Sequence[SummaryRow]
    reference_label: str  # "Référence": the cards' footers say "Référence k / n"
    primary: str  # colours of the rules, as RRGGBB
    rule: str
    tint: str  # the fill of the cover's band, as RRGGBB


_COMPOUND = re.compile(r"[\w’']+(?:-[\w’']+)+")


def _run_text(text: str) -> str:
    """A run's text, hyphenated compounds ("tiers-lieu") joined by non-breaking hyphens,
    as the Word cards write them."""

    def join(match: re.Match[str]) -> str:
        if len(match.group()) > 24:
            return match.group()
        return '</w:t><w:noBreakHyphen/><w:t xml:space="preserve">'.join(match.group().split("-"))

    return f'<w:t xml:space="preserve">{_COMPOUND.sub(join, escape(text))}</w:t>'


def _paragraph(style: str, text: str) -> str:
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr><w:r>{_run_text(text)}</w:r></w:p>'


# The summary's columns, in mm as on the PDF summary (the title takes what is left).
_SUMMARY_MM = (8.0, 34.0, 0.0, 23.0, 25.0, 36.0)
_TWIPS_PER_MM = 1440 / 25.4


def _cell(paragraphs: str, width: int, border: str) -> str:
    return (
        f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/>'
        f"<w:tcBorders>{border}</w:tcBorders></w:tcPr>{paragraphs}</w:tc>"
    )


def summary_table_xml(front: FrontMatter, text_width: int) -> str:
    """The summary table: the PDF's columns and widths, one rule under the header in the
    brand's colour, hairlines between rows, amounts right-aligned and bold."""
    fixed = sum(round(mm * _TWIPS_PER_MM) for mm in _SUMMARY_MM)
    widths = [round(mm * _TWIPS_PER_MM) or (text_width - fixed) for mm in _SUMMARY_MM]
    head_rule = f'<w:bottom w:val="single" w:sz="10" w:space="0" w:color="{front.primary}"/>'
    row_rule = f'<w:bottom w:val="single" w:sz="4" w:space="0" w:color="{front.rule}"/>'
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    header = "".join(
        _cell(_paragraph("SummaryHeadAmount" if i == 4 else "SummaryHead", text), w, head_rule)
        for i, (text, w) in enumerate(zip(front.columns, widths, strict=True))
    )
    rows = []
    for row in front.rows:
        cells = [
            _paragraph("SummaryNumber", row.number),
            _paragraph("SummaryStrong", row.client) + _paragraph("SummaryNote", row.kind),
            _paragraph("SummaryCell", row.title),
            _paragraph("SummaryCell", row.period),
            _paragraph("SummaryAmount", row.amount),
            _paragraph("SummaryCell", row.carried_by)
            + (_paragraph("SummaryNote", row.partners) if row.partners else ""),
        ]
        rows.append(
            "<w:tr><w:trPr><w:cantSplit/></w:trPr>"
            + "".join(_cell(c, w, row_rule) for c, w in zip(cells, widths, strict=True))
            + "</w:tr>"
        )
    none = "".join(
        f'<w:{side} w:val="nil"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    margins = (
        '<w:tblCellMar><w:top w:w="68" w:type="dxa"/><w:left w:w="0" w:type="dxa"/>'
        '<w:bottom w:w="68" w:type="dxa"/><w:right w:w="113" w:type="dxa"/></w:tblCellMar>'
    )
    return (
        f'<w:tbl><w:tblPr><w:tblW w:type="dxa" w:w="{text_width}"/>'
        f'<w:tblBorders>{none}</w:tblBorders><w:tblLayout w:type="fixed"/>{margins}'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
        f"<w:tr><w:trPr><w:tblHeader/><w:cantSplit/></w:trPr>{header}</w:tr>{''.join(rows)}"
        "</w:tbl>"
    )


@dataclass(frozen=True)
class _Page:
    """The geometry of a section, in twips, read from its `w:sectPr`."""

    width: int
    top: int
    left: int
    right: int

    @classmethod
    def of(cls, sect: str) -> _Page:
        def twips(pattern: str, default: int) -> int:
            match = re.search(pattern, sect)
            return int(match.group(1)) if match else default

        return cls(
            width=twips(r'<w:pgSz w:w="(\d+)"', 11906),
            top=twips(r'<w:pgMar [^>]*w:top="(\d+)"', 907),
            left=twips(r'<w:pgMar [^>]*w:left="(\d+)"', 907),
            right=twips(r'<w:pgMar [^>]*w:right="(\d+)"', 907),
        )


# The cover's band, as on the PDF's: 12 mm of tint under the title, then a rule of 1.4 mm
# in the brand's colour (w:sz counts eighths of a point: 1.4 mm is about 4 pt).
_BAND_BOTTOM_MM = 12.0
_BAND_RULE_EIGHTHS = 32


def cover_band_xml(front: FrontMatter, logo: str, page: _Page) -> str:
    """The cover's upper part: logo, kicker and title on a tinted band from the page's top
    edge to its side edges, ruled in the brand's colour (the PDF cover's `annex-band`).

    Word has no bleed: a one-cell table indented by the left margin and as wide as the page
    draws it; the cover's section has no top margin, the cell's own margins place the text
    where the other pages have theirs.
    """
    bottom = round(_BAND_BOTTOM_MM * _TWIPS_PER_MM)
    none = "".join(f'<w:{side} w:val="nil"/>' for side in ("top", "left", "right"))
    rule = (
        f'<w:bottom w:val="single" w:sz="{_BAND_RULE_EIGHTHS}" w:space="0" '
        f'w:color="{front.primary}"/>'
    )
    margins = (
        f'<w:tcMar><w:top w:w="{page.top}" w:type="dxa"/>'
        f'<w:left w:w="{page.left}" w:type="dxa"/>'
        f'<w:bottom w:w="{bottom}" w:type="dxa"/>'
        f'<w:right w:w="{page.right}" w:type="dxa"/></w:tcMar>'
    )
    # The title's own space after would add to the band's bottom margin: none inside it.
    title = _paragraph("AnnexTitle", front.title).replace(
        '<w:pStyle w:val="AnnexTitle"/>',
        '<w:pStyle w:val="AnnexTitle"/><w:spacing w:after="0"/>',
    )
    return (
        f'<w:tbl><w:tblPr><w:tblW w:type="dxa" w:w="{page.width}"/>'
        f'<w:tblInd w:type="dxa" w:w="{-page.left}"/><w:tblLayout w:type="fixed"/>'
        f'<w:tblCellMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/>'
        f"</w:tblCellMar></w:tblPr>"
        f'<w:tblGrid><w:gridCol w:w="{page.width}"/></w:tblGrid>'
        f'<w:tr><w:trPr><w:cantSplit/></w:trPr><w:tc><w:tcPr><w:tcW w:type="dxa" '
        f'w:w="{page.width}"/><w:tcBorders>{none}{rule}</w:tcBorders>'
        f'<w:shd w:val="clear" w:color="auto" w:fill="{front.tint}"/>{margins}</w:tcPr>'
        f"{logo}{_paragraph('AnnexKicker', front.kicker)}{title}</w:tc></w:tr></w:tbl>"
    )


def cover_xml(front: FrontMatter, logo: str, page: _Page) -> str:
    """The cover page: the band (logo, kicker, the tender's title), its facts, the stamp."""
    lines = "".join(
        '<w:p><w:pPr><w:pStyle w:val="AnnexLine"/></w:pPr>'
        f'<w:r><w:rPr><w:rStyle w:val="AnnexLabel"/></w:rPr><w:t xml:space="preserve">'
        f"{escape(label)}</w:t></w:r><w:r><w:tab/></w:r>"
        f"<w:r>{_run_text(value)}</w:r></w:p>"
        for label, value in front.lines
    )
    # 14 mm between the band and the facts, as on the PDF cover.
    gap = round(14 * _TWIPS_PER_MM)
    spacer = (
        f'<w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="{gap}" '
        'w:lineRule="exact"/></w:pPr></w:p>'
    )
    return (
        cover_band_xml(front, logo, page) + spacer + lines + _paragraph("AnnexStamp", front.stamp)
    )


def summary_xml(front: FrontMatter, text_width: int) -> str:
    """The summary page's body (its logo and kicker are in its header, as on a card)."""
    return (
        _paragraph("SummaryHeading", front.heading)
        + _paragraph("SummaryIntro", front.intro)
        + summary_table_xml(front, text_width)
    )


_KICKER_TEXT = re.compile(r'(<w:rStyle w:val="CardKicker"/></w:rPr><w:t[^>]*>)[^<]*(</w:t>)')
_DRAWING_RUN = re.compile(r"<w:r>(?:(?!</w:r>).)*?<w:drawing>.*?</w:drawing></w:r>", re.S)


def _with_reference(footer: str, label: str, k: int, n: int) -> str:
    """A card's footer with "Référence k / n" at its right (the style's right tab)."""
    text = escape(f"{label}\u00a0{k}\u00a0/\u00a0{n}")
    runs = f'<w:r><w:tab/></w:r><w:r><w:t xml:space="preserve">{text}</w:t></w:r>'
    head, sep, tail = footer.rpartition("</w:p>")
    return head + runs + sep + tail if sep else footer


class _Card:
    """The parts of one card's package that the annex takes."""

    def __init__(self, data: bytes) -> None:
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.names = set(self.zip.namelist())
        document = self.read("word/document.xml")
        match = _BODY.search(document)
        if match is None:  # pragma: no cover - our own writer's output
            raise ValueError("a Word card without a body")
        self.head = document[: match.start(1)]
        self.body, self.sect = match.group(1), match.group(2)
        self.tail = document[match.end(2) :]
        self.rels = self.read("word/_rels/document.xml.rels")
        self.numbering = (
            self.read("word/numbering.xml") if "word/numbering.xml" in self.names else ""
        )
        styles = self.read("word/styles.xml")
        size = _BODY_SIZE.search(styles)
        self.body_size = int(size.group(1)) if size else 0
        self.styles = styles

    def read(self, name: str) -> str:
        return self.zip.read(name).decode("utf-8")


def merge_cards_docx(front: FrontMatter, cards: Sequence[bytes], *, title: str) -> bytes:
    """The annex: a cover page, a summary page, then every card on its own page, with
    "Référence k / n" in its footer, as .docx bytes."""
    parts = [_Card(data) for data in cards]
    base = parts[0]
    tightest = min(parts, key=lambda card: card.body_size)
    files: dict[str, bytes] = {}
    for name in base.names:
        if not re.match(
            r"word/(header|footer)\d+\.xml|word/_rels/(header|footer)\d+\.xml\.rels", name
        ):
            files[name] = base.zip.read(name)
    files["word/styles.xml"] = tightest.styles.encode("utf-8")

    sect_template = base.sect
    text_width = _text_width(sect_template)
    no_parts = re.sub(r"<w:(header|footer)Reference [^>]*/>", "", sect_template)
    # The cover's section has no header or footer; the summary's has the cards' header
    # (logo, and "Annexe — Références" for a kicker) and their footer (brand, contact).
    header_ref = re.search(r'<w:headerReference [^>]*r:id="([^"]+)"', sect_template)
    footer_ref = re.search(r'<w:footerReference [^>]*r:id="([^"]+)"', sect_template)
    base_rels = {
        attrs["Id"]: attrs for attrs in (dict(_ATTR.findall(r)) for r in _REL.findall(base.rels))
    }
    logo = ""
    summary_sect = no_parts
    front_rels: list[str] = []
    if header_ref is not None:
        header_target = base_rels[header_ref.group(1)]["Target"]
        header_xml = _KICKER_TEXT.sub(
            lambda m: m.group(1) + escape(front.kicker) + m.group(2),
            base.read(f"word/{header_target}"),
        )
        files["word/header0.xml"] = header_xml.encode()
        rels_name = f"word/_rels/{header_target}.rels"
        if rels_name in base.names:
            header_rels = base.read(rels_name)
            files["word/_rels/header0.xml.rels"] = header_rels.encode()
            # The cover shows the same logo, in its body: the header's picture, re-linked.
            drawing = _DRAWING_RUN.search(header_xml)
            image = next(
                (dict(_ATTR.findall(r)) for r in _REL.findall(header_rels) if _REL_IMAGE in r),
                None,
            )
            if drawing is not None and image is not None:
                files["word/media/annex-logo.png"] = base.zip.read(f"word/{image['Target']}")
                front_rels.append(
                    f'Id="rIdAnnexLogo" Type="{_REL_IMAGE}" Target="media/annex-logo.png"'
                )
                run = re.sub(r'r:embed="[^"]+"', 'r:embed="rIdAnnexLogo"', drawing.group(0))
                run = re.sub(r'<wp:docPr id="\d+"', '<wp:docPr id="9001"', run)
                # Larger on the cover, as on the PDF's (16 mm instead of the header's 9).
                run = re.sub(
                    r'(<(?:wp:extent|a:ext) )cx="(\d+)" cy="(\d+)"',
                    lambda m: (
                        f'{m.group(1)}cx="{int(m.group(2)) * 16 // 9}" '
                        f'cy="{int(m.group(3)) * 16 // 9}"'
                    ),
                    run,
                )
                logo = f'<w:p><w:pPr><w:pStyle w:val="CardHeader"/></w:pPr>{run}</w:p>'
        front_rels.append(
            'Id="rIdHeader0" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/header" Target="header0.xml"'
        )
        overrides_front = [f'<Override PartName="/word/header0.xml" ContentType="{_HEADER_CT}"/>']
        summary_sect = re.sub(
            r"(<w:sectPr[^>]*>)",
            r'\1<w:headerReference w:type="default" r:id="rIdHeader0"/>',
            summary_sect,
            count=1,
        )
    else:
        overrides_front = []
    if footer_ref is not None:
        footer_target = base_rels[footer_ref.group(1)]["Target"]
        files["word/footer0.xml"] = base.zip.read(f"word/{footer_target}")
        front_rels.append(
            'Id="rIdFooter0" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/footer" Target="footer0.xml"'
        )
        overrides_front.append(
            f'<Override PartName="/word/footer0.xml" ContentType="{_FOOTER_CT}"/>'
        )
        summary_sect = re.sub(
            r"(<w:sectPr[^>]*>(?:<w:headerReference [^>]*/>)?)",
            r'\1<w:footerReference w:type="default" r:id="rIdFooter0"/>',
            summary_sect,
            count=1,
        )
    # The cover's band starts at the page's top edge: its section has no top margin.
    cover_sect = re.sub(r'(<w:pgMar [^>]*w:top=")\d+(")', r"\g<1>0\2", no_parts, count=1)
    body = [
        cover_xml(front, logo, _Page.of(no_parts)),
        f"<w:p><w:pPr>{cover_sect}</w:pPr></w:p>",
        summary_xml(front, text_width),
        f"<w:p><w:pPr>{summary_sect}</w:pPr></w:p>",
    ]

    doc_rels = [m for m in _REL.findall(base.rels) if 'Type="' + _REL_IMAGE not in m]
    doc_rels += front_rels
    abstract = base.numbering[: base.numbering.find("<w:num ")] if base.numbering else ""
    nums: list[str] = []
    overrides: list[str] = list(overrides_front)
    for index, card in enumerate(parts, start=1):
        card_body = card.body
        # numbering: every list instance gets an id of its own in the annex
        mapping: dict[str, str] = {}
        for match in _NUM.finditer(card.numbering):
            new_id = str(len(nums) + 1)
            mapping[match.group(1)] = new_id
            nums.append(
                match.group(0).replace(f'w:numId="{match.group(1)}"', f'w:numId="{new_id}"', 1)
            )
        card_body = re.sub(
            r'<w:numId w:val="(\d+)"/>',
            lambda m, mp=mapping: f'<w:numId w:val="{mp.get(m.group(1), m.group(1))}"/>',
            card_body,
        )
        # pictures in the body: renamed relationships and media
        for rel in _REL.findall(card.rels):
            attrs = dict(_ATTR.findall(rel))
            if attrs.get("Type") != _REL_IMAGE:
                continue
            new_id, target = f"c{index}{attrs['Id']}", attrs["Target"]
            new_target = f"media/c{index}-{target.rsplit('/', 1)[-1]}"
            files[f"word/{new_target}"] = card.zip.read(f"word/{target}")
            doc_rels.append(f'Id="{new_id}" Type="{_REL_IMAGE}" Target="{new_target}"')
            card_body = re.sub(
                rf'(r:(?:embed|id|link))="{attrs["Id"]}"', rf'\1="{new_id}"', card_body
            )
        # header and footer: one pair per card, for its kicker and brand
        sect = card.sect
        for kind, ct in (("header", _HEADER_CT), ("footer", _FOOTER_CT)):
            reference = re.search(rf'<w:{kind}Reference [^>]*r:id="([^"]+)"', sect)
            if reference is None:
                continue
            old_target = dict(
                _ATTR.findall(
                    next(r for r in _REL.findall(card.rels) if f'Id="{reference.group(1)}"' in r)
                )
            )["Target"]
            part = f"{kind}{index}.xml"
            content = card.read(f"word/{old_target}")
            if kind == "footer":
                content = _with_reference(content, front.reference_label, index, len(parts))
            files[f"word/{part}"] = content.encode()
            rels_name = f"word/_rels/{old_target}.rels"
            if rels_name in card.names:
                files[f"word/_rels/{part}.rels"] = card.zip.read(rels_name)
            rel_id = f"rId{kind.capitalize()}{index}"
            doc_rels.append(
                f'Id="{rel_id}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                f'relationships/{kind}" Target="{part}"'
            )
            sect = sect.replace(f'r:id="{reference.group(1)}"', f'r:id="{rel_id}"')
            overrides.append(f'<Override PartName="/word/{part}" ContentType="{ct}"/>')
        if index < len(parts):
            if card_body.endswith(_CARD_END):
                card_body = card_body[: -len(_CARD_END)]
            card_body += f'<w:p><w:pPr><w:pStyle w:val="CardEnd"/>{sect}</w:pPr></w:p>'
            body.append(card_body)
        else:
            body.append(card_body)
            last_sect = sect

    files["word/document.xml"] = (base.head + "".join(body) + last_sect + base.tail).encode()
    files["word/_rels/document.xml.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(f"<Relationship {rel}/>" for rel in doc_rels)
        + "</Relationships>"
    ).encode()
    if base.numbering:
        end = "</w:numbering>"
        files["word/numbering.xml"] = (abstract + "".join(nums) + end).encode()
    files["[Content_Types].xml"] = _content_types(base.read("[Content_Types].xml"), overrides)
    files["docProps/core.xml"] = re.sub(
        r"<dc:title>.*?</dc:title>",
        f"<dc:title>{escape(title)}</dc:title>",
        base.read("docProps/core.xml"),
        flags=re.S,
    ).encode()
    return write_zip(files)


def _text_width(sect: str) -> int:
    width = re.search(r'<w:pgSz w:w="(\d+)"', sect)
    left = re.search(r'w:left="(\d+)"', sect)
    right = re.search(r'w:right="(\d+)"', sect)
    if not (width and left and right):  # pragma: no cover - our template sets them
        return 9000
    return int(width.group(1)) - int(left.group(1)) - int(right.group(1))


def _content_types(text: str, overrides: list[str]) -> bytes:
    text = re.sub(r'<Override PartName="/word/(header|footer)\d+\.xml"[^>]*/>', "", text)
    for extension, mime in (("png", "image/png"), ("jpeg", "image/jpeg"), ("jpg", "image/jpeg")):
        if f'Extension="{extension}"' not in text:
            overrides.append(f'<Default Extension="{extension}" ContentType="{mime}"/>')
    return text.replace("</Types>", "".join(overrides) + "</Types>").encode()
