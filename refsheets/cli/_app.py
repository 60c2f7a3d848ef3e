"""The Typer application, its global options and the helpers every command module shares.

Only the `refsheets.cli` package imports Typer. Commands that do not render must not import
WeasyPrint (about a second): rendering modules are imported inside the commands that need
them.
"""

from __future__ import annotations

import datetime
import gc
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from refsheets.errors import Diagnostic, printable
from refsheets.library import Library, Summaries, load_library
from refsheets.pretty_json import write_json
from refsheets.settings import DEFAULT_LIBRARY, resolve_library

app = typer.Typer(
    name="refsheets",
    help="Reference cards for French public tenders, from a library of missions in YAML.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Typer's own `--install-completion` / `--show-completion` (bash, zsh, fish, PowerShell).
    add_completion=True,
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

    library: Path = DEFAULT_LIBRARY
    debug: bool = False


state = State()


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        out.print(f"refsheets {version('refsheets')}", markup=False)
        raise typer.Exit()


@app.callback()
def _global_options(
    library: Annotated[
        Path | None,
        typer.Option(
            "--library",
            "-L",
            envvar="REFSHEETS_LIBRARY",
            help="The library folder (missions/, tags.yaml, entities.yaml); default: the "
            "one found from the current folder upwards (its refsheets.yaml), else ./data.",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print refsheets' version and exit.",
        ),
    ] = False,
) -> None:
    state.library = resolve_library(library, Path.cwd())
    state.debug = debug


def print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        style = "red" if diagnostic.severity == "error" else "yellow"
        err.print(diagnostic.format(Path.cwd()), style=style, markup=False)


def load_indexed_library(*, search: bool = False) -> Library:
    """The library of --library, read through its index unless REFSHEETS_NO_INDEX says no
    (with the missions' words for search when `search`); what went wrong with the index
    is noted on stderr (the answer is the same)."""
    from refsheets.index import index_enabled

    library = load_library(state.library, index=index_enabled(), search=search)
    for note in library.notes:
        err.print(f"warning: {note}", style="yellow", markup=False)
    return library


def open_library(*, quiet_warnings: bool = True, search: bool = False) -> Library:
    """Load the library (through its index unless REFSHEETS_NO_INDEX is set); report
    broken files on stderr and go on without them."""
    library = load_indexed_library(search=search)
    _report_errors(library.errors, library.errors if quiet_warnings else library.diagnostics)
    return library


def open_summaries(*, search: bool = False, query: str | None = None) -> Summaries:
    """The library's missions as `list` and `pick` need them: from the summaries its index
    keeps (`library.load_summaries`; with a `query`, the index's inverted lists of its
    words), or read whole when REFSHEETS_NO_INDEX is set; broken files reported on stderr
    as `open_library` reports them."""
    from refsheets.index import index_enabled
    from refsheets.library import load_summaries

    if index_enabled():
        summaries = load_summaries(state.library, search=search, query=query)
    else:
        summaries = Summaries.of(load_library(state.library, search=search))
    # They live until the command ends: the cyclic collector need not walk them again
    # while the pick and the table make their own hundreds of thousands of objects.
    gc.freeze()
    for note in summaries.notes:
        err.print(f"warning: {note}", style="yellow", markup=False)
    _report_errors(summaries.errors, summaries.errors)
    return summaries


def _report_errors(errors: list[Diagnostic], shown: list[Diagnostic]) -> None:
    if errors:
        print_diagnostics(shown)
        err.print(
            f"{len({d.path for d in errors})} file(s) left out; "
            "`refsheets check` lists every problem.",
            style="red",
        )


def day_option(value: str) -> datetime.date:
    """An option's date, in the forms files accept (2027-01-15, 15/01/2027…)."""
    from refsheets.french import parse_day

    try:
        return parse_day(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def amount_option(value: str) -> int:
    """An option's amount in whole euros, in the forms files accept (10000, 10 k€…)."""
    from refsheets.french import parse_amount

    try:
        return parse_amount(value)[0]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def client_kind_option(value: str) -> str:
    """An option's client kind: public or private, from the French word too."""
    from refsheets.french import parse_client_kind

    try:
        return parse_client_kind(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def print_json(value: Any) -> None:
    """`value` as indented JSON on stdout (`json.dumps(value, ensure_ascii=False,
    indent=2)`), written as it is made: 50,000 missions' JSON is never held whole."""
    write_json(value, sys.stdout.write)
    sys.stdout.write("\n")


def read_ids(ids: list[str]) -> list[str]:
    """The ids given, with `-` replaced by the ids read from stdin (one per line)."""
    result: list[str] = []
    for item in ids:
        if item == "-":
            result += [line.strip() for line in sys.stdin if line.strip()]
        else:
            result.append(item)
    return result
