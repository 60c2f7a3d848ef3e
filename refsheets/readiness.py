"""Is a tender ready to answer? The verdict before anything is written.

`assess(tender, library, today=...)` looks at each lot (or the whole tender) as `export`
would choose it (`refsheets.choice`), and adds what a bid manager checks before the
deadline: the days left, how many references qualify against how many the RC asks,
references that drop out of the years window before the deadline, required facts and
attestations missing, references carried by a sister brand. Ready means `export` would
go through: no hand-picked reference breaking a rule, no shortfall.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from refsheets.choice import FACT_NAMES, Choice, choose, missing_facts
from refsheets.library import Library
from refsheets.model import Mission
from refsheets.select import PickQuery, filter_reasons
from refsheets.tender import Scope, Tender
from refsheets.text import group_thousands


@dataclass(frozen=True)
class Leaving:
    """A mission inside the years window today that is out of it at the deadline."""

    id: str
    month: str
    """The month it leaves the window (YYYY-MM)."""


@dataclass(frozen=True)
class Gap:
    """A fact a reference (or a close candidate) lacks."""

    id: str
    facts: tuple[str, ...]
    chosen: bool
    """True for a reference of the annex; False for a candidate that would qualify with it."""


@dataclass(frozen=True)
class LotReadiness:
    """One annex's readiness: its choice and what to act on."""

    scope: Scope
    choice: Choice
    leaving: tuple[Leaving, ...]
    gaps: tuple[Gap, ...]
    sister: tuple[tuple[str, str], ...]
    """(mission id, the entity that carried it) for references of another of our brands."""

    @property
    def ready(self) -> bool:
        """Whether `export` would go through for this annex."""
        return not self.choice.errors

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view."""
        choice = self.choice
        rules = self.scope.rules
        return {
            "lot": self.scope.number,
            "title": self.scope.title if self.scope.lot else None,
            "ready": self.ready,
            "deadline": self.scope.deadline.isoformat(),
            "rules": rules.model_dump(mode="json"),
            "qualifying": choice.qualifying,
            "chosen": choice.ids,
            "min_references": rules.min_references,
            "max_references": rules.max_references,
            "included": [
                {"id": item.id, "waived": list(item.waived), "reason": item.inclusion.reason}
                for item in choice.chosen
                if item.inclusion is not None
            ],
            "excluded_by_hand": [
                {"id": item.id, "reason": item.reason} for item in self.scope.exclude
            ],
            "leaving_window": [{"id": x.id, "month": x.month} for x in self.leaving],
            "missing": [
                {"id": gap.id, "facts": list(gap.facts), "chosen": gap.chosen} for gap in self.gaps
            ],
            "sister_brand": [{"id": i, "entity": e} for i, e in self.sister],
            "problems": list(choice.errors),
            "warnings": list(choice.warnings),
        }


@dataclass(frozen=True)
class Readiness:
    """A tender's readiness: the deadline, and each lot's."""

    tender: Tender
    today: dt.date
    lots: tuple[LotReadiness, ...]

    @property
    def days_left(self) -> int:
        """Days from today to the deadline; negative once it is past."""
        return (self.tender.deadline - self.today).days

    @property
    def past(self) -> bool:
        """Whether the deadline is past."""
        return self.days_left < 0

    @property
    def ready(self) -> bool:
        """Whether every annex would export (a past deadline is warned, not judged)."""
        return all(lot.ready for lot in self.lots)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "tender": self.tender.name,
            "buyer": self.tender.buyer,
            "deadline": self.tender.deadline.isoformat(),
            "today": self.today.isoformat(),
            "days_left": self.days_left,
            "past_deadline": self.past,
            "ready": self.ready,
            "lots": [lot.to_json() for lot in self.lots],
        }


def assess(
    tender: Tender, library: Library, *, today: dt.date, lot: str | None = None
) -> Readiness:
    """The readiness of `tender` (or of its lot `lot`) on `today`."""
    scopes = [tender.scope(lot)] if lot is not None else tender.scopes()
    return Readiness(tender, today, tuple(_assess_lot(scope, library, today) for scope in scopes))


def _assess_lot(scope: Scope, library: Library, today: dt.date) -> LotReadiness:
    choice = choose(library, scope, today=today)
    rules = scope.rules
    leaving = []
    if rules.years is not None and today < scope.deadline:
        for item in choice.ranking.selected:
            month = _leaves_window(item.mission, rules.years, today, scope.deadline)
            if month is not None:
                leaving.append(Leaving(item.id, month))
    gaps = []
    facts: list[str] = list(dict.fromkeys([*rules.required_facts, "attestation"]))
    for chosen in choice.chosen:
        lacking = missing_facts(
            chosen.mission,
            facts,
            library.root,
            attest=chosen.id in scope.tender.anonymous_attestations,
        )
        if lacking:
            gaps.append(Gap(chosen.id, lacking, chosen=True))
    # Facts the rules need to be checked at all: without them a mission cannot qualify.
    needed = [
        fact
        for fact, rule in (("dates", rules.years), ("amount", rules.min_amount))
        if rule is not None
    ] + (["client_kind"] if rules.client_kind else [])
    for miss in choice.missed:
        # A candidate that fails only for want of facts would qualify once they are written.
        hows = [reason.partition(": ")[2] for reason in miss.reasons]
        if miss.kind == "rules" and all(how.startswith(("no ", "lacks ")) for how in hows):
            wanted = list(dict.fromkeys([*rules.required_facts, *needed]))
            lacking = missing_facts(
                miss.mission,
                wanted,
                library.root,
                attest=miss.id in scope.tender.anonymous_attestations,
            )
            if lacking:
                gaps.append(Gap(miss.id, lacking, chosen=False))
    sister = tuple(
        (item.id, item.mission.entity)
        for item in choice.chosen
        if item.mission.entity and item.mission.entity != scope.tender.entity
    )
    return LotReadiness(scope, choice, tuple(leaving), tuple(gaps), sister)


def _leaves_window(mission: Mission, years: int, today: dt.date, deadline: dt.date) -> str | None:
    """The month a mission inside the window today leaves it, when that is before the
    deadline (None otherwise)."""
    inside_today = not filter_reasons(mission, PickQuery(within=years), today)
    inside_at_deadline = not filter_reasons(mission, PickQuery(within=years), deadline)
    if not inside_today or inside_at_deadline:
        return None
    period = mission.period
    end = (period.end or period.start) if period else None
    if end is None:  # pragma: no cover - a mission inside the window has an end
        return None
    # The window keeps missions ended in or after (reference year - years, reference month);
    # one ended in month m of year y leaves it the month after (y + years, m).
    month = end.month or 12
    year, month = (end.year + years, month + 1) if month < 12 else (end.year + years + 1, 1)
    return f"{year}-{month:02d}"


def describe_rules(scope: Scope) -> str:
    """The scope's rules in a line: 'ended ≤ 5 years before the deadline; ≥ 10 000 €; …'."""
    rules = scope.rules
    parts = []
    if rules.years is not None:
        parts.append(f"ended at most {rules.years} year(s) before the deadline")
    if rules.min_amount is not None:
        parts.append(f"at least {group_thousands(rules.min_amount)} €")
    if rules.client_kind is not None:
        parts.append(f"{rules.client_kind} clients")
    if rules.required_facts:
        parts.append("showing " + ", ".join(FACT_NAMES[f] for f in rules.required_facts))
    if rules.own_references_only:
        parts.append(f"carried by {scope.tender.entity}")
    return "; ".join(parts) or "no rule on references"
