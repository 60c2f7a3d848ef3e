"""What gives away the client of an anonymous mission: its name, its town, the distinctive
words of its name, found in the text a card prints (title, context, approach,
deliverables, photo captions)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from refsheets.french import fold
from refsheets.model import Mission

# Words of a client's name that say what kind of body it is, not which one: finding them
# in the text gives nothing away ("la commune", "le centre hospitalier").
_GENERIC = set(
    "commune communes ville villes communaute agglomeration urbaine metropole region "
    "departement departemental conseil centre hospitalier universitaire etablissement "
    "public publique sante mentale office habitat societe association groupe syndicat "
    "mixte direction service services territoire territorial territoriale france nord "
    "sud est ouest haute haut hauts basse bas grand grande pays saint sainte sur les des "
    "pour avec dans".split()
)
_WORD = re.compile(r"[\w][\w'’-]*")

Loc = tuple[str | int, ...]


def giveaways(mission: Mission) -> list[str]:
    """The names and words that identify the client: its name, its location, and each
    distinctive word of them (four letters or more, not a generic word)."""
    found: dict[str, None] = {}
    for text in (mission.client.name, mission.client.location or ""):
        if not text.strip():
            continue
        found[text.strip()] = None
        for word in _WORD.findall(text):
            bare = word.strip("'’-")
            parts = [bare, *re.split(r"[-'’]", bare)]
            for part in parts:
                if len(part) >= 4 and fold(part) not in _GENERIC:
                    found[part] = None
    return list(found)


def printed_texts(mission: Mission) -> Iterator[tuple[Loc, str]]:
    """Each text of the mission that a card prints, with where it is in the file."""
    yield ("title",), mission.title
    if mission.context:
        yield ("context",), mission.context
    if mission.approach:
        yield ("approach",), mission.approach
    for i, deliverable in enumerate(mission.deliverables):
        yield ("deliverables", i), deliverable
    for i, photo in enumerate(mission.photos):
        if photo.caption:
            yield ("photos", i, "caption"), photo.caption


def contains(text: str, needle: str) -> bool:
    """Whether `needle` occurs in `text` as whole words (case and accents aside)."""
    pattern = r"(?<![\w])" + re.escape(fold(needle)) + r"(?![\w])"
    return re.search(pattern, fold(text)) is not None


def leaks(mission: Mission) -> list[tuple[Loc, str]]:
    """Where an anonymous mission's printed text names its client: (field, what it names).
    Nothing for a named mission."""
    if mission.disclosure != "anonymous":
        return []
    needles = giveaways(mission)
    found = []
    for loc, text in printed_texts(mission):
        # The longest match says the most: "Ville de Valenciennes" rather than its word.
        for needle in sorted(needles, key=len, reverse=True):
            if contains(text, needle):
                found.append((loc, needle))
                break
    return found
