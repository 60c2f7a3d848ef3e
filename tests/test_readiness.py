"""A tender's readiness: the deadline, each lot's count against the RC, drifting windows,
missing facts and attestations, sister brands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from refsheets.library import Library, load_library
from refsheets.readiness import assess, describe_rules
from refsheets.tender import load_tender
from tests.conftest import DATA, SEED_TENDERS

LOTS = SEED_TENDERS / "example-lots.yaml"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(DATA)


def test_the_two_lot_example_is_ready_before_its_deadline(library: Library) -> None:
    verdict = assess(load_tender(LOTS, library=library), library, today=date(2026, 11, 30))
    assert verdict.ready and not verdict.past
    assert verdict.days_left == 60
    one, two = verdict.lots
    assert (one.scope.number, two.scope.number) == ("1", "2")
    assert one.choice.qualifying == 3 and len(one.choice.chosen) == 3
    # Passage de la Paix ended in 2021: inside the 5-year window today, out of it from
    # January 2027, before the deadline of 29 January 2027.
    assert [(x.id, x.month) for x in one.leaving] == [
        ("2021-valenciennes-passage-de-la-paix", "2027-01")
    ]
    assert ("2021-cc-haute-somme-tiers-lieu-peronne", "pop-cafe") in one.sister
    assert {gap.id for gap in one.gaps if gap.chosen} == set(one.choice.ids)  # no attestations
    assert all(gap.facts == ("attestation",) for gap in one.gaps)
    data = verdict.to_json()
    assert data["ready"] is True and data["days_left"] == 60
    assert data["lots"][0]["included"][1] == {
        "id": "2019-cc-haute-somme-feuille-de-route-tiers-lieu",
        "waived": ["years"],
        "reason": one.scope.include[1].reason,
    }
    assert data["lots"][1]["excluded_by_hand"][0]["id"] == "vilogia-lieu-innovation-habitat"


def test_a_past_deadline_is_reported_and_the_window_no_longer_drifts(library: Library) -> None:
    verdict = assess(load_tender(LOTS, library=library), library, today=date(2027, 3, 1))
    assert verdict.past and verdict.days_left == -31
    assert verdict.lots[0].leaving == ()
    assert verdict.to_json()["past_deadline"] is True


def test_a_shortfall_is_not_ready(tmp_path: Path, library: Library) -> None:
    text = LOTS.read_text(encoding="utf-8").replace("      min_references: 1\n", "")
    text = text.replace("      max_references: 2\n", "      min_references: 3\n")
    path = tmp_path / "t.yaml"
    path.write_text(text, encoding="utf-8")
    verdict = assess(load_tender(path, library=library), library, today=date(2026, 11, 30))
    assert not verdict.ready
    one, two = verdict.lots
    assert one.ready and not two.ready
    assert two.choice.errors[0].startswith("lot 2: 2 reference(s) meet the rules")
    # the candidate that only lacks a required fact is named with what would let it in
    assert [(g.id, g.facts) for g in two.gaps if not g.chosen] == [
        ("anzin-mediation-numerique-qpv", ("dates",))
    ]


def test_one_lot_alone(library: Library) -> None:
    verdict = assess(load_tender(LOTS, library=library), library, today=date(2026, 11, 30), lot="2")
    assert [lot.scope.number for lot in verdict.lots] == ["2"]


def test_rules_in_a_line(library: Library) -> None:
    one = load_tender(LOTS, library=library).scopes()[0]
    assert describe_rules(one) == (
        "ended at most 5 year(s) before the deadline; at least 10\u202f000 €; public clients; "
        "showing amount, dates (start and end), client kind"
    )
