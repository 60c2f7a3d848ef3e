"""Tables of missions for the terminal, cheap at any length.

Rich lays a table out by measuring every cell, then renders each row through several
layers of segments: at 10,000 missions that was 11.8 s for `list`, three times the JSON.
Up to `RICH_ROWS` rows the table is Rich's, as before; beyond, the columns are measured
here once (one `cell_len` per cell), the widths fitted to the terminal, and each row is
written as plain fixed-width lines, long cells folded at the column's width as Rich's
`overflow="fold"` does. Either way every cell goes through `printable`: data is never
markup and a control character shows as `\\uXXXX`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence

from rich.cells import cell_len, chop_cells
from rich.table import Table

from refsheets.cli._app import out
from refsheets.errors import UNPRINTABLE, printable

RICH_ROWS = 200
"""Above this many rows, a table is written as plain lines instead of through Rich."""

_SEPARATOR = " │ "
_CHUNK_LINES = 4096
_MIN_WIDTH = 6

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
    if len(rows) <= RICH_ROWS:
        _print_rich(title, headers, rows, no_wrap)
        return
    header_cells = [printable(header) for header in headers]
    natural = [cell_len(header) for header in header_cells]
    cells: list[Sequence[str]] = []
    simple: list[bool] = []
    for row in rows:
        # One regular expression per row, not per cell: most rows hold no control
        # character and only characters one cell wide.
        joined = " ".join(row)
        if UNPRINTABLE.search(joined):
            row = [printable(cell) for cell in row]
            joined = " ".join(row)
        one_cell = _ONE_CELL.fullmatch(joined) is not None
        cells.append(row)
        simple.append(one_cell)
        natural = list(map(max, natural, map(len if one_cell else _width, row)))
    widths = fit_widths(natural, out.width, no_wrap)
    lines = [printable(title), _line(header_cells, widths), "─" * _total(widths)]
    for row, one_cell in zip(cells, simple, strict=True):
        if not one_cell:
            lines.extend(_row_lines(row, widths))
        elif all(map(operator.le, map(len, row), widths)):
            lines.append(_SEPARATOR.join(map(str.ljust, row, widths)).rstrip())
        else:
            lines.extend(_sliced_lines(row, widths))
        if len(lines) >= _CHUNK_LINES:  # written as it goes: 50,000 rows are never held twice
            out.file.write("\n".join(lines) + "\n")
            lines.clear()
    out.file.write("\n".join(lines) + "\n" if lines else "")
    out.file.flush()


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


def _sliced_lines(row: Sequence[str], widths: Sequence[int]) -> list[str]:
    # A row of one-cell characters, some cells longer than their column: line i holds
    # each cell's i-th slice of its column's width (as `_fold` cuts it).
    pairs = list(zip(row, widths, strict=True))
    height = max([1, *(-(-len(cell) // width) for cell, width in pairs)])
    columns = [
        [cell.ljust(width), *([" " * width] * (height - 1))]
        if len(cell) <= width
        else [cell[i : i + width].ljust(width) for i in range(0, height * width, width)]
        for cell, width in pairs
    ]
    return [_SEPARATOR.join(parts).rstrip() for parts in zip(*columns, strict=True)]


def _row_lines(row: Sequence[str], widths: Sequence[int]) -> list[str]:
    pairs = list(zip(row, widths, strict=True))
    if all(_ONE_CELL.fullmatch(cell) for cell in row):
        # The common row: one cell a character, no newline.
        if all(len(cell) <= width for cell, width in pairs):
            return [_SEPARATOR.join([cell.ljust(width) for cell, width in pairs]).rstrip()]
        pieces = [
            [cell[i : i + width] for i in range(0, len(cell), width)] or [""]
            for cell, width in pairs
        ]
        return [
            _SEPARATOR.join(
                [
                    (column[i] if i < len(column) else "").ljust(width)
                    for column, width in zip(pieces, widths, strict=True)
                ]
            ).rstrip()
            for i in range(max(map(len, pieces)))
        ]
    if all(_width(cell) <= width and "\n" not in cell for cell, width in pairs):
        return [_line(row, widths).rstrip()]
    folded = [_fold(cell, width) for cell, width in pairs]
    height = max(len(cell) for cell in folded)
    return [
        _line([cell[i] if i < len(cell) else "" for cell in folded], widths).rstrip()
        for i in range(height)
    ]
