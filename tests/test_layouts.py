"""Layouts as data: brand.yaml validated with line numbers, inheritance, discovery."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from refsheets.errors import NotFoundError, RefsheetsError
from refsheets.layouts import (
    LAYOUTS_ROOT,
    PROJECT_ROOT,
    list_layouts,
    load_layout,
    resolve_layouts_root,
)
from tests.conftest import DATA

FONTS = PROJECT_ROOT / "fonts"


@pytest.fixture
def layouts_root(tmp_path: Path) -> Path:
    root = tmp_path / "layouts"
    shutil.copytree(LAYOUTS_ROOT / "base", root / "base")
    return root


def write_brand(root: Path, name: str, text: str, *, logo: bool = True) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "brand.yaml").write_text(text, encoding="utf-8")
    if logo:
        (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    return folder


def test_the_shipped_layouts_are_listed_and_load() -> None:
    assert list_layouts(LAYOUTS_ROOT) == ["base", "pop-cafe", "pop-up"]
    for name in list_layouts(LAYOUTS_ROOT):
        layout = load_layout(name, LAYOUTS_ROOT)
        assert layout.logo_path.is_file() and layout.logo_path.suffix == ".svg"
        assert all(face.path.is_file() for face in layout.font_faces)
        assert layout.brand.fonts.body == "Lato"


def test_sister_brands_override_only_what_differs() -> None:
    base = load_layout("base", LAYOUTS_ROOT)
    up = load_layout("pop-up", LAYOUTS_ROOT)
    cafe = load_layout("pop-cafe", LAYOUTS_ROOT)
    assert up.brand.entity == "pop-up" and cafe.brand.entity == "pop-cafe"
    assert up.brand.name == "POP Up" and cafe.brand.name == "POP Café"
    assert up.brand.colors.primary != cafe.brand.colors.primary != base.brand.colors.primary
    # Not set by the brands: inherited from base.
    assert up.brand.colors.ink == cafe.brand.colors.ink == base.brand.colors.ink
    assert up.brand.fonts == base.brand.fonts
    assert up.chain == (LAYOUTS_ROOT / "pop-up", LAYOUTS_ROOT / "base")
    assert up.logo_path == LAYOUTS_ROOT / "pop-up" / "logo.svg"
    assert up.find("card.html.j2") == LAYOUTS_ROOT / "base" / "card.html.j2"
    assert up.files("card.css")[0] == LAYOUTS_ROOT / "base" / "card.css"


def test_the_brands_match_the_entities_of_the_library() -> None:
    import yaml

    entities = yaml.safe_load((DATA / "entities.yaml").read_text())["entities"]
    for key, entity in entities.items():
        layout = load_layout(key, LAYOUTS_ROOT)
        assert layout.brand.name == entity["name"]
        assert layout.brand.email == entity["email"]


def test_an_unknown_layout_names_the_closest(layouts_root: Path) -> None:
    with pytest.raises(NotFoundError, match="did you mean 'base'"):
        load_layout("bsae", layouts_root)
    with pytest.raises(NotFoundError):
        load_layout("../data", layouts_root)


def test_an_unknown_parent_is_reported(layouts_root: Path) -> None:
    write_brand(layouts_root, "orphan", "extends: nowhere\nname: O\nlogo: logo.svg\n")
    with pytest.raises(NotFoundError, match="no layout 'nowhere' \\(extended by 'orphan'\\)"):
        load_layout("orphan", layouts_root)


def test_a_bad_colour_points_at_its_line(layouts_root: Path) -> None:
    write_brand(
        layouts_root,
        "acme",
        "extends: base\nname: Acme\nlogo: logo.svg\ncolors:\n  primary: red\n",
    )
    with pytest.raises(RefsheetsError) as caught:
        load_layout("acme", layouts_root)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.path.name == "brand.yaml"
    assert (diagnostic.line, diagnostic.column) == (5, 12)
    assert diagnostic.field == "colors.primary"
    assert "#rrggbb" in diagnostic.message


def test_an_unknown_key_gets_a_did_you_mean(layouts_root: Path) -> None:
    write_brand(layouts_root, "acme", "extends: base\nname: Acme\nlogo: logo.svg\ncolours: {}\n")
    with pytest.raises(RefsheetsError) as caught:
        load_layout("acme", layouts_root)
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.line == 4 and "did you mean 'colors'?" in diagnostic.message


def test_a_missing_logo_and_font_are_reported_together(layouts_root: Path) -> None:
    write_brand(
        layouts_root,
        "acme",
        "extends: base\nname: Acme\nlogo: acme.svg\nfonts:\n  body: X\n  heading: X\n"
        "  faces:\n    - {family: X, file: x/X.ttf}\n",
        logo=False,
    )
    with pytest.raises(RefsheetsError) as caught:
        load_layout("acme", layouts_root, fonts_root=FONTS)
    messages = [d.format() for d in caught.value.diagnostics]
    assert len(messages) == 2
    assert "brand.yaml:3:7: logo: no file acme.svg" in messages[0]
    assert "fonts.faces.0.file: no font file x/X.ttf" in messages[1]


def test_paths_cannot_leave_the_layout(layouts_root: Path) -> None:
    write_brand(layouts_root, "acme", "extends: base\nname: Acme\nlogo: ../base/logo.svg\n")
    with pytest.raises(RefsheetsError) as caught:
        load_layout("acme", layouts_root)
    assert "without '..'" in caught.value.diagnostics[0].message


def test_a_loop_of_extends_is_an_error(layouts_root: Path) -> None:
    write_brand(layouts_root, "a", "extends: b\nname: A\nlogo: logo.svg\n")
    write_brand(layouts_root, "b", "extends: a\nname: B\nlogo: logo.svg\n")
    with pytest.raises(RefsheetsError, match="a -> b -> a"):
        load_layout("a", layouts_root)


def test_the_layouts_folder_is_found_beside_the_library(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REFSHEETS_LAYOUTS", raising=False)
    (tmp_path / "data").mkdir()
    assert resolve_layouts_root(tmp_path / "data") == LAYOUTS_ROOT  # none beside: ours
    (tmp_path / "layouts").mkdir()
    assert resolve_layouts_root(tmp_path / "data") == tmp_path / "layouts"
    monkeypatch.setenv("REFSHEETS_LAYOUTS", str(tmp_path / "elsewhere"))
    assert resolve_layouts_root(tmp_path / "data") == tmp_path / "elsewhere"
