"""The fit bound against WeasyPrint: a card the bound passes is one page, always.

`fit_bound.fits_first_step` answers `refsheets check` for most cards without laying them
out. Its one promise: when it says a card fits at the first step, the real layout agrees.
These tests lay out cards of every shape (long and short texts, lists, capitalised names,
compounds, French punctuation, photos, partners, English cards, each brand) with
WeasyPrint and compare: the bound is never below the real height of the card.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image

from refsheets.card import Block, Card, CardPhoto, Lang, TypesetFn, build_card
from refsheets.layouts import LAYOUTS_ROOT, Layout, load_layout
from refsheets.library import Library, load_library
from refsheets.render import check_fits, default_layout_name
from refsheets.render.fit_bound import (
    MODEL_FILES,
    PAGE_HEIGHT_MM,
    SAFETY_MM,
    NoBound,
    card_height_bound,
    face_metrics,
    file_digest,
    fits_first_step,
)
from refsheets.render.pdf import PX_TO_MM, check_fit, fit_cards, renderer_for
from tests.conftest import DATA

_WORDS = (
    "accompagnement territoire habitants atelier usages programmation numérique stratégie "
    "gouvernance communauté modèle économique diagnostic concertation prototypage services "
    "médiation solidarité quartier commune intercommunalité fablab coopération préfiguration "
    "animation transition ruralité innovation participatif élus partenaires acteurs locaux "
    "scénarios aménagement livrable synthèse mobilisation portage juridique friche "
    "réhabilitation équipement public culture jeunesse emploi à de la le un une et pour "
    "tiers-lieu tiers-lieux co-conception post-COVID Havelinghen Péronne Valenciennes Lille "
    "EPSM POP Région Hauts-de-France « » : ; ! ? (2021) 30 000 € 12 % anticonstitutionnellement "
    # ligatures (and the kerning of a ligature with its neighbour: "fî" then "î"),
    # figures, and punctuation that opens or closes
    "fîî affiche efficace fluide offre fjord ﬁn 2019–2021 1er n°12 3,5 „ ‚ ¿ ¡ ‹ › … / — "
    "https://pop.eu.com/tiers-lieux usagers/élus œuvre ŒUVRE Ærø ß"
).split()

_PHOTOS: dict[tuple[int, int], Path] = {}


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(DATA)


@pytest.fixture(scope="module")
def layouts() -> dict[str, Layout]:
    return {name: load_layout(name, LAYOUTS_ROOT) for name in ("base", "pop-up", "pop-cafe")}


def real_layout(card: Card, layout: Layout, library_root: Path) -> tuple[int, float]:
    """Pages of `card` laid out alone at the first step, and the height of its content
    on the first page (mm), as WeasyPrint lays it out."""
    renderer = renderer_for(layout, library_root)
    document = renderer.render(renderer.html([card], [0]), "a test card")
    page = document.pages[0]._page_box
    bottom = page.content_box_y()

    def walk(box: Any) -> None:
        nonlocal bottom
        if hasattr(box, "position_y") and hasattr(box, "margin_height"):
            bottom = max(bottom, box.position_y + box.margin_height())
        for child in getattr(box, "children", ()):
            walk(child)

    # The boxes inside the card (not the page's margin boxes, which hold the footer,
    # nor html and body, whose height counts a margin collapsed through them twice).
    html = next(child for child in page.children if type(child).__name__ != "MarginBox")
    for card_box in html.children[0].children:
        walk(card_box)
    return len(document.pages), (bottom - page.content_box_y()) * PX_TO_MM


def _photo(root: Path, size: tuple[int, int]) -> Path:
    path = root / "photos" / f"p{size[0]}x{size[1]}.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (120, 140, 90)).save(path)
    return path


def _text(draw: st.DrawFn, low: int, high: int) -> str:
    words = draw(st.lists(st.sampled_from(_WORDS), min_size=low, max_size=high))
    return " ".join(words).capitalize() if words else ""


@st.composite
def cards(draw: st.DrawFn, base: Card, photo_root: Path) -> Card:
    """A card of any shape, its text typeset as `build_card` does."""
    lang: Lang = draw(st.sampled_from(["fr", "en"]))
    typeset = TypesetFn(lang)

    def blocks() -> tuple[Block, ...]:
        found = []
        for _ in range(draw(st.integers(0, 3))):
            if draw(st.booleans()):
                found.append(Block("paragraph", (typeset(_text(draw, 1, 110)),)))
            else:
                kind: Literal["bullets", "ordered"] = draw(st.sampled_from(["bullets", "ordered"]))
                items = tuple(typeset(_text(draw, 1, 25)) for _ in range(draw(st.integers(1, 6))))
                found.append(Block(kind, items))
        return tuple(found)

    photos = []
    for _ in range(draw(st.integers(0, 2))):
        size = (draw(st.integers(20, 900)), draw(st.integers(20, 900)))
        caption = draw(st.one_of(st.none(), st.just(_text(draw, 1, 20))))
        photos.append(
            CardPhoto(_photo(photo_root, size), caption, alt="photo", crop=draw(st.booleans()))
        )
    brand = dataclasses.replace(
        base.brand,
        email=draw(st.sampled_from([None, "contact@pop.cafe", "équipe@pop.eu.com"])),
        phone=draw(st.sampled_from([None, None, "03 22 00 00 00", "+33 3 22", "☎ 03 22"])),
    )
    return dataclasses.replace(
        base,
        lang=lang,
        brand=brand,
        client_kind=draw(st.sampled_from([None, "Client public", "Établissement public"])),
        title=typeset(_text(draw, 1, 24)) or "Titre",
        client=typeset(_text(draw, 1, 10)) or "Client",
        location=draw(st.one_of(st.none(), st.just(_text(draw, 1, 4)))),
        period=draw(st.sampled_from([None, "2021", "2019–2021", "janvier 2020 – mars 2023"])),
        amount=draw(
            st.sampled_from([None, "12\u202f000\u00a0€\u00a0HT", "1\u202f250\u202f000 € HT"])
        ),
        partners=draw(st.one_of(st.none(), st.just(typeset(_text(draw, 1, 30))))),
        context=blocks(),
        approach=blocks(),
        deliverables=tuple(typeset(_text(draw, 1, 22)) for _ in range(draw(st.integers(0, 7)))),
        tags=tuple(draw(st.lists(st.sampled_from(_WORDS), max_size=12, unique=True))),
        photos=tuple(photos),
    )


EXAMPLES = int(os.environ.get("REFSHEETS_BOUND_EXAMPLES", "80"))


@pytest.mark.slow
@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_bound_is_never_below_the_real_layout(
    data: st.DataObject, library: Library, layouts: dict[str, Layout], tmp_path_factory: Any
) -> None:
    root = tmp_path_factory.getbasetemp() / "bound-photos"
    base = build_card(library, "2021-cc-haute-somme-tiers-lieu-peronne")
    card = data.draw(cards(base, root))
    layout = layouts[data.draw(st.sampled_from(sorted(layouts)))]
    try:
        bound = card_height_bound(card, layout)
    except NoBound:  # the model gives up on this card: it is laid out instead
        assert fits_first_step(card, layout) is None
        event("the model gives up")
        return
    pages, height = real_layout(card, layout, root)
    proven = fits_first_step(card, layout) is True
    event(f"{pages} page(s), {'proven' if proven else 'not proven'}")
    if pages == 1:
        assert bound >= height - 0.01, (bound, height)
    else:
        assert bound > PAGE_HEIGHT_MM - SAFETY_MM, (bound, pages)
        assert fits_first_step(card, layout) is None


def test_a_ligature_kerned_apart_from_its_neighbour_is_counted(
    library: Library, layouts: dict[str, Layout]
) -> None:
    # Lato forms "fî" as one glyph and kerns it 169 units away from a following "î",
    # where "f" and "î" are not kerned at all: counted on the letters alone, this card
    # was "proven" to fit and took two pages (found in review).
    base = build_card(library, "2021-cc-haute-somme-tiers-lieu-peronne")
    text = " ".join(["fîî" * 16] * 54)
    card = dataclasses.replace(
        base,
        lang="en",
        context=(Block("paragraph", (text,)),),
        approach=(),
        deliverables=(),
        tags=(),
        photos=(),
    )
    layout = layouts["pop-up"]
    pages, _ = real_layout(card, layout, library.root)
    assert pages == 2 and fits_first_step(card, layout) is None


def test_a_character_the_fonts_lack_anywhere_on_the_card_is_left_to_the_layout(
    library: Library, layouts: dict[str, Layout]
) -> None:
    # The footer's phone number is not measured (it is in the page's margin), but the
    # renderer refuses the whole card for it: the bound must not answer "fits".
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    odd = dataclasses.replace(card, brand=dataclasses.replace(card.brand, phone="☎ 03 22"))
    assert fits_first_step(card, layouts["base"]) is True
    assert fits_first_step(odd, layouts["base"]) is None
    (result,) = fit_cards([odd], layouts["base"], library_root=library.root)
    assert result.problem and "U+260E" in result.problem


def test_every_shipped_mission_is_proven_and_bounded(
    library: Library, layouts: dict[str, Layout]
) -> None:
    for mission_id, _ in library:
        card = build_card(library, mission_id)
        layout = layouts["pop-up"]
        assert fits_first_step(card, layout) is True, mission_id
        pages, height = real_layout(card, layout, library.root)
        assert pages == 1
        assert height <= card_height_bound(card, layout) <= PAGE_HEIGHT_MM - SAFETY_MM


def test_a_card_past_the_bound_is_laid_out_never_refused(
    library: Library, layouts: dict[str, Layout]
) -> None:
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    long = dataclasses.replace(card, context=(Block("paragraph", (" ".join(["mot"] * 1500),)),))
    assert fits_first_step(long, layouts["pop-up"]) is None
    # A character the fonts lack: only the layout can say what is wrong.
    odd = dataclasses.replace(card, title="Lieu 🙂 numérique")
    assert fits_first_step(odd, layouts["pop-up"]) is None


def test_a_layout_with_its_own_stylesheet_or_template_is_laid_out(
    tmp_path: Path, library: Library
) -> None:
    root = tmp_path / "layouts"
    shutil.copytree(LAYOUTS_ROOT, root)
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    assert fits_first_step(card, load_layout("pop-up", root)) is True
    (root / "pop-up" / "card.css").write_text(".title { font-size: 40pt; }\n", encoding="utf-8")
    assert fits_first_step(card, load_layout("pop-up", root)) is None
    assert fits_first_step(card, load_layout("pop-cafe", root)) is True
    base_css = root / "base" / "card.css"
    base_css.write_text(base_css.read_text(encoding="utf-8") + "\n/* edited */\n", "utf-8")
    assert fits_first_step(card, load_layout("pop-cafe", root)) is None


def test_the_model_is_written_for_the_shipped_template_and_stylesheet() -> None:
    # When this fails, card.css or card.html.j2 changed: check fit_bound.py's figures
    # against the new files (and this file's tests), then update MODEL_FILES.
    for name, digest in MODEL_FILES.items():
        assert file_digest(LAYOUTS_ROOT / "base" / name) == digest, name


@pytest.mark.slow
def test_check_fits_answers_as_the_layout_does(library_copy: Path) -> None:
    path = library_copy / "missions" / "vilogia-lieu-innovation-habitat.yaml"
    text = re.sub(r"(?ms)^context: .*?(?=^\w)", "", path.read_text(encoding="utf-8"))
    path.write_text(text + "context: " + "Un long contexte qui prend sa place. " * 70 + "\n")
    library = load_library(library_copy)
    results = {r.mission_id: r for r in check_fits(library, jobs=1)}
    for mission_id, _ in library:
        card = build_card(library, mission_id)
        layout = load_layout(default_layout_name(library, mission_id, LAYOUTS_ROOT), LAYOUTS_ROOT)
        assert results[mission_id] == check_fit(card, layout, library_root=library.root)
    long = results["vilogia-lieu-innovation-habitat"]
    assert long.step != 0  # laid out: tightened, or too long even so


def test_fonts_the_model_cannot_bound_are_refused(tmp_path: Path) -> None:
    from fontTools.ttLib import TTFont, newTable
    from fontTools.ttLib.tables._f_v_a_r import Axis

    lato = LAYOUTS_ROOT.parent / "fonts" / "lato" / "Lato-Regular.ttf"
    assert face_metrics(lato) is not None
    # A variable font: its advances depend on the instance Pango picks.
    font = TTFont(lato)
    fvar = newTable("fvar")
    axis = Axis()
    axis.axisTag, axis.minValue, axis.defaultValue, axis.maxValue = "wght", 100, 400, 900
    fvar.axes, fvar.instances = [axis], []
    font["fvar"] = fvar
    font.save(tmp_path / "variable.ttf")
    assert face_metrics(tmp_path / "variable.ttf") is None
    # A damaged font file: no bound, no error (the layout reports what is wrong).
    (tmp_path / "damaged.ttf").write_bytes(lato.read_bytes()[:5000])
    assert face_metrics(tmp_path / "damaged.ttf") is None
    # An old `kern` table and no GPOS: HarfBuzz would kern from a table the model skips.
    font = TTFont(lato)
    del font["GPOS"]
    font.save(tmp_path / "old-kern.ttf")
    assert "kern" in TTFont(tmp_path / "old-kern.ttf")
    assert face_metrics(tmp_path / "old-kern.ttf") is None
