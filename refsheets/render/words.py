"""HTML text filters of the layouts' templates: words the line breaker must leave whole.

Apart from the PDF renderer (no WeasyPrint here): the annex's front pages are templated
by an export that may lay nothing out (every page cached), and must not import it.
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


def protect_words(text: str) -> markupsafe.Markup:
    """Escape `text`; hyphenated compounds in no-break spans, capitalised words kept
    from hyphenation."""
    parts: list[str] = []
    position = 0
    for match in _WORD.finditer(text):
        parts.append(str(markupsafe.escape(text[position : match.start()])))
        word = match.group()
        if "-" in word.strip("-") and len(word) <= _COMPOUND_CHARS:
            parts.append(str(markupsafe.Markup('<span class="nobr">{}</span>').format(word)))
        elif word[0].isupper() and len(word) > 1:
            parts.append(str(markupsafe.Markup('<span class="nohy">{}</span>').format(word)))
        else:
            parts.append(str(markupsafe.escape(word)))
        position = match.end()
    parts.append(str(markupsafe.escape(text[position:])))
    return markupsafe.Markup("".join(parts))


def keep_tail(text: str) -> markupsafe.Markup:
    """Escape `text`, keep its last words on one line, and protect words from breaks.

    The card's text already binds the last two words with a no-break space, but a line
    can still break inside the last word, at its hyphen ("tiers-|lieu") or by automatic
    hyphenation ("inspira-|tion."), leaving a fragment alone on the last line. Lato has
    no non-breaking hyphen, so the tail goes in a no-wrap span instead; so do the
    hyphenated compounds, and capitalised words are kept from hyphenation.
    """
    head, space, tail = keep_last_words(text).rpartition(" ")
    if not space or len(tail) > _KEEP_TAIL_CHARS:
        return protect_words(text)
    # A last word too long for keep_last_words to bind still takes the word before it
    # along, when both are short.
    before, space2, previous = head.rpartition(" ")
    if "\u00a0" not in tail and space2 and len(previous) + 1 + len(tail) <= _KEEP_TAIL_CHARS:
        head, tail = before, f"{previous} {tail}"
    return markupsafe.Markup('{}{}<span class="keep">{}</span>').format(
        protect_words(head), space, tail
    )
