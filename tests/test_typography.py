"""French typography of card text: no-break spaces, quotes, apostrophes, last words."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refsheets.typography import NBSP, NNBSP, english, french, keep_last_words


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Au programme : personas", f"Au programme{NBSP}: personas"),
        ("oui ; non ! vrai ?", f"oui{NNBSP}; non{NNBSP}! vrai{NNBSP}?"),
        ("comment faire?", f"comment faire{NNBSP}?"),
        ('un "POC" ici', f"un «{NNBSP}POC{NNBSP}» ici"),
        ("« Proof of Concept »", f"«{NNBSP}Proof of Concept{NNBSP}»"),
        ("l'accueil d'un lieu", "l’accueil d’un lieu"),
        ("Attends...", "Attends…"),
        ("2 ateliers immersifs", f"2{NBSP}ateliers immersifs"),
        ("Pourquoi ?! Vraiment", f"Pourquoi{NNBSP}?! Vraiment"),
        ("213 000 € HT", f"213{NNBSP}000 € HT"),
        ("1 250 000 habitants", f"1{NNBSP}250{NNBSP}000{NBSP}habitants"),
        ("12 000,50 €", f"12{NNBSP}000,50 €"),
        ("en 2019 200 personnes", f"en 2019 200{NBSP}personnes"),
    ],
)
def test_french_rules(text: str, expected: str) -> None:
    assert french(text) == expected


@pytest.mark.parametrize(
    "text",
    ["http://x.fr/a?b=1", "à 10:30", "popupequipe@pop.eu.com", "2019-2020", "en 2019"],
)
def test_what_is_not_prose_is_left_alone(text: str) -> None:
    assert french(text) == text


def test_english_only_fixes_apostrophes_and_ellipses() -> None:
    assert english("It's done : yes ? ...") == "It’s done : yes ? …"


def test_the_last_word_is_bound_to_the_previous_one() -> None:
    assert keep_last_words("avec un mot") == f"avec un{NBSP}mot"
    assert keep_last_words("seul") == "seul"
    # A long last word can stand alone on its line: binding it would leave a gap.
    assert keep_last_words("un anticonstitutionnellement") == "un anticonstitutionnellement"


prose = st.text(
    alphabet=st.sampled_from(list("abcdéèàçABÉ ;:!?'\"«».,…-0123456789\u00a0\u202f")),
    max_size=60,
)


@given(prose)
def test_french_is_idempotent(text: str) -> None:
    once = french(text)
    assert french(once) == once


@given(prose)
def test_french_only_changes_spaces_quotes_and_ellipses(text: str) -> None:
    def letters(value: str) -> str:
        return "".join(c for c in value if c.isalnum())

    assert letters(french(text)) == letters(text)
    assert not any(c.isspace() and c not in (" ", NBSP, NNBSP) for c in french(text))


@given(st.text(max_size=80))
def test_keep_last_words_only_turns_one_space_into_a_no_break_space(text: str) -> None:
    bound = keep_last_words(text)
    assert len(bound) == len(text)
    assert bound.replace(NBSP, " ") == text.replace(NBSP, " ")


def _every_rule(text: str) -> str:
    """`french` with each rule run whether or not its character is there."""
    from refsheets import typography as t

    text = t._APOSTROPHE.sub("’", text)
    text = t._ELLIPSIS.sub("…", text)
    text = t._STRAIGHT_QUOTES.sub(lambda m: f"«{m.group(1).strip()}»", text)
    text = t._GUILLEMET_OPEN.sub(f"«{NNBSP}", text)
    text = t._GUILLEMET_CLOSE.sub(f"{NNBSP}»", text)
    text = t._BEFORE_HIGH.sub(lambda m: f"{NNBSP}{m.group(1)}", text)
    text = t._BEFORE_COLON.sub(f"{NBSP}:", text)
    text = t._GROUPED_DIGITS.sub(lambda m: re.sub(r"[ \u00a0]", NNBSP, m.group()), text)
    return t._NUMBER_NOUN.sub(lambda m: f"{m.group(1)}{NBSP}", text)


@given(
    st.text(
        alphabet=st.sampled_from(list("abnNé°' ;:!?\"«».…0123456789٣\u00a0\u202f")),
        max_size=40,
    )
)
def test_a_rule_skipped_for_want_of_its_character_would_have_changed_nothing(
    text: str,
) -> None:
    assert french(text) == _every_rule(text)
