"""The mission model: short forms, bounds, private fields."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from refsheets.model import Budget, Mission, Period, YearMonth, parse_year_month

MINIMAL = {"title": "T", "client": {"name": "C"}}


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2019 - 2020", "2019", "2020"),
        ("2019-2020", "2019", "2020"),
        ("2019 – 2020", "2019", "2020"),
        ("2021/2022", "2021", "2022"),
        ("2022", "2022", "2022"),
        ("2019-05 - 2020-03", "2019-05", "2020-03"),
        ("2019-05", "2019-05", "2019-05"),
    ],
)
def test_period_short_forms(text: str, start: str, end: str) -> None:
    period = Period.model_validate(text)
    assert (str(period.start), str(period.end)) == (start, end)


def test_period_keys_and_int() -> None:
    assert Period.model_validate({"start": 2019, "end": "2020-02"}).end == YearMonth(2020, 2)
    assert Period.model_validate(2022).start == YearMonth(2022)
    assert Period.model_validate({"start": 2019}).last_year == 2019


@pytest.mark.parametrize("bad", ["2022 - 2019", "2019-13", "19-20", "hier", "2020-05 - 2020-01"])
def test_period_rejects(bad: str) -> None:
    with pytest.raises(ValidationError):
        Period.model_validate(bad)


@pytest.mark.parametrize(
    ("text", "amount", "basis"),
    [
        ("20 000 € HT", 20000, "HT"),
        ("1250€ HT", 1250, "HT"),
        ("213\u202f000\u00a0€ TTC", 213000, "TTC"),
        ("6000 € HT", 6000, "HT"),
        ("45 700 €", 45700, "HT"),
        ("12.400 EUR HT", 12400, "HT"),
        ("3 700,00 € HT", 3700, "HT"),
    ],
)
def test_budget_short_forms(text: str, amount: int, basis: str) -> None:
    budget = Budget.model_validate(text)
    assert (budget.amount, budget.basis, budget.currency) == (amount, basis, "EUR")


@pytest.mark.parametrize("bad", [1.2, "1 250,50 €", "beaucoup", -5, {"amount": "12"}, True])
def test_budget_rejects(bad: object) -> None:
    with pytest.raises(ValidationError):
        Budget.model_validate(bad)


@given(st.integers(min_value=0, max_value=10**9))
def test_budget_reads_back_its_french_form(amount: int) -> None:
    grouped = f"{amount:,}".replace(",", " ")
    assert Budget.model_validate(f"{grouped} € HT").amount == amount
    assert Budget.model_validate(amount).amount == amount


@given(st.integers(1900, 2200), st.one_of(st.none(), st.integers(1, 12)))
def test_year_month_round_trip(year: int, month: int | None) -> None:
    value = YearMonth(year, month)
    assert parse_year_month(str(value)) == value


def test_unknown_keys_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        Mission.model_validate({**MINIMAL, "titel": "x"})
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_anonymous_needs_label() -> None:
    with pytest.raises(ValidationError, match="anonymous_label"):
        Mission.model_validate({**MINIMAL, "disclosure": "anonymous"})
    mission = Mission.model_validate(
        {
            "title": "T",
            "client": {"name": "C", "anonymous_label": "Commune"},
            "disclosure": "anonymous",
        }
    )
    assert mission.client.anonymous_label == "Commune"


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../x.png", "a/../../x.png", "file:///etc/x", "http://x/y.png", "//host/x"],
)
def test_paths_cannot_leave_the_library(path: str) -> None:
    with pytest.raises(ValidationError):
        Mission.model_validate({**MINIMAL, "photos": [{"path": path}]})
    with pytest.raises(ValidationError):
        Mission.model_validate({**MINIMAL, "attestation": path})


def test_control_characters_rejected() -> None:
    with pytest.raises(ValidationError, match="U\\+0000"):
        Mission.model_validate({**MINIMAL, "context": "a\x00b"})
