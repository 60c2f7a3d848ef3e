"""Tables of missions for the terminal, cheap at any length.

Rich lays a table out by measuring every cell, then renders each row through several
layers of segments: at 10,000 missions that was 11.8 s for `list`, three times the JSON.
Up to `RICH_ROWS` rows the table is Rich's, as before; beyond, the columns are measured
here once (one `cell_len` per cell), the widths fitted to the terminal, and each row is
written as plain fixed-width lines, long cells folded at the column's width as Rich's
`overflow="fold"` does: runs of rows made of one-cell characters are laid out a
column at a time, in C (`_block`), the others one by one. Either way every cell goes
through `printable`: data is never markup and a control character shows as `\\uXXXX`.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any, TypeVar

from rich.cells import cell_len, chop_cells
from rich.table import Table

from refsheets.cli._app import out
from refsheets.errors import UNPRINTABLE, printable
from refsheets.summary import BudgetFacts, PeriodFacts
from refsheets.text import format_amount, format_period

K = TypeVar("K")
V = TypeVar("V")

RICH_ROWS = 200
"""Above this many rows, a table is written as plain lines instead of through Rich."""

_SEPARATOR = " │ "
_CHUNK_ROWS = 2048
_GRID_LINES = 2048
"""The most lines `_block` lays out in one grid (330 KB for 80 columns)."""
_MIN_WIDTH = 6
_UTF16 = "utf-16-le"  # two bytes for each character one cell wide (all in the BMP)

# Characters one terminal cell wide each (Latin, Greek and Cyrillic letters, general
# punctuation but its invisible ones, currency signs): a text made of them only is
# measured by len() and folded by slicing, in C; any other text is measured by Rich.
_ONE_CELL = re.compile(
    "[\x20-\x7e\xa0-\xac\xae-\u02ff\u0370-\u0482\u2010-\u2027\u202f-\u205e\u20a0-\u20c0]*"
)


def print_table(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    no_wrap: Sequence[int] = (),
) -> None:
    """Print a titled table; the columns at the indices `no_wrap` are never folded."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in headers]
    print_columns(title, headers, columns, no_wrap=no_wrap)


def print_columns(
    title: str,
    headers: Sequence[str],
    columns: Sequence[Sequence[str]],
    *,
    no_wrap: Sequence[int] = (),
) -> None:
    """`print_table` of the table given a column at a time (each column's cells, all of
    one length): a long table is laid out by columns, and never made into rows unless
    some hold controls or wide characters."""
    count = len(columns[0])
    if count <= RICH_ROWS:
        _print_rich(title, headers, list(zip(*columns, strict=True)), no_wrap)
        return
    header_cells = [printable(header) for header in headers]
    natural = [cell_len(header) for header in header_cells]
    cells: list[Sequence[str]] = []
    simple: list[bool] | None = None  # None: every row is simple
    # One search over the whole table, not one per row: most tables hold no control
    # character and only characters one cell wide. Both look at characters alone, in
    # any order: the cells joined a column at a time (a few joins, not one a row).
    joined = " ".join(map(" ".join, columns))
    if UNPRINTABLE.search(joined) or not _ONE_CELL.fullmatch(joined):
        cells = list(zip(*columns, strict=True))
        simple = []
        for at, row in enumerate(cells):
            text = " ".join(row)
            if UNPRINTABLE.search(text):
                cells[at] = row = [printable(cell) for cell in row]
                text = " ".join(row)
            one_cell = _ONE_CELL.fullmatch(text) is not None
            simple.append(one_cell)
            natural = list(map(max, natural, map(len if one_cell else _width, row)))
    else:
        for i, column in enumerate(columns):
            natural[i] = max(natural[i], max(map(len, column)))
    widths = fit_widths(natural, out.width, no_wrap)
    write = out.file.write
    write("\n".join([printable(title), _line(header_cells, widths), "─" * _total(widths)]) + "\n")
    # Runs of simple rows are laid out a column at a time, in C (`_block`); any other row
    # on its own. Written as it goes: 50,000 rows are never held twice.
    start = 0
    while start < count:
        if simple is None:
            end = min(count, start + _CHUNK_ROWS)
            write(_column_block([column[start:end] for column in columns], widths))
            start = end
            continue
        if simple[start]:
            end = start + 1
            while end < count and end - start < _CHUNK_ROWS and simple[end]:
                end += 1
        else:
            write("\n".join(_row_lines(cells[start], widths)) + "\n")
            start += 1
            continue
        write(_block(cells[start:end], widths))
        start = end
    out.file.flush()


def _block(
    rows: Sequence[Sequence[str]], widths: Sequence[int], grid_lines: int = _GRID_LINES
) -> str:
    """The lines of rows made of one-cell characters only (no newline), as `_row_lines`
    writes them, each ended by a newline: a cell longer than its column is cut in slices
    of the column's width, and a row is as many lines as its longest cell needs.

    Laid out in C, a column at a time, with no Python loop per row or per line: the
    lines are a grid of characters (UTF-16: two bytes each, as every character one cell
    wide is in the BMP) the width of the table; each column's cells, padded to their
    row's height times the column's width and joined, fill the column's place in the
    grid one byte position at a time (one assignment writes that byte of every line).
    A grid holds the lines of whole rows, at most `grid_lines` of them unless one row
    needs more: each assignment strides over the whole grid, once for each byte of a
    line, so a grid that stays in the processor's cache is written about three times
    faster (4 MB of lines: 0.29 s of a table of 630,000 lines).
    """
    return _column_block(list(zip(*rows, strict=True)), widths, grid_lines)


def _column_block(
    columns: Sequence[Sequence[str]], widths: Sequence[int], grid_lines: int = _GRID_LINES
) -> str:
    """`_block` of rows given a column at a time."""
    count = len(columns[0])
    heights: list[int] | None = None
    for column, width in zip(columns, widths, strict=True):
        lengths = list(map(len, column))
        if max(lengths) > width:
            # ceil(length / width) lines for this column's cells.
            needed = map(
                operator.floordiv, map(operator.add, lengths, repeat(width - 1)), repeat(width)
            )
            heights = list(map(max, heights or repeat(1, count), needed))
    blank = _SEPARATOR.join(" " * width for width in widths) + "\n"
    if heights is None:
        cuts = list(range(0, count, grid_lines))
    else:
        # Each grid's rows: as many as fit in `grid_lines` lines, at least one (a row is
        # never split between two grids).
        ends = list(itertools.accumulate(heights))
        cuts = [0]
        while True:
            start = cuts[-1]
            end = bisect.bisect_right(ends, ends[start] - heights[start] + grid_lines)
            end = max(end, start + 1)
            if end >= count:
                break
            cuts.append(end)
    cuts.append(count)
    return "".join(
        [
            _grid(
                [column[start:end] for column in columns],
                widths,
                None if heights is None else heights[start:end],
                blank,
            )
            for start, end in itertools.pairwise(cuts)
        ]
    )


def _grid(
    columns: Sequence[Sequence[str]], widths: Sequence[int], heights: list[int] | None, blank: str
) -> str:
    """The lines of `_block` for the rows of `columns` (each row `heights` lines high,
    or one), laid out in one grid."""
    count = len(columns[0]) if heights is None else sum(heights)
    spans = repeat(1) if heights is None else heights
    grid = bytearray(blank.encode(_UTF16) * count)
    step = 2 * len(blank)
    offset = 0
    for column, width in zip(columns, widths, strict=True):
        text = "".join(map(str.ljust, column, map(operator.mul, spans, repeat(width))))
        source = text.encode(_UTF16)
        size = 2 * width
        for k in range(size):  # byte k of every line's piece of the column, at once
            grid[offset + k :: step] = source[k::size]
        offset += 2 * (width + len(_SEPARATOR))
    lines = grid.decode(_UTF16).split("\n")
    lines.pop()  # after the last newline
    return "\n".join(map(str.rstrip, lines)) + "\n"


def column_of(function: Callable[[K], V], values: Sequence[K]) -> list[V]:
    """`function` of each value, computed once per distinct value (a table of 50,000
    missions shows a few hundred periods and amounts); values that cannot be hashed (a
    whole mission's parts) are passed one by one."""
    try:
        distinct: dict[Any, V] = dict.fromkeys(values)  # type: ignore[assignment]
    except TypeError:
        return [function(value) for value in values]
    for value in distinct:
        distinct[value] = function(value)
    return list(map(distinct.__getitem__, values))


def period_cell(period: PeriodFacts | None) -> str:
    """A mission's period as tables show it."""
    return format_period(period) or "—"


def amount_cell(budget: BudgetFacts | None) -> str:
    """A mission's amount as tables show it."""
    return format_amount(budget) if budget else "—"


def _print_rich(
    title: str, headers: Sequence[str], rows: Sequence[Sequence[str]], no_wrap: Sequence[int]
) -> None:
    table = Table(title=title)
    for i, column in enumerate(headers):
        fixed = i in no_wrap
        # A one-line column gets its width up front: Rich then skips measuring its cells.
        width = max([len(column), *(len(row[i]) for row in rows)]) if fixed else None
        table.add_column(column, overflow="fold", width=width, no_wrap=fixed)
    for row in rows:
        table.add_row(*row)
    out.print(table)


def _width(text: str) -> int:
    if _ONE_CELL.fullmatch(text):
        return len(text)
    if "\n" in text:
        return max(_width(part) for part in text.split("\n"))
    return cell_len(text)


def _total(widths: Sequence[int]) -> int:
    return sum(widths) + len(_SEPARATOR) * (len(widths) - 1)


def fit_widths(natural: Sequence[int], width: int, no_wrap: Sequence[int] = ()) -> list[int]:
    """Column widths within `width` cells: each column's natural width when they all fit;
    else the `no_wrap` columns keep theirs and the others share what is left, the narrow
    ones first (a column never gets less than a few cells)."""
    widths = list(natural)
    if _total(widths) <= width:
        return widths
    flexible = [i for i in range(len(widths)) if i not in no_wrap]
    room = width - _total([widths[i] if i in no_wrap else 0 for i in range(len(widths))])
    # Water-filling: a column narrower than its fair share keeps its width, and what it
    # leaves goes to the wider ones.
    for count, i in enumerate(sorted(flexible, key=lambda i: natural[i])):
        share = max(_MIN_WIDTH, room // (len(flexible) - count))
        widths[i] = min(natural[i], share)
        room -= widths[i]
    return widths


def _fold(text: str, width: int) -> list[str]:
    parts = text.split("\n") if "\n" in text else [text]
    lines: list[str] = []
    for part in parts:
        if part.isascii():
            lines.extend(part[i : i + width] for i in range(0, len(part), width))
            if not part:
                lines.append("")
        else:
            lines.extend(chop_cells(part, width) or [""])
    return lines


def _pad(text: str, width: int) -> str:
    size = len(text) if text.isascii() else cell_len(text)
    return text + " " * (width - size)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return _SEPARATOR.join(_pad(cell, width) for cell, width in zip(cells, widths, strict=True))


def _row_lines(row: Sequence[str], widths: Sequence[int]) -> list[str]:
    pairs = list(zip(row, widths, strict=True))
    if all(_width(cell) <= width and "\n" not in cell for cell, width in pairs):
        return [_line(row, widths).rstrip()]
    folded = [_fold(cell, width) for cell, width in pairs]
    height = max(len(cell) for cell in folded)
    return [
        _line([cell[i] if i < len(cell) else "" for cell in folded], widths).rstrip()
        for i in range(height)
    ]
