"""Terminal tables: Rich's up to RICH_ROWS rows, plain fixed-width lines beyond, data never
markup and controls visible either way."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from refsheets.cli._table import RICH_ROWS, _block, _row_lines, fit_widths, print_table
from tests.conftest import run_cli
from tests.hostile.conftest import make_library

MARKUP = "[bold]Gras[/bold] [/] [link=https://evil.example/]x[/link]"


def test_widths_fit_the_terminal() -> None:
    assert fit_widths([5, 10, 8], 80) == [5, 10, 8]
    widths = fit_widths([11, 90, 30, 9], 80, no_wrap=(0, 3))
    assert widths[0] == 11 and widths[3] == 9
    assert sum(widths) + 3 * 3 <= 80
    # The narrow flexible column keeps its width; the wide one takes what is left.
    assert fit_widths([10, 100, 12], 60) == [10, 32, 12]


def _big_library(root: Path, count: int) -> Path:
    make_library(root)
    missions = root / "missions"
    for number in range(count):
        title = f"{MARKUP} n°{number}" if number % 2 else f"Atelier é\u0301 n°{number} " * 6
        (missions / f"m{number:04d}.yaml").write_text(
            f"title: '{title}'\nclient:\n  name: '[red]Client[/]'\n  kind: public\n"
            "period: 2020\nentity: pop-up\ntags: [tiers-lieu]\nbudget: 20000\n",
            encoding="utf-8",
        )
    return root


def test_a_long_list_is_plain_lines_with_every_title(tmp_path: Path) -> None:
    library = _big_library(tmp_path / "lib", RICH_ROWS + 10)
    result = run_cli(["--library", str(library), "list"], env={"COLUMNS": "400"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{RICH_ROWS + 12} missions in {library}"
    assert [cell.strip() for cell in lines[1].split(" │ ")] == [
        "id",
        "title",
        "client",
        "period",
        "amount",
        "entity",
    ]
    assert f"{MARKUP} n°1" in result.stdout
    assert "[red]Client[/]" in result.stdout
    assert "\x1b" not in result.stdout
    # One line per mission (they all fit at 400 columns), each row's cells aligned.
    rows = [line for line in lines[3:] if line.startswith("m")]
    assert len(rows) == RICH_ROWS + 10
    assert len({line.index(" │ ") for line in rows}) == 1


def test_a_long_pick_folds_long_cells_within_the_width(tmp_path: Path) -> None:
    library = _big_library(tmp_path / "lib", RICH_ROWS + 10)
    result = run_cli(
        ["--library", str(library), "pick", "--tag", "tiers-lieu"], env={"COLUMNS": "100"}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{RICH_ROWS + 12} mission(s) picked")
    assert all(cell_len(line) <= 100 for line in lines[1:])
    # A folded title is still there whole once its pieces are joined back.
    title_column = "".join(line.split(" │ ")[2].strip() for line in lines[3:] if " │ " in line)
    assert f"{MARKUP} n°1".replace(" ", "") in title_column.replace(" ", "")


def test_a_control_in_a_cell_shows_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    rows = [(f"id{n}", "a\x1b[31mb\u202ec") for n in range(RICH_ROWS + 1)]
    print_table("title \x07", ("id", "text"), rows)
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\u202e" not in printed and "\x07" not in printed
    assert "a\\u001b[31mb\\u202ec" in printed
    assert printed.startswith("title \\u0007\n")


_ONE_CELL_TEXT = st.text(
    alphabet=st.sampled_from("abcXYZ 019-'’éÉàçœ€—–…«»\u00a0\u202f"), max_size=40
)


@settings(max_examples=200, deadline=None)
@given(
    widths=st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=5),
    grid_lines=st.integers(min_value=1, max_value=50),
    data=st.data(),
)
def test_rows_laid_out_by_column_are_the_rows_laid_out_one_by_one(
    widths: list[int], grid_lines: int, data: st.DataObject
) -> None:
    # Small grids too: a table's rows laid out in several grids, a row taller than one.
    rows = data.draw(
        st.lists(st.tuples(*[_ONE_CELL_TEXT for _ in widths]).map(list), min_size=1, max_size=30)
    )
    one_by_one = "".join(line + "\n" for row in rows for line in _row_lines(row, widths))
    assert _block(rows, widths) == one_by_one
    assert _block(rows, widths, grid_lines) == one_by_one
