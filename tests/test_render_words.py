"""The text filters of the card template, and the lines WeasyPrint makes of their output."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from refsheets.card import Block, TypesetFn, build_card
from refsheets.layouts import LAYOUTS_ROOT, load_layout
from refsheets.library import load_library
from refsheets.render.pdf import PX_TO_MM, renderer_for
from refsheets.render.words import WORD_JOINER, keep_tail, protect_words
from tests.conftest import DATA

# Two paragraphs (of the bench's synthetic missions) that WeasyPrint 70 broke into lone
# words and fragments when a span followed the line's last break: "culture" /
# "jeunesse" / "partenaires…", and "innovation" / "quar-" / "tier" / "locaux".
PARAGRAPHS = (
    "Acteurs public commune public synthèse concertation culture jeunesse partenaires "
    "prototypage services territoire partenaires. Commune public acteurs jeunesse diagnostic "
    "mobilisation services fablab prototypage animation. Locaux préfiguration commune "
    "intercommunalité friche ruralité animation solidarité concertation juridique locaux "
    "équipement tiers-lieu. Programmation intercommunalité design gouvernance locaux élus "
    "locaux programmation services diagnostic communauté numérique.",
    "Usages tiers-lieu modèle synthèse habitants concertation juridique modèle accompagnement "
    "juridique acteurs réhabilitation ruralité réhabilitation ruralité. Solidarité animation "
    "innovation quartier locaux habitants communauté participatif communauté tiers-lieu.",
)


def test_compounds_are_joined_not_wrapped() -> None:
    html = str(protect_words("un tiers-lieu, «\u00a0post-COVID\u00a0» et la co-conception"))
    assert f"tiers-{WORD_JOINER}lieu," in html and f"co-{WORD_JOINER}conception" in html
    assert "nobr" not in html and "nowrap" not in html
    # A long compound may break at its hyphen (it would overflow the column otherwise).
    assert WORD_JOINER not in str(protect_words("anticonstitutionnellement-intercommunalité"))


def test_a_span_holds_the_space_before_it_and_the_words_bound_to_it() -> None:
    html = str(protect_words("la commune d’Havelinghen, «\u00a0Tiers-Lieux\u00a0» à Lens\u00a0!"))
    assert '<span class="nohy"> d’Havelinghen,</span>' in html  # a name after an elision
    assert f'<span class="nohy"> «\u00a0Tiers-{WORD_JOINER}Lieux\u00a0»</span>' in html
    assert '<span class="nohy"> Lens\u00a0!</span>' in html
    assert " <span" not in html and "\u00a0<span" not in html


def test_the_tail_is_bound_escaped_and_held() -> None:
    html = str(keep_tail("Le <b>tiers-lieu</b> de Péronne"))
    assert html.endswith('<span class="keep"> de\u00a0Péronne</span>')
    assert f"&lt;b&gt;tiers-{WORD_JOINER}lieu&lt;/b&gt;" in html


def _lines(box: Any, found: list[tuple[float, float]]) -> None:
    """(width of the line's content, width of its box) of every line of a paragraph."""
    if getattr(box, "element_tag", None) == "p" and type(box).__name__ != "LineBox":
        for line in [c for c in box.children if type(c).__name__ == "LineBox"][:-1]:
            found.append((sum(c.margin_width() for c in line.children), box.width))
    for child in getattr(box, "children", ()):
        _lines(child, found)


@pytest.mark.slow
def test_no_line_but_the_last_of_a_paragraph_is_left_short() -> None:
    library = load_library(DATA)
    typeset = TypesetFn("fr")
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    card = dataclasses.replace(
        card, context=tuple(Block("paragraph", (typeset(text),)) for text in PARAGRAPHS)
    )
    renderer = renderer_for(load_layout("pop-up", LAYOUTS_ROOT), Path(library.root))
    document = renderer.render(renderer.html([card], [0]), "a test card")
    lines: list[tuple[float, float]] = []
    _lines(document.pages[0]._page_box, lines)
    assert len(lines) >= 10
    short = [round(used * PX_TO_MM) for used, width in lines if used < 0.6 * width]
    assert not short, f"lines of {short} mm in a {lines[0][1] * PX_TO_MM:.0f} mm column"
