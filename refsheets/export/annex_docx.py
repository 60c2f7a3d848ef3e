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
class FrontMatter:
    """What the Word annex says before the cards."""

    title: str
    lines: Sequence[str]
    heading: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]


def _paragraph(style: str, text: str) -> str:
    return (
        f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>'
        f'<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
    )


def _cell(text: str, style: str, width: int) -> str:
    return (
        f'<w:tc><w:tcPr><w:tcW w:type="dxa" w:w="{width}"/></w:tcPr>'
        f"{_paragraph(style, text)}</w:tc>"
    )


def front_xml(front: FrontMatter, text_width: int) -> str:
    """The cover and the summary table, in the card template's named styles."""
    weights = [4, 9, 5, 11, 7, 9, 8][: len(front.columns)]
    widths = [text_width * w // sum(weights) for w in weights]
    border = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="BFC7CF"/>'
    borders = "".join(border.format(side) for side in ("top", "bottom", "insideH"))
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    header = "".join(
        _cell(text, "CardFactLabel", w) for text, w in zip(front.columns, widths, strict=True)
    )
    rows = "".join(
        "<w:tr><w:trPr><w:cantSplit/></w:trPr>"
        + "".join(_cell(text, "CardFactNote", w) for text, w in zip(row, widths, strict=True))
        + "</w:tr>"
        for row in front.rows
    )
    table = (
        f'<w:tbl><w:tblPr><w:tblW w:type="dxa" w:w="{text_width}"/>'
        f'<w:tblBorders>{borders}</w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>"
        f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{header}</w:tr>{rows}</w:tbl>"
    )
    return (
        _paragraph("CardTitle", front.title)
        + "".join(
            _paragraph("CardClient" if i == 0 else "CardBody", line)
            for i, line in enumerate(front.lines)
        )
        + _paragraph("CardHeading", front.heading)
        + table
    )


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
    """The annex: front matter, then every card on its own page(s), as .docx bytes."""
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
    # The front matter's section has no header or footer of its own.
    front_sect = re.sub(r"<w:(header|footer)Reference [^>]*/>", "", sect_template)
    body = [front_xml(front, text_width), f"<w:p><w:pPr>{front_sect}</w:pPr></w:p>"]

    doc_rels = [m for m in _REL.findall(base.rels) if 'Type="' + _REL_IMAGE not in m]
    abstract = base.numbering[: base.numbering.find("<w:num ")] if base.numbering else ""
    nums: list[str] = []
    overrides: list[str] = []
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
            files[f"word/{part}"] = card.zip.read(f"word/{old_target}")
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
