"""HTML text filters of the layouts' templates: words the line breaker must leave whole.

Apart from the PDF renderer (no WeasyPrint here): the annex's front pages are templated
by an export that may lay nothing out (every page cached), and must not import it.

Two things shape how these filters mark text up, both measured on WeasyPrint 70:

- A hyphenated compound ("tiers-lieu") is held together by a WORD JOINER (U+2060) after
  its hyphen, not by a no-wrap span: Lato has no non-breaking hyphen, and the joiner is
  invisible, drawn from no font and absent from the PDF's text layer.
- WeasyPrint breaks a line wrongly when the last break it could take is the space that
  ends a text right before an inline box, or lies before a no-break space that leads into
  one: it takes a much earlier break and leaves a word or a fragment alone on a line
  ("culture" / "jeunesse" / "partenaires…", "quar-" / "tier" / "locaux"): 24 such lines in
  200 synthetic cards. So a span holds the space before it and the whole run of words that
  no-break spaces join to it, and no span is no-wrap.
"""

from __future__ import annotations

import re

import markupsafe

from refsheets.typography import keep_last_words

# At most this many characters kept together at a paragraph's end: more, and the line
# before is left short above a long last line ("associés à un" / "cahier d'inspiration.").
_KEEP_TAIL_CHARS = 16
# Words the line breaker must leave whole: hyphenated compounds ("tiers-lieu",
# "post-COVID") are not broken at their hyphen, and capitalised words (names of places
# and people: "Havelinghen") are not hyphenated.
_WORD = re.compile(r"[\w’'.]+(?:-[\w’'.]+)*")
_COMPOUND_CHARS = 24
WORD_JOINER = "\u2060"
# A run of visible characters joined by no-break spaces ("communauté\u00a0tiers-lieu.",
# "«\u00a0Tiers-lieux\u00a0»"), with the breakable spaces before it.
_RUN = re.compile(r"([ \t\n\r\f]*)([^\s]+(?:[\u00a0\u202f]+[^\s]+)*)")
_INNER_HYPHEN = re.compile(r"(?<=[\w’'.])-(?=[\w’'.])")
_TAIL_BREAKS = re.compile(r"(?<=[–—/])(?=\w)")


def join_compounds(text: str) -> str:
    """`text` with a word joiner after the hyphen of each compound of at most 24
    characters, so that no line breaks there."""
    return _WORD.sub(
        lambda m: (
            _INNER_HYPHEN.sub("-" + WORD_JOINER, m.group()) if _compound(m.group()) else m.group()
        ),
        text,
    )


def protect_words(text: str) -> markupsafe.Markup:
    """Escape `text`; hyphenated compounds joined, capitalised words kept from
    hyphenation (in a span that takes the spaces before it, see the module's note)."""
    parts: list[str] = []
    position = 0
    for match in _RUN.finditer(text):
        parts.append(str(markupsafe.escape(text[position : match.start()])))
        space, run = match.groups()
        joined = join_compounds(run)
        # French hyphenation would cut a name ("Havelin-ghen") or a compound inside a
        # part ("sous-préfec-ture"): both go in a span that is never hyphenated.
        if any(_capitalised(w) or _compound(w) for w in _WORD.findall(run)):
            parts.append(str(_span("nohy", space + joined)))
        else:
            parts.append(str(markupsafe.escape(space + joined)))
        position = match.end()
    parts.append(str(markupsafe.escape(text[position:])))
    return markupsafe.Markup("".join(parts))


def _compound(word: str) -> bool:
    """A hyphenated compound short enough to be held whole ("tiers-lieu")."""
    return "-" in word.strip("-") and len(word) <= _COMPOUND_CHARS


def _capitalised(word: str) -> bool:
    """A name: a capital at the start of the word or after an elision ("d’Havelinghen")."""
    return len(word) > 1 and any(part[:1].isupper() for part in re.split(r"[’']", word))


def _span(kind: str, text: str) -> markupsafe.Markup:
    return markupsafe.Markup('<span class="{}">{}</span>').format(kind, text)


def split_tail(text: str) -> tuple[str, str, str] | None:
    """`text` as (head, space, tail): the last words a line must not part, bound by
    no-break spaces, and what comes before; None when no tail is kept (one word, or a
    last word too long to hold)."""
    head, space, tail = keep_last_words(text).rpartition(" ")
    if not space or len(tail) > _KEEP_TAIL_CHARS:
        return None
    # A last word too long for keep_last_words to bind still takes the word before it
    # along, when both are short.
    before, space2, previous = head.rpartition(" ")
    if "\u00a0" not in tail and space2 and len(previous) + 1 + len(tail) <= _KEEP_TAIL_CHARS:
        head, tail = before, f"{previous}\u00a0{tail}"
    return head, space, tail


def keep_tail(text: str) -> markupsafe.Markup:
    """Escape `text`, keep its last words on one line, and protect words from breaks.

    The card's text already binds the last two words with a no-break space, but a line
    can still break inside the last word, at its hyphen ("tiers-|lieu") or by automatic
    hyphenation ("inspira-|tion."), leaving a fragment alone on the last line: the tail
    is bound by no-break spaces, its compounds joined, and it goes in a span that is
    never hyphenated; capitalised words elsewhere are kept from hyphenation too.
    """
    parts = split_tail(text)
    if parts is None:
        return protect_words(text)
    head, space, tail = parts
    # Nor does the tail break after a dash or a slash ("2019–2021", "usagers/élus").
    held = _TAIL_BREAKS.sub(WORD_JOINER, join_compounds(tail))
    return markupsafe.Markup(protect_words(head) + _span("keep", space + held))
