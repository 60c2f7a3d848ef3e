"""Layouts: a brand's look as data, in a folder chosen by name.

`layouts/<name>/` holds a `brand.yaml` (validated like a mission, with `file:line:col`
errors), its logo (SVG) and, optionally, templates and CSS that override the base
layout's. A brand that says `extends: base` inherits everything it does not set: the
keys of `brand.yaml` are merged over the parent's, and templates, CSS and assets are
looked up in the brand's folder first, then in its parent's. A new brand is a new
folder, no Python.

What other outputs read (the Word writer among them):

- `layout.brand.name`, `.email`, `.website`: the brand's display name and contact;
- `layout.brand.colors.primary` (and `accent`, `ink`, `muted`, `rule`, `background`,
  `tint`): `#rrggbb` strings;
- `layout.brand.fonts.body` and `.heading`: font family names, and
  `layout.font_faces`: every face as (family, weight, style, file on disk);
- `layout.logo_path`: the SVG logo on disk.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from refsheets.errors import (
    Diagnostic,
    NotFoundError,
    RefsheetsError,
    RenderError,
    did_you_mean,
    shorten,
)
from refsheets.model import NonEmptyText, Strict, Text
from refsheets.yamlfile import Source, read_source, validate_source

BRAND_FILE = "brand.yaml"
BASE_LAYOUT = "base"
LAYOUTS_ENV = "REFSHEETS_LAYOUTS"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# In a clone (or an editable install) the layouts and fonts are the project's folders; a
# non-editable install (`pipx install .`) carries copies of them inside the package.
_SHIPPED = Path(__file__).resolve().parent / "shipped"
LAYOUTS_ROOT = (
    PROJECT_ROOT / "layouts" if (PROJECT_ROOT / "layouts").is_dir() else _SHIPPED / "layouts"
)
"""The layouts shipped with refsheets (used when the library has none beside it)."""
FONTS_ROOT = PROJECT_ROOT / "fonts" if (PROJECT_ROOT / "fonts").is_dir() else _SHIPPED / "fonts"
"""The fonts shipped with refsheets (used when a layouts folder has none beside it)."""

_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")  # \Z: "$" would accept a final newline
_HEX = re.compile(r"#[0-9a-fA-F]{6}\Z")


def _check_hex(value: str) -> str:
    if not _HEX.fullmatch(value):
        raise ValueError(f"'{value[:20]}' is not a colour; write it as #rrggbb, e.g. #1f6f5c")
    return value.lower()


HexColor = Annotated[str, AfterValidator(_check_hex)]


def _check_relative(value: str) -> str:
    path = PurePosixPath(value.replace("\\", "/"))
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) or path.is_absolute() or ".." in path.parts:
        raise ValueError("should be a path relative to its folder, without '..' or a URL")
    return str(path)


RelativePath = Annotated[str, AfterValidator(_check_relative)]

# A font family name reaches CSS (`font-family: "…"`): letters, digits, spaces, dots,
# hyphens and underscores only, so that no quote, semicolon or brace can end the value.
_FONT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}\Z")


def _check_font_name(value: str) -> str:
    if not _FONT_NAME.fullmatch(value):
        raise ValueError(
            f"'{shorten(value, 40)}' is not a font family name refsheets accepts: letters, "
            "digits, spaces, '.', '-' and '_' only (e.g. Lato, Source Sans 3)"
        )
    return value


FontName = Annotated[str, AfterValidator(_check_font_name)]


class Colors(Strict):
    """The brand's palette, as `#rrggbb`."""

    primary: HexColor  # the brand colour: title rule, labels, key-facts band accents
    accent: HexColor  # a second colour, used sparingly (tags, bullets)
    ink: HexColor  # body text
    muted: HexColor  # secondary text: captions, footer
    rule: HexColor  # hairlines
    background: HexColor  # the page
    tint: HexColor  # the light fill of the key-facts band


class FontFace(Strict):
    """One font file, under the project's `fonts/` folder."""

    family: FontName
    file: RelativePath
    weight: int = Field(default=400, ge=100, le=900)
    style: Literal["normal", "italic"] = "normal"


class Fonts(Strict):
    """The families a card uses, and the files that provide them."""

    body: FontName
    heading: FontName
    faces: list[FontFace] = Field(min_length=1)


class BrandFile(Strict):
    """`brand.yaml`: a brand's name, contact, colours, logo and fonts."""

    extends: str | None = None
    name: NonEmptyText
    entity: str | None = None  # the key in entities.yaml this layout is the default for
    email: Text | None = None
    website: Text | None = None
    logo: RelativePath
    colors: Colors
    fonts: Fonts
    page_margin_mm: float = Field(default=14.0, ge=5, le=30)


@dataclass(frozen=True)
class FontFile:
    """A font face resolved to its file on disk."""

    family: str
    weight: int
    style: str
    path: Path


@dataclass(frozen=True)
class Layout:
    """A loaded, validated layout: its brand and the folders to look files up in."""

    name: str
    path: Path  # the layout's own folder
    brand: BrandFile
    chain: tuple[Path, ...]  # this folder, then its parent's, … up to base
    root: Path  # the layouts folder
    fonts_root: Path

    @property
    def logo_path(self) -> Path:
        """The logo (SVG) on disk."""
        found = self.find(self.brand.logo)
        assert found is not None  # checked when loading
        return found

    @cached_property
    def font_files(self) -> tuple[FontFile, ...]:
        """Every font face with its file on disk, as brand.yaml lists them, the files not
        read: for what only names or digests them (the cache's keys)."""
        return tuple(
            FontFile(face.family, face.weight, face.style, self.fonts_root / face.file)
            for face in self.brand.fonts.faces
        )

    @cached_property
    def font_faces(self) -> tuple[FontFile, ...]:
        """`font_files`, each checked to be a font fontTools reads whole, for what reads
        them as fonts (made once: a Word card looks its styles' faces up a hundred
        times)."""
        for face in self.font_files:
            check_font_file(face.path, self.name)
        return self.font_files

    def find(self, relative: str) -> Path | None:
        """The first file at `relative` in this layout's folder, then its parents'."""
        for folder in self.chain:
            candidate = folder / relative
            if candidate.is_file():
                return candidate
        return None

    def files(self, relative: str) -> list[Path]:
        """Every file at `relative` along the chain, base first (for CSS cascading)."""
        return [
            folder / relative for folder in reversed(self.chain) if (folder / relative).is_file()
        ]


def resolve_layouts_root(library_root: Path | None = None) -> Path:
    """Where layouts are: `$REFSHEETS_LAYOUTS`, else `layouts/` inside the library, else
    `layouts/` beside it, else ours."""
    override = os.environ.get(LAYOUTS_ENV)
    if override:
        return Path(override)
    if library_root is not None:
        inside = Path(library_root) / "layouts"
        if inside.is_dir():
            return inside
        beside = Path(library_root).resolve().parent / "layouts"
        if beside.is_dir():
            return beside
    return LAYOUTS_ROOT


def fonts_root_for(layouts_root: Path) -> Path:
    """The fonts folder that goes with a layouts folder (`fonts/` beside it, else ours)."""
    beside = Path(layouts_root).resolve().parent / "fonts"
    return beside if beside.is_dir() else FONTS_ROOT


def list_layouts(layouts_root: Path) -> list[str]:
    """The names of the layouts in `layouts_root` (folders with a brand.yaml)."""
    root = Path(layouts_root)
    if not root.is_dir():
        return []
    return sorted(
        p.name for p in root.iterdir() if (p / BRAND_FILE).is_file() and _NAME.fullmatch(p.name)
    )


def load_layout(name: str, layouts_root: Path, *, fonts_root: Path | None = None) -> Layout:
    """Load and validate the layout `name`; raise NotFoundError or RefsheetsError."""
    root = Path(layouts_root).resolve()
    fonts = Path(fonts_root).resolve() if fonts_root else fonts_root_for(root)
    sources = list(_chain_sources(name, root))
    child = sources[0]
    merged: dict[str, Any] = {}
    for source in reversed(sources):
        merged = _merge(merged, source.data)
    brand, problems = validate_source(Source(child.path, child.text, merged), BrandFile)
    if brand is None:
        raise RefsheetsError(
            f"the layout '{name}' is invalid; fix {child.path.name} as said above", problems
        )
    layout = Layout(
        name=name,
        path=root / name,
        brand=brand,
        chain=tuple(s.path.parent for s in sources),
        root=root,
        fonts_root=fonts,
    )
    problems = list(_check_files(layout, child))
    if problems:
        raise RefsheetsError(
            f"the layout '{name}' points at files that are not there; fix {child.path.name}",
            problems,
        )
    return layout


def _chain_sources(name: str, root: Path) -> Iterator[Source]:
    seen: list[str] = []
    current: str | None = name
    while current is not None:
        if current in seen:
            raise RefsheetsError(
                f"the layouts {' -> '.join([*seen, current])} extend each other in a loop; "
                "one of them should not say 'extends:'"
            )
        seen.append(current)
        path = root / current / BRAND_FILE
        if not _NAME.fullmatch(current) or not path.is_file():
            known = list_layouts(root)
            hint = did_you_mean(current, known)
            where = f" (extended by '{seen[-2]}')" if len(seen) > 1 else ""
            raise NotFoundError(f"no layout '{current}'{where} in {root}; {hint}")
        source, problems = read_source(path)
        if source is None:
            raise RefsheetsError(f"the layout '{current}' cannot be read", problems)
        yield source
        parent = source.data.get("extends")
        current = parent if isinstance(parent, str) else None


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, key by key (lists are replaced whole)."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _check_files(layout: Layout, source: Source) -> Iterator[Diagnostic]:
    from refsheets.yamlfile import line_of

    def at(loc: tuple[str | int, ...], message: str) -> Diagnostic:
        line, column = line_of(source, loc)
        return Diagnostic(source.path, message, line, column, ".".join(map(str, loc)))

    if not layout.brand.logo.lower().endswith(".svg"):
        yield at(("logo",), "should be an SVG file")
    elif layout.find(layout.brand.logo) is None:
        yield at(("logo",), f"no file {layout.brand.logo} in the layout's folder")
    for i, face in enumerate(layout.brand.fonts.faces):
        path = layout.fonts_root / face.file
        if not path.is_file():
            yield at(
                ("fonts", "faces", i, "file"), f"no font file {face.file} in {layout.fonts_root}"
            )
        elif path.suffix.lower() not in (".ttf", ".otf"):
            yield at(("fonts", "faces", i, "file"), "should be a .ttf or .otf font")


_sound_fonts: set[tuple[Path, int, int]] = set()


@contextlib.contextmanager
def fonttools_quiet() -> Iterator[None]:
    """fontTools' notes on what it finds odd in a font ("'created' timestamp seems very
    low", six times for Lato) kept off the user's terminal meanwhile: its errors are
    raised, and said in our words."""
    logger = logging.getLogger("fontTools")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def check_font_file(path: Path, layout: str) -> None:
    """RenderError naming `path` when it is not a font file fontTools can read whole (a
    font copied short, or something else renamed): every reader of a layout's fonts
    (the PDF's character set, the Word cards' font names and subsets, the fit bound)
    then trusts it. Checked once per version of the file: its table directory against
    the file's size, and the tables every reader uses."""
    try:
        stat = path.stat()
    except OSError as exc:
        raise RenderError(
            f"the font file {path} of layout '{layout}' cannot be read ({exc.strerror}); "
            "put back the family's original file"
        ) from None
    key = (path, stat.st_size, stat.st_mtime_ns)
    if key in _sound_fonts:
        return
    from fontTools.ttLib import TTFont

    try:
        with fonttools_quiet(), TTFont(path, lazy=True) as font:
            for entry in font.reader.tables.values():
                if entry.offset + entry.length > stat.st_size:
                    raise ValueError(f"its {entry.tag} table runs past the end of the file")
            font.getBestCmap()
            for tag in ("head", "hhea", "hmtx", "maxp", "name", "OS/2"):
                if tag in font:
                    font[tag]
    except Exception as exc:  # fontTools raises many kinds for a damaged file
        raise RenderError(
            f"the font file {path} of layout '{layout}' cannot be read "
            f"({shorten(str(exc), 80)}); put back the family's original file"
        ) from None
    _sound_fonts.add(key)
