"""Values as a French bid manager writes them: dates, months, periods, amounts, kinds, roles.

Pure functions from text to one canonical form, shared by every reader (missions, tender
files, command-line options), so that `15/01/2027`, `mars 2025 - novembre 2025`,
`18.000 € HT`, `20 k€`, `publique` or `mandataire` are read the same way everywhere. Each
raises ValueError with a message that lists the forms it accepts.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

MONTHS: dict[str, int] = {
    # French, full and abbreviated as found in portfolios, then English
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12, "january": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
    "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8,
    "aug": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip

DAY_FORMS = "2027-01-15, 15/01/2027 or 15 janvier 2027"
MONTH_FORMS = "a year (2019) or a month (2019-05, 05/2019, mars 2019)"
PERIOD_FORMS = (
    "'2019 - 2020', '2021/2022', '2022', 'mars 2025 - novembre 2025', "
    "'03/2025 - 11/2025', 'depuis 2024', or start: and end: keys"
)
AMOUNT_FORMS = "20000, '20 000 € HT', '18.000 € TTC' or '20 k€ HT'"
KIND_FORMS = "public (or publique) or private (or privé, privée)"
ROLE_FORMS = (
    "titulaire (sole), mandataire (lead), cotraitant (co-contractor) or "
    "sous-traitant (subcontractor)"
)


def fold(text: str) -> str:
    """Lower case without accents: how two spellings of one French word are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# --------------------------------------------------------------------------- days

_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NUMERIC_DAY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_WORDED_DAY = re.compile(r"^(?:[a-z]+\s+)?(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})$")


def parse_day(value: object) -> dt.date:
    """A day from `2027-01-15`, `15/01/2027`, `15.01.2027`, `15 janvier 2027`,
    `1er mars 2027` or `lundi 15 janvier 2027` (day first, the French order)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"should be a date ({DAY_FORMS}), not {type(value).__name__}")
    text = " ".join(fold(value).split())
    parts: tuple[int, int, int] | None = None
    if match := _ISO_DAY.match(text):
        parts = (int(match[1]), int(match[2]), int(match[3]))
    elif match := _NUMERIC_DAY.match(text):
        parts = (int(match[3]), int(match[2]), int(match[1]))
    elif (match := _WORDED_DAY.match(text)) and match[2] in MONTHS:
        parts = (int(match[3]), MONTHS[match[2]], int(match[1]))
    if parts is None:
        raise ValueError(f"'{value[:40]}' is not a date; write {DAY_FORMS}")
    year, month, day = parts
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(
            f"'{value[:40]}' is not a day of the calendar (day {day}, month {month}, "
            f"year {year}); write {DAY_FORMS}"
        ) from None


# --------------------------------------------------------------------------- months

_YEAR = re.compile(r"^(\d{4})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_NUMERIC_MONTH = re.compile(r"^(\d{1,2})/(\d{4})$")
_WORDED_MONTH = re.compile(r"^([a-z]+)\.?\s+(\d{4})$")


def parse_month(value: object) -> tuple[int, int | None]:
    """A year, or a month of a year: `2019`, `2019-05`, `05/2019`, `mars 2019`, `janv. 2019`.

    Returns (year, month or None); checks the year is plausible and the month exists.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"should be {MONTH_FORMS}, not {type(value).__name__}")
    text = " ".join(fold(str(value)).split())
    month: int | None = None
    if match := _YEAR.match(text):
        year = int(match[1])
    elif match := _ISO_MONTH.match(text):
        year, month = int(match[1]), int(match[2])
    elif match := _NUMERIC_MONTH.match(text):
        year, month = int(match[2]), int(match[1])
    elif (match := _WORDED_MONTH.match(text)) and match[1] in MONTHS:
        year, month = int(match[2]), MONTHS[match[1]]
    else:
        raise ValueError(f"'{str(value)[:40]}' is not {MONTH_FORMS}")
    if not 1900 <= year <= 2200:
        raise ValueError(f"{year} is not a plausible year")
    if month is not None and not 1 <= month <= 12:
        raise ValueError(f"month {month} does not exist; write {MONTH_FORMS}")
    return year, month


# --------------------------------------------------------------------------- periods

_SINCE = re.compile(r"^(?:depuis|since|a partir de|a compter de|des)\s+(.+)$")
_FROM_TO = re.compile(r"^(?:de|du|from)\s+(.+?)\s+(?:a|au|jusqu'a|to|until)\s+(.+)$")
# A dash with spaces around it, an en or em dash, or a word: these never occur inside a
# bound (`2019-05`, `05/2019` and `mars 2019` hold no spaced dash).
_BETWEEN = re.compile(r"\s+[-–—]\s+|\s*[–—]\s*|\s+(?:a|au|to)\s+")
# Two bare years joined by a slash or a dash: `2021/2022`, `2019-2020`.
_YEAR_PAIR = re.compile(r"^(\d{4})\s*[/-]\s*(\d{4})$")


def split_period(value: str) -> tuple[str, str | None]:
    """The two bounds of a period written as text, as text; the end is None for an ongoing
    mission (`depuis 2024`). A single bound (`2022`, `mars 2025`) is both start and end.

    Raises ValueError (naming the accepted forms) when a bound is not a year or a month.
    """
    text = " ".join(fold(value).split())
    if match := _SINCE.match(text):
        parse_month(match[1])
        return match[1], None
    if (match := _FROM_TO.match(text)) or (match := _YEAR_PAIR.match(text)):
        bounds = [match[1], match[2]]
    else:
        bounds = _BETWEEN.split(text, maxsplit=1)
    if len(bounds) == 1:
        bounds = [bounds[0], bounds[0]]
    for bound in bounds:
        try:
            parse_month(bound)
        except ValueError:
            raise ValueError(f"'{value[:40]}' is not a period; write {PERIOD_FORMS}") from None
    return bounds[0], bounds[1]


# --------------------------------------------------------------------------- amounts

_BASIS = {
    "ht": "HT", "h.t.": "HT", "h.t": "HT", "hors taxes": "HT", "hors taxe": "HT",
    "ttc": "TTC", "t.t.c.": "TTC", "t.t.c": "TTC", "toutes taxes comprises": "TTC",
}  # fmt: skip
_AMOUNT = re.compile(
    r"^(?P<number>\d{1,3}(?:[ .]\d{3})+|\d+)(?:,(?P<fraction>\d+))?\s*"
    r"(?P<scale>k|m)?\s*(?:€|euros?|eur)?\s*(?P<basis>[a-z. ]+)?$"
)
_SCALES = {"k": 1_000, "m": 1_000_000}


def parse_amount(value: str) -> tuple[int, str | None]:
    """Whole euros and the basis (HT, TTC, or None when the text does not say) from
    `20000`, `20 000 € HT`, `18.000 €`, `20 000,00 € TTC`, `20 k€ HT`, `1,5 k€`, `1,2 M€`.

    Refused, with the reason: cents, `18,000` (a thousands comma or a decimal one?),
    `1.5 k€` (a decimal point where French writes a comma).
    """
    text = " ".join(value.replace("\u00a0", " ").replace("\u202f", " ").split()).casefold()
    match = _AMOUNT.match(text)
    basis_text = (match["basis"] or "").strip() if match else ""
    if not match or (basis_text and basis_text not in _BASIS):
        if re.match(r"^\d+\.\d{1,2}\s*[km]", text):
            raise ValueError(
                f"'{value[:40]}' uses a decimal point; write '1,5 k€' or '1 500 €' "
                f"(accepted: {AMOUNT_FORMS})"
            )
        raise ValueError(f"'{value[:40]}' is not an amount; write {AMOUNT_FORMS}")
    basis = _BASIS[basis_text] if basis_text else None
    number, fraction, scale = match["number"], match["fraction"], match["scale"]
    if scale:
        if not re.fullmatch(r"\d+", number):
            raise ValueError(
                f"'{value[:40]}' is ambiguous: a thousands separator before k€ or M€; "
                f"write {AMOUNT_FORMS}"
            )
        try:
            euros = Decimal(f"{number}.{fraction or 0}") * _SCALES[scale]
        except InvalidOperation:  # pragma: no cover - the pattern gives digits only
            raise ValueError(f"'{value[:40]}' is not an amount; write {AMOUNT_FORMS}") from None
        if euros != euros.to_integral_value():
            raise ValueError(f"'{value[:40]}' is not a whole number of euros")
        return int(euros), basis
    if fraction is not None:
        if len(fraction) == 3 and "." not in number and " " not in number:
            raise ValueError(
                f"'{value[:40]}' is ambiguous: {number},{fraction} may be thousands or "
                f"decimals; write {number} {fraction} € for thousands"
            )
        if len(fraction) != 2:
            raise ValueError(f"'{value[:40]}' is not an amount; write {AMOUNT_FORMS}")
        if fraction != "00":
            raise ValueError(f"'{value[:40]}' has cents; amounts are whole euros")
    return int(re.sub(r"\D", "", number)), basis


# --------------------------------------------------------------------------- kinds, roles

_KINDS = {
    "public": "public", "publique": "public", "acheteur public": "public",
    "personne publique": "public", "secteur public": "public",
    "private": "private", "prive": "private", "privee": "private",
    "acheteur prive": "private", "secteur prive": "private",
}  # fmt: skip


def parse_client_kind(value: object) -> str:
    """`public` or `private`, from the English or French word (`publique`, `privé`…)."""
    if isinstance(value, str):
        kind = _KINDS.get(" ".join(fold(value).split()))
        if kind:
            return kind
    shown = value[:40] if isinstance(value, str) else value
    raise ValueError(f"'{shown}' is not a client kind; write {KIND_FORMS}")


_ROLES = {
    "titulaire": "sole", "titulaire seul": "sole", "titulaire unique": "sole",
    "seul": "sole", "sole": "sole", "sole contractor": "sole", "contractor": "sole",
    "mandataire": "lead", "mandataire du groupement": "lead", "lead": "lead",
    "cotraitant": "co-contractor", "cotraitante": "co-contractor",
    "membre du groupement": "co-contractor", "co-contractor": "co-contractor",
    "cocontractor": "co-contractor",
    "sous-traitant": "subcontractor", "soustraitant": "subcontractor",
    "sous-traitante": "subcontractor", "subcontractor": "subcontractor",
    "sub-contractor": "subcontractor",
}  # fmt: skip


def parse_role(value: object) -> str:
    """A role in a public contract, canonical English (`sole`, `lead`, `co-contractor`,
    `subcontractor`) from the French word (`titulaire`, `mandataire`, `co-traitant`,
    `sous-traitant`) or the English one."""
    if isinstance(value, str):
        key = " ".join(fold(value).replace("_", "-").split())
        role = (
            _ROLES.get(key)
            or _ROLES.get(key.replace("co-", "co"))
            or _ROLES.get(key.replace(" ", "-"))
        )
        if role:
            return role
    shown = value[:40] if isinstance(value, str) else value
    raise ValueError(f"'{shown}' is not a role; write {ROLE_FORMS}")


# --------------------------------------------------------------------------- durations

_DURATION = re.compile(r"^(\d+)\s*(mois|months?|ans?|annees?|years?)?$")


def parse_months(value: object) -> int:
    """A duration in months: `12`, `12 mois`, `6 months`, `1 an`, `2 ans`, `1 year`."""
    if isinstance(value, int) and not isinstance(value, bool):
        months = value
    elif isinstance(value, str) and (match := _DURATION.match(" ".join(fold(value).split()))):
        unit = match[2] or "mois"
        months = int(match[1]) * (1 if unit.startswith("mo") else 12)
    else:
        shown = value[:40] if isinstance(value, str) else value
        raise ValueError(f"'{shown}' is not a duration; write 12 mois, 6 months or 1 an")
    if months < 1:
        raise ValueError("should be at least 1 month")
    return months
