"""French public bodies recognised in a client's name: the buyer is then a public one
(what the DC2/DUME ask), with the words that say so as the evidence for the report."""

from __future__ import annotations

import re

from refsheets.french import fold

# Abbreviations, as whole words, anywhere in the name (written in capitals in portfolios).
_ABBREVIATIONS = {
    "CC": "communauté de communes",
    "CA": "communauté d'agglomération",
    "CU": "communauté urbaine",
    "CCAS": "centre communal d'action sociale",
    "CIAS": "centre intercommunal d'action sociale",
    "EPCI": "établissement public de coopération intercommunale",
    "EPT": "établissement public territorial",
    "EPSM": "établissement public de santé mentale",
    "EPA": "établissement public administratif",
    "EPIC": "établissement public industriel et commercial",
    "CHU": "centre hospitalier universitaire",
    "CHR": "centre hospitalier régional",
    "CH": "centre hospitalier",
    "OPH": "office public de l'habitat",
    "SEM": "société d'économie mixte",
    "SPL": "société publique locale",
    "SDIS": "service départemental d'incendie et de secours",
    "PETR": "pôle d'équilibre territorial et rural",
}
# Words that name a public body, at the start of the name or anywhere in it (folded).
_WORDS = (
    "commune", "ville", "mairie", "metropole", "departement", "region",
    "conseil departemental", "conseil regional", "communaute de communes",
    "communaute d'agglomeration", "communaute urbaine", "syndicat mixte",
    "syndicat intercommunal", "etablissement public", "office public", "centre hospitalier",
    "prefecture", "ministere", "universite", "agence regionale de sante", "parc naturel",
)  # fmt: skip


def public_body(name: str) -> str | None:
    """Why `name` is a French public body ("'CC': communauté de communes"), or None."""
    for word in re.findall(r"[A-Za-zÀ-ÿ]+", name):
        if word.isupper() and word in _ABBREVIATIONS:
            return f"'{word}' ({_ABBREVIATIONS[word]})"
    folded = " ".join(fold(name).replace("’", "'").split())
    for word in _WORDS:
        if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", folded):
            return f"'{word}'"
    return None


# The body words an id leaves out at the start of a name: "Ville de Valenciennes" is
# `valenciennes` in the library's ids.
_GENERIC_START = re.compile(r"(?:ville|commune|mairie)\s+(?:de\s+la\s+|de\s+l'|d'|de\s+|du\s+)?")


def abbreviated(name: str) -> str:
    """`name` folded, as it is said in short: the long forms of the bodies abbreviated
    ("Communauté de communes de la Haute Somme" is "cc de la haute somme") and a leading
    Ville/Commune/Mairie dropped."""
    folded = " ".join(fold(name).replace("’", "'").split())
    for short, long in _ABBREVIATIONS.items():
        folded = re.sub(rf"(?<![a-z]){re.escape(fold(long))}(?![a-z])", short.lower(), folded)
    rest = _GENERIC_START.sub("", folded, count=1) if _GENERIC_START.match(folded) else folded
    return rest or folded
