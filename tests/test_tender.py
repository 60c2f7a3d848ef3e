"""Tender files: the example, validation with file:line:col, the pick a tender asks for."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from refsheets.errors import NotFoundError
from refsheets.library import Library, load_library
from refsheets.select import pick
from refsheets.tender import Tender, TenderError, load_tender
from tests.conftest import DATA, ROOT

EXAMPLE = ROOT / "tenders" / "example.yaml"

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
        "  client_kind: publique\n"
        "  required_facts: [amount, photo]\n"
        "format: [pdf]\n"
        "layout: Pop Up\n"
    )
    path = _write(tmp_path, text)
    problems = _problems(path)
    assert any(
        p.startswith(f"{path}:6:10: rules.years: should be a whole number") for p in problems
    )
    assert any(p.startswith(f"{path}:7:16: rules.client_kind: 'publique'") for p in problems)
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
