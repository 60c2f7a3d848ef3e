"""The Common Procurement Vocabulary (CPV 2008): codes, French and English labels, hierarchy.

The list is vendored in `refsheets/data/cpv2008_fr_en.csv` (CC BY 4.0, Publications Office
of the European Union, eForms SDK: see `refsheets/data/CPV-NOTICE.md`). Codes are kept as
8 digits without the check digit: French texts write `79411000-8`, the `-8` is dropped.

A code covers its descendants: the zeros that end a code mark the levels it leaves open,
so 79400000 (business and management consultancy) covers 79411000 (general management
consultancy).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from refsheets.search import fold_text

_CODE = re.compile(r"\s*(\d{8})(?:\s*-\s*(\d))?\s*")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class CpvEntry:
    """One CPV code with its labels."""

    code: str
    label_fr: str
    label_en: str

    def label(self, lang: str = "fr") -> str:
        """The label in `lang` ('fr' or 'en')."""
        return self.label_en if lang == "en" else self.label_fr


@cache
def _cpv_text() -> str:
    return resources.files("refsheets").joinpath("data/cpv2008_fr_en.csv").read_text("utf-8")


@cache
def cpv_codes() -> dict[str, CpvEntry]:
    """Every CPV 2008 code, by its 8 digits, in the list's order."""
    rows = csv.DictReader(_cpv_text().splitlines())
    return {row["code"]: CpvEntry(row["code"], row["label_fr"], row["label_en"]) for row in rows}


@cache
def _known_codes() -> frozenset[str]:
    # The codes alone, for checking the taxonomy's: every command reading tags.yaml checks
    # them, and one regular expression over the list is a tenth of parsing it as CSV.
    return frozenset(re.findall(r"^(\d{8}),", _cpv_text(), re.MULTILINE))


def parse_cpv(value: object) -> str:
    """The 8 digits of a CPV code written `79411000` or `79411000-8`.

    Raises ValueError for anything else, and for a well-formed code that is not in the
    CPV 2008 list (a typo would otherwise match nothing, silently).
    """
    text = str(value) if isinstance(value, int | str) else ""
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:08d}"  # YAML reads 03000000 as a number
    match = _CODE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"'{value}' is not a CPV code; write its 8 digits, e.g. 79411000 "
            "(`refsheets cpv TEXT` finds codes by label)"
        )
    code = match.group(1)
    if code not in _known_codes():
        near = [entry.code for entry in search_cpv(code[:5], limit=3)]
        hint = f"; codes starting alike: {', '.join(near)}" if near else ""
        raise ValueError(f"'{code}' is not in the CPV 2008 list{hint}")
    return code


def cpv_stem(code: str) -> str:
    """The digits that matter: the code without the zeros that end it (at least 2 digits)."""
    stem = code.rstrip("0")
    return stem if len(stem) >= 2 else code[:2]


def cpv_covers(broad: str, narrow: str) -> bool:
    """True when `narrow` is `broad` or one of its descendants (79400000 covers 79411000)."""
    return narrow.startswith(cpv_stem(broad))


def cpv_label(code: str, lang: str = "fr") -> str | None:
    """The label of a code in `lang`, or None for a code not in the list."""
    entry = cpv_codes().get(code)
    return entry.label(lang) if entry else None


def search_cpv(text: str, *, limit: int = 20) -> list[CpvEntry]:
    """The codes whose code starts with `text`, or whose French or English label holds
    every word of `text` (case, accents and plurals ignored), broadest codes first."""
    wanted = text.strip()
    match = _CODE.fullmatch(wanted)
    digits = match.group(1) if match else wanted.replace(" ", "")
    if digits.isdigit():
        found = [entry for code, entry in cpv_codes().items() if code.startswith(digits)]
        return found[:limit]
    words = [_singular(word) for word in _WORD.findall(fold_text(wanted))]
    if not words:
        return []
    found = []
    for entry in cpv_codes().values():
        label_words = {
            _singular(word)
            for word in _WORD.findall(fold_text(entry.label_fr + " " + entry.label_en))
        }
        if all(any(label.startswith(word) for label in label_words) for word in words):
            found.append(entry)
    # Broad codes first (fewer significant digits), then the list's order.
    found.sort(key=lambda entry: len(cpv_stem(entry.code)))
    return found[:limit]


def _singular(word: str) -> str:
    # "services" finds "service": label words are matched by prefix, so one form suffices.
    return word[:-1] if len(word) > 3 and word[-1] in "sx" else word
