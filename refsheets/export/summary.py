"""The annex's own words drawn straight into the PDF: the summary table, the tender's
words on the cover, the page footers and each card's "Référence k / n".

Laying out a 500-row table through HTML cost WeasyPrint about 20 ms a row (boxes, cascade
and line breaking for six cells, then tagging), 10 s and more for the table alone, most of
it spent on boxes that are always the same. The table's geometry is fixed (the columns'
widths, the paddings and type sizes of annex.html.j2 as it was laid out), so here each row
is measured with the font's own advance widths, kerning, lining figures and standard
ligatures, the rows are paginated, and the text is drawn with the layout's font files, in
milliseconds. WeasyPrint lays out only what the layout decides (annex.html.j2: the cover's
band, logo and kicker with room for the title's lines, the summary's heading), the same
for every tender, so that page comes from the cache; the tender's words are drawn over it.

What the buyer gets is kept: the same columns, words, colours and rules; the table is
tagged for PDF/UA (Table, THead with column header cells, TBody, a TR per reference,
TD cells pointing at their headers), each row links to its card (a tagged link
annotation); the cover's title is the H1, its facts a list of label and value; the
header row repeated on each following page, the rules and the page footers are
artifacts. Text is drawn with the fonts' original glyph ids (Identity-H, as WeasyPrint
does), so export/fonts.py merges these fonts with the cards' subsets of the same faces.

No WeasyPrint here: an export whose pages are all cached draws these without it.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pikepdf
from pikepdf import Array, Dictionary, Name

from refsheets.errors import RenderError
from refsheets.export.fonts import Subsetter, _subset, _to_unicode, _widths_array
from refsheets.layouts import Layout

MM = 72 / 25.4
PAGE_WIDTH = 210 * MM
PAGE_HEIGHT = 297 * MM
LEFT = 16 * MM  # annex.html.j2's page margins
RIGHT = PAGE_WIDTH - 16 * MM
TOP = 16 * MM
BOTTOM = PAGE_HEIGHT - 19 * MM  # where the page footer's rule is
# Where the table starts under the summary's heading, masthead and intro (first page).
FIRST_TOP = 149.39
BODY_PT = 8.5
BODY_LEADING = BODY_PT * 1.35
CLIENT_LEADING = BODY_PT * 1.2  # card.css's `.client` line height reaches the cell
HEAD_PT = 7.5
HEAD_LEADING = HEAD_PT * 1.35
PAD = 2.4 * MM  # a body cell's top and bottom padding
HEAD_PAD = 2 * MM
HEAD_RULE = 1.2
ROW_RULE = 0.5
FOOTER_PT = 7.5


@dataclass(frozen=True)
class Column:
    """A column: where its text starts (from the table's left edge), how wide, aligned."""

    x: float
    width: float
    align: str = "left"


# N°, client, assignment, period, amount, carried out by (annex.html.j2's widths: each
# cell has 2 mm of right padding, the amount none, "carried out by" 4 mm on its left).
COLUMNS = (
    Column(0, 8 * MM),
    Column(10 * MM, 32 * MM),
    Column(44 * MM, 48 * MM),
    Column(94 * MM, 21 * MM),
    Column(117 * MM, 23 * MM, "right"),
    Column(144 * MM, 32 * MM),
)


@dataclass(frozen=True)
class Face:
    """A font file's metrics, read once: what measuring and drawing text needs."""

    path: Path
    name: str  # PostScript name
    units: int
    ascent: float  # in em
    descent: float  # in em, positive
    cap_height: float
    bbox: tuple[int, int, int, int]
    italic_angle: float
    glyphs: dict[int, int]  # code point -> glyph id
    advances: dict[int, int]  # glyph id -> advance, in font units
    kerning: dict[tuple[int, int], int]  # (glyph id, next glyph id) -> font units
    # What WeasyPrint applies to the same text: lining figures (card.css asks for them;
    # Lato's default euro sign is an old-style one) and the standard ligatures.
    figures: dict[int, int] = field(default_factory=dict)  # glyph id -> lining glyph id
    ligatures: dict[int, list[tuple[tuple[int, ...], int]]] = field(default_factory=dict)
    # Shaped words and lines: a summary measures the same words again and again.
    shaped: dict[tuple[str, bool], list[tuple[int, str]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def shape(self, text: str, spacing: float = 0.0) -> list[tuple[int, str]]:
        """The glyphs that draw `text`, each with the characters it stands for (no
        ligatures in letter-spaced text, as in CSS)."""
        key = (text, bool(spacing))
        found = self.shaped.get(key)
        if found is None:
            found = self.shaped[key] = self._shape(text, spacing)
        return found

    def _shape(self, text: str, spacing: float) -> list[tuple[int, str]]:
        gids = [self.gid(c) for c in text]
        out: list[tuple[int, str]] = []
        i = 0
        while i < len(gids):
            gid, length = gids[i], 1
            if not spacing:
                for components, ligature in self.ligatures.get(gid, ()):
                    end = i + 1 + len(components)
                    if tuple(gids[i + 1 : end]) == components:
                        gid, length = ligature, 1 + len(components)
                        break
            out.append((self.figures.get(gid, gid), text[i : i + length]))
            i += length
        return out

    def gid(self, char: str) -> int:
        """The glyph id of `char`; RenderError when the font has none."""
        gid = self.glyphs.get(ord(char))
        if gid is None:
            raise RenderError(
                f"the annex's summary holds a character that the font {self.name} does not "
                f"have: '{char}' (U+{ord(char):04X}); replace it"
            )
        return gid

    def width(self, text: str, size: float, spacing: float = 0.0) -> float:
        """The advance of `text` at `size` points, kerned, with `spacing` after each
        character."""
        gids = [g for g, _ in self.shape(text, spacing)]
        units = sum(self.advances[g] for g in gids)
        units += sum(self.kerning.get(pair, 0) for pair in itertools.pairwise(gids))
        return units * size / self.units + spacing * len(gids)


@functools.lru_cache(maxsize=16)
def load_face(path: Path) -> Face:
    """The metrics of the font file at `path` (cached for the process)."""
    import logging

    from fontTools.ttLib import TTFont

    # fontTools warns about Lato's creation date, which nobody reads (as in fonts.py).
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    with TTFont(path, lazy=True) as font:
        units = font["head"].unitsPerEm
        head, hhea = font["head"], font["hhea"]
        order = {name: i for i, name in enumerate(font.getGlyphOrder())}
        cmap = {code: order[name] for code, name in font.getBestCmap().items()}
        hmtx = font["hmtx"].metrics
        advances = {order[name]: advance for name, (advance, _) in hmtx.items()}
        os2 = font["OS/2"]
        kerning: dict[tuple[int, int], int] = {}
        if "kern" in font:
            for table in font["kern"].kernTables:
                for (left, right), value in getattr(table, "kernTable", {}).items():
                    if left in order and right in order:
                        kerning[(order[left], order[right])] = value
        # Pango places lines by the typographic metrics when the font asks for them
        # (USE_TYPO_METRICS, as Lato does), otherwise by hhea's.
        typo = bool(os2.fsSelection & (1 << 7))
        ascent = os2.sTypoAscender if typo else hhea.ascent
        descent = -os2.sTypoDescender if typo else -hhea.descent
        return Face(
            path=path,
            name=str(font["name"].getDebugName(6) or path.stem),
            units=units,
            ascent=ascent / units,
            descent=descent / units,
            cap_height=getattr(os2, "sCapHeight", hhea.ascent) / units,
            bbox=(head.xMin, head.yMin, head.xMax, head.yMax),
            italic_angle=float(font["post"].italicAngle),
            glyphs=cmap,
            advances=advances,
            kerning=kerning,
            figures=_single_substitutions(font, "lnum", order),
            ligatures=_ligatures(font, "liga", order),
        )


def _lookups(font: Any, feature: str) -> list[Any]:
    """The subtables of the GSUB lookups of `feature` (extensions unwrapped)."""
    if "GSUB" not in font:
        return []
    table = font["GSUB"].table
    indices = sorted(
        {
            i
            for record in table.FeatureList.FeatureRecord
            if record.FeatureTag == feature
            for i in record.Feature.LookupListIndex
        }
    )
    subtables = []
    for index in indices:
        lookup = table.LookupList.Lookup[index]
        for subtable in lookup.SubTable:
            subtables.append(subtable.ExtSubTable if lookup.LookupType == 7 else subtable)
    return subtables


def _single_substitutions(font: Any, feature: str, order: dict[str, int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for subtable in _lookups(font, feature):
        for source, target in (getattr(subtable, "mapping", None) or {}).items():
            found.setdefault(order[source], order[target])
    return found


def _ligatures(
    font: Any, feature: str, order: dict[str, int]
) -> dict[int, list[tuple[tuple[int, ...], int]]]:
    found: dict[int, list[tuple[tuple[int, ...], int]]] = {}
    for subtable in _lookups(font, feature):
        for first, ligatures in (getattr(subtable, "ligatures", None) or {}).items():
            for ligature in ligatures:
                components = tuple(order[c] for c in ligature.Component)
                found.setdefault(order[first], []).append((components, order[ligature.LigGlyph]))
    for options in found.values():
        options.sort(key=lambda option: -len(option[0]))  # the longest match first
    return found


def pick_face(layout: Layout, weight: int, family: str | None = None) -> Face:
    """The layout's upright face of `family` (the body's by default) closest to
    `weight` (CSS's rule: heavier first for 600 and up, lighter first under)."""
    family = family or layout.brand.fonts.body
    faces = [f for f in layout.font_faces if f.family == family and f.style == "normal"]
    faces = faces or [f for f in layout.font_faces if f.style == "normal"]
    if not faces:
        raise RenderError(f"layout '{layout.name}' has no upright font for the annex")

    def distance(face: Any) -> tuple[int, int]:
        w = int(face.weight)
        if w == weight:
            return (0, 0)
        heavier_first = weight >= 500
        wrong_side = (w < weight) if heavier_first else (w > weight)
        return (1 + int(wrong_side), abs(w - weight))

    return load_face(Path(min(faces, key=distance).path))


def wrap(
    text: str, face: Face, size: float, width: float, *, compounds_whole: bool = True
) -> list[str]:
    """`text` broken into lines no wider than `width` (a word wider stays whole on its
    line), at spaces, and after a hyphen; with `compounds_whole`, not in a short
    compound ("tiers-lieu": what render/words.py's filter asks of the table's cells)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, advance = "", 0.0  # the line so far, and its width with its spaces
        for piece in _break_points(paragraph, 24 if compounds_whole else 0):
            word = piece.rstrip(" ")
            # Pieces are measured alone (cached); the kerning across a space is nil.
            if line and advance + face.width(word, size) > width:
                lines.append(line.rstrip(" "))
                line, advance = "", 0.0
            line += piece
            advance += face.width(piece, size)
        lines.append(line.rstrip(" "))
    return lines


def _break_points(text: str, whole: int) -> list[str]:
    """`text` cut where a line may break: after each space, and after the hyphens of a
    hyphenated word longer than `whole` characters."""
    pieces: list[str] = []
    for word in text.split(" "):
        if "-" in word.strip("-") and len(word) > whole:
            parts = word.split("-")
            pieces += [p + "-" for p in parts[:-1]] + [parts[-1]]
        else:
            pieces.append(word)
        pieces[-1] += " "
    if pieces:
        pieces[-1] = pieces[-1][:-1]
    return [p for p in pieces if p]


def _rgb(color: str) -> bytes:
    value = color.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return f"{r:.4f} {g:.4f} {b:.4f}".encode()


def _num(value: float) -> bytes:
    return f"{value:.3f}".rstrip("0").rstrip(".").encode()


@dataclass
class Fonts:
    """The faces drawn so far in a document, each with the glyphs it used."""

    used: dict[Path, dict[int, str]] = field(default_factory=dict)  # gid -> its text
    # Fonts embedded whole because a merge will replace them: (font, file, glyph ids).
    whole: list[tuple[Dictionary, Path, list[int]]] = field(default_factory=list)

    def resource(self, face: Face) -> bytes:
        """The resource name of `face` in every page that draws with it."""
        self.used.setdefault(face.path, {})
        return b"/RsF" + hashlib.sha256(str(face.path).encode()).hexdigest()[:8].encode()

    def encode(self, face: Face, text: str, spacing: float = 0.0) -> bytes:
        """`text` as a TJ array of 2-byte glyph ids, kerned; remembers the glyphs."""
        used = self.used.setdefault(face.path, {})
        out = ["[<"]
        previous = None
        for gid, chars in face.shape(text, spacing):
            # A glyph drawn for a space and a no-break space reads back as a space (as
            # in WeasyPrint's text): "Lot 1" is found by a search for "Lot 1".
            if chars in ("\u00a0", "\u202f") and face.glyphs.get(32) == gid:
                chars = " "
            if used.setdefault(gid, chars) != chars and chars == " ":
                used[gid] = chars
            kern = face.kerning.get((previous, gid), 0) if previous is not None else 0
            if kern:
                out.append(f"> {-kern * 1000 / face.units:g} <")
            out.append(f"{gid:04x}")
            previous = gid
        out.append(">]")
        return "".join(out).encode()

    def embed(
        self,
        pdf: pikepdf.Pdf,
        names: dict[str, str] | None = None,
        *,
        subset: Subsetter = _subset,
        merge_follows: bool = False,
    ) -> Dictionary:
        """A /Font resource dictionary with every face used, each subset to its glyphs
        (keeping glyph ids: fonts.merge_font_subsets can merge them with the cards').

        `names` gives the name WeasyPrint gave a face (by PostScript name), so that the
        merge recognises the faces as the same. With `merge_follows`, a face that the
        laid-out pages have too is embedded whole for now: the merge cuts one subset of
        it for the whole document (`settle` subsets any that it left)."""
        resources = Dictionary()
        names = names or {}
        for path, used in self.used.items():
            face = load_face(path)
            gids = sorted(set(used) | {0})
            deferred = merge_follows and face.name in names
            program = path.read_bytes() if deferred else subset(path, gids)
            tag = "".join(chr(ord("A") + b % 26) for b in hashlib.sha256(program).digest()[:6])
            base = Name(f"/{tag}+{(names or {}).get(face.name, face.name)}")
            scale = 1000 / face.units
            descriptor = Dictionary(
                Type=Name.FontDescriptor,
                FontName=base,
                Flags=4,  # symbolic: glyphs are addressed by id
                FontBBox=Array([round(v * scale) for v in face.bbox]),
                ItalicAngle=face.italic_angle,
                Ascent=round(face.ascent * 1000),
                Descent=round(-face.descent * 1000),
                CapHeight=round(face.cap_height * 1000),
                StemV=80,
                FontFile2=pdf.make_stream(program, Length1=len(program)),
            )
            widths = {gid: face.advances[gid] * scale for gid in gids}
            cid_font = Dictionary(
                Type=Name.Font,
                Subtype=Name.CIDFontType2,
                BaseFont=base,
                CIDSystemInfo=Dictionary(
                    Registry=pikepdf.String("Adobe"),
                    Ordering=pikepdf.String("Identity"),
                    Supplement=0,
                ),
                FontDescriptor=pdf.make_indirect(descriptor),
                W=_widths_array(widths),
                CIDToGIDMap=Name.Identity,
            )
            texts = {gid: chars.encode("utf-16-be").hex().encode() for gid, chars in used.items()}
            font = Dictionary(
                Type=Name.Font,
                Subtype=Name.Type0,
                BaseFont=base,
                Encoding=Name("/Identity-H"),
                DescendantFonts=Array([pdf.make_indirect(cid_font)]),
                ToUnicode=pdf.make_stream(_to_unicode(texts)),
            )
            embedded = pdf.make_indirect(font)
            resources[self.resource(face).decode()] = embedded
            if deferred:
                self.whole.append((embedded, path, gids))
        return resources

    def settle(self, pdf: pikepdf.Pdf, subset: Subsetter = _subset) -> None:
        """Subset the fonts embedded whole that a merge did not replace."""
        used = {
            font.objgen
            for page in pdf.pages
            for font in (page.obj.get("/Resources", Dictionary()).get("/Font") or {}).values()
        }
        for font, path, gids in self.whole:
            if font.objgen in used:
                program = subset(path, gids)
                descriptor = font.DescendantFonts[0].FontDescriptor
                descriptor.FontFile2 = pdf.make_stream(program, Length1=len(program))
        self.whole.clear()


class Canvas:
    """Content stream operators for one page, in CSS's coordinates (y down, points)."""

    def __init__(self, fonts: Fonts) -> None:
        self.fonts = fonts
        self.ops: list[bytes] = []

    def text(
        self,
        x: float,
        baseline: float,
        text: str,
        face: Face,
        size: float,
        color: str,
        spacing: float = 0.0,
    ) -> None:
        """Draw `text` with its baseline at `baseline`, starting at `x`."""
        if not text:
            return
        self.ops.append(
            b"BT "
            + self.fonts.resource(face)
            + b" "
            + _num(size)
            + b" Tf "
            + _num(spacing)
            + b" Tc "
            + _rgb(color)
            + b" rg 1 0 0 1 "
            + _num(x)
            + b" "
            + _num(PAGE_HEIGHT - baseline)
            + b" Tm "
            + self.fonts.encode(face, text, spacing)
            + b" TJ ET"
        )

    def rule(self, x0: float, x1: float, top: float, thickness: float, color: str) -> None:
        """A horizontal rule from `x0` to `x1`, its top edge at `top`."""
        self.ops.append(
            _rgb(color)
            + b" rg "
            + b" ".join(_num(v) for v in (x0, PAGE_HEIGHT - top - thickness, x1 - x0, thickness))
            + b" re f"
        )

    def begin(self, tag: bytes) -> None:
        """Open a marked-content sequence (`/TD <</MCID 3>>` or an artifact)."""
        self.ops.append(tag + b" BDC")

    def end(self) -> None:
        """Close the marked-content sequence opened last."""
        self.ops.append(b"EMC")

    def stream(self) -> bytes:
        """The operators, isolated in their own graphics state."""
        return b"\nq\n" + b"\n".join(self.ops) + b"\nQ\n"


def baseline(top: float, leading: float, face: Face, size: float) -> float:
    """The baseline of a line box of height `leading` at `top` (CSS half-leading)."""
    return top + (leading - (face.ascent + face.descent) * size) / 2 + face.ascent * size


@dataclass(frozen=True)
class Run:
    """Lines of one face and colour in a cell, at a line height."""

    lines: Sequence[str]
    face: Face
    color: str
    leading: float


@dataclass(frozen=True)
class Cell:
    """A laid-out table cell: its runs one under the other."""

    runs: Sequence[Run]

    @property
    def height(self) -> float:
        """The height of its lines."""
        return sum(len(run.lines) * run.leading for run in self.runs)


@dataclass(frozen=True)
class Palette:
    """The brand's colours the table uses."""

    primary: str
    accent: str
    ink: str
    muted: str
    rule: str


@dataclass(frozen=True)
class SummaryStyle:
    """The faces and colours of the summary, from the layout."""

    regular: Face
    semibold: Face
    bold: Face
    heading: Face  # the cover's title: the heading family at 800
    colors: Palette

    @classmethod
    def of(cls, layout: Layout) -> SummaryStyle:
        """The summary's style in `layout`'s fonts and colours."""
        c = layout.brand.colors
        return cls(
            regular=pick_face(layout, 400),
            semibold=pick_face(layout, 600),
            bold=pick_face(layout, 700),
            heading=pick_face(layout, 800, layout.brand.fonts.heading),
            colors=Palette(c.primary, c.accent, c.ink, c.muted, c.rule),
        )


def layout_row(row: dict[str, Any], style: SummaryStyle) -> list[Cell]:
    """The six cells of a summary row (see annex._summary_rows), measured."""
    c = style.colors
    reg, semi, bold = style.regular, style.semibold, style.bold

    def lines(text: str, face: Face, column: int) -> list[str]:
        return wrap(text, face, BODY_PT, COLUMNS[column].width)

    carried = [Run(lines(row["carried_by"], reg, 5), reg, c.ink, BODY_LEADING)]
    if row["partners"]:
        carried.append(Run(lines(row["partners"], reg, 5), reg, c.muted, BODY_LEADING))
    return [
        Cell([Run([str(row["number"])], bold, c.accent, BODY_LEADING)]),
        Cell(
            [
                Run(lines(row["client"], semi, 1), semi, c.primary, CLIENT_LEADING),
                Run(lines(row["kind"], reg, 1), reg, c.muted, CLIENT_LEADING),
            ]
        ),
        Cell([Run(lines(row["title"], reg, 2), reg, c.ink, BODY_LEADING)]),
        Cell([Run(lines(row["period"], reg, 3), reg, c.ink, BODY_LEADING)]),
        Cell([Run([row["amount"]], bold, c.ink, BODY_LEADING)]),  # never wrapped
        Cell(carried),
    ]


def row_height(cells: Sequence[Cell]) -> float:
    """A row's height: its tallest cell, the paddings and its bottom rule."""
    return max(cell.height for cell in cells) + 2 * PAD + ROW_RULE


HEAD_HEIGHT = HEAD_LEADING + HEAD_PAD + HEAD_RULE
# Where the rows start under the header row: on the following pages WeasyPrint's
# collapsed borders overlapped the header's rule and the rows' by half their difference.
FIRST_ROWS = FIRST_TOP + HEAD_HEIGHT
NEXT_ROWS = TOP + HEAD_HEIGHT - (HEAD_RULE - ROW_RULE) / 2


def paginate(heights: Sequence[float]) -> list[list[int]]:
    """The rows (by index) on each page: as many as fit above the footer, a row never
    cut (the first page starts lower, under the heading); at least one row a page."""
    pages: list[list[int]] = [[]]
    y = FIRST_ROWS
    for index, height in enumerate(heights):
        if pages[-1] and y + height > BOTTOM + 0.01:
            pages.append([])
            y = NEXT_ROWS
        pages[-1].append(index)
        y += height
    return pages


def draw_cell(canvas: Canvas, cell: Cell, column: Column, top: float) -> None:
    """Draw a cell's lines from `top` (its content box's top edge)."""
    y = top
    for run in cell.runs:
        for line in run.lines:
            x = LEFT + column.x
            if column.align == "right":
                x += column.width - run.face.width(line, BODY_PT)
            canvas.text(
                x, baseline(y, run.leading, run.face, BODY_PT), line, run.face, BODY_PT, run.color
            )
            y += run.leading


def draw_header(
    canvas: Canvas,
    labels: Sequence[str],
    style: SummaryStyle,
    top: float,
    *,
    only: int | None = None,
) -> None:
    """The column headers (uppercase, spaced); with `only`, `labels` is that column's."""
    face, color = style.bold, style.colors.primary
    spacing = 0.06 * HEAD_PT
    line = baseline(top, HEAD_LEADING, face, HEAD_PT)
    columns = COLUMNS if only is None else [COLUMNS[only]]
    for label, column in zip(labels, columns, strict=True):
        text = label.upper()
        x = LEFT + column.x
        if column.align == "right":
            x += column.width - face.width(text, HEAD_PT, spacing) + spacing
        canvas.text(x, line, text, face, HEAD_PT, color, spacing)


def draw_footer(canvas: Canvas, brand: str, contact: str, number: str, style: SummaryStyle) -> None:
    """The summary page's footer, as the cards': brand left, contact and page number
    right, under a hairline; a pagination artifact."""
    c = style.colors
    canvas.begin(b"/Artifact <</Type /Pagination>>")
    canvas.rule(LEFT, RIGHT, BOTTOM, 0.5, c.rule)
    top = BOTTOM + 0.5 + 3 * MM
    spacing = 0.02 * FOOTER_PT
    first = baseline(top, FOOTER_PT, style.bold, FOOTER_PT)
    canvas.text(LEFT, first, brand, style.bold, FOOTER_PT, c.primary, spacing)
    reg = style.regular
    for index, text in enumerate((contact, number)):
        if text:
            x = RIGHT - reg.width(text, FOOTER_PT, spacing)
            line = baseline(top + index * FOOTER_PT, FOOTER_PT, reg, FOOTER_PT)
            canvas.text(x, line, text, reg, FOOTER_PT, c.muted, spacing)
    canvas.end()


def draw_reference_number(canvas: Canvas, text: str, style: SummaryStyle) -> None:
    """A card's "Référence k / n" at the bottom right, as a pagination artifact."""
    spacing = 0.04 * FOOTER_PT
    reg = style.regular
    canvas.begin(b"/Artifact <</Type /Pagination>>")
    x = PAGE_WIDTH - 14 * MM - reg.width(text, FOOTER_PT, spacing)
    line = baseline(284 * MM, FOOTER_PT, reg, FOOTER_PT)
    canvas.text(x, line, text, reg, FOOTER_PT, style.colors.muted, spacing)
    canvas.end()


def add_content(pdf: pikepdf.Pdf, page: pikepdf.Page, content: bytes) -> None:
    """Append `content` to `page`, after what it draws, in a clean graphics state."""
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    page.contents_add(pikepdf.Stream(pdf, b"\nQ" + content), prepend=False)


def link_fonts(pages: Iterable[pikepdf.Page], fonts: Dictionary) -> None:
    """Give each page the fonts its drawn text names (shared, indirect objects)."""
    for page in pages:
        resources = page.obj.get("/Resources")
        if resources is None:
            page.obj.Resources = Dictionary()
            resources = page.obj.Resources
        own = resources.get("/Font")
        if own is None:
            resources.Font = Dictionary()
            own = resources.Font
        for key, value in fonts.items():
            own[key] = value


def _element(pdf: pikepdf.Pdf, role: str, parent: Dictionary, **entries: Any) -> Dictionary:
    element = pdf.make_indirect(
        Dictionary(Type=Name.StructElem, S=Name("/" + role), P=parent, **entries)
    )
    if "/K" not in element:
        element.K = Array()
    kids = parent.K
    if not isinstance(kids, Array):
        parent.K = Array([kids])
    parent.K.append(element)
    return element


class _PageMarks:
    """A page's marked content ids and their entry in the parent tree."""

    def __init__(self, tree: Any, pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        existing = page.obj.get("/StructParents")
        if existing is None:
            key = len(tree.nums)
            page.obj.StructParents = key
            tree.nums.append((key, pdf.make_indirect(Array())))
        else:
            key = int(existing)
        self.entry = dict(tree.nums)[key]
        self.page = page

    def mark(self, element: Dictionary) -> bytes:
        """A new MCID for `element` on this page; the BDC tag that opens it."""
        mcid = len(self.entry)
        self.entry.append(element)
        element.K.append(mcid)
        element.Pg = self.page.obj
        return b"/" + str(element.S)[1:].encode() + b" <</MCID " + str(mcid).encode() + b">>"


@dataclass(frozen=True)
class RowLink:
    """Where a summary row is (its page, its rectangle in PDF space) and the Link
    element its number is tagged with, to point at its card once the card is placed."""

    page: pikepdf.Page
    rect: tuple[float, float, float, float]
    element: Dictionary


@dataclass(frozen=True)
class Summary:
    """The summary's pages, and its rows' links (when asked for) in row order."""

    pages: list[pikepdf.Page]
    links: list[RowLink]


def draw_summary(
    pdf: pikepdf.Pdf,
    tree: Any,
    head_page: pikepdf.Page,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    style: SummaryStyle,
    fonts: Fonts,
    *,
    links: bool = False,
) -> Summary:
    """Draw the summary table from under the heading of `head_page` (the last page of
    `pdf`), adding pages at the end as needed, and tag it in `tree`. With `links`,
    each row's number is tagged as a link (`link_rows` makes the row go to its card)."""
    cells = [layout_row(row, style) for row in rows]
    pages = paginate([row_height(c) for c in cells])
    table = _element(pdf, "Table", tree.document)
    thead = _element(pdf, "THead", table)
    tbody = _element(pdf, "TBody", table)
    header_row = _element(pdf, "TR", thead)
    ids = [f"summary-col{i}" for i in range(1, len(columns) + 1)]
    drawn: list[pikepdf.Page] = []
    row_links: list[RowLink] = []
    for number, indices in enumerate(pages):
        page = head_page if number == 0 else pdf.add_blank_page(page_size=(PAGE_WIDTH, PAGE_HEIGHT))
        marks = _PageMarks(tree, pdf, page)
        canvas = Canvas(fonts)
        top = FIRST_TOP if number == 0 else TOP
        if number == 0:
            # Each header cell is its own element; on the following pages the repeated
            # header row is a pagination artifact.
            for index, (label, ident) in enumerate(zip(columns, ids, strict=True)):
                th = _element(
                    pdf,
                    "TH",
                    header_row,
                    ID=pikepdf.String(ident),
                    A=Dictionary(O=Name.Table, Scope=Name.Column),
                )
                tree.ids[ident] = th
                canvas.begin(marks.mark(th))
                draw_header(canvas, [label], style, top, only=index)
                canvas.end()
        else:
            canvas.begin(b"/Artifact <</Type /Pagination>>")
            draw_header(canvas, columns, style, top)
            canvas.end()
        canvas.begin(b"/Artifact <</Type /Layout>>")
        canvas.rule(LEFT, RIGHT, top + HEAD_LEADING + HEAD_PAD, HEAD_RULE, style.colors.primary)
        canvas.end()
        y = FIRST_ROWS if number == 0 else NEXT_ROWS
        for index in indices:
            tr = _element(pdf, "TR", tbody)
            height = row_height(cells[index])
            for cell, column, ident in zip(cells[index], COLUMNS, ids, strict=True):
                td = _element(
                    pdf,
                    "TD",
                    tr,
                    A=Dictionary(O=Name.Table, Headers=Array([pikepdf.String(ident)])),
                )
                marked = td
                if links and column is COLUMNS[0]:
                    marked = _element(pdf, "Link", td)
                    rect = (LEFT, PAGE_HEIGHT - y - height, RIGHT, PAGE_HEIGHT - y)
                    row_links.append(RowLink(page, rect, marked))
                canvas.begin(marks.mark(marked))
                draw_cell(canvas, cell, column, y + PAD)
                canvas.end()
            canvas.begin(b"/Artifact <</Type /Layout>>")
            canvas.rule(LEFT, RIGHT, y + height - ROW_RULE, ROW_RULE, style.colors.rule)
            canvas.end()
            y += height
        add_content(pdf, page, canvas.stream())
        drawn.append(page)
    return Summary(drawn, row_links)


def link_rows(
    pdf: pikepdf.Pdf,
    tree: Any,
    links: Sequence[RowLink],
    targets: Sequence[pikepdf.Page],
    names: Sequence[str],
) -> None:
    """Make each summary row a link to its card's page (`targets`, in row order): a
    link annotation over the row, named by `names` (what a screen reader says), tagged
    in the row's Link element."""
    for link, target, name in zip(links, targets, names, strict=True):
        key = len(tree.nums)
        annotation = pdf.make_indirect(
            Dictionary(
                Type=Name.Annot,
                Subtype=Name.Link,
                Rect=Array([round(v, 3) for v in link.rect]),
                Border=Array([0, 0, 0]),
                F=4,  # printed
                Dest=Array([target.obj, Name.Fit]),
                Contents=pikepdf.String(name),
                StructParent=key,
            )
        )
        tree.nums.append((key, link.element))
        link.element.K.append(Dictionary(Type=Name.OBJR, Obj=annotation, Pg=link.page.obj))
        page = link.page.obj
        if "/Annots" not in page:
            page.Annots = Array()
        page.Annots.append(annotation)
        page.Tabs = Name.S  # tab order follows the structure (PDF/UA)


def font_names(pdf: pikepdf.Pdf) -> dict[str, str]:
    """The names `pdf`'s pages give their embedded faces, by the faces' PostScript names
    ("Lato-Semibold" -> "Lato-Semi-Bold", as WeasyPrint names it)."""
    from refsheets.export.fonts import _postscript_name

    names: dict[str, str] = {}
    for page in pdf.pages:
        for font in (page.obj.get("/Resources", Dictionary()).get("/Font") or {}).values():
            base = font.get("/BaseFont")
            try:
                program = font.DescendantFonts[0].FontDescriptor.FontFile2.read_bytes()
            except (AttributeError, IndexError, KeyError, TypeError):
                continue
            name = _postscript_name(program)
            if name and base is not None:
                names.setdefault(name, str(base)[1:].split("+", 1)[-1])
    return names


# The cover (annex.html.j2's .annex-cover), where the tender's words go.
TITLE_PT = 24
TITLE_LEADING = TITLE_PT * 1.15
TITLE_TOP = 187.58  # under the logo and kicker, in the band
TITLE_WIDTH = 165 * MM
LINES_PT = 10.5
LINES_LEADING = LINES_PT * 1.5
LABEL_WIDTH = 58 * MM
STAMP_PT = 8.5
STAMP_RULE = 725.25
STAMP_BASELINE = 741.02


def title_lines(title: str, layout: Layout) -> list[str]:
    """The cover's title broken into its lines (the cover page is laid out for as many)."""
    face = pick_face(layout, 800, layout.brand.fonts.heading)
    return wrap(title, face, TITLE_PT, TITLE_WIDTH, compounds_whole=False)


@dataclass(frozen=True)
class CoverText:
    """The tender's words on the cover: its title, the facts (label, value), the stamp."""

    title: str
    lines: Sequence[tuple[str, str]]
    stamp: str


def draw_cover(
    pdf: pikepdf.Pdf,
    tree: Any,
    page: pikepdf.Page,
    text: CoverText,
    style: SummaryStyle,
    fonts: Fonts,
) -> None:
    """Draw the tender's words on the cover `page` (laid out for the title's number of
    lines) and tag them: the title (H1), the facts as a list of label and value, the
    stamp (a paragraph)."""
    c = style.colors
    marks = _PageMarks(tree, pdf, page)
    canvas = Canvas(fonts)
    lines = wrap(text.title, style.heading, TITLE_PT, TITLE_WIDTH, compounds_whole=False)
    heading = _element(pdf, "H1", tree.document)
    canvas.begin(marks.mark(heading))
    for index, line in enumerate(lines):
        top = TITLE_TOP + index * TITLE_LEADING
        line_base = baseline(top, TITLE_LEADING, style.heading, TITLE_PT)
        canvas.text(LEFT, line_base, line, style.heading, TITLE_PT, c.primary)
    canvas.end()
    # Under the band (its padding and rule), 14 mm lower: the facts, a label column.
    y = TITLE_TOP + len(lines) * TITLE_LEADING + 12 * MM + 1.4 * MM + 14 * MM
    facts = _element(pdf, "L", tree.document)
    for label, value in text.lines:
        item = _element(pdf, "LI", facts)
        cells = [
            (
                "Lbl",
                wrap(label, style.regular, LINES_PT, LABEL_WIDTH, compounds_whole=False),
                style.regular,
                c.muted,
                0,
            ),
            (
                "LBody",
                wrap(
                    value,
                    style.semibold,
                    LINES_PT,
                    RIGHT - LEFT - LABEL_WIDTH,
                    compounds_whole=False,
                ),
                style.semibold,
                c.ink,
                LABEL_WIDTH,
            ),
        ]
        for role, words, face, color, x in cells:
            canvas.begin(marks.mark(_element(pdf, role, item)))
            for index, line in enumerate(words):
                line_base = baseline(y + index * LINES_LEADING, LINES_LEADING, face, LINES_PT)
                canvas.text(LEFT + x, line_base, line, face, LINES_PT, color)
            canvas.end()
        y += max(len(cells[0][1]), len(cells[1][1])) * LINES_LEADING + 2 * MM
    canvas.begin(b"/Artifact <</Type /Layout>>")
    canvas.rule(LEFT, RIGHT, STAMP_RULE, 0.5, c.rule)
    canvas.end()
    canvas.begin(marks.mark(_element(pdf, "P", tree.document)))
    canvas.text(LEFT, STAMP_BASELINE, text.stamp, style.regular, STAMP_PT, c.muted)
    canvas.end()
    add_content(pdf, page, canvas.stream())
