"""Values as a French bid manager writes them, in missions, tender files and options."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refsheets import french, load_library
from refsheets.model import Budget, Client, Mission, Partner, Period, YearMonth
from refsheets.tender import load_tender
from tests.conftest import run_cli


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("mars 2025 - novembre 2025", YearMonth(2025, 3), YearMonth(2025, 11)),
        ("Mars 2025 – Novembre 2025", YearMonth(2025, 3), YearMonth(2025, 11)),
        ("03/2025 - 11/2025", YearMonth(2025, 3), YearMonth(2025, 11)),
        ("de janv. 2024 à déc. 2024", YearMonth(2024, 1), YearMonth(2024, 12)),
        ("février 2023 à août 2024", YearMonth(2023, 2), YearMonth(2024, 8)),
        ("depuis 2024", YearMonth(2024), None),
        ("depuis mars 2024", YearMonth(2024, 3), None),
        ("2019 - 2020", YearMonth(2019), YearMonth(2020)),
        ("2021/2022", YearMonth(2021), YearMonth(2022)),
        ("2021-2024", YearMonth(2021), YearMonth(2024)),
        ("2022", YearMonth(2022), YearMonth(2022)),
        ("2019-05 - 2020-03", YearMonth(2019, 5), YearMonth(2020, 3)),
    ],
)
def test_periods_as_written(text: str, start: YearMonth, end: YearMonth | None) -> None:
    period = Period.model_validate(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["mars - novembre", "2025 à bientôt", "13/2025 - 14/2025"])
def test_a_refused_period_lists_every_accepted_form(text: str) -> None:
    with pytest.raises(ValueError) as info:
        Period.model_validate(text)
    message = str(info.value)
    assert "mars 2025 - novembre 2025" in message or "month 13" in message
    if "month 13" not in message:
        assert "03/2025 - 11/2025" in message and "depuis 2024" in message


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("15/01/2027", dt.date(2027, 1, 15)),
        ("15.01.2027", dt.date(2027, 1, 15)),
        ("5/1/2027", dt.date(2027, 1, 5)),
        ("15 janvier 2027", dt.date(2027, 1, 15)),
        ("1er mars 2027", dt.date(2027, 3, 1)),
        ("lundi 15 février 2027", dt.date(2027, 2, 15)),
        ("2027-01-15", dt.date(2027, 1, 15)),
    ],
)
def test_days_as_written(text: str, day: dt.date) -> None:
    assert french.parse_day(text) == day


def test_a_refused_day_says_the_accepted_forms_not_a_year_error() -> None:
    with pytest.raises(ValueError, match="15/01/2027") as info:
        french.parse_day("2027/01/15")
    assert "invalid character" not in str(info.value)
    with pytest.raises(ValueError, match="not a day of the calendar"):
        french.parse_day("31/02/2027")


@pytest.mark.parametrize(
    ("text", "amount", "basis"),
    [
        ("18.000 €", 18_000, None),
        ("18.000 € HT", 18_000, "HT"),
        ("20 000 € HT", 20_000, "HT"),
        ("20\u202f000\u00a0€ TTC", 20_000, "TTC"),
        ("20 000,00 € H.T.", 20_000, "HT"),
        ("20000 euros hors taxes", 20_000, "HT"),
        ("20 k€ HT", 20_000, "HT"),
        ("20K€", 20_000, None),
        ("1,5 k€ TTC", 1_500, "TTC"),
        ("1,2 M€ HT", 1_200_000, "HT"),
        ("1250€ HT", 1_250, "HT"),
    ],
)
def test_amounts_as_written(text: str, amount: int, basis: str | None) -> None:
    assert french.parse_amount(text) == (amount, basis)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("18,000 €", "ambiguous"),
        ("1.5 k€", "decimal point"),
        ("1.500 k€", "ambiguous"),
        ("12,50 €", "cents"),
        ("douze mille", "20 k€ HT"),
    ],
)
def test_ambiguous_amounts_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        french.parse_amount(text)


@given(st.integers(min_value=1_000, max_value=9_999_999))
def test_every_grouping_of_an_amount_reads_the_same(amount: int) -> None:
    spaced = f"{amount:,}".replace(",", " ")
    dotted = f"{amount:,}".replace(",", ".")
    for text in (str(amount), spaced, dotted, f"{spaced} € HT", f"{dotted} € HT"):
        assert french.parse_amount(text)[0] == amount


@pytest.mark.parametrize(
    ("text", "kind"),
    [("public", "public"), ("publique", "public"), ("Publique", "public"),
     ("privé", "private"), ("Privée", "private"), ("prive", "private"),
     ("private", "private")],
)  # fmt: skip
def test_client_kinds_in_french_and_english(text: str, kind: str) -> None:
    assert Client(name="X", kind=text).kind == kind


def test_a_refused_client_kind_lists_the_accepted_words() -> None:
    with pytest.raises(ValueError, match=r"publique.*privé"):
        Client(name="X", kind="associatif")


@pytest.mark.parametrize(
    ("text", "role"),
    [("mandataire", "lead"), ("Mandataire", "lead"), ("lead", "lead"),
     ("cotraitant", "co-contractor"), ("co-traitant", "co-contractor"),
     ("co-contractor", "co-contractor"), ("sous-traitant", "subcontractor"),
     ("sous traitant", "subcontractor"), ("subcontractor", "subcontractor"),
     ("titulaire", "sole"), ("sole", "sole")],
)  # fmt: skip
def test_roles_in_french_and_english(text: str, role: str) -> None:
    assert Partner(name="X", role=text).role == role
    mission = Mission.model_validate({"title": "T", "client": {"name": "C"}, "role": text})
    assert mission.role == role


def test_a_refused_role_lists_the_accepted_words() -> None:
    with pytest.raises(ValueError, match=r"mandataire.*cotraitant.*sous-traitant"):
        Partner(name="X", role="associé")


def test_a_mission_file_in_french_loads(library_copy: Path) -> None:
    path = library_copy / "missions" / "fr.yaml"
    path.write_text(
        "title: Étude\nclient:\n  name: Commune de Test\n  kind: publique\n"
        "period: mars 2025 - novembre 2025\nentity: pop-up\nrole: mandataire\n"
        "partners:\n  - name: Atelier X\n    role: cotraitant\n"
        "deliverables: [Rapport]\nbudget: 18.000 € HT\n",
        encoding="utf-8",
    )
    library = load_library(library_copy)
    mission = library.missions["fr"]
    assert mission.client.kind == "public" and mission.role == "lead"
    assert mission.budget == Budget(amount=18_000, basis="HT")
    assert mission.period is not None and str(mission.period.end) == "2025-11"
    assert [d for d in library.diagnostics if d.path == path] == []


def test_an_amount_without_basis_is_a_warning_saying_what_was_assumed(
    library_copy: Path,
) -> None:
    path = library_copy / "missions" / "fr.yaml"
    path.write_text(
        "title: Étude\nclient:\n  name: Commune de Test\n  kind: public\nperiod: 2024\n"
        "entity: pop-up\ndeliverables: [Rapport]\nbudget: 18.000 €\n",
        encoding="utf-8",
    )
    library = load_library(library_copy)
    (warning,) = [d for d in library.diagnostics if d.path == path]
    assert (warning.severity, warning.line, warning.field) == ("warning", 8, "budget")
    assert "read as 18 000 € HT" in warning.message and "HT or TTC" in warning.message
    assert library.missions["fr"].budget == Budget(amount=18_000, basis="HT")


def test_a_tender_file_in_french_loads(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "name: AMO\nbuyer: Commune de Test\ndeadline: 15/01/2027\nentity: pop-up\n"
        "rules:\n  client_kind: publique\n  min_amount: 10 k€ HT\n",
        encoding="utf-8",
    )
    tender = load_tender(path)
    assert tender.deadline == dt.date(2027, 1, 15)
    assert tender.rules.client_kind == "public" and tender.rules.min_amount == 10_000


def test_pick_options_in_french() -> None:
    french_run = run_cli(
        ["pick", "--tag", "tiers-lieu", "--within", "5", "--on", "15/01/2027",
         "--min-amount", "10 k€", "--client-kind", "publique", "--ids"]
    )  # fmt: skip
    english_run = run_cli(
        ["pick", "--tag", "tiers-lieu", "--within", "5", "--on", "2027-01-15",
         "--min-amount", "10000", "--client-kind", "public", "--ids"]
    )  # fmt: skip
    assert french_run.returncode == 0, french_run.stderr
    assert french_run.stdout == english_run.stdout != ""
    bad = run_cli(["pick", "--on", "2027/01/15"])
    assert bad.returncode == 2 and "15/01/2027" in bad.stderr
