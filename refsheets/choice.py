"""The references one annex answers with: the ranking, the rules, the bid manager's hand.

`choose(library, scope, today=...)` is what `pick --tender`, `export` and `tender check`
all show, so they never disagree:

1. **Hand choice first.** The scope's `include` references come first, in the file's
   order. Each is checked against every rule; a rule it breaks is an error naming the
   rule, unless the file waives that rule for it with a reason (recorded).
2. **Then the ranking.** The missions about the subject (themes, object), ranked by
   `select.pick`, that pass every rule (the years window counted back from the deadline,
   the minimum amount, the client kind, the own-references rule, the required facts) fill
   the places left up to `max_references`. Missions excluded by hand never enter.
3. **Everything else, by name.** Every mission not chosen is listed with its reasons:
   the rules it breaks, "excluded by hand: …", "ranked below the limit", or "not about
   the asked tags or words" with its text score, closest first.
4. **How many.** Fewer chosen than `min_references` is an error naming the shortfall and
   the closest missions that fail, each with what it lacks; fewer than `max_references`
   a warning.

"today" is an argument: only the days to the deadline and the window's drift use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from refsheets.errors import shorten
from refsheets.library import Library, client_name
from refsheets.model import Mission
from refsheets.select import (
    PickQuery,
    PickResult,
    Selected,
    filter_reasons,
    pick,
)
from refsheets.tender import RULE_NAMES, Inclusion, RuleName, Scope

CLOSEST = 5
"""How many of the closest missions not chosen a terminal shows, and a shortfall names."""

FACT_NAMES = {
    "amount": "amount",
    "dates": "dates (start and end)",
    "client_kind": "client kind",
    "attestation": "attestation",
}

MissKind = Literal["rules", "hand", "limit", "subject"]
"""Why a mission is not chosen: it breaks a rule, the bid manager excluded it, it ranks
below the limit, or it is not about the asked tags or words."""


@dataclass(frozen=True)
class Chosen:
    """A reference of the annex: its place, its mission, how it got there."""

    rank: int
    id: str
    mission: Mission
    selected: Selected | None
    """Its ranking (None for a hand-picked mission not about the subject)."""
    inclusion: Inclusion | None = None
    """The hand choice that put it there, None when ranked in."""
    waived: Mapping[RuleName, str] = field(default_factory=dict)
    """Rules it breaks by the file's explicit leave: rule -> how it breaks it."""
    missing: tuple[str, ...] = ()
    """Required facts it lacks (only with a waiver of required_facts or allow_incomplete)."""

    @property
    def score(self) -> float | None:
        """Its score in the ranking, if it was ranked."""
        return self.selected.score if self.selected else None

    @property
    def by_hand(self) -> bool:
        """Whether the bid manager included it."""
        return self.inclusion is not None

    @property
    def why(self) -> str:
        """'included by hand: …' or the ranking's why."""
        if self.inclusion is not None:
            reason = f": {shorten(self.inclusion.reason, 90)}" if self.inclusion.reason else ""
            waived = f" (waives {', '.join(self.waived)})" if self.waived else ""
            return f"included by hand{waived}{reason}"
        return self.selected.why if self.selected else ""


@dataclass(frozen=True)
class Miss:
    """A mission not chosen, with every reason and how close it came."""

    id: str
    mission: Mission
    kind: MissKind
    reasons: tuple[str, ...]
    score: float
    """Its score in the ranking; for a mission not about the subject, its text score."""
    rules: tuple[RuleName, ...] = ()
    """The rules it breaks (kind 'rules')."""


@dataclass(frozen=True)
class Choice:
    """One annex's references and everything a bid manager needs to act on them."""

    scope: Scope
    ranking: PickResult
    chosen: tuple[Chosen, ...]
    missed: tuple[Miss, ...]
    """Every mission not chosen, closest first: rules, limit, hand, then subject."""
    errors: tuple[str, ...]
    """What stops the export: a hand-picked reference breaking a rule, a shortfall."""
    warnings: tuple[str, ...]
    qualifying: int
    """How many missions meet every rule (hand-picked ones with their waivers included)."""

    @property
    def ids(self) -> list[str]:
        """The chosen ids, in the annex's order."""
        return [item.id for item in self.chosen]

    @property
    def closest(self) -> tuple[Miss, ...]:
        """The few missions not chosen that a bid manager could act on first."""
        return self.missed[:CLOSEST]

    def to_json(self, *, private: bool = False) -> dict[str, Any]:
        """Everything, as `pick --json` and the manifest give it (an anonymous mission's
        client is its label unless `private`)."""
        ranking = self.ranking.to_json(private=private)
        scored = {item["id"]: item for item in ranking["selected"]}
        rules = self.scope.rules
        return {
            "lot": self.scope.number,
            "title": self.scope.title if self.scope.lot else None,
            "reference_date": ranking["reference_date"],
            "query": {**ranking["query"], "limit": rules.max_references},
            "rules": rules.model_dump(mode="json"),
            "weights": ranking["weights"],
            "counts": {
                "chosen": len(self.chosen),
                "qualifying": self.qualifying,
                "min_references": rules.min_references,
                "max_references": rules.max_references,
            },
            "selected": [
                {
                    "rank": item.rank,
                    "id": item.id,
                    "title": item.mission.title,
                    "client": client_name(item.mission, private=private),
                    **{
                        key: scored.get(item.id, {}).get(key)
                        for key in ("period", "amount", "basis", "client_kind", "entity")
                    },
                    "score": item.score,
                    "parts": scored.get(item.id, {}).get("parts"),
                    "why": scored.get(item.id, {}).get("why"),
                    "by_hand": item.by_hand,
                    "reason": item.inclusion.reason if item.inclusion else None,
                    "waived": dict(item.waived),
                    "missing_facts": list(item.missing),
                }
                for item in self.chosen
            ],
            "excluded": [
                {
                    "id": item.id,
                    "title": item.mission.title,
                    "kind": item.kind,
                    "reasons": list(item.reasons),
                    "score": item.score,
                    "rules": list(item.rules),
                }
                for item in self.missed
            ],
            "errors": list(self.errors),
            "warnings": list(self.warnings),
        }


def missing_facts(
    mission: Mission, facts: Sequence[str], library_root: Path, *, attest: bool = False
) -> tuple[str, ...]:
    """The facts of `facts` that `mission` does not show: dates need a start and an end,
    an attestation a file that exists in the library. An anonymous mission's attestation
    names the client: it counts only when `attest` (the tender lists the mission under
    `anonymous_attestations`)."""
    missing = []
    for fact in dict.fromkeys(facts):
        if fact == "amount":
            lacks = mission.budget is None
        elif fact == "dates":
            period = mission.period
            lacks = period is None or period.start is None or period.end is None
        elif fact == "client_kind":
            lacks = mission.client.kind is None
        elif fact == "attestation":
            lacks = (
                (mission.disclosure == "anonymous" and not attest)
                or mission.attestation is None
                or not (library_root / mission.attestation).is_file()
            )
        else:
            lacks = False
        if lacks:
            missing.append(fact)
    return tuple(missing)


def rule_breaches(
    mission: Mission, scope: Scope, library_root: Path, *, attest: bool = False
) -> dict[RuleName, str]:
    """Each rule of the scope that `mission` breaks (or that cannot be checked for lack of
    a fact), with how, in words (`attest` as in `missing_facts`)."""
    rules = scope.rules
    checks: dict[RuleName, PickQuery] = {}
    if rules.years is not None:
        checks["years"] = PickQuery(within=rules.years, on=scope.deadline)
    if rules.min_amount is not None:
        checks["min_amount"] = PickQuery(min_amount=rules.min_amount)
    if rules.client_kind is not None:
        checks["client_kind"] = PickQuery(client_kind=rules.client_kind)
    if rules.own_references_only:
        checks["own_references_only"] = PickQuery(entity=scope.tender.entity)
    breaches: dict[RuleName, str] = {}
    for rule, query in checks.items():
        reasons = filter_reasons(mission, query, scope.deadline)
        if reasons:
            breaches[rule] = "; ".join(reasons)
    missing = missing_facts(mission, list(rules.required_facts), library_root, attest=attest)
    if missing:
        breaches["required_facts"] = "lacks " + ", ".join(FACT_NAMES[f] for f in missing)
    return {rule: breaches[rule] for rule in RULE_NAMES if rule in breaches}


def choose(
    library: Library, scope: Scope, *, today: dt.date, allow_incomplete: bool = False
) -> Choice:
    """The references of one annex (the whole tender, or one lot), and why the others
    are not in it. `allow_incomplete` lets references lacking a required fact qualify
    (each then records what it lacks)."""
    rules = scope.rules
    subject = PickQuery(tags=scope.themes, match=scope.match, text=scope.text, on=scope.deadline)
    ranking = pick(library, subject, today=today)
    ranked = {item.id: item for item in ranking.selected}
    excluded = {item.id: item for item in scope.exclude}
    errors: list[str] = []
    chosen: list[Chosen] = []

    def tolerated(breaches: dict[RuleName, str], waive: list[RuleName]) -> dict[RuleName, str]:
        return {
            rule: how
            for rule, how in breaches.items()
            if rule not in waive and not (allow_incomplete and rule == "required_facts")
        }

    for inclusion in scope.include:
        mission = library.missions[inclusion.id]
        breaches = rule_breaches(
            mission, scope, library.root, attest=inclusion.id in scope.tender.anonymous_attestations
        )
        unwaived = tolerated(breaches, inclusion.waive)
        for rule, how in unwaived.items():
            errors.append(
                f"{inclusion.id} is included by hand ({scope.label}) but breaks the rule "
                f"{rule}: {how}; add 'waive: [{rule}]' and a 'reason' to it in the tender "
                "file if the buyer accepts it, or take it out of include"
            )
        chosen.append(
            Chosen(
                len(chosen) + 1,
                inclusion.id,
                mission,
                ranked.get(inclusion.id),
                inclusion,
                {rule: how for rule, how in breaches.items() if rule in inclusion.waive},
                missing_facts(
                    mission,
                    list(rules.required_facts),
                    library.root,
                    attest=inclusion.id in scope.tender.anonymous_attestations,
                ),
            )
        )
    included = {item.id for item in chosen}

    missed: list[Miss] = []
    qualifying: list[Selected] = []
    for item in ranking.selected:
        if item.id in included:
            continue
        if item.id in excluded:
            reason = f"excluded by hand: {excluded[item.id].reason}"
            missed.append(Miss(item.id, item.mission, "hand", (reason,), item.score))
            continue
        breaches = tolerated(
            rule_breaches(
                item.mission,
                scope,
                library.root,
                attest=item.id in scope.tender.anonymous_attestations,
            ),
            [],
        )
        if breaches:
            missed.append(
                Miss(
                    item.id,
                    item.mission,
                    "rules",
                    tuple(f"{rule}: {how}" for rule, how in breaches.items()),
                    item.score,
                    tuple(breaches),
                )
            )
        else:
            qualifying.append(item)
    room = len(qualifying)
    if rules.max_references is not None:
        room = max(0, rules.max_references - len(chosen))
    for item in qualifying[:room]:
        missing = missing_facts(
            item.mission,
            list(rules.required_facts),
            library.root,
            attest=item.id in scope.tender.anonymous_attestations,
        )
        chosen.append(Chosen(len(chosen) + 1, item.id, item.mission, item, missing=missing))
    for item in qualifying[room:]:
        reason = f"ranked below the limit (max_references: {rules.max_references})"
        missed.append(Miss(item.id, item.mission, "limit", (reason,), item.score))
    for mission_id, text_score in ranking.unmatched_scores:
        if mission_id in included:
            continue
        mission = library.missions[mission_id]
        reason = f"not about the asked tags or words (text score {text_score:.3f})"
        if mission_id in excluded:
            reason = f"excluded by hand: {excluded[mission_id].reason}; {reason}"
        missed.append(Miss(mission_id, mission, "subject", (reason,), text_score))
    order: dict[MissKind, int] = {"limit": 0, "rules": 1, "hand": 2, "subject": 3}
    missed.sort(key=lambda miss: (order[miss.kind], -miss.score, miss.id))

    count = len(chosen)
    qualified = len(qualifying) + len(included)
    warnings: list[str] = []
    if rules.min_references is not None and count < rules.min_references:
        errors.append(_shortfall(scope, count, missed))
    elif rules.max_references is not None and count < rules.max_references:
        warnings.append(
            f"{scope.label}: {count} reference(s) where the annex may hold "
            f"{rules.max_references}; `refsheets pick --tender` lists the closest missions "
            "not chosen, and why"
        )
    if count == 0 and rules.min_references is None:
        errors.append(
            f"{scope.label}: no mission meets the rules; `refsheets pick --tender` shows why "
            "each one is left out"
        )
    return Choice(
        scope,
        ranking,
        tuple(chosen),
        tuple(missed),
        tuple(errors),
        tuple(warnings),
        qualified,
    )


def _shortfall(scope: Scope, count: int, missed: list[Miss]) -> str:
    asked = scope.rules.min_references
    candidates = [miss for miss in missed if miss.kind in ("rules", "hand")][:CLOSEST]
    lines = [
        f"{scope.label}: {count} reference(s) meet the rules where the RC asks at least "
        f"{asked}: {(asked or 0) - count} short"
    ]
    if candidates:
        lines.append("the closest missions that fail, and what each lacks:")
        lines += [
            f"  {miss.id} ({miss.score:.3f}): {'; '.join(miss.reasons)}" for miss in candidates
        ]
    lines.append(
        "add a mission, complete one (an attestation, a date, an amount), or include one "
        "by hand with a waiver and its reason"
    )
    return "\n".join(lines)
