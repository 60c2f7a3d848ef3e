"""French typography for text that goes on a card.

Applied once, when the card object is built, so the PDF and the Word card print the same
characters. The rules follow the Lexique des règles typographiques de l'Imprimerie
nationale: a no-break space before the colon, a narrow one before ; ! ? and inside « »,
typographic apostrophes, and no short word left alone at the end of a paragraph or item.
"""

from __future__ import annotations

import re

NNBSP = "\u202f"  # narrow no-break space (espace fine insécable)
NBSP = "\u00a0"  # no-break space (espace insécable)

_SPACES = "[ \u00a0\u202f\t]"
# A run of marks ("?!") takes one space before it, and none between its marks.
_BEFORE_HIGH = re.compile(rf"(?<=\S){_SPACES}*([;!?]+)(?=\s|$|[»)\]])")
_BEFORE_COLON = re.compile(rf"(?<=\S){_SPACES}+(:)(?=\s|$)")
_GUILLEMET_OPEN = re.compile(rf"«{_SPACES}*")
_GUILLEMET_CLOSE = re.compile(rf"{_SPACES}*»")
_STRAIGHT_QUOTES = re.compile(r'"([^"\n]+)"')
_APOSTROPHE = re.compile(r"(?<=\w)'(?=\w)")
_ELLIPSIS = re.compile(r"(?<!\.)\.\.\.(?!\.)")
_NUMBER_NOUN = re.compile(r"(?<![\w.,])(\d{1,3}|n°|N°)[ ](?=\w)")
# "12 000", "1 250 000": digits already grouped by thousands (a 1-3 digit head, then
# groups of exactly three), whatever space separated them.
_GROUPED_DIGITS = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)")
_LAST_SPACE = re.compile(r"[ ](\S{1,12})$")
_DIGIT = re.compile(r"\d")


def french(text: str) -> str:
    """Apply French typography to one paragraph or item of text.

    Each rule runs only where the character it acts on is there (a card's text is
    built from some 1,700 paragraphs and items in a 200-card annex: nine regular
    expressions over each were most of planning it)."""
    if "'" in text:
        text = _APOSTROPHE.sub("’", text)
    if "..." in text:
        text = _ELLIPSIS.sub("…", text)
    if '"' in text:
        text = _STRAIGHT_QUOTES.sub(lambda m: f"«{m.group(1).strip()}»", text)
    if "«" in text:
        text = _GUILLEMET_OPEN.sub(f"«{NNBSP}", text)
    if "»" in text:
        text = _GUILLEMET_CLOSE.sub(f"{NNBSP}»", text)
    if ";" in text or "!" in text or "?" in text:
        text = _BEFORE_HIGH.sub(lambda m: f"{NNBSP}{m.group(1)}", text)
    if ":" in text:
        text = _BEFORE_COLON.sub(f"{NBSP}:", text)
    if _DIGIT.search(text):
        text = _GROUPED_DIGITS.sub(lambda m: re.sub(r"[ \u00a0]", NNBSP, m.group()), text)
    if "°" in text or _DIGIT.search(text):
        # "2 ateliers", "n° 2": a small number stays with the word it counts.
        text = _NUMBER_NOUN.sub(lambda m: f"{m.group(1)}{NBSP}", text)
    return text


def keep_last_words(text: str) -> str:
    """Bind the last word to the previous one, so no line holds a lone short word."""
    return _LAST_SPACE.sub(lambda m: f"{NBSP}{m.group(1)}", text)


def english(text: str) -> str:
    """The light clean-up that suits any language: apostrophes and ellipses."""
    return _ELLIPSIS.sub("…", _APOSTROPHE.sub("’", text))
