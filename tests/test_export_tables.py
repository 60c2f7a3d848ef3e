"""The DC2/DUME tables: what French Excel opens, the same bytes for the same rows."""

from __future__ import annotations

import csv
import io
import time

from openpyxl import load_workbook

from refsheets import load_library
from refsheets.export.tables import our_role, rows_for, to_csv, to_xlsx
from refsheets.model import Mission
from tests.conftest import DATA


def _rows() -> list:  # type: ignore[type-arg]
    library = load_library(DATA)
    return rows_for(list(library))


def test_csv_is_utf8_bom_semicolons_crlf() -> None:
    raw = to_csv(_rows())
    assert raw.startswith("\ufeff".encode())
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 1 + 8
    vilogia = next(r for r in rows if r[0] == "vilogia-lieu-innovation-habitat")
    assert (vilogia[2], vilogia[5], vilogia[6], vilogia[8]) == ("28250", "", "", "")


def test_xlsx_numbers_and_reproducible_bytes() -> None:
    first = to_xlsx(_rows(), title="T")
    time.sleep(1.1)  # openpyxl stamps the current second into the file
    assert to_xlsx(_rows(), title="T") == first
    sheet = load_workbook(io.BytesIO(first)).active
    assert sheet is not None
    amounts = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(amounts) == [1250, 3700, 6000, 12400, 20000, 28250, 45700, 213000]


def test_our_role_is_never_guessed() -> None:
    def mission(partners: list[dict[str, str]]) -> Mission:
        return Mission.model_validate({"title": "T", "client": {"name": "C"}, "partners": partners})

    assert our_role(mission([])) == "Titulaire"
    assert our_role(mission([{"name": "A", "role": "subcontractor"}])) == "Titulaire"
    assert our_role(mission([{"name": "A", "role": "lead"}])) == "Cotraitant"
    assert our_role(mission([{"name": "A", "role": "co-contractor"}])) == "Membre du groupement"
    assert our_role(mission([{"name": "A"}])) == ""
