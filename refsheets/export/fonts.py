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
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `refsheets check` (fit cache) should not pay it
    import pikepdf


_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")


@dataclass
class _Group:
    """The subsets of one face found in the PDF."""

    fonts: list[Any] = field(default_factory=list)  # Type0 font dictionaries (indirect)
    widths: dict[int, float] = field(default_factory=dict)
    texts: dict[int, Counter[bytes]] = field(default_factory=dict)  # gid -> UTF-16BE hex

    @property
    def text(self) -> dict[int, bytes]:
        """Each glyph's text: a glyph drawn for two characters (the hyphen, for "-"
        and for an automatic hyphenation's U+2010) gets the one most subsets give it."""
        return {gid: counts.most_common(1)[0][0] for gid, counts in self.texts.items()}

    mergeable: bool = True


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
    pdf: pikepdf.Pdf, faces: Sequence[Path], subset: Subsetter | None = None
) -> int:
    """Replace every face's many subsets in `pdf` by one; return how many fonts went.

    `faces` are the original font files the subsets were cut from (the layout's);
    `subset` cuts a face to glyph ids (`_subset` unless given: an export passes one that
    keeps its results in the cache, since another tender's annex often needs the same)."""
    groups: dict[str, _Group] = {}
    seen: set[tuple[int, int]] = set()  # a font shared by pages is read once
    for resources in _resources(pdf):
        for font in (resources.get("/Font") or {}).values():
            name = _face_name(font)
            if name is None or not font.is_indirect or font.objgen in seen:
                continue
            seen.add(font.objgen)
            group = groups.setdefault(name, _Group())
            group.fonts.append(font)
            if not _readable(font):
                group.mergeable = False
                continue
            _read_widths(font.DescendantFonts[0].get("/W", []), group.widths)
            for gid, hexa in _BFCHAR.findall(font.ToUnicode.read_bytes()):
                group.texts.setdefault(int(gid, 16), Counter())[hexa.lower()] += 1
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


def _merged_font(
    pdf: pikepdf.Pdf, name: str, group: _Group, original: Path, subset: Subsetter
) -> Any:
    """One Type0 font with the union of `group`'s glyphs, widths and text."""
    import pikepdf

    gids = sorted(set(group.widths) | set(group.texts) | {0})
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
    boxes = [f.DescendantFonts[0].FontDescriptor.get("/FontBBox") for f in group.fonts]
    boxes = [list(map(float, b)) for b in boxes if b is not None]
    if boxes:
        descriptor.FontBBox = pikepdf.Array(
            [
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            ]
        )
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
