"""Low-level pieces of a .docx package: embedded fonts and reproducible zip bytes.

Word embeds fonts as "obfuscated" parts (ECMA-376 Part 1, §17.8.1): the first 32 bytes
of the font are XORed with a key derived from a GUID that `fontTable.xml` names in
`w:fontKey`. We derive that GUID from the font's bytes, so the same font always gives
the same part and the same document bytes.
"""

from __future__ import annotations

import hashlib
import io
import logging
import struct
import threading
import uuid
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

# 1980-01-01 is the earliest date a zip entry can hold: a fixed date makes the bytes
# depend on the content only (python-docx stamps the current time into each entry).
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# Word reads these first; the rest follows in name order, so the order never depends on
# how python-docx walked the relationships.
_FIRST_ENTRIES = ("[Content_Types].xml", "_rels/.rels")

# What an embedded font keeps: Basic Latin, Latin-1, Latin Extended-A (every letter of
# the languages of the EU that use the Latin script), typographic punctuation and spaces
# (U+2000-206F: the narrow no-break space, quotes, dashes, ellipsis), the euro sign and
# the fi/fl ligatures. A bid manager may edit the card: the subset covers any French or
# English text, not just the characters of this card.
EMBED_UNICODES = (
    "U+0020-007E,U+00A0-017F,U+0192,U+02C6-02DD,U+2000-206F,U+20AC,U+2116,U+2122,"
    "U+2190-2193,U+2212,U+25AA,U+25CF,U+FB01-FB02"
)


@dataclass(frozen=True)
class EmbeddedFont:
    """One font face ready to embed: its subset bytes and obfuscation key."""

    word_name: str  # the family name Word knows it by (legacy, four styles per family)
    slot: str  # Regular, Bold, Italic or BoldItalic
    data: bytes  # the subset font, not obfuscated
    key: str  # "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}"

    @property
    def obfuscated(self) -> bytes:
        """The bytes of the `.odttf` part."""
        return obfuscate_font(self.data, self.key)


def font_key(data: bytes) -> str:
    """A GUID for the obfuscation key, derived from the font's bytes (stable)."""
    digest = hashlib.sha256(data).digest()
    return "{" + str(uuid.UUID(bytes=digest[:16], version=4)).upper() + "}"


def _key_bytes(key: str) -> bytes:
    hex_digits = key.strip("{}").replace("-", "")
    if len(hex_digits) != 32:
        raise ValueError(f"not a GUID: {key!r}")
    # The key is the GUID's 16 bytes read from the end of its string form.
    return bytes.fromhex(hex_digits)[::-1]


def obfuscate_font(data: bytes, key: str) -> bytes:
    """XOR the first 32 bytes of `data` with `key` (the operation is its own inverse)."""
    key_bytes = _key_bytes(key)
    head = bytes(b ^ key_bytes[i % 16] for i, b in enumerate(data[:32]))
    return head + data[32:]


@lru_cache(maxsize=32)
def subset_font(path: Path) -> bytes:
    """The font at `path`, cut to `EMBED_UNICODES`, hinting kept, with fixed timestamps."""
    from fontTools import subset

    options = subset.Options()
    options.layout_features = ["kern", "liga"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # keep the legacy names Word matches on
    options.notdef_outline = True
    options.recalc_timestamp = False
    # Hinting is 40 % of a face; the printed card does not need it and screens render
    # Lato well without it.
    options.hinting = False
    # fontTools warns that Lato's odd "created" stamp looks low; it is the file's own.
    quiet = logging.getLogger("fontTools")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return _subset(path, options)
    finally:
        quiet.setLevel(level)


def _subset(path: Path, options: Any) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=subset.parse_unicodes(EMBED_UNICODES))
    subsetter.subset(font)
    # Keep the file's own creation date but fix "modified", so the subset is reproducible.
    font["head"].modified = font["head"].created
    out = io.BytesIO()
    font.save(out, reorderTables=True)
    return out.getvalue()


def word_font_name(path: Path) -> tuple[str, str]:
    """(family, slot) as Word sees a font file: the legacy family and its RIBBI style."""
    from fontTools.ttLib import TTFont

    font = TTFont(path, lazy=True)
    name = font["name"]
    family = name.getDebugName(1) or path.stem
    subfamily = (name.getDebugName(2) or "Regular").replace(" ", "")
    slot = subfamily if subfamily in ("Regular", "Bold", "Italic", "BoldItalic") else "Regular"
    return family, slot


def embedded_font(path: Path) -> EmbeddedFont:
    """The font file at `path`, subset and keyed for embedding."""
    family, slot = word_font_name(path)
    data = subset_font(path)
    return EmbeddedFont(family, slot, data, font_key(data))


def normalize_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed dates, attributes and entry order: same content, same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    return write_zip({name: source.read(name) for name in source.namelist()})


_DOS_DATE = ((ZIP_DATE[0] - 1980) << 9) | (ZIP_DATE[1] << 5) | ZIP_DATE[2]
_DOS_TIME = 0
_CACHE_MIN = 16 * 1024  # entries this big (fonts, logo) are compressed once per process
_deflated: dict[bytes, bytes] = {}
_deflated_lock = threading.Lock()


def _deflate(data: bytes) -> bytes:
    if len(data) < _CACHE_MIN:
        return _raw_deflate(data)
    key = hashlib.sha1(data).digest()
    with _deflated_lock:
        cached = _deflated.get(key)
    if cached is None:
        cached = _raw_deflate(data)
        with _deflated_lock:
            _deflated[key] = cached
    return cached


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


@dataclass(frozen=True)
class Deflated:
    """A zip entry already deflated (raw deflate), copied from another zip as it is."""

    data: bytes  # the deflated bytes
    crc: int  # CRC-32 of the inflated bytes
    size: int  # length of the inflated bytes


def deflated_entries(source: zipfile.ZipFile, data: bytes) -> dict[str, Deflated]:
    """The deflated entries of `source` (opened on `data`), not inflated: for a zip made
    again with some of them (write_zip), without inflating and deflating them again."""
    found = {}
    for info in source.infolist():
        if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
            continue
        # The local header: 30 bytes, then the name and the extra field, then the data.
        name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
        start = info.header_offset + 30 + name_length + extra_length
        found[info.filename] = Deflated(
            data[start : start + info.compress_size], info.CRC, info.file_size
        )
    return found


def write_zip(entries: Mapping[str, bytes | Deflated]) -> bytes:
    """A zip of `entries` with fixed dates and a stable order, the same bytes every time.

    Written by hand rather than with `zipfile` so that the big entries every card shares
    (the embedded fonts, the logo) are deflated once per process, not once per card; an
    entry given `Deflated` is taken as it is.
    """
    names = [n for n in _FIRST_ENTRIES if n in entries]
    names += sorted(n for n in entries if n not in _FIRST_ENTRIES)
    out = bytearray()
    directory = bytearray()
    for name in names:
        entry = entries[name]
        if isinstance(entry, Deflated):
            packed, crc, size = entry.data, entry.crc, entry.size
        else:
            packed, crc, size = _deflate(entry), zlib.crc32(entry), len(entry)
        encoded = name.encode("utf-8")
        flags = 0x800 if not encoded.isascii() else 0  # bit 11: the name is UTF-8
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, flags, 8, _DOS_TIME, _DOS_DATE, crc,
            len(packed), size, len(encoded), 0,
        )  # fmt: skip
        out += encoded + packed
        directory += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, 8, _DOS_TIME, _DOS_DATE, crc,
            len(packed), size, len(encoded), 0, 0, 0, 0, 0, offset,
        )  # fmt: skip
        directory += encoded
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(directory), len(out), 0
    )
    return bytes(out + directory + end)


class _Collector:
    """Stands in for python-docx's zip writer: keeps each entry's bytes by name."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def write(self, pack_uri: Any, blob: bytes) -> None:
        self.entries[pack_uri.membername] = blob


def document_bytes(document: Any) -> bytes:
    """The bytes of a python-docx document, reproducible (fixed dates, stable order)."""
    from docx.opc.pkgwriter import PackageWriter

    writer: Any = PackageWriter  # its steps are untyped and expect a zip writer
    package = document.part.package
    for part in package.parts:
        part.before_marshal()
    collector = _Collector()
    # python-docx's own steps of `OpcPackage.save`, into our writer instead of zipfile.
    writer._write_content_types_stream(collector, package.parts)
    writer._write_pkg_rels(collector, package.rels)
    writer._write_parts(collector, package.parts)
    return write_zip(collector.entries)
