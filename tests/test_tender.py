"""Tender files: the example, validation with file:line:col, the pick a tender asks for."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from refsheets.errors import NotFoundError
from refsheets.library import Library, load_library
from refsheets.select import pick
from refsheets.tender import Tender, TenderError, load_tender
from tests.conftest import DATA, SEED_TENDERS

EXAMPLE = SEED_TENDERS / "example.yaml"

MINIMAL = """\
name: AMO tiers-lieu
buyer: Commune de Test
deadline: 2026-04-17
entity: pop-up
"""


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(DATA)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tender.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path, library: Library | None = None) -> list[str]:
    with pytest.raises(TenderError) as caught:
        load_tender(path, library=library)
    return [d.format() for d in caught.value.diagnostics]


def test_the_example_is_a_valid_amo_call_on_a_tiers_lieu(library: Library) -> None:
    tender = load_tender(EXAMPLE, library=library)
    assert "maîtrise d'ouvrage" in tender.name
    assert tender.deadline.year == 2026
    assert tender.themes == ["tiers-lieu"]
    assert tender.rules.max_references == 3
    assert tender.formats == ["pdf", "docx"]
    query = tender.pick_query()
    assert query.on == tender.deadline
    assert query.within == tender.rules.years
    assert query.limit == 3
    assert query.text == tender.query
    assert query.require == ("amount", "dates", "client_kind")


def test_the_example_is_satisfied_by_the_real_library(library: Library) -> None:
    tender = load_tender(EXAMPLE, library=library)
    result = pick(library, tender.pick_query(), today=date(2026, 3, 1))
    assert len(result.ids) == 3
    assert result.ids[0] == "2021-cc-haute-somme-tiers-lieu-peronne"
    reasons = {item.id: item.reasons for item in result.excluded}
    assert reasons["2019-cc-haute-somme-feuille-de-route-tiers-lieu"] == (
        "ended in 2020, more than 5 year(s) before 2026-04-17",
    )
    assert reasons["vilogia-lieu-innovation-habitat"][0].startswith("no dates")


def test_a_minimal_tender_takes_defaults(tmp_path: Path) -> None:
    tender = load_tender(_write(tmp_path, MINIMAL))
    assert tender.formats == ["pdf"]
    assert tender.language == "fr"
    query = tender.pick_query()
    assert query.text == "AMO tiers-lieu"  # no object: the name is ranked
    assert query.entity is None  # other structures' references are allowed by default
    assert query.limit is None


def test_own_references_only_filters_by_the_answering_entity(tmp_path: Path) -> None:
    text = MINIMAL + "rules:\n  own_references_only: true\n"
    assert load_tender(_write(tmp_path, text)).pick_query().entity == "pop-up"


def test_a_deadline_with_an_hour_keeps_the_day(tmp_path: Path) -> None:
    text = MINIMAL.replace("deadline: 2026-04-17", "deadline: 2026-04-17 12:00:00")
    assert load_tender(_write(tmp_path, text)).deadline == date(2026, 4, 17)


def test_every_problem_is_reported_at_its_line(tmp_path: Path) -> None:
    text = (
        "name: AMO\n"
        "buyer: Commune\n"
        "deadline: 2026-04-17\n"
        "entity: pop-up\n"
        "rules:\n"
        "  years: five\n"
        "  client_kind: associatif\n"
        "  required_facts: [amount, photo]\n"
        "format: [pdf]\n"
        "layout: Pop Up\n"
    )
    path = _write(tmp_path, text)
    problems = _problems(path)
    assert any(
        p.startswith(f"{path}:6:10: rules.years: should be a whole number") for p in problems
    )
    assert any(
        p.startswith(f"{path}:7:16: rules.client_kind: 'associatif' is not a client kind")
        for p in problems
    )
    assert any(p.startswith(f"{path}:8:28: rules.required_facts[1]") for p in problems)
    assert any(
        p == f"{path}:9:1: format: unknown key 'format'; did you mean 'formats'?" for p in problems
    )
    assert any(
        p.startswith(f"{path}:10:9: layout: 'Pop Up' is not a layout name") for p in problems
    )
    assert len(problems) == 5


def test_a_missing_deadline_is_required(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.replace("deadline: 2026-04-17\n", ""))
    assert any("'deadline' is required here" in p for p in _problems(path))


def test_an_impossible_date_points_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL.replace("2026-04-17", "2026-02-30"))
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:3:11: '2026-02-30' is not a real date")


def test_unknown_themes_and_entity_are_checked_against_the_library(
    tmp_path: Path, library: Library
) -> None:
    text = MINIMAL.replace("entity: pop-up", "entity: pop-upp") + "themes: [tiers-lieu, fab-lab2]\n"
    path = _write(tmp_path, text)
    assert isinstance(load_tender(path), Tender)  # without a library, the file alone is valid
    problems = _problems(path, library)
    assert f"{path}:4:9: entity: unknown entity 'pop-upp'; did you mean 'pop-up'?" in problems
    assert any(
        p.startswith(f"{path}:5:22: themes: unknown tag 'fab-lab2'; nearest known: fablab")
        for p in problems
    )


def test_a_missing_tender_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no tender file"):
        load_tender(tmp_path / "nope.yaml")


# --------------------------------------------------------------------------- issue 11

LOTS = SEED_TENDERS / "example-lots.yaml"


def test_the_two_lot_example_inherits_and_overrides(library: Library) -> None:
    tender = load_tender(LOTS, library=library)
    one, two = tender.scopes()
    assert (one.number, two.number) == ("1", "2")
    assert one.folder == "lot-1" and two.label == "lot 2"
    # rules: the tender's, with each lot's keys on top
    assert one.rules.min_amount == 10_000 and two.rules.min_amount is None
    assert one.rules.years == two.rules.years == 5
    assert (one.rules.min_references, one.rules.max_references) == (2, 3)
    assert (two.rules.min_references, two.rules.max_references) == (1, 2)
    # hand choice: lot 1's own inclusions; the tender's exclusion applies to both lots
    assert [item.id for item in one.include] == [
        "2021-cc-haute-somme-tiers-lieu-peronne",
        "2019-cc-haute-somme-feuille-de-route-tiers-lieu",
    ]
    assert one.include[1].waive == ["years"] and one.include[1].reason
    assert two.include == ()
    assert [item.id for item in two.exclude] == ["vilogia-lieu-innovation-habitat"]
    # subject: each lot's own
    assert one.themes == ("tiers-lieu",) and "numerique" in two.themes
    assert one.deadline == two.deadline == tender.deadline
    assert tender.scope(2) == two and tender.scope("1") == one
    assert one.pick_query().limit == 3 and two.pick_query().limit == 2


def test_a_lot_without_query_ranks_its_title_within_the_tender(tmp_path: Path) -> None:
    text = MINIMAL + "query: Objet du marché\nlots:\n  - number: 2A\n    title: Études\n"
    (lot,) = load_tender(_write(tmp_path, text)).scopes()
    assert lot.number == "2A" and lot.text == "Études\nObjet du marché"


def test_asking_for_a_lot_that_does_not_exist_names_the_lots(library: Library) -> None:
    tender = load_tender(LOTS, library=library)
    with pytest.raises(NotFoundError, match="no lot 3; its lots: 1, 2"):
        tender.scope(3)
    with pytest.raises(NotFoundError, match="has lots"):
        tender.scope(None)
    with pytest.raises(NotFoundError, match="has no lots"):
        load_tender(EXAMPLE).scope(1)


@pytest.mark.parametrize(
    ("written", "amount"),
    [("10 000 € HT", 10_000), ("10000", 10_000), ("'12 500 €'", 12_500), ("5000 EUR HT", 5000)],
)
def test_min_amount_takes_the_forms_of_a_budget(tmp_path: Path, written: str, amount: int) -> None:
    text = MINIMAL + f"rules:\n  min_amount: {written}\n"
    assert load_tender(_write(tmp_path, text)).rules.min_amount == amount


def test_a_bad_min_amount_points_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, MINIMAL + "rules:\n  min_amount: dix mille\n")
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:6:15: rules.min_amount: 'dix mille' is not an amount")


def test_hand_choice_mistakes_are_reported_at_their_lines(tmp_path: Path) -> None:
    text = MINIMAL + (
        "rules:\n"  # 5
        "  min_references: 4\n"  # 6
        "  max_references: 2\n"  # 7
        "references:\n"  # 8
        "  include:\n"  # 9
        "    - a\n"  # 10
        "    - a\n"  # 11
        "    - id: b\n"  # 12
        "      waive: [years]\n"  # 13
        "  exclude:\n"  # 14
        "    - b\n"  # 15
        "    - id: a\n"  # 16
        "      reason: trop ancienne\n"  # 17
    )
    path = _write(tmp_path, text)
    problems = _problems(path)
    assert any(
        p.startswith(f"{path}:12:7: references.include[2]: 'b' waives years") for p in problems
    )
    assert any(
        p.startswith(f"{path}:15:7: references.exclude[0]: an exclusion needs its reason")
        for p in problems
    )
    assert len(problems) == 2  # the file's keys first; the file as a whole once they are right
    text = text.replace("      waive: [years]\n", "").replace("    - b\n", "")
    problems = _problems(_write(tmp_path, text))
    assert (
        f"{path}:6:19: rules.min_references: asks at least 4 references but at most 2 "
        "(the tender); check the RC and fix one" in problems
    )
    assert f"{path}:11:7: references.include: 'a' is listed twice; keep one" in problems
    assert any(
        p.startswith(
            f"{path}:9:3: references.include: includes 3 references by hand "
            "but the annex holds at most 2"
        )
        for p in problems
    )
    assert (
        f"{path}:10:7: references.include: 'a' is both included and excluded (the tender); "
        "keep one of the two" in problems
    )


def test_an_unknown_rule_to_waive_lists_the_rules(tmp_path: Path) -> None:
    text = MINIMAL + "references:\n  include:\n    - id: a\n      waive: [year]\n      reason: x\n"
    (problem,) = _problems(_write(tmp_path, text))
    assert "'year' is not allowed; use one of 'years', 'min_amount'" in problem


def test_lot_numbers_are_checked(tmp_path: Path) -> None:
    text = MINIMAL + "lots:\n  - number: 1\n  - number: '1'\n  - number: lot 3\n"
    problems = _problems(_write(tmp_path, text))
    assert any("lots[2].number: 'lot 3' is not a lot number" in p for p in problems)
    text = MINIMAL + "lots:\n  - number: 1\n  - number: '1'\n"
    (problem,) = _problems(_write(tmp_path, text))
    assert problem.endswith(":7:13: lots.number: two lots are numbered 1")


def test_a_lot_breaking_the_tender_s_bounds_is_reported_at_the_lot(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + "rules:\n  max_references: 3\nlots:\n  - number: 1\n    rules:\n      min_references: 5\n"
    )
    (problem,) = _problems(_write(tmp_path, text))
    assert (
        ":10:23: lots.rules.min_references: asks at least 5 references but at most 3 (lot 1)"
        in problem
    )


def test_hand_picked_ids_are_checked_against_the_library(tmp_path: Path, library: Library) -> None:
    text = MINIMAL + (
        "references:\n  include: [2021-cc-haute-somme-tiers-lieu-peronn]\n"
        "lots:\n  - number: 1\n    references:\n      exclude:\n"
        "        - {id: nope, reason: x}\n"
    )
    path = _write(tmp_path, text)
    problems = _problems(path, library)
    assert (
        f"{path}:6:13: references.include: no mission '2021-cc-haute-somme-tiers-lieu-peronn' "
        "in the library; did you mean '2021-cc-haute-somme-tiers-lieu-peronne'?"
    ) in problems
    assert any(
        p.startswith(f"{path}:11:11: lots.references.exclude: no mission 'nope'") for p in problems
    )


def test_messages_about_a_tender_file_speak_of_a_tender(tmp_path: Path) -> None:
    (empty,) = _problems(_write(tmp_path, "# nothing yet\n"))
    assert "write the tender's keys (name: …, buyer: …, deadline: …)" in empty
    assert "mission" not in empty
    (listing,) = _problems(_write(tmp_path, "- name\n"))
    assert "(name: …, buyer: …, deadline: …)" in listing
