"""The tag taxonomy: canonical tags, their labels and aliases, and tolerant matching.

"tiers lieux", "Tiers-Lieux" and "tiers-lieu" are one tag: matching ignores case,
accents, hyphens and spaces, and the plural marks of French and English words. Typos of
the source ("méditation" for "médiation") are fixed here, as aliases, never in the loader.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from refsheets.cpv import cpv_covers
from refsheets.model import Taxonomy as TaxonomyFile

_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, strip accents, and turn œ/æ into oe/ae."""
    text = text.casefold().replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _singular(word: str) -> str:
    # "lieux" -> "lieu", "ateliers" -> "atelier"; short words ("bus", "poc") stay.
    if len(word) > 3 and word[-1] in "sx" and not word.endswith("ss"):
        return word[:-1]
    return word


def tag_key(text: str) -> str:
    """The matching key of a tag: folded, singular words, no separators."""
    return "".join(_singular(word) for word in _WORD.findall(fold(text.lstrip("#"))))


@dataclass(frozen=True)
class Tag:
    """A canonical tag."""

    key: str
    label: str
    aliases: tuple[str, ...]
    cpv: tuple[str, ...] = ()
    label_en: str | None = None

    def label_in(self, lang: str) -> str:
        """The label printed on a card in `lang`."""
        return (self.label_en or self.label) if lang == "en" else self.label


class Taxonomy:
    """Resolves what people write to canonical tags."""

    def __init__(self, tags: Iterable[Tag]) -> None:
        self.tags: dict[str, Tag] = {tag.key: tag for tag in tags}
        self._index: dict[str, str] = {}
        self.clashes: list[tuple[str, str, str]] = []
        """(name, tag it resolves to, other tag it also names): taxonomy errors."""
        for tag in self.tags.values():
            names = (tag.key, tag.label, *([tag.label_en] if tag.label_en else []), *tag.aliases)
            for name in names:
                first = self._index.setdefault(tag_key(name), tag.key)
                if first != tag.key:
                    self.clashes.append((name, first, tag.key))

    @classmethod
    def from_file(cls, data: TaxonomyFile) -> Taxonomy:
        """Build from the validated `tags.yaml`."""
        return cls(
            Tag(
                key,
                definition.label,
                tuple(definition.aliases),
                tuple(definition.cpv),
                definition.label_en,
            )
            for key, definition in data.tags.items()
        )

    def resolve(self, text: str) -> Tag | None:
        """The canonical tag `text` names, or None."""
        key = self._index.get(tag_key(text))
        return self.tags[key] if key else None

    def tags_for_cpv(self, codes: Iterable[str]) -> list[str]:
        """The keys of the tags whose CPV codes cover one of `codes`, in the file's order."""
        codes = list(codes)
        return [
            tag.key
            for tag in self.tags.values()
            if any(cpv_covers(broad, code) for broad in tag.cpv for code in codes)
        ]

    def nearest(self, text: str, n: int = 3) -> list[str]:
        """The canonical keys closest to an unknown tag, for 'did you mean'."""
        wanted = tag_key(text)
        close = difflib.get_close_matches(wanted, list(self._index), n=n * 2, cutoff=0.5)
        keys: list[str] = []
        for match in close:
            key = self._index[match]
            if key not in keys:
                keys.append(key)
        return keys[:n]
