"""Picking the missions that fit a tender: subject, procurement filters, one explained score.

`pick(library, query, today=...)` answers the bid manager's first question in one call:

1. **Subject.** Tags given by the user (resolved through the taxonomy: case, accents,
   hyphens, plurals and aliases do not matter) select the missions that carry any (or
   all) of them. Free text (a tender's title or object) is ranked with BM25F
   (`refsheets.search`); the tags it names ("… d'un tiers-lieu numérique …") count too.
   Missions that are not about the subject are only counted (`PickResult.unmatched`).
2. **Filters.** Procurement rules (ended in or after a year, within N years before a
   date, amount bounds, client kind, entity, facts the tender requires) apply to the
   missions about the subject. A mission that fails one, or lacks the fact a rule needs
   ("no dates"), is listed in `PickResult.excluded` with every reason: never dropped
   silently.
3. **Score.** Three parts, each between 0 and 1::

       score = 0.50 × text + 0.35 × tags + 0.15 × recency

   - text: the mission's BM25F score for the query divided by the best score any
     mission of the library gets (so the best text match has 1; 0 without a query);
   - tags: the share of the wanted tags (given, plus those the query names) the
     mission carries (0 when no tag is wanted);
   - recency: 0.5 ** (years between the end of the mission and the reference date / 4):
     1 for a mission ending this year, 0.5 four years ago; 0 when the dates are unknown.

   The reference date is `PickQuery.on` (the tender's deadline) or else `today`. Parts
   and score are rounded to 4 decimals. Equal scores are ordered by the more recent end
   of mission, then by id, so equal inputs always give the same order. Scores compare
   missions within one pick, not across picks.

"today" is an argument: this module never reads the clock.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, Literal, Protocol, TypeVar

from refsheets.errors import ExitStatus, RefsheetsError, did_you_mean
from refsheets.library import client_name
from refsheets.model import Mission, YearMonth
from refsheets.search import (
    Document,
    DocumentTerms,
    Hit,
    PostingsSearch,
    QueryTerms,
    SearchIndex,
    document_of,
    document_terms,
    document_words,
)
from refsheets.summary import MissionFacts
from refsheets.taxonomy import Tag, Taxonomy, fold
from refsheets.text import group_thousands

Match = Literal["any", "all"]
ClientKind = Literal["public", "private"]
Fact = Literal["amount", "dates", "client_kind", "attestation"]

FACTS: tuple[Fact, ...] = ("amount", "dates", "client_kind", "attestation")
"""Facts a tender may require on every reference."""

WEIGHT_TEXT = 0.50
WEIGHT_TAGS = 0.35
WEIGHT_RECENCY = 0.15
RECENCY_HALF_LIFE = 4.0
"""Years after which a mission's recency part halves."""

_ROUND = 4
_MAX_WHY_WORDS = 6
_ORDER = operator.itemgetter(0)

M = TypeVar("M", bound=MissionFacts)
"""What a pick ranks: whole missions (`Library`) or their summaries (`Summaries`)."""
M_co = TypeVar("M_co", bound=MissionFacts, covariant=True)


class Catalog(Protocol[M_co]):
    """What a pick reads of a library: `library.Library` and `library.Summaries`."""

    @property
    def missions(self) -> Mapping[str, M_co]: ...

    @property
    def taxonomy(self) -> Taxonomy: ...

    @property
    def entities(self) -> Mapping[str, object]: ...

    @property
    def search_words(self) -> Mapping[str, DocumentTerms | str]: ...


class PickError(RefsheetsError):
    """A pick that cannot run as asked (unknown tag or entity, contradictory bounds)."""

    exit_status = ExitStatus.USAGE


class UnknownTagError(PickError):
    """A wanted tag that the taxonomy does not know; the message lists the nearest ones."""


@dataclass(frozen=True)
class PickQuery:
    """What the bid manager asks for. Every field is optional; the empty query keeps all."""

    tags: tuple[str, ...] = ()
    """Tags as typed ("Tiers Lieux"); resolved through the taxonomy."""
    match: Match = "any"
    """Keep missions with any of `tags`, or only those with all of them."""
    text: str | None = None
    """Free text to rank by (a tender's title or object)."""
    since: int | None = None
    """Keep missions that ended in or after this year."""
    within: int | None = None
    """Keep missions that ended at most this many years before `on`."""
    on: date | None = None
    """The reference date for `within` and recency (a tender's deadline); default: today."""
    min_amount: int | None = None
    """Lowest amount, in whole euros (compared as written, HT or TTC)."""
    max_amount: int | None = None
    """Highest amount, in whole euros."""
    client_kind: ClientKind | None = None
    entity: str | None = None
    """Keep missions carried by this entity (a key of entities.yaml)."""
    require: tuple[Fact, ...] = ()
    """Facts every reference must have (a tender's rule): missions lacking one are excluded."""
    limit: int | None = None
    """Keep at most this many missions, the best ranked."""


@dataclass(frozen=True)
class ScoreParts:
    """The three parts of a score, each between 0 and 1, and their weighted sum."""

    text: float
    tags: float
    recency: float

    @property
    def total(self) -> float:
        """The score: 0.50 × text + 0.35 × tags + 0.15 × recency, rounded to 4 decimals."""
        return round(
            WEIGHT_TEXT * self.text + WEIGHT_TAGS * self.tags + WEIGHT_RECENCY * self.recency,
            _ROUND,
        )


@dataclass(frozen=True)
class SelectedOf(Generic[M]):
    """A mission kept, with its rank, its score and why it fits."""

    rank: int
    id: str
    mission: M
    parts: ScoreParts
    tags: tuple[str, ...]
    """Labels of the wanted tags the mission carries."""
    hit: Hit | None = None
    """How the free text matched, term by term (None without a query or a match)."""
    query_terms: QueryTerms | None = field(default=None, compare=False, repr=False)

    @property
    def words(self) -> tuple[str, ...]:
        """Query words (as typed) found in the mission, the most telling first, at most 6."""
        if self.hit is None or self.query_terms is None:
            return ()
        # By share, the greater first, then by term: a stable sort by share (reversed,
        # which keeps ties in order) of the terms sorted by name, both in C, with no pair
        # made per term; their words looked up in C too.
        shares = self.hit.terms
        ranked = sorted(sorted(shares), key=shares.__getitem__, reverse=True)
        return tuple(map(self.query_terms.surface.__getitem__, ranked[:_MAX_WHY_WORDS]))

    @property
    def score(self) -> float:
        """The mission's score (see the module's documentation)."""
        return self.parts.total

    @property
    def why(self) -> str:
        """'tags: Tiers-lieu; words: programmation, intercommunal' (or 'recency only')."""
        pieces = []
        if self.tags:
            pieces.append("tags: " + ", ".join(self.tags))
        words = self.words
        if words:
            pieces.append("words: " + ", ".join(words))
        return "; ".join(pieces) or "no tag or word asked: ranked by recency"


@dataclass(frozen=True)
class ExcludedOf(Generic[M]):
    """A mission about the subject that a filter left out, with every reason."""

    id: str
    mission: M
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PickResultOf(Generic[M]):
    """The answer to a pick: ranked missions, excluded ones and what was understood."""

    query: PickQuery
    reference_date: date
    tags: tuple[Tag, ...]
    """The wanted tags, resolved."""
    query_tags: tuple[Tag, ...]
    """Tags the free text names ("tiers-lieu numérique" names tiers-lieu)."""
    selected: tuple[SelectedOf[M], ...]
    excluded: tuple[ExcludedOf[M], ...]
    beyond_limit: tuple[str, ...] = ()
    """Ids that pass every filter but rank below the limit, best first."""
    unmatched: int = 0
    """How many missions are not about the subject (no wanted tag, no query word)."""
    unmatched_scores: tuple[tuple[str, float], ...] = ()
    """Those missions' ids, each with its text score (between 0 and 1), best first."""

    @property
    def ids(self) -> list[str]:
        """The selected ids, best first (what `refsheets render -` reads)."""
        return [item.id for item in self.selected]

    def to_json(self, *, private: bool = False) -> dict[str, Any]:
        """A JSON-ready view: the query as understood, ranked missions with score parts.

        An anonymous mission's client is its label unless `private` (as `list --json`).
        """
        query = self.query
        return {
            "reference_date": self.reference_date.isoformat(),
            "query": {
                "tags": [tag.key for tag in self.tags],
                "match": query.match,
                "text": query.text,
                "query_tags": [tag.key for tag in self.query_tags],
                "since": query.since,
                "within": query.within,
                "on": query.on.isoformat() if query.on else None,
                "min_amount": query.min_amount,
                "max_amount": query.max_amount,
                "client_kind": query.client_kind,
                "entity": query.entity,
                "require": list(query.require),
                "limit": query.limit,
            },
            "weights": {"text": WEIGHT_TEXT, "tags": WEIGHT_TAGS, "recency": WEIGHT_RECENCY},
            "selected": [
                {
                    "rank": item.rank,
                    "id": item.id,
                    "title": item.mission.title,
                    "client": client_name(item.mission, private=private),
                    **_facts_json(item.mission),
                    "score": item.score,
                    "parts": {
                        "text": item.parts.text,
                        "tags": item.parts.tags,
                        "recency": item.parts.recency,
                    },
                    "why": {"tags": list(item.tags), "words": list(item.words)},
                }
                for item in self.selected
            ],
            "excluded": [
                {"id": item.id, "title": item.mission.title, "reasons": list(item.reasons)}
                for item in self.excluded
            ],
            "beyond_limit": list(self.beyond_limit),
            "unmatched": self.unmatched,
            "not_about_the_subject": [
                {"id": mission_id, "text_score": score}
                for mission_id, score in self.unmatched_scores
            ],
        }


Selected = SelectedOf[Mission]
"""A whole mission kept by a pick (what `choice` and `export` read)."""
Excluded = ExcludedOf[Mission]
PickResult = PickResultOf[Mission]
"""A pick of whole missions."""


def _facts_json(mission: MissionFacts) -> dict[str, Any]:
    period = mission.period
    return {
        "period": {
            "start": str(period.start) if period and period.start else None,
            "end": str(period.end) if period and period.end else None,
        },
        "amount": mission.budget.amount if mission.budget else None,
        "basis": mission.budget.basis if mission.budget else None,
        "client_kind": mission.client.kind,
        "entity": mission.entity,
    }


# --------------------------------------------------------------------------- the pick


def pick(library: Catalog[M], query: PickQuery, *, today: date) -> PickResultOf[M]:
    """Rank the library's missions for `query` and list those the filters leave out.

    `today` is the default reference date (for `within` and recency) when the query has
    no `on`. Raises UnknownTagError (with the nearest known tags) for a tag the taxonomy
    does not know, PickError for an unknown entity or contradictory bounds.
    """
    _check_query(library, query)
    reference = query.on or today
    wanted = resolve_tags(library.taxonomy, query.tags)
    wanted_keys = [tag.key for tag in wanted]
    terms = QueryTerms.parse(query.text) if query.text else None
    query_tags = find_tags(library.taxonomy, query.text) if query.text else []
    scored_keys = list(dict.fromkeys([*wanted_keys, *(tag.key for tag in query_tags)]))

    resolve = _memoized(library.taxonomy)
    hits: dict[str, Hit] = {}
    best = 0.0
    if terms is not None and terms.terms:
        # Summaries read for this query search the index's inverted lists.
        inverted: PostingsSearch | None = getattr(library, "postings", None)
        if inverted is not None:
            hits = inverted.search(terms)
        else:
            hits = build_index(library, resolve).search(terms)
        best = max((hit.score for hit in hits.values()), default=0.0)

    kept: list[tuple[tuple[Any, ...], str, M, ScoreParts, tuple[str, ...], Hit | None]] = []
    excluded: list[ExcludedOf[M]] = []
    unmatched = 0
    unmatched_scores: list[tuple[str, float]] = []
    # A library repeats its tag sets and its end dates: each is resolved and weighed once.
    carried_by: dict[frozenset[str], frozenset[str]] = {}
    scored_by: dict[frozenset[str], tuple[float, tuple[str, ...]]] = {}
    dated_by: dict[YearMonth | None, tuple[float, tuple[int, int]]] = {}
    filtered = query != PickQuery(
        tags=query.tags, match=query.match, text=query.text, on=query.on, limit=query.limit
    )
    # A summary's tags (a tuple) as written, then as a set: most of a library's missions
    # repeat a tag list that another mission already has in that very order.
    carried_as_written: dict[Any, frozenset[str]] = {}
    for mission_id, mission in library.missions.items():
        written = mission.tags
        carried = carried_as_written.get(written) if type(written) is tuple else None
        if carried is None:
            tags = frozenset(written)  # the keys a mission carries do not depend on order
            carried = carried_by.get(tags)
            if carried is None:
                carried = carried_by[tags] = mission_tag_keys(resolve, mission)
            if type(written) is tuple:
                carried_as_written[written] = carried
        hit = hits.get(mission_id)
        if (wanted_keys and not _tags_match(wanted_keys, carried, query.match)) or (
            query.text and not wanted_keys and hit is None and carried.isdisjoint(scored_keys)
        ):
            unmatched += 1
            text_score = round(hit.score / best, _ROUND) if hit and best > 0 else 0.0
            unmatched_scores.append((mission_id, text_score))
            continue
        reasons = filter_reasons(mission, query, reference) if filtered else ()
        if reasons:
            excluded.append(ExcludedOf(mission_id, mission, reasons))
            continue
        scored = scored_by.get(carried)
        if scored is None:
            matched_keys = [key for key in scored_keys if key in carried]
            scored = scored_by[carried] = (
                round(len(matched_keys) / len(scored_keys), _ROUND) if scored_keys else 0.0,
                tuple(library.taxonomy.tags[key].label for key in matched_keys),
            )
        end = _end(mission)
        dated = dated_by.get(end)
        if dated is None:
            weight = round(recency(mission, reference), _ROUND)
            dated = dated_by[end] = (weight, _negated_end(mission))
        text = round(hit.score / best, _ROUND) if hit and best > 0 else 0.0
        parts = ScoreParts(text, scored[0], dated[0])
        # ScoreParts.total's very expression, without a property call per mission.
        total = round(
            WEIGHT_TEXT * text + WEIGHT_TAGS * scored[0] + WEIGHT_RECENCY * dated[0], _ROUND
        )
        kept.append(((-total, dated[1], mission_id), mission_id, mission, parts, scored[1], hit))

    kept.sort(key=_ORDER)
    limit = query.limit if query.limit is not None else len(kept)
    selected = tuple(
        SelectedOf(rank, mission_id, mission, parts, labels, hit, terms)
        for rank, (_, mission_id, mission, parts, labels, hit) in enumerate(kept[:limit], 1)
    )
    excluded.sort(key=lambda item: item.id)
    return PickResultOf(
        query=query,
        reference_date=reference,
        tags=tuple(wanted),
        query_tags=tuple(query_tags),
        selected=selected,
        excluded=tuple(excluded),
        beyond_limit=tuple(row[1] for row in kept[limit:]),
        unmatched=unmatched,
        unmatched_scores=tuple(sorted(unmatched_scores, key=lambda row: (-row[1], row[0]))),
    )


def _check_query(library: Catalog[MissionFacts], query: PickQuery) -> None:
    if query.limit is not None and query.limit < 1:
        raise PickError(f"the limit must be at least 1, not {query.limit}")
    if query.within is not None and query.within < 0:
        raise PickError(f"the years window must be 0 or more, not {query.within}")
    for name, value in (("minimum", query.min_amount), ("maximum", query.max_amount)):
        if value is not None and value < 0:
            raise PickError(f"the {name} amount must be 0 or more, not {value}")
    if (
        query.min_amount is not None
        and query.max_amount is not None
        and query.min_amount > query.max_amount
    ):
        raise PickError(
            f"the minimum amount ({query.min_amount}) is above the maximum "
            f"({query.max_amount}); no mission can fit: swap or drop one"
        )
    unknown_facts = [fact for fact in query.require if fact not in FACTS]
    if unknown_facts:
        raise PickError(
            f"unknown required fact(s) {', '.join(unknown_facts)}; use {', '.join(FACTS)}"
        )
    if query.entity is not None and library.entities and query.entity not in library.entities:
        hint = did_you_mean(query.entity, library.entities)
        raise PickError(f"unknown entity '{query.entity}'; {hint}")


def resolve_tags(taxonomy: Taxonomy, texts: Iterable[str]) -> list[Tag]:
    """The canonical tags `texts` name, in order, without repeats.

    Raises UnknownTagError naming every unknown tag and, for each, the nearest known tags.
    """
    tags: list[Tag] = []
    problems: list[str] = []
    for text in texts:
        tag = taxonomy.resolve(text)
        if tag is None:
            near = taxonomy.nearest(text)
            hint = f"nearest known: {', '.join(near)}" if near else "none is close"
            problems.append(f"'{text}' ({hint})")
        elif tag not in tags:
            tags.append(tag)
    if problems:
        raise UnknownTagError(
            f"unknown tag {'; '.join(problems)}; `refsheets tags` lists the known tags"
        )
    return tags


_WORD = re.compile(r"[a-z0-9]+")


def find_tags(taxonomy: Taxonomy, text: str) -> list[Tag]:
    """The tags a free text names, longest wording first ("transition numérique" beats
    "numérique"), each once, in the order they appear."""
    words = _WORD.findall(fold(text))
    longest = max(
        (
            len(_WORD.findall(fold(name)))
            for tag in taxonomy.tags.values()
            for name in (tag.key, tag.label, *tag.aliases)
        ),
        default=0,
    )
    found: list[Tag] = []
    i = 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 0, -1):
            tag = taxonomy.resolve(" ".join(words[i : i + size]))
            if tag is not None:
                if tag not in found:
                    found.append(tag)
                i += size
                break
        else:
            i += 1
    return found


Resolve = Callable[[str], Tag | None]


def _memoized(taxonomy: Taxonomy) -> Resolve:
    # A library of thousands of missions repeats a few dozen tag spellings: resolve each once.
    cache: dict[str, Tag | None] = {}

    def resolve(text: str) -> Tag | None:
        try:
            return cache[text]
        except KeyError:
            cache[text] = found = taxonomy.resolve(text)
            return found

    return resolve


def mission_tag_keys(taxonomy: Taxonomy | Resolve, mission: MissionFacts) -> frozenset[str]:
    """The canonical keys of the tags a mission carries (unknown tags left out)."""
    resolve = taxonomy.resolve if isinstance(taxonomy, Taxonomy) else taxonomy
    keys = set()
    for text in mission.tags:
        tag = resolve(text)
        if tag is not None:
            keys.add(tag.key)
    return frozenset(keys)


def _tags_match(wanted: list[str], carried: frozenset[str], match: Match) -> bool:
    if match == "all":
        return all(key in carried for key in wanted)
    return any(key in carried for key in wanted)


def build_index(library: Catalog[MissionFacts], resolve: Resolve | None = None) -> SearchIndex:
    """The free-text index of every mission of the library."""
    resolve = resolve or _memoized(library.taxonomy)
    kept = library.search_words  # analysed already, by the library's index
    terms: dict[str, DocumentTerms] = {}
    for mission_id, mission in library.missions.items():
        found = kept.get(mission_id)
        if isinstance(found, str):
            from refsheets.index import terms_from

            try:
                found = terms_from(found)
            except (ValueError, RecursionError):
                found = None  # not what the index writes: analyse the text again
        if found is None:
            if not isinstance(mission, Mission):
                # `load_summaries` keeps every summary's terms when asked to search.
                raise ValueError(f"no words to search for the summary of {mission_id}")
            found = mission_terms(resolve, mission)
        terms[mission_id] = found
    return SearchIndex.from_terms(terms)


def mission_terms(taxonomy: Taxonomy | Resolve, mission: Mission) -> DocumentTerms:
    """A mission's searchable text as terms (what the library's index keeps)."""
    return document_terms(document_words(mission_document(taxonomy, mission)))


def mission_document(taxonomy: Taxonomy | Resolve, mission: Mission) -> Document:
    """A mission's searchable fields; tags are indexed by their canonical label."""
    resolve = taxonomy.resolve if isinstance(taxonomy, Taxonomy) else taxonomy
    labels = []
    for text in mission.tags:
        tag = resolve(text)
        labels.append(tag.label if tag else text)
    return document_of(
        title=mission.title,
        tags=labels,
        deliverables=mission.deliverables,
        context=mission.context,
        approach=mission.approach,
    )


# --------------------------------------------------------------------------- filters


def _end(mission: MissionFacts) -> YearMonth | None:
    period = mission.period
    if period is None:
        return None
    return period.end or period.start


def _negated_end(mission: MissionFacts) -> tuple[int, int]:
    # Missions without dates sort after every dated one at equal score.
    end = _end(mission)
    if end is None:
        return (1, 0)
    year, month = end.sort_key
    return (-year, -month)


def recency(mission: MissionFacts, reference: date) -> float:
    """1 for a mission ending in the reference year, halving every 4 years; 0 undated."""
    end = _end(mission)
    if end is None:
        return 0.0
    age = max(0, reference.year - end.year)
    return math.pow(0.5, age / RECENCY_HALF_LIFE)


def _missing(mission: MissionFacts, fact: Fact) -> bool:
    if fact == "amount":
        return mission.budget is None
    if fact == "dates":
        return _end(mission) is None
    if fact == "client_kind":
        return mission.client.kind is None
    return mission.attestation is None


_FACT_NAMES: dict[Fact, str] = {
    "amount": "no amount",
    "dates": "no dates",
    "client_kind": "no client kind",
    "attestation": "no attestation",
}


def filter_reasons(mission: MissionFacts, query: PickQuery, reference: date) -> tuple[str, ...]:
    """Why the query's filters leave `mission` out; empty when it passes them all.

    A mission that lacks the fact a filter needs is left out with "no dates",
    "no amount", … and the filter that needed it.
    """
    reasons: dict[str, str] = {}  # one reason per fact, the first found

    def lacks(fact: Fact, needed_by: str) -> None:
        reasons.setdefault(fact, f"{_FACT_NAMES[fact]} ({needed_by})")

    period = mission.period
    end = _end(mission)
    if query.since is not None:
        rule = f"needed to check: ended in {query.since} or later"
        if end is None:
            lacks("dates", rule)
        elif period and period.end is None and end.year < query.since:
            # Only the start is known and it is before the year: the end could be either side.
            lacks("dates", f"no end date; {rule}")
        elif end.year < query.since:
            reasons["since"] = f"ended in {end.year}, before {query.since}"
    if query.within is not None:
        cutoff = (reference.year - query.within, reference.month)
        rule = (
            f"needed to check: ended at most {query.within} year(s) before {reference.isoformat()}"
        )
        if end is None:
            lacks("dates", rule)
        else:
            # A year without a month is taken as ending in December: the benefit of the doubt.
            ended = (end.year, end.month or 12)
            if ended < cutoff:
                if period and period.end is None:
                    lacks("dates", f"no end date; {rule}")
                else:
                    reasons["within"] = (
                        f"ended in {end}, more than {query.within} year(s) before "
                        f"{reference.isoformat()}"
                    )
    budget = mission.budget
    if query.min_amount is not None:
        if budget is None:
            lacks("amount", f"needed to check: at least {_euros(query.min_amount)}")
        elif budget.amount < query.min_amount:
            reasons["min_amount"] = (
                f"amount {_euros(budget.amount)} {budget.basis} is below "
                f"the minimum {_euros(query.min_amount)}"
            )
    if query.max_amount is not None:
        if budget is None:
            lacks("amount", f"needed to check: at most {_euros(query.max_amount)}")
        elif budget.amount > query.max_amount:
            reasons["max_amount"] = (
                f"amount {_euros(budget.amount)} {budget.basis} is above "
                f"the maximum {_euros(query.max_amount)}"
            )
    if query.client_kind is not None:
        if mission.client.kind is None:
            lacks("client_kind", f"needed to check: {query.client_kind} client")
        elif mission.client.kind != query.client_kind:
            reasons["client_kind"] = f"{mission.client.kind} client, {query.client_kind} wanted"
    if query.entity is not None:
        if mission.entity is None:
            reasons.setdefault("entity", f"no entity (needed to check: carried by {query.entity})")
        elif mission.entity != query.entity:
            reasons["entity"] = f"carried by {mission.entity}, not {query.entity}"
    for fact in query.require:
        if _missing(mission, fact):
            lacks(fact, "required on every reference")
    return tuple(reasons.values())


def _euros(amount: int) -> str:
    return f"{group_thousands(amount)} €"
