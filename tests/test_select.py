"""Picking missions: tags, free text on the real library, filters with reasons, the score."""

from __future__ import annotations

import dataclasses
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refsheets.library import Library, load_library
from refsheets.model import Entity, Mission
from refsheets.search import Hit, QueryTerms
from refsheets.select import (
    WEIGHT_RECENCY,
    WEIGHT_TAGS,
    WEIGHT_TEXT,
    PickError,
    PickQuery,
    PickResult,
    ScoreParts,
    SelectedOf,
    UnknownTagError,
    filter_reasons,
    find_tags,
    pick,
    recency,
)
from refsheets.summary import MissionSummary, SummaryClient
from refsheets.taxonomy import Tag, Taxonomy
from tests.conftest import DATA

TODAY = date(2026, 3, 1)

TIERS_LIEU = {
    "2019-cc-haute-somme-feuille-de-route-tiers-lieu",
    "2021-cc-haute-somme-tiers-lieu-peronne",
    "2021-region-bourgogne-village-du-futur",
    "2021-valenciennes-passage-de-la-paix",  # tagged "tiers lieux" in the source
    "2022-havelinghen-emergence-tiers-lieu",
    "vilogia-lieu-innovation-habitat",
}


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(DATA)


# --------------------------------------------------------------------------- tags


@pytest.mark.parametrize("typed", ["tiers-lieu", "Tiers Lieux", "TIERS-LIEUX", "third place"])
def test_a_tag_however_typed_picks_the_six_tiers_lieux(library: Library, typed: str) -> None:
    result = pick(library, PickQuery(tags=(typed,)), today=TODAY)
    assert set(result.ids) == TIERS_LIEU
    assert len(result.ids) == 6
    assert result.excluded == ()
    assert result.unmatched == len(library.missions) - 6
    assert all(item.tags == ("Tiers-lieu",) for item in result.selected)


def test_tags_any_or_all(library: Library) -> None:
    tags = ("tiers-lieu", "accompagnement")
    any_ids = set(pick(library, PickQuery(tags=tags), today=TODAY).ids)
    all_ids = set(pick(library, PickQuery(tags=tags, match="all"), today=TODAY).ids)
    assert all_ids == {
        "2021-valenciennes-passage-de-la-paix",
        "2022-havelinghen-emergence-tiers-lieu",
        "vilogia-lieu-innovation-habitat",
    }
    assert any_ids == TIERS_LIEU | {"2019-epsm-lille-metropole-co-design-usagers"}


def test_an_unknown_tag_is_an_error_naming_the_nearest(library: Library) -> None:
    with pytest.raises(UnknownTagError) as caught:
        pick(library, PickQuery(tags=("tiers-lieu", "tiers-lie", "zzzz")), today=TODAY)
    message = caught.value.message
    assert "'tiers-lie' (nearest known: tiers-lieu" in message
    assert "'zzzz'" in message
    assert int(caught.value.exit_status) == 2


def test_tags_named_by_the_query_count(library: Library) -> None:
    found = find_tags(library.taxonomy, "Médiation numérique en quartier prioritaire de la ville")
    assert [tag.key for tag in found] == ["mediation", "numerique", "quartier-prioritaire"]
    # The longest wording wins: "transition numérique" is one tag, not "numérique".
    found = find_tags(library.taxonomy, "accompagner la transition numérique")
    assert [tag.key for tag in found] == ["transition-numerique"]


# --------------------------------------------------------------------------- free text

QUERIES = [
    (
        "Assistance à maîtrise d'ouvrage pour la programmation et le modèle économique "
        "d'un tiers-lieu numérique intercommunal",
        "2019-cc-haute-somme-feuille-de-route-tiers-lieu",
    ),
    (
        "Animation, programmation et pilotage du fablab d'un tiers-lieu numérique "
        "installé dans une friche commerciale",
        "2021-cc-haute-somme-tiers-lieu-peronne",
    ),
    (
        "Démarche de design participatif pour la revitalisation d'un village rural et de "
        "ses infrastructures touristiques",
        "2021-region-bourgogne-village-du-futur",
    ),
    (
        "Étude de reconversion d'un passage commercial face à la gare : scénarios de "
        "programmation et d'aménagement",
        "2021-valenciennes-passage-de-la-paix",
    ),
    (
        "Concertation citoyenne pour définir les usages, les services et la gouvernance "
        "d'une maison communale",
        "2022-havelinghen-emergence-tiers-lieu",
    ),
    (
        "Actions de médiation numérique et de lutte contre la fracture numérique auprès des "
        "habitants d'un quartier prioritaire de la politique de la ville",
        "anzin-mediation-numerique-qpv",
    ),
    (
        "Ateliers de co-design avec les patients, les usagers et le personnel pour repenser "
        "l'accueil d'un établissement de santé",
        "2019-epsm-lille-metropole-co-design-usagers",
    ),
    (
        "Préfiguration d'un lieu dédié à l'innovation et à l'habitat de demain : ateliers de "
        "prototypage des services",
        "vilogia-lieu-innovation-habitat",
    ),
]


@pytest.mark.parametrize(("text", "expected"), QUERIES, ids=[e for _, e in QUERIES])
def test_a_tender_object_ranks_the_right_mission_first(
    library: Library, text: str, expected: str
) -> None:
    result = pick(library, PickQuery(text=text), today=TODAY)
    first = result.selected[0]
    assert first.id == expected, [(s.id, s.score) for s in result.selected[:3]]
    assert first.parts.text == 1.0
    assert first.words  # the why names the words that matched


def test_the_why_names_matched_tags_and_words_as_typed(library: Library) -> None:
    result = pick(library, PickQuery(text=QUERIES[0][0]), today=TODAY)
    first = result.selected[0]
    assert "Tiers-lieu" in first.tags
    assert "intercommunal" in first.words
    assert "économique" in first.words  # the query's accents, not the folded form
    assert first.why.startswith("tags: Tiers-lieu; words: ")


def test_a_query_keeps_only_missions_it_is_about(library: Library) -> None:
    result = pick(library, PickQuery(text="gratiféria Canva"), today=TODAY)
    assert result.ids == ["anzin-mediation-numerique-qpv"]
    assert result.unmatched == len(library.missions) - 1


def test_tags_filter_and_text_ranks_when_both_are_given(library: Library) -> None:
    result = pick(
        library, PickQuery(tags=("tiers-lieu",), text="fablab friche commerciale"), today=TODAY
    )
    assert set(result.ids) == TIERS_LIEU
    assert result.ids[0] == "2021-cc-haute-somme-tiers-lieu-peronne"


# --------------------------------------------------------------------------- filters


def test_since_keeps_the_four_recent_and_excludes_the_undated_with_the_reason(
    library: Library,
) -> None:
    result = pick(library, PickQuery(tags=("tiers-lieu",), since=2021), today=TODAY)
    assert set(result.ids) == {
        "2021-cc-haute-somme-tiers-lieu-peronne",
        "2021-region-bourgogne-village-du-futur",
        "2021-valenciennes-passage-de-la-paix",
        "2022-havelinghen-emergence-tiers-lieu",
    }
    reasons = {item.id: item.reasons for item in result.excluded}
    assert reasons == {
        "2019-cc-haute-somme-feuille-de-route-tiers-lieu": ("ended in 2020, before 2021",),
        "vilogia-lieu-innovation-habitat": ("no dates (needed to check: ended in 2021 or later)",),
    }


def test_within_counts_back_from_the_reference_date(library: Library) -> None:
    query = PickQuery(tags=("tiers-lieu",), within=5, on=date(2026, 4, 17))
    result = pick(library, query, today=date(2000, 1, 1))  # `on` wins over today
    assert result.reference_date == date(2026, 4, 17)
    excluded = {item.id: item.reasons for item in result.excluded}
    assert excluded["2019-cc-haute-somme-feuille-de-route-tiers-lieu"] == (
        "ended in 2020, more than 5 year(s) before 2026-04-17",
    )
    # "2021" without a month could have ended after April: the benefit of the doubt.
    assert "2021-valenciennes-passage-de-la-paix" in result.ids
    assert excluded["vilogia-lieu-innovation-habitat"][0].startswith("no dates")


def test_amount_client_kind_entity_and_required_facts(library: Library) -> None:
    query = PickQuery(
        tags=("tiers-lieu",),
        min_amount=10000,
        max_amount=100000,
        client_kind="public",
        entity="pop-up",
        require=("dates", "attestation"),
    )
    result = pick(library, query, today=TODAY)
    assert result.ids == []
    reasons = {item.id: item.reasons for item in result.excluded}
    assert reasons["2022-havelinghen-emergence-tiers-lieu"] == (
        "amount 6\u202f000 € HT is below the minimum 10\u202f000 €",
        "no attestation (required on every reference)",
    )
    assert reasons["2021-cc-haute-somme-tiers-lieu-peronne"] == (
        "amount 213\u202f000 € HT is above the maximum 100\u202f000 €",
        "carried by pop-cafe, not pop-up",
        "no attestation (required on every reference)",
    )
    assert reasons["vilogia-lieu-innovation-habitat"] == (
        "no client kind (needed to check: public client)",
        "no dates (required on every reference)",
        "no attestation (required on every reference)",
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (PickQuery(min_amount=10, max_amount=5), "above the maximum"),
        (PickQuery(limit=0), "at least 1"),
        (PickQuery(within=-1), "0 or more"),
        (PickQuery(entity="pop-upp"), "did you mean 'pop-up'"),
    ],
)
def test_a_query_that_cannot_run_is_a_usage_error(
    library: Library, query: PickQuery, message: str
) -> None:
    with pytest.raises(PickError, match=message) as caught:
        pick(library, query, today=TODAY)
    assert int(caught.value.exit_status) == 2


def test_limit_keeps_the_best_and_names_the_rest(library: Library) -> None:
    full = pick(library, PickQuery(tags=("tiers-lieu",)), today=TODAY)
    cut = pick(library, PickQuery(tags=("tiers-lieu",), limit=2), today=TODAY)
    assert cut.ids == full.ids[:2]
    assert list(cut.beyond_limit) == full.ids[2:]


# --------------------------------------------------------------------------- the score


def test_score_is_the_documented_weighted_sum(library: Library) -> None:
    result = pick(library, PickQuery(text=QUERIES[1][0], tags=("fablab",)), today=TODAY)
    for item in result.selected:
        expected = (
            WEIGHT_TEXT * item.parts.text
            + WEIGHT_TAGS * item.parts.tags
            + WEIGHT_RECENCY * item.parts.recency
        )
        assert item.score == pytest.approx(expected, abs=1e-4)
        for part in (item.parts.text, item.parts.tags, item.parts.recency):
            assert 0.0 <= part <= 1.0


def test_recency_halves_every_four_years_and_is_zero_undated(library: Library) -> None:
    peronne = library.missions["2021-cc-haute-somme-tiers-lieu-peronne"]  # ends 2024
    assert recency(peronne, date(2024, 6, 1)) == 1.0
    assert recency(peronne, date(2028, 6, 1)) == pytest.approx(0.5)
    assert recency(library.missions["vilogia-lieu-innovation-habitat"], TODAY) == 0.0


def test_equal_scores_go_to_the_more_recent_then_the_id(library: Library) -> None:
    result = pick(library, PickQuery(tags=("tiers-lieu",)), today=TODAY)
    assert result.ids == [
        "2021-cc-haute-somme-tiers-lieu-peronne",  # ends 2024
        "2021-region-bourgogne-village-du-futur",  # ends 2022, same score as the next
        "2022-havelinghen-emergence-tiers-lieu",  # ends 2022
        "2021-valenciennes-passage-de-la-paix",
        "2019-cc-haute-somme-feuille-de-route-tiers-lieu",
        "vilogia-lieu-innovation-habitat",  # undated: last
    ]
    bourgogne, havelinghen = result.selected[1], result.selected[2]
    assert bourgogne.score == havelinghen.score


def test_json_gives_the_parts(library: Library) -> None:
    data = pick(library, PickQuery(text=QUERIES[0][0], limit=2), today=TODAY).to_json()
    first = data["selected"][0]
    assert set(first["parts"]) == {"text", "tags", "recency"}
    assert first["why"]["tags"] == ["Tiers-lieu"]
    assert data["weights"] == {"text": 0.5, "tags": 0.35, "recency": 0.15}
    assert data["query"]["query_tags"] == ["tiers-lieu", "numerique"]
    assert len(data["selected"]) == 2
    assert data["beyond_limit"]  # every mission shares a word with this query


# --------------------------------------------------------------------------- properties

_TAG_KEYS = ["tiers-lieu", "ateliers", "fablab", "habitants", "usages"]
_TAXONOMY = Taxonomy(Tag(key, key.replace("-", " ").capitalize(), ()) for key in _TAG_KEYS)
_WORDS = "tiers lieu atelier fablab habitants usages village numérique gouvernance".split()


@st.composite
def missions(draw: st.DrawFn) -> Mission:
    start = draw(st.none() | st.integers(2010, 2026))
    period: Any = None
    if start is not None:
        end = draw(st.none() | st.integers(start, 2027))
        period = {"start": start, "end": end} if end is not None else {"start": start}
    data: dict[str, Any] = {
        "title": " ".join(draw(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=4))),
        "client": {
            "name": "Client",
            "kind": draw(st.none() | st.sampled_from(["public", "private"])),
        },
        "context": " ".join(draw(st.lists(st.sampled_from(_WORDS), max_size=8))),
        "tags": draw(st.lists(st.sampled_from(_TAG_KEYS), max_size=3, unique=True)),
    }
    if period is not None:
        data["period"] = period
    if draw(st.booleans()):
        data["budget"] = draw(st.integers(0, 300_000))
    if draw(st.booleans()):
        data["entity"] = draw(st.sampled_from(["pop-up", "pop-cafe"]))
    return Mission.model_validate(data)


libraries = st.dictionaries(
    st.from_regex(r"m[a-z0-9]{1,5}", fullmatch=True), missions(), min_size=0, max_size=10
).map(
    lambda found: Library(
        Path("/synthetic"),
        found,
        {},
        _TAXONOMY,
        {"pop-up": Entity(name="POP Up"), "pop-cafe": Entity(name="POP Café")},
    )
)

queries = st.builds(
    PickQuery,
    tags=st.lists(st.sampled_from(_TAG_KEYS), max_size=2).map(tuple),
    match=st.sampled_from(["any", "all"]),
    text=st.none() | st.lists(st.sampled_from(_WORDS), min_size=1, max_size=4).map(" ".join),
    since=st.none() | st.integers(2010, 2027),
    within=st.none() | st.integers(0, 8),
    on=st.none() | st.dates(date(2015, 1, 1), date(2030, 12, 31)),
    min_amount=st.none() | st.integers(0, 100_000),
    client_kind=st.none() | st.sampled_from(["public", "private"]),
    entity=st.none() | st.sampled_from(["pop-up", "pop-cafe"]),
    require=st.lists(
        st.sampled_from(["amount", "dates", "client_kind", "attestation"]), unique=True
    ).map(tuple),
    limit=st.none() | st.integers(1, 5),
)


def _ranked(result: PickResult) -> list[tuple[str, float]]:
    return [(item.id, item.score) for item in result.selected]


@settings(max_examples=150, deadline=None)
@given(libraries, queries)
def test_every_mission_is_selected_excluded_cut_or_counted_once(
    library: Library, query: PickQuery
) -> None:
    result = pick(library, query, today=TODAY)
    selected = result.ids
    excluded = [item.id for item in result.excluded]
    beyond = list(result.beyond_limit)
    everyone = selected + excluded + beyond
    assert len(everyone) == len(set(everyone))
    assert len(everyone) + result.unmatched == len(library.missions)
    if query.limit is not None:
        assert len(selected) <= query.limit
        assert not beyond or len(selected) == query.limit
    for item in result.selected:
        assert filter_reasons(item.mission, query, result.reference_date) == ()
    for gone in result.excluded:
        assert gone.reasons
        assert gone.reasons == filter_reasons(gone.mission, query, result.reference_date)


@settings(max_examples=150, deadline=None)
@given(libraries, queries)
def test_a_mission_lacking_a_fact_a_filter_needs_is_excluded_with_a_no_reason(
    library: Library, query: PickQuery
) -> None:
    result = pick(library, query, today=TODAY)
    kept = {*result.ids, *result.beyond_limit}
    for mission_id, mission in library.missions.items():
        if mission_id not in kept:
            continue
        if query.since is not None or query.within is not None or "dates" in query.require:
            assert mission.period is not None
        if query.min_amount is not None or "amount" in query.require:
            assert mission.budget is not None
        if query.client_kind is not None or "client_kind" in query.require:
            assert mission.client.kind == (query.client_kind or mission.client.kind)
            assert mission.client.kind is not None
    for item in result.excluded:
        mission = item.mission
        if mission.period is None and (query.since is not None or query.within is not None):
            assert any(reason.startswith("no dates") for reason in item.reasons)


@settings(max_examples=150, deadline=None)
@given(libraries, queries, st.randoms(use_true_random=False))
def test_the_order_is_the_same_whatever_the_order_of_the_files(
    library: Library, query: PickQuery, rng: random.Random
) -> None:
    shuffled_ids = list(library.missions)
    rng.shuffle(shuffled_ids)
    shuffled = dataclasses.replace(
        library, missions={key: library.missions[key] for key in shuffled_ids}
    )
    one = pick(library, query, today=TODAY)
    two = pick(shuffled, query, today=TODAY)
    assert _ranked(one) == _ranked(two)
    assert one.excluded == two.excluded
    assert one.beyond_limit == two.beyond_limit


@settings(max_examples=150, deadline=None)
@given(libraries, queries)
def test_the_ranking_follows_score_then_recency_then_id(library: Library, query: PickQuery) -> None:
    result = pick(library, dataclasses.replace(query, limit=None), today=TODAY)
    keys = []
    for item in result.selected:
        period = item.mission.period
        end = (period.end or period.start) if period else None
        recent = (-end.year, -(end.month or 0)) if end else (1, 0)
        keys.append((-item.score, recent, item.id))
    assert keys == sorted(keys)
    assert [item.rank for item in result.selected] == list(range(1, len(keys) + 1))


@settings(max_examples=150, deadline=None)
@given(libraries, queries, st.integers(2010, 2027))
def test_a_filter_more_only_removes_and_never_changes_a_score(
    library: Library, query: PickQuery, since: int
) -> None:
    loose = dataclasses.replace(query, since=None, limit=None)
    strict = dataclasses.replace(query, since=since, limit=None)
    before = dict(_ranked(pick(library, loose, today=TODAY)))
    after = dict(_ranked(pick(library, strict, today=TODAY)))
    assert set(after) <= set(before)
    assert all(after[key] == before[key] for key in after)


@settings(max_examples=100, deadline=None)
@given(libraries, queries)
def test_a_limit_gives_a_prefix_of_the_full_ranking(library: Library, query: PickQuery) -> None:
    full = pick(library, dataclasses.replace(query, limit=None), today=TODAY)
    cut = pick(library, query, today=TODAY)
    assert cut.ids == full.ids[: len(cut.ids)]
    assert list(cut.beyond_limit) == full.ids[len(cut.ids) :]


_TERMS = ["programm", "tier", "lieu", "numer", "tier lieu", "lieu numer", "a"]


@settings(max_examples=300, deadline=None)
@given(
    shares=st.dictionaries(
        st.sampled_from(_TERMS),
        st.sampled_from([0.5, 0.25, 0.125, 1.0]),  # few values: ties are common
        min_size=1,
    )
)
def test_the_why_words_are_the_greater_shares_first_then_by_term(
    shares: dict[str, float],
) -> None:
    typed = {term: f"typed {term}" for term in _TERMS}
    mission = MissionSummary(
        "m", SummaryClient("c", None, None), None, None, None, (), None, "named"
    )
    item = SelectedOf(
        1,
        "m",
        mission,
        ScoreParts(0.0, 0.0, 0.0),
        (),
        Hit(sum(shares.values()), shares),
        QueryTerms((), (), typed),
    )
    ranked = sorted(shares.items(), key=lambda pair: (-pair[1], pair[0]))
    assert item.words == tuple(typed[term] for term, _ in ranked[:6])
