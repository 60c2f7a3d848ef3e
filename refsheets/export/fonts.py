"""Fonts once per package: one font subset per face for the whole PDF annex instead of
one per card, and Word cards that leave the fonts to the Word annex.

Each card PDF carries its own subsets of the layout's fonts (a card must stand alone),
so an annex assembled from 200 cards would hold 200 subsets of each face, most of their
glyphs alike. WeasyPrint subsets fonts keeping the original glyph ids, and its text
refers to glyphs by those ids (Identity-H, CIDToGIDMap Identity): the subsets of one
face are cuts of the same id space. So the annex replaces them all by one subset of the
original font file with the union of their glyphs, their widths and their text maps,
and points every page's font resources at it. The pages' content streams are not
touched, nor is anything else (structure tree, marked content, annotations, outlines):
only font dictionaries change.

A group is merged only when each of its fonts is one this module understands (Type0
over a CIDFontType2 with an embedded TrueType program, Identity-H, Identity CIDToGIDMap)
and the layout lists the original file; otherwise it is left as it is.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # imported where used: `refsheets check` (fit cache) should not pay it
    import pikepdf


_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")


@dataclass
class _Group:
    """The subsets of one face found in the PDF: their fonts, and the union of what
    they hold, checked as each subset is added (`FontFacts`: glyph ids as strings, text
    as hex strings) and converted by `settle`."""

    fonts: list[Any] = field(default_factory=list)  # Type0 font dictionaries (indirect)
    raw_widths: Counter[tuple[str, float]] = field(default_factory=Counter)
    raw_texts: Counter[tuple[str, str]] = field(default_factory=Counter)
    raw_boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    mergeable: bool = True
    widths: dict[int, float] = field(default_factory=dict)
    text: dict[int, bytes] = field(default_factory=dict)  # gid -> UTF-16BE hex
    box: tuple[float, float, float, float] | None = None

    def add(self, facts: FontFacts) -> None:
        """What one subset of the face brings: its widths, text and box. ValueError
        when they are not what a font's /W, /ToUnicode and /FontBBox can hold. (Checked
        and merged a subset at a time by passes in C: 200 cards bring about 100,000
        widths and texts, most of them alike.)"""
        if not facts.readable:
            self.mergeable = False
            return
        _check(facts)
        self.raw_widths.update(facts.widths.items())
        self.raw_texts.update(facts.texts.items())
        if facts.bbox is not None:
            self.raw_boxes.append(_box(facts.bbox))

    def absorb(self, other: _Group) -> None:
        """Add what the subsets `other` gathered hold (already checked)."""
        self.mergeable = self.mergeable and other.mergeable
        self.raw_widths.update(other.raw_widths)
        self.raw_texts.update(other.raw_texts)
        self.raw_boxes += other.raw_boxes

    def settle(self) -> None:
        """The union of what was added: for each glyph, the width and the text most
        subsets give it, the lowest on a tie, whatever order the subsets came in. (A
        glyph drawn for two characters, the hyphen for "-" and for an automatic
        hyphenation's U+2010, has two texts; the summary's subsets, drawn by us, round
        some widths otherwise than WeasyPrint's.)"""
        self.widths = {int(gid): width for gid, width in _most_given(self.raw_widths).items()}
        texts = _most_given(self.raw_texts)
        self.text = {int(gid): hexa.encode("ascii") for gid, hexa in texts.items()}
        boxes = self.raw_boxes
        if boxes:
            self.box = (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )


_Value = TypeVar("_Value", float, str)


def _most_given(counts: Counter[tuple[str, _Value]]) -> dict[str, _Value]:
    """For each glyph id, the value counted most often with it; the lowest on a tie."""
    best: dict[str, tuple[int, _Value]] = {}
    for (gid, value), count in counts.items():
        held = best.get(gid)
        if held is None or count > held[0] or (count == held[0] and value < held[1]):
            best[gid] = (count, value)
    return {gid: value for gid, (_, value) in best.items()}


@dataclass
class KnownFonts:
    """Fonts whose facts are known without reading them (an annex's cards', from the
    cache): which face each font object is of, and what the known subsets of each face
    hold together. Gathered face by face as they come, not kept font by font: 500
    cards' facts one by one were held until the merge, at the export's peak of memory."""

    faces: dict[tuple[int, int], str] = field(default_factory=dict)
    groups: dict[str, _Group] = field(default_factory=dict)
    sound: bool = True  # False once a fact proved wrong: then all are read

    def add(self, font: Any, facts: FontFacts) -> None:
        """Note `facts` as those of `font` (an indirect font dictionary)."""
        if not self.sound:
            return
        try:
            self.groups.setdefault(facts.face, _Group()).add(facts)
        except ValueError:
            self.sound = False
            return
        self.faces[font.objgen] = facts.face


def _check(facts: FontFacts) -> None:
    """ValueError unless `facts`' glyph ids are 0-65535 in decimal digits, its widths
    finite numbers within 100,000 and its texts hex (each pass over a subset in C)."""
    try:
        _check_values(facts)
    except (TypeError, ArithmeticError) as exc:  # (a width of a string, of 10**400)
        raise ValueError(f"not a font's facts: {exc}") from None


def _check_values(facts: FontFacts) -> None:
    for ids in (facts.widths, facts.texts):
        if ids:
            digits = "".join(ids)
            if not (digits.isascii() and digits.isdigit()) or max(map(len, ids)) > 5:
                raise ValueError("a glyph id that is not one")
            if max(map(int, ids)) > 0xFFFF:
                raise ValueError("a glyph id past 65535")
    widths = facts.widths.values()
    # The bounds first: a sum of numbers within them is finite unless one is NaN.
    if widths and not (
        -100_000 <= min(widths) <= max(widths) <= 100_000 and math.isfinite(sum(widths))
    ):
        raise ValueError("a width that is not one")
    texts = facts.texts.values()
    if texts and not (_HEX.fullmatch("".join(texts)) and max(map(len, texts)) <= 256):
        raise ValueError("a glyph's text that is not hex")


_HEX = re.compile(r"[0-9a-f]*")


def _box(value: object) -> tuple[float, float, float, float]:
    """A /FontBBox: four finite numbers (ValueError otherwise)."""
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise ValueError(f"not a font box: {value!r}")
    numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) != 4 or not all(-1e6 <= v <= 1e6 for v in numbers):  # (NaN is not)
        raise ValueError(f"not a font box: {value!r}")
    x0, y0, x1, y1 = (float(v) for v in numbers)
    return (x0, y0, x1, y1)


@dataclass(frozen=True)
class FontFacts:
    """What merging needs of one embedded subset: its face's PostScript name, whether
    it is one this module can merge, its glyphs' widths and text, its box. Read from
    the PDF (`read_font_facts`), or from the export's cache, which keeps a card's
    (`facts_to_json`, `facts_from_json`): reading them through pikepdf was most of the
    merge (0.11 of 0.12 s for an annex of 200 cards). Glyph ids are strings, the text
    lowercase hex, as JSON keeps them. The types are what they should be, not what a
    cache entry holds: `_Group.add` checks them."""

    face: str
    readable: bool
    widths: dict[str, float]
    texts: dict[str, str]
    bbox: Sequence[float] | None


def read_font_facts(font: Any) -> FontFacts | None:
    """The facts of a Type0 font dictionary; None when it names no face."""
    name = _face_name(font)
    if name is None:
        return None
    if not _readable(font):
        return FontFacts(name, False, {}, {}, None)
    cid_font = font.DescendantFonts[0]
    widths: dict[int, float] = {}
    _read_widths(cid_font.get("/W", []), widths)
    texts = {
        str(int(gid, 16)): hexa.lower().decode("ascii")
        for gid, hexa in _BFCHAR.findall(font.ToUnicode.read_bytes())
    }
    box = cid_font.FontDescriptor.get("/FontBBox")
    bbox = [float(v) for v in box] if box is not None else None
    return FontFacts(name, True, {str(g): w for g, w in widths.items()}, texts, bbox)


def page_fonts(page: Any) -> Any:
    """The font dictionary of a page's own resources (an empty one if it has none)."""
    import pikepdf

    resources = page.obj.get("/Resources")
    fonts = resources.get("/Font") if resources is not None else None
    return fonts if isinstance(fonts, pikepdf.Dictionary) else pikepdf.Dictionary()


def page_font_facts(page: Any) -> dict[str, FontFacts] | None:
    """The facts of each font of a page's own resources, by resource name; None when
    one of them cannot be told (not indirect, or naming no face)."""
    found: dict[str, FontFacts] = {}
    for key, font in page_fonts(page).items():
        facts = read_font_facts(font) if font.is_indirect else None
        if facts is None:
            return None
        found[str(key)] = facts
    return found


# A cached entry holds one card's fonts: far under this; a larger one is not read.
MAX_FACTS_BYTES = 1 << 20


def facts_to_json(facts: dict[str, FontFacts]) -> bytes:
    """`page_font_facts` as the cache keeps it."""
    return json.dumps(
        {key: [f.face, f.readable, f.widths, f.texts, f.bbox] for key, f in facts.items()},
        separators=(",", ":"),
    ).encode()


def facts_from_json(data: bytes) -> dict[str, FontFacts] | None:
    """What `facts_to_json` wrote, or None when `data` is not of its shape. The values
    are checked when merged (`_Group.add`): a damaged or forged entry is read again
    from the PDF, never trusted."""
    if len(data) > MAX_FACTS_BYTES:
        return None
    try:
        entries = json.loads(data)
    except (ValueError, RecursionError):  # (not JSON, not UTF-8; nested too deep)
        return None
    if not isinstance(entries, dict):
        return None
    found = {}
    for key, entry in entries.items():
        if not (isinstance(entry, list) and len(entry) == 5):
            return None
        face, readable, widths, texts, bbox = entry
        if not (
            isinstance(face, str)
            and 0 < len(face) < 128
            and isinstance(readable, bool)
            and isinstance(widths, dict)
            and isinstance(texts, dict)
        ):
            return None
        found[key] = FontFacts(face, readable, widths, texts, bbox)
    return found


def _resources(pdf: pikepdf.Pdf) -> Iterator[Any]:
    """Every resource dictionary of the pages and of the form XObjects they draw."""
    seen: set[tuple[int, int]] = set()
    todo = [page.obj.get("/Resources") for page in pdf.pages]
    while todo:
        resources = todo.pop()
        if resources is None:
            continue
        if resources.is_indirect:
            if resources.objgen in seen:
                continue
            seen.add(resources.objgen)
        yield resources
        for xobject in (resources.get("/XObject") or {}).values():
            if xobject.get("/Subtype") == "/Form" and "/Resources" in xobject:
                todo.append(xobject.Resources)


def _face_name(font: Any) -> str | None:
    """The PostScript name of a subset ("ABCDEF+Lato-Regular" -> "Lato-Regular")."""
    base = font.get("/BaseFont")
    if base is None:
        return None
    return str(base)[1:].split("+", 1)[-1]


def _readable(font: Any) -> bool:
    """Whether `font` is a Type0 TrueType subset with identity mappings."""
    if font.get("/Subtype") != "/Type0" or font.get("/Encoding") != "/Identity-H":
        return False
    descendants = font.get("/DescendantFonts")
    if descendants is None or len(descendants) != 1:
        return False
    cid_font = descendants[0]
    descriptor = cid_font.get("/FontDescriptor")
    return (
        cid_font.get("/Subtype") == "/CIDFontType2"
        and cid_font.get("/CIDToGIDMap") == "/Identity"
        and descriptor is not None
        and "/FontFile2" in descriptor
        and "/ToUnicode" in font
    )


def _read_widths(array: Any, into: dict[int, float]) -> None:
    import pikepdf

    items = list(array)
    i = 0
    while i < len(items):
        first = int(items[i])
        if isinstance(items[i + 1], pikepdf.Array):
            for offset, width in enumerate(items[i + 1]):
                into[first + offset] = float(width)
            i += 2
        else:  # c_first c_last w
            last, width = int(items[i + 1]), float(items[i + 2])
            for gid in range(first, last + 1):
                into[gid] = width
            i += 3


def _widths_array(widths: dict[int, float]) -> pikepdf.Array:
    """The W array of `widths`, in runs of consecutive glyph ids."""
    import pikepdf

    out: list[Any] = []
    run: list[Any] = []
    previous = None
    for gid in sorted(widths):
        if previous is None or gid != previous + 1:
            run = []
            out += [gid, run]
        width = widths[gid]
        run.append(int(width) if width == int(width) else round(width, 3))
        previous = gid
    return pikepdf.Array([pikepdf.Array(x) if isinstance(x, list) else x for x in out])


def _to_unicode(text: dict[int, bytes]) -> bytes:
    lines = [
        b"/CIDInit /ProcSet findresource begin",
        b"12 dict begin",
        b"begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /Adobe-Identity-UCS def",
        b"/CMapType 2 def",
        b"1 begincodespacerange",
        b"<0000> <ffff>",
        b"endcodespacerange",
    ]
    items = sorted(text.items())
    for start in range(0, len(items), 100):
        chunk = items[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar".encode())
        lines += [b"<%04x> <%s>" % (gid, hexa) for gid, hexa in chunk]
        lines.append(b"endbfchar")
    lines += [b"endcmap", b"CMapName currentdict /CMap defineresource pop", b"end", b"end"]
    return b"\n".join(lines)


def _postscript_name(source: Path | bytes) -> str | None:
    """The PostScript name (name id 6) of a font file or of an embedded program."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(io.BytesIO(source) if isinstance(source, bytes) else source, lazy=True) as font:
            name = font["name"].getDebugName(6) if "name" in font else None
    except (TTLibError, KeyError, AssertionError, OSError, ValueError):
        return None
    return str(name) if name else None


_UNUSED_IN_PDF = ("GSUB", "GPOS", "GDEF", "BASE", "JSTF", "DSIG", "SVG ", "kern")


def _subset(path: Path, gids: Sequence[int]) -> bytes:
    """The font at `path` cut to `gids`, each glyph keeping its id (as WeasyPrint does)."""
    import logging

    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.retain_gids = True
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.drop_tables += list(_UNUSED_IN_PDF)
    options.name_IDs = ["*"]
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    font = TTFont(path, recalcTimestamp=False)
    # A PDF viewer never reads the layout tables: delete them before subsetting, or the
    # subsetter decompiles them whole first (Lato's GPOS: ~1 s a face, most of the merge).
    for tag in _UNUSED_IN_PDF:
        if tag in font:
            del font[tag]
    subsetter = subset.Subsetter(options)
    subsetter.populate(gids=list(gids))
    subsetter.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


Subsetter = Callable[[Path, Sequence[int]], bytes]


def merge_font_subsets(
    pdf: pikepdf.Pdf,
    faces: Sequence[Path],
    subset: Subsetter | None = None,
    known: KnownFonts | None = None,
) -> int:
    """Replace every face's many subsets in `pdf` by one; return how many fonts went.

    `faces` are the original font files the subsets were cut from (the layout's);
    `subset` cuts a face to glyph ids (`_subset` unless given: an export passes one that
    keeps its results in the cache, since another tender's annex often needs the same);
    `known` gives the facts of fonts already read (an annex has its cards' from the
    cache): they are not read again, unless one of them proves wrong (values no font
    holds, a face other than the font's), and then all are."""
    try:
        groups = _groups(pdf, known if known is not None and known.sound else KnownFonts())
    except ValueError:
        groups = _groups(pdf, KnownFonts())
    originals = {}
    for path in faces:
        name = _postscript_name(path)
        if name:
            originals[name] = path
    replaced: dict[tuple[int, int], Any] = {}
    for name, group in groups.items():
        if len(group.fonts) < 2 or not group.mergeable:
            continue
        # The embedded program names the file it was cut from (WeasyPrint's BaseFont
        # is made from the family and style, not the file's own name).
        program = group.fonts[0].DescendantFonts[0].FontDescriptor.FontFile2.read_bytes()
        original = originals.get(_postscript_name(program) or "")
        if original is None:
            continue
        merged = _merged_font(pdf, name, group, original, subset or _subset)
        for font in group.fonts:
            replaced[font.objgen] = merged
    if not replaced:
        return 0
    for resources in _resources(pdf):
        fonts = resources.get("/Font")
        if fonts is None:
            continue
        for key in list(fonts.keys()):
            target = replaced.get(fonts[key].objgen)
            if target is not None:
                fonts[key] = target
    return len(replaced) - len({m.objgen for m in replaced.values()})


def _groups(pdf: pikepdf.Pdf, known: KnownFonts) -> dict[str, _Group]:
    """The fonts of `pdf`, by face, and what they hold. ValueError when a font of
    `known` is not of the face it says; a face whose own fonts hold what a merged font
    could not is left alone."""
    groups: dict[str, _Group] = {}
    seen: set[tuple[int, int]] = set()  # a font shared by pages is read once
    for resources in _resources(pdf):
        for font in (resources.get("/Font") or {}).values():
            if not font.is_indirect or font.objgen in seen:
                continue
            seen.add(font.objgen)
            face = known.faces.get(font.objgen)
            if face is not None:
                if face != _face_name(font):
                    raise ValueError(f"the facts of another font than {face}")
                groups.setdefault(face, _Group()).fonts.append(font)
                continue
            facts = read_font_facts(font)
            if facts is None:
                continue
            group = groups.setdefault(facts.face, _Group())
            group.fonts.append(font)
            try:
                group.add(facts)
            except ValueError:
                group.mergeable = False  # a font of another tool's (an attestation's)
    for face, group in groups.items():
        if face in known.groups:
            group.absorb(known.groups[face])
        group.settle()
    return groups


def _merged_font(
    pdf: pikepdf.Pdf, name: str, group: _Group, original: Path, subset: Subsetter
) -> Any:
    """One Type0 font with the union of `group`'s glyphs, widths and text."""
    import pikepdf

    gids = sorted(set(group.widths) | set(group.text) | {0})
    program = subset(original, gids)
    tag = "".join(
        chr(ord("A") + b % 26) for b in hashlib.sha256(program).digest()[:6]
    )  # a subset tag derived from the bytes: the same annex gives the same bytes
    base = pikepdf.Name(f"/{tag}+{name}")
    first = group.fonts[0]
    cid_font = first.DescendantFonts[0]
    descriptor = pikepdf.Dictionary(
        {key: value for key, value in cid_font.FontDescriptor.items() if key != "/CIDSet"}
    )
    descriptor.FontName = base
    descriptor.FontFile2 = pdf.make_stream(program, Length1=len(program))
    if group.box is not None:
        descriptor.FontBBox = pikepdf.Array(group.box)
    if "/CIDSet" in cid_font.FontDescriptor:  # PDF 1.4 and PDF/A-1: the glyphs present
        bits = bytearray(gids[-1] // 8 + 1)
        for gid in gids:
            bits[gid // 8] |= 0x80 >> (gid % 8)
        descriptor.CIDSet = pdf.make_stream(bytes(bits))
    new_cid_font = pikepdf.Dictionary({key: value for key, value in cid_font.items()})
    new_cid_font.BaseFont = base
    new_cid_font.W = _widths_array(group.widths)
    new_cid_font.FontDescriptor = pdf.make_indirect(descriptor)
    font = pikepdf.Dictionary({key: value for key, value in first.items()})
    font.BaseFont = base
    font.DescendantFonts = pikepdf.Array([pdf.make_indirect(new_cid_font)])
    font.ToUnicode = pdf.make_stream(_to_unicode(group.text))
    return pdf.make_indirect(font)


_EMBED_ELEMENT = re.compile(rb"<w:embed(?:Regular|Bold|Italic|BoldItalic)\b[^>]*/>")
_SETTINGS_EMBED = re.compile(rb"<w:(?:embedTrueTypeFonts|saveSubsetFonts)\b[^>]*/>")


def without_embedded_fonts(data: bytes) -> bytes:
    """The .docx `data` without its embedded fonts: the same document, whose styles
    still name the brand's fonts (a reader without them sees the fallback the font
    table names). For packages where another document carries the fonts once."""
    import zipfile

    from refsheets.render.docx_package import Deflated, deflated_entries, write_zip

    source = zipfile.ZipFile(io.BytesIO(data))
    # The entries kept as they are go over deflated, as they were (inflating the six
    # fonts to drop them, and deflating the rest again, was most of the time here).
    deflated = deflated_entries(source, data)
    entries: dict[str, bytes | Deflated] = {}
    for name in source.namelist():
        if name.startswith("word/fonts/") or name == "word/_rels/fontTable.xml.rels":
            continue
        if name == "word/fontTable.xml":
            entries[name] = _EMBED_ELEMENT.sub(b"", source.read(name))
        elif name == "word/settings.xml":
            entries[name] = _SETTINGS_EMBED.sub(b"", source.read(name))
        else:
            entries[name] = deflated.get(name) or source.read(name)
    return write_zip(entries)
