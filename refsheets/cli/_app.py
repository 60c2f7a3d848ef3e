"""The Typer application, its global options and the helpers every command module shares.

Only the `refsheets.cli` package imports Typer. Commands that do not render must not import
WeasyPrint (about a second): rendering modules are imported inside the commands that need
them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from refsheets.errors import Diagnostic, printable
from refsheets.library import Library, load_library

app = typer.Typer(
    name="refsheets",
    help="Reference cards for French public tenders, from a library of missions in YAML.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class PlainConsole(Console):
    """A console for which every string is plain text, never markup.

    Titles, clients, file names and paths come from data: "[bold]", "[/]" or
    "[link=…]" in them must print as written (not style the terminal, not crash), and a
    control or bidirectional character must show as `\\uXXXX`, never act. Every string a
    command prints, table cells and titles included, goes through `render_str`; styles
    are given with `style=`, never as markup.
    """

    def render_str(self, text: str, **kwargs: Any) -> Text:
        """`text` as plain Rich text, its control characters made visible."""
        kwargs["markup"] = False
        kwargs["emoji"] = False
        return super().render_str(printable(text), **kwargs)


out = PlainConsole(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = PlainConsole(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


class State:
    """Global options, shared by the commands."""

    library: Path = Path("data")
    debug: bool = False


state = State()


@app.callback()
def _global_options(
    library: Annotated[
        Path,
        typer.Option(
            "--library",
            "-L",
            envvar="REFSHEETS_LIBRARY",
            help="The library folder (missions/, tags.yaml, entities.yaml).",
            show_default=True,
        ),
    ] = Path("data"),
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")
    ] = False,
) -> None:
    state.library = library
    state.debug = debug


def print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        style = "red" if diagnostic.severity == "error" else "yellow"
        err.print(diagnostic.format(Path.cwd()), style=style, markup=False)


def load_indexed_library() -> Library:
    """The library of --library, read through its index unless REFSHEETS_NO_INDEX says no;
    what went wrong with the index is noted on stderr (the answer is the same)."""
    from refsheets.index import index_enabled

    library = load_library(state.library, index=index_enabled())
    for note in library.notes:
        err.print(f"warning: {note}", style="yellow", markup=False)
    return library


def open_library(*, quiet_warnings: bool = True) -> Library:
    """Load the library (through its index unless REFSHEETS_NO_INDEX is set); report
    broken files on stderr and go on without them."""
    library = load_indexed_library()
    shown = library.errors if quiet_warnings else library.diagnostics
    if library.errors:
        print_diagnostics(shown)
        err.print(
            f"{len({d.path for d in library.errors})} file(s) left out; "
            "`refsheets check` lists every problem.",
            style="red",
        )
    return library


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def read_ids(ids: list[str]) -> list[str]:
    """The ids given, with `-` replaced by the ids read from stdin (one per line)."""
    result: list[str] = []
    for item in ids:
        if item == "-":
            result += [line.strip() for line in sys.stdin if line.strip()]
        else:
            result.append(item)
    return result
