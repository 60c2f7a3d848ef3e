"""French formatting of amounts and periods."""

from __future__ import annotations

from refsheets.model import Budget, Period
from refsheets.text import NBSP, NNBSP, format_amount, format_period, group_thousands


def test_amounts() -> None:
    assert format_amount(Budget(amount=213000)) == f"213{NNBSP}000{NBSP}€{NBSP}HT"
    assert format_amount(Budget(amount=1250, basis="TTC")) == f"1{NNBSP}250{NBSP}€{NBSP}TTC"
    assert group_thousands(999) == "999"
    assert group_thousands(1234567) == f"1{NNBSP}234{NNBSP}567"


def test_periods() -> None:
    assert format_period(Period.model_validate("2019 - 2020")) == "2019–2020"
    assert format_period(Period.model_validate("2022")) == "2022"
    assert format_period(Period.model_validate("2019-05 - 2020-03")) == (
        f"mai{NBSP}2019 – mars{NBSP}2020"
    )
    assert format_period(Period.model_validate("2019-05 - 2020-03"), "en") == (
        f"May{NBSP}2019 – March{NBSP}2020"
    )
    assert format_period(Period.model_validate({"start": 2019})) == "depuis 2019"
    assert format_period(None) is None
