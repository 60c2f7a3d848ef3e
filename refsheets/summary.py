"""What `list` and `pick` show and weigh of a mission, without the whole mission.

A table of 10,000 missions, or a pick among them, needs a few facts of each: its title,
its client (and whether it is anonymous), its period, amount, entity and tags. Building
and validating every whole `Mission` for that cost most of the time of those commands.
The library's index keeps these facts as a `MissionSummary` (`summary_text` writes one,
`summary_from` reads it back, refusing anything but the shape written); `select` and the
tables read missions through the `MissionFacts` protocol, which `Mission` and
`MissionSummary` both meet, so that both give the same answers by the same code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from refsheets.model import Mission, YearMonth


class PeriodFacts(Protocol):
    """When a mission ran (`model.Period`)."""

    @property
    def start(self) -> YearMonth | None: ...

    @property
    def end(self) -> YearMonth | None: ...


class BudgetFacts(Protocol):
    """A mission's amount (`model.Budget`)."""

    @property
    def amount(self) -> int: ...

    @property
    def basis(self) -> str: ...


class ClientFacts(Protocol):
    """Who bought a mission (`model.Client`), as tables show it."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str | None: ...

    @property
    def anonymous_label(self) -> str | None: ...


class MissionFacts(Protocol):
    """What `list`, `pick` and their tables read of a mission."""

    @property
    def title(self) -> str: ...

    @property
    def client(self) -> ClientFacts: ...

    @property
    def period(self) -> PeriodFacts | None: ...

    @property
    def budget(self) -> BudgetFacts | None: ...

    @property
    def entity(self) -> str | None: ...

    @property
    def tags(self) -> Sequence[str]: ...

    @property
    def attestation(self) -> str | None: ...

    @property
    def disclosure(self) -> str: ...


class SummaryPeriod(NamedTuple):
    """A summary's period."""

    start: YearMonth | None
    end: YearMonth | None


class SummaryBudget(NamedTuple):
    """A summary's amount."""

    amount: int
    basis: str


class SummaryClient(NamedTuple):
    """A summary's client."""

    name: str
    kind: str | None
    anonymous_label: str | None


class MissionSummary(NamedTuple):
    """The facts of a mission that `list` and `pick` need (`MissionFacts`)."""

    title: str
    client: SummaryClient
    period: SummaryPeriod | None
    budget: SummaryBudget | None
    entity: str | None
    tags: tuple[str, ...]
    attestation: str | None
    disclosure: str


def _year_month(value: YearMonth | None) -> list[int | None] | None:
    return None if value is None else [value.year, value.month]


def summary_text(mission: Mission) -> str:
    """A mission's summary as the index keeps it (a JSON array)."""
    period = mission.period
    budget = mission.budget
    client = mission.client
    return json.dumps(
        [
            mission.title,
            client.name,
            client.kind,
            client.anonymous_label,
            mission.disclosure,
            None if period is None else [_year_month(period.start), _year_month(period.end)],
            None if budget is None else [budget.amount, budget.basis],
            mission.entity,
            mission.tags,
            mission.attestation,
        ],
        ensure_ascii=False,
    )


# What the model refuses in any text (`model._check_xml_text`): never in a summary either.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\u202a-\u202e\u2066-\u2069]")
_KINDS = (None, "public", "private")
_BASES = ("HT", "TTC")
_DISCLOSURES = ("named", "anonymous")


def _read_year_month(value: Any) -> YearMonth | None:
    if value is None:
        return None
    if not (type(value) is list and len(value) == 2):
        raise ValueError("a date of the wrong shape")
    year, month = value
    if type(year) is not int or not (month is None or (type(month) is int and 1 <= month <= 12)):
        raise ValueError("a date of the wrong types")
    # A library repeats its few hundred months: each YearMonth (immutable) is made once.
    found = _YEAR_MONTHS.get((year, month))
    if found is None:
        found = _YEAR_MONTHS[(year, month)] = YearMonth(year, month)
    return found


_YEAR_MONTHS: dict[tuple[int, int | None], YearMonth] = {}
# One decoder's `raw_decode`: `json.loads` adds two Python calls and two whitespace
# matches per text (a tenth of the time of reading 50,000 summaries).
_DECODE = json.JSONDecoder().raw_decode
# A NamedTuple's own __new__ is a Python function: tuple.__new__ makes the same object in
# C (the fields in their order; 200,000 of them for 50,000 summaries).
_new = tuple.__new__


def summary_from(text: str) -> MissionSummary:
    """A summary as `summary_text` writes it; ValueError for anything else (a damaged or
    forged row never reaches a table or a pick)."""
    found, end = _DECODE(text)  # a JSONDecodeError is a ValueError
    if end != len(text) or not (type(found) is list and len(found) == 10):
        raise ValueError("a summary of the wrong shape")
    title, name, kind, label, disclosure, period, budget, entity, tags, attestation = found
    if not (
        type(title) is str
        and title
        and type(name) is str
        and name
        and kind in _KINDS
        and (label is None or type(label) is str)
        and disclosure in _DISCLOSURES
        and (disclosure == "named" or label)
        and (entity is None or type(entity) is str)
        and type(tags) is list
        and "" not in tags
        and (attestation is None or type(attestation) is str)
    ):
        raise ValueError("a summary of the wrong types")
    # One join (a TypeError for a tag that is not text) and one search for the whole row.
    strings = [title, name, label or "", entity or "", attestation or "", *tags]
    if _REFUSED.search("\n".join(strings)):
        raise ValueError("a summary holding control characters")
    when = None
    if period is not None:
        if not (type(period) is list and len(period) == 2):
            raise ValueError("a period of the wrong shape")
        when = _new(SummaryPeriod, (_read_year_month(period[0]), _read_year_month(period[1])))
    amount = None
    if budget is not None:
        if not (
            type(budget) is list
            and len(budget) == 2
            and type(budget[0]) is int
            and budget[0] >= 0
            and budget[1] in _BASES
        ):
            raise ValueError("an amount of the wrong shape")
        amount = _new(SummaryBudget, budget)
    client = _new(SummaryClient, (name, kind, label))
    return _new(
        MissionSummary, (title, client, when, amount, entity, tuple(tags), attestation, disclosure)
    )
