"""Facts formatted the French way: amounts, periods. Shared by the CLI, cards and tables."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from refsheets.model import YearMonth

if TYPE_CHECKING:
    from refsheets.summary import BudgetFacts, PeriodFacts

NNBSP = "\u202f"  # narrow no-break space: thousands, and before ; ! ? in French
NBSP = "\u00a0"  # no-break space: before € and HT, before :

_MONTHS = {
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def group_thousands(number: int) -> str:
    """213000 -> '213 000' with narrow no-break spaces, as French typography wants."""
    return f"{number:,}".replace(",", NNBSP)


_BASIS_EN = {"HT": "excl.\u00a0VAT", "TTC": "incl.\u00a0VAT"}


def format_amount(budget: BudgetFacts, lang: str = "fr") -> str:
    """'213 000 € HT': grouped digits, no-break spaces before the unit and the basis;
    in English '€213,000 excl. VAT'."""
    if lang == "en":
        basis = _BASIS_EN.get(budget.basis, budget.basis)
        return f"€{budget.amount:,}{NBSP}{basis}"
    return f"{group_thousands(budget.amount)}{NBSP}€{NBSP}{budget.basis}"


def format_year_month(value: YearMonth, lang: str = "fr") -> str:
    """'2019', or 'mai 2019'."""
    if value.month is None:
        return str(value.year)
    return f"{_MONTHS[lang][value.month - 1]}{NBSP}{value.year}"


def format_period(period: PeriodFacts | None, lang: str = "fr") -> str | None:
    """'2019', '2019–2020', 'mai 2019 – mars 2020'; None when the dates are unknown."""
    if period is None or (period.start is None and period.end is None):
        return None
    start, end = period.start, period.end
    if start is None or end is None:
        known = format_year_month(start or end, lang)  # type: ignore[arg-type]
        if lang == "fr":
            return f"depuis {known}" if start else f"jusqu’en {known}"
        return f"from {known}" if start else f"until {known}"
    if start == end:
        return format_year_month(start, lang)
    if start.month is None and end.month is None:
        return f"{start.year}–{end.year}"
    return f"{format_year_month(start, lang)} – {format_year_month(end, lang)}"


def format_date(value: date, lang: str = "fr") -> str:
    """'17 avril 2026' (or '17 April 2026'), with no-break spaces."""
    return f"{value.day}{NBSP}{_MONTHS[lang][value.month - 1]}{NBSP}{value.year}"
