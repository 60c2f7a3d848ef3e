"""Which font file and which Word font name each style uses, for a layout."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from refsheets.errors import RenderError
from refsheets.layouts import FontFile, Layout
from refsheets.render.docx_package import word_font_name
from refsheets.render.docx_styles import ParagraphStyle


@dataclass(frozen=True)
class StyleFont:
    """The face a style prints with, and how a Word style names it."""

    path: Path
    word_name: str  # "Lato", "Lato Heavy": Word's legacy family name of the file
    bold: bool  # whether the style must say <w:b/> to reach this face within its family
    italic: bool


def pick_face(layout: Layout, family: str, weight: int, italic: bool) -> FontFile:
    """The layout's face of `family` closest to `weight`, in the right style."""
    faces = [f for f in layout.font_faces if f.family == family]
    if not faces:
        raise RenderError(
            f"the layout '{layout.name}' names the font '{family}' but lists no face of it "
            "under fonts.faces; add its files to brand.yaml"
        )
    wanted = "italic" if italic else "normal"
    same_style = [f for f in faces if f.style == wanted] or faces
    return min(same_style, key=lambda f: (abs(f.weight - weight), -f.weight))


@lru_cache(maxsize=64)
def _word_name(path: Path) -> tuple[str, str]:
    return word_font_name(path)


def style_font(layout: Layout, spec: ParagraphStyle) -> StyleFont:
    """The face of `spec` in `layout`, and how Word must name it."""
    family = layout.brand.fonts.heading if spec.font == "heading" else layout.brand.fonts.body
    face = pick_face(layout, family, spec.weight, spec.italic)
    word_name, slot = _word_name(face.path)
    return StyleFont(face.path, word_name, "Bold" in slot, "Italic" in slot)
