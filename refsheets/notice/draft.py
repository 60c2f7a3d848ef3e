"""A tender drafted from its sources: the notice gives the call, the RC and the criteria
its rules, each value with where it came from; what is missing or disputed is a TODO.

Sources never overrule each other: when two of them (or two sentences) give different
values for one rule, the rule is left for the bid manager with both quotes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from refsheets.cpv import cpv_label
from refsheets.notice.eforms import LANGUAGES, RECORD_WITHOUT_EFORMS, Deadline, Lot, Notice
from refsheets.notice.rules import Findings, Rule, extract_rules, split_sentences
from refsheets.taxonomy import Taxonomy

SCALAR_RULES = ("years", "min_amount", "client_kind", "min_references", "max_references")
LIST_RULES = ("required_facts",)
RULE_ORDER = (*SCALAR_RULES, "required_facts", "page_limit")
FACT_ORDER = ("amount", "dates", "client_kind", "attestation")


@dataclass(frozen=True)
class Sourced:
    """A value and where it was read."""

    value: object
    where: str


@dataclass
class RuleDraft:
    """The rules of one scope (the tender or a lot), resolved from every source."""

    values: dict[str, object] = field(default_factory=dict)
    quotes: dict[str, list[Rule]] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    conflicts: dict[str, list[Rule]] = field(default_factory=dict)
    vague: list[Rule] = field(default_factory=list)
    other_facts: list[Rule] = field(default_factory=list)


@dataclass
class LotDraft:
    """One lot of the tender file."""

    number: int | str
    id: str
    title: Sourced | None = None
    query: Sourced | None = None
    cpv: Sourced | None = None
    themes: list[str] | None = None
    deadline: Sourced | None = None
    rules: RuleDraft | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Draft:
    """Everything `tender new` writes, before it is written."""

    sources: list[str] = field(default_factory=list)
    name: Sourced | None = None
    buyer: Sourced | None = None
    reference: Sourced | None = None
    deadline: Sourced | None = None
    language: Sourced | None = None
    cpv: Sourced | None = None
    themes: list[str] = field(default_factory=list)
    query: Sourced | None = None
    entity: str | None = None
    entities: list[str] = field(default_factory=list)
    rules: RuleDraft = field(default_factory=RuleDraft)
    lots: list[LotDraft] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    criteria: list[str] = field(default_factory=list)  # where the rules were looked for
    disagreements: list[str] = field(default_factory=list)
    disputed: dict[str, str] = field(default_factory=dict)  # key -> what each source says


@dataclass(frozen=True)
class Document:
    """An RC or any document of the call, as lines with where each is."""

    path: Path
    lines: Sequence[tuple[str, str]]


def draft_tender(
    notice: Notice | None,
    documents: Sequence[Document],
    *,
    taxonomy: Taxonomy | None = None,
    entity: str | None = None,
    entities: Sequence[str] = (),
) -> Draft:
    """Merge a notice and documents into a draft tender file."""
    draft = Draft(entity=entity, entities=list(entities))
    if notice is not None:
        _from_notice(draft, notice)
        draft.sources.append(f"{notice.path.name} ({notice.kind}, {notice.sdk or 'no SDK named'})")
    deadline = _deadline_day(draft.deadline)
    findings = Findings()
    for document in documents:
        draft.sources.append(f"{document.path.name} (document of the call)")
        draft.criteria.append(document.path.name)
        findings.extend(extract_rules(split_sentences(document.lines), deadline=deadline))
    tender_findings = Findings()
    if notice is not None:
        tender_findings, lot_findings = _notice_findings(draft, notice, deadline)
        for lot in draft.lots:
            if lot.id in lot_findings:
                lot.rules = resolve_rules(lot_findings[lot.id], draft.disagreements, lot.id)
    tender_findings.extend(findings)
    draft.rules = resolve_rules(tender_findings, draft.disagreements, None)
    for lot in draft.lots:
        if lot.rules is not None:
            _check_lot_against_tender(lot.rules, draft.rules, lot.id, draft.disagreements)
    if taxonomy is not None:
        draft.themes = themes_for(_codes(draft.cpv), taxonomy)
        for lot in draft.lots:
            if lot.cpv is not None:
                themes = themes_for(_codes(lot.cpv), taxonomy)
                lot.themes = themes if themes != draft.themes else None
    return draft


def _codes(value: Sourced | None) -> list[str]:
    return [str(code) for code in value.value] if value and isinstance(value.value, list) else []


def themes_for(codes: Sequence[str], taxonomy: Taxonomy) -> list[str]:
    """The tags whose CPV codes cover one of `codes`, in the taxonomy's order."""
    return taxonomy.tags_for_cpv(codes)


def _deadline_day(value: Sourced | None) -> dt.date | None:
    if value is not None and isinstance(value.value, Deadline):
        return value.value.date
    return None


_NOTICE_KEYS = (
    ("name", "title"),
    ("buyer", "buyer"),
    ("reference", "reference"),
    ("query", "description"),
    ("language", "language"),
)
_EFORMS_FIELDS = {
    "title": "BT-21",
    "buyer": "BT-500 of the buyer {buyer_id}",
    "reference": "BT-22",
    "description": "BT-24",
    "language": "BT-702",
}
_RECORD_FIELDS = {
    "title": "objet",
    "buyer": "nomacheteur",
    "reference": "idweb",
    "description": "objet",
    "language": "language",
}


def _from_notice(draft: Draft, notice: Notice) -> None:
    name = notice.path.name
    # Where each value is in the notice: an eForms field, or a BOAMP record's own field.
    fields = _RECORD_FIELDS if notice.kind == RECORD_WITHOUT_EFORMS else _EFORMS_FIELDS
    if not notice.reference and notice.folder_id:
        draft.reference = Sourced(notice.folder_id, f"{name}, BT-04 (procedure identifier)")
    for key, attribute in _NOTICE_KEYS:
        value = getattr(notice, attribute)
        if value:
            where = fields[attribute].format(buyer_id=notice.buyer_id)
            setattr(draft, key, Sourced(value, f"{name}, {where}"))
    codes = list(dict.fromkeys(notice.cpv_main + notice.cpv_additional))
    if len(notice.lots) == 1:
        codes = list(dict.fromkeys(codes + notice.lots[0].cpv))
    if codes:
        draft.cpv = Sourced(codes, f"{name}, {_cpv_fields(notice)}")
    deadlines = [(lot.deadline, lot.id) for lot in notice.lots if lot.deadline is not None]
    if deadlines:
        first = min(deadlines, key=lambda item: (item[0].date, item[0].time or dt.time()))[0]
        same = all(deadline == first for deadline, _ in deadlines)
        lots = "every lot" if same and len(notice.lots) > 1 else ", ".join(i for _, i in deadlines)
        if not same:
            lots = f"the earliest lot: {next(i for d, i in deadlines if d == first)}"
        draft.deadline = Sourced(first, f"{name}, {first.field} ({lots})")
    if len(notice.lots) > 1:
        draft.lots = [_lot_draft(lot, notice, first if deadlines else None) for lot in notice.lots]
    if not notice.lots:
        draft.notes.append(f"{name} has no lot (BT-137): its rules and deadline are not read")


def _cpv_fields(notice: Notice) -> str:
    fields = []
    if notice.cpv_main:
        fields.append("BT-262")
    if notice.cpv_additional:
        fields.append("BT-263")
    if len(notice.lots) == 1 and notice.lots[0].cpv:
        fields.append(f"lot {notice.lots[0].id}")
    return ", ".join(fields)


def _lot_draft(lot: Lot, notice: Notice, tender_deadline: Deadline | None) -> LotDraft:
    name = notice.path.name
    number: int | str = int(lot.number) if lot.number.isdigit() else lot.number
    draft = LotDraft(number=number, id=lot.id)
    if lot.title:
        draft.title = Sourced(lot.title, f"{name}, BT-21 of {lot.id}")
    if lot.description and lot.description != notice.description:
        draft.query = Sourced(lot.description, f"{name}, BT-24 of {lot.id}")
    procedure_codes = list(dict.fromkeys(notice.cpv_main + notice.cpv_additional))
    if lot.cpv and lot.cpv != procedure_codes:
        draft.cpv = Sourced(lot.cpv, f"{name}, BT-262/BT-263 of {lot.id}")
    if lot.deadline is not None and lot.deadline != tender_deadline:
        draft.deadline = Sourced(lot.deadline, f"{name}, {lot.deadline.field} of {lot.id}")
    return draft


def _notice_findings(
    draft: Draft, notice: Notice, deadline: dt.date | None
) -> tuple[Findings, dict[str, Findings]]:
    """The rules in the notice's criteria: for the whole tender when every lot has the same
    criteria, else for each lot."""
    name = notice.path.name
    texts = {lot.id: [(c.code, c.text) for c in lot.criteria] for lot in notice.lots}
    shared = len({tuple(t) for t in texts.values()}) <= 1
    tender = Findings()
    lots: dict[str, Findings] = {}
    in_documents = [lot.id for lot in notice.lots if lot.criteria_in_documents]
    if in_documents:
        draft.notes.append(
            f"{name}, BT-821 of {', '.join(in_documents)}: the selection criteria are in the "
            "procurement documents: give the RC too"
        )
    for lot in notice.lots:
        if shared and lot is not notice.lots[0]:
            continue
        scope = "every lot" if shared and len(notice.lots) > 1 else lot.id
        found = Findings()
        for criterion in lot.criteria:
            where = f"{name}, BT-750 ({criterion.code or 'no BT-809 code'}), {scope}"
            draft.criteria.append(where)
            lines = [(line, where) for line in criterion.text.splitlines()]
            found.extend(extract_rules(split_sentences(lines), deadline=deadline))
        if shared or len(notice.lots) == 1:
            tender.extend(found)
        else:
            lots[lot.id] = found
    return tender, lots


def resolve_rules(findings: Findings, disagreements: list[str], lot: str | None) -> RuleDraft:
    """One value per rule; different values for one rule are a conflict, never a choice."""
    draft = RuleDraft(vague=list(findings.vague))
    scope = f" (lot {lot})" if lot else ""
    by_key: dict[str, list[Rule]] = {}
    for rule in findings.rules:
        if rule.key == "other_facts":
            draft.other_facts.append(rule)
            continue
        by_key.setdefault(rule.key, []).append(rule)
    for key, rules in by_key.items():
        if key in LIST_RULES:
            facts = {fact for rule in rules if isinstance(rule.value, tuple) for fact in rule.value}
            draft.values[key] = [fact for fact in FACT_ORDER if fact in facts]
            draft.quotes[key] = _unique(rules)
            continue
        values = list(dict.fromkeys(rule.value for rule in rules))
        if len(values) == 1:
            draft.values[key] = values[0]
            draft.quotes[key] = _unique(rules)
            notes = [rule.note for rule in rules if rule.note]
            if notes:
                draft.notes[key] = notes[0]
        else:
            draft.conflicts[key] = _unique(rules)
            said = "; ".join(f"{rule.value} ({rule.where})" for rule in _unique(rules))
            disagreements.append(f"rules.{key}{scope}: the sources disagree: {said}")
    return draft


def _check_lot_against_tender(
    lot: RuleDraft, tender: RuleDraft, lot_id: str, disagreements: list[str]
) -> None:
    """A lot's criterion and the RC giving one rule two values is a disagreement too: a
    lot's value would otherwise override the RC's in silence."""
    for key in SCALAR_RULES:
        if key in lot.values and key in tender.values and lot.values[key] != tender.values[key]:
            both = _unique(lot.quotes[key] + tender.quotes[key])
            del lot.values[key]
            lot.conflicts[key] = both
            said = "; ".join(f"{rule.value} ({rule.where})" for rule in both)
            disagreements.append(f"rules.{key} (lot {lot_id}): the sources disagree: {said}")


def _unique(rules: list[Rule]) -> list[Rule]:
    seen: dict[tuple[str, str], Rule] = {}
    for rule in rules:
        seen.setdefault((rule.quote, rule.where), rule)
    return list(seen.values())


def language_of(draft: Draft) -> tuple[str | None, str | None]:
    """The annex language for the notice's language, and a TODO when it has none."""
    if draft.language is None:
        return None, None
    code = str(draft.language.value)
    if code in LANGUAGES:
        return LANGUAGES[code], None
    return None, f"the notice is in {code}; the annex is written in fr or en: choose one"


def describe_cpv(codes: Sequence[str]) -> str:
    """'77310000 (Services de plantation…)', for comments."""
    parts = []
    for code in codes:
        label = cpv_label(code)
        parts.append(f"{code} ({label})" if label else f"{code} (not in CPV 2008)")
    return ", ".join(parts)
