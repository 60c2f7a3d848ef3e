"""Commands that read the library: list, show, check, tags, schema."""

from __future__ import annotations

import contextlib
import enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from refsheets.cli._app import (
    app,
    err,
    load_indexed_library,
    open_library,
    open_summaries,
    out,
    print_diagnostics,
    print_json,
    state,
)
from refsheets.errors import Diagnostic, ExitStatus, RefsheetsError
from refsheets.library import Library, client_name, mission_to_json
from refsheets.schema import write_schema

DEFAULT_CACHE = Path("out") / ".cache"  # the export's cache (export --out defaults to out/)


class SchemaKindOption(enum.StrEnum):
    """`refsheets schema` arguments."""

    mission = "mission"
    tender = "tender"


@app.command("list")
def list_missions(
    as_json: Annotated[bool, typer.Option("--json", help="Print the missions as JSON.")] = False,
    private: Annotated[
        bool,
        typer.Option(
            "--private", help="Include private fields, and the real client of anonymous missions."
        ),
    ] = False,
) -> None:
    """List the missions of the library."""
    if as_json:
        # Every field of every mission: the whole missions, not their summaries.
        library = open_library()
        print_json([mission_to_json(i, m, private=private) for i, m in library])
        return
    summaries = open_summaries()
    from refsheets.cli._table import amount_cell, column_of, period_cell, print_table

    missions = list(summaries.missions.values())
    # Built a column at a time: each distinct period and amount formatted once.
    rows = list(
        zip(
            list(summaries.missions),
            [mission.title for mission in missions],
            [client_name(mission, private=private) for mission in missions],
            column_of(period_cell, [mission.period for mission in missions]),
            column_of(amount_cell, [mission.budget for mission in missions]),
            [mission.entity or "—" for mission in missions],
            strict=True,
        )
    )
    print_table(
        f"{len(summaries.missions)} missions in {state.library}",
        ("id", "title", "client", "period", "amount", "entity"),
        rows,
    )


@app.command()
def show(
    mission_id: Annotated[str, typer.Argument(metavar="ID", help="The mission's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the mission as JSON.")] = False,
    private: Annotated[bool, typer.Option("--private", help="Include private fields.")] = False,
) -> None:
    """Show one mission."""
    library = open_library()
    mission = library.get(mission_id)
    data = mission_to_json(mission_id, mission, private=private)
    if as_json:
        print_json(data)
        return
    import yaml

    out.print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), markup=False)


@app.command()
def check(
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat warnings as errors (exit 1).")
    ] = False,
    no_fit: Annotated[
        bool,
        typer.Option(
            "--no-fit", help="Skip laying out each card to check that it fits on one page."
        ),
    ] = False,
) -> None:
    """Validate every file of the library and report every problem at once."""
    library = load_indexed_library()
    print_diagnostics(library.diagnostics)
    n_errors, n_warnings = len(library.errors), len(library.warnings)
    if not no_fit and library.missions:
        n_warnings += check_fits_of(library)
    summary = (
        f"{len(library.missions)} valid missions of {len(library.paths)}; "
        f"{n_errors} error(s), {n_warnings} warning(s)"
    )
    failed = n_errors > 0 or (strict and n_warnings > 0)
    err.print(summary, style="red" if failed else "green")
    if failed:
        raise typer.Exit(ExitStatus.INVALID_DATA)


def check_fits_of(library: Library, cache_root: Path = DEFAULT_CACHE) -> int:
    """Warn about the cards that will not fit on one page; return how many.

    Answers are cached beside the export's cards (WeasyPrint is imported only when a
    card has to be laid out)."""
    from refsheets.export.cache import CardCache
    from refsheets.export.fits import check_fits_cached

    store = CardCache(cache_root)
    cache: CardCache | None = store
    with contextlib.ExitStack() as stack:
        try:
            # Held like an export holds it: `export --clear-cache` waits for nobody.
            stack.enter_context(store.shared())
        except (RefsheetsError, OSError):  # being cleared, or not writable: no cache
            cache = None
        results, _ = check_fits_cached(library, cache)
    misfits = [result for result in results if not result.fits]
    for result in misfits:
        path = library.paths.get(result.mission_id, Path(result.mission_id))
        diagnostic = Diagnostic(path, result.message, severity="warning")
        print_diagnostics([diagnostic])
    # A tightened card fits, but smaller than the layout's comfortable size: said as a
    # note, not counted as a warning (`check --strict` stays about facts and misfits).
    for result in results:
        if result.tightened:
            path = library.paths.get(result.mission_id, Path(result.mission_id))
            err.print(f"{path}: note: {result.tightened}", style="yellow", markup=False)
    return len(misfits)


@app.command()
def tags() -> None:
    """The tag taxonomy, with how many missions use each tag."""
    library = open_library()
    counts: dict[str, int] = {}
    unknown: dict[str, int] = {}
    for _, mission in library:
        for tag in mission.tags:
            resolved = library.taxonomy.resolve(tag)
            if resolved:
                counts[resolved.key] = counts.get(resolved.key, 0) + 1
            else:
                unknown[tag] = unknown.get(tag, 0) + 1
    table = Table(title="Tags")
    for column in ("tag", "label", "aliases", "missions"):
        table.add_column(column, overflow="fold")
    for key, definition in sorted(library.taxonomy.tags.items()):
        table.add_row(key, definition.label, ", ".join(definition.aliases), str(counts.get(key, 0)))
    for tag_text, count in sorted(unknown.items()):
        table.add_row(tag_text, "(not in tags.yaml)", "", str(count), style="yellow")
    out.print(table)


@app.command()
def schema(
    kinds: Annotated[
        list[SchemaKindOption] | None,
        typer.Argument(
            metavar="[mission|tender]...",
            help="Which schema (default: both).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write one schema (default: LIBRARY/mission.schema.json and "
            "tenders/tender.schema.json; - for stdout; without a kind, the mission's).",
        ),
    ] = None,
) -> None:
    """Write the JSON Schemas of mission and tender files, for editors."""
    from refsheets.settings import tenders_dir
    from refsheets.tender import SCHEMA_FILE

    # With --out and no kind, the mission's: what `schema --out` always wrote.
    default_kinds = [SchemaKindOption.mission] if output is not None else list(SchemaKindOption)
    chosen = list(dict.fromkeys(kinds or default_kinds))
    if output is not None and len(chosen) != 1:
        raise typer.BadParameter("--out writes one schema: name one kind (mission or tender)")
    for kind in chosen:
        if output is not None and str(output) == "-":
            from refsheets.schema import schema_of

            print_json(schema_of(kind.value))
            continue
        default = (
            state.library / "mission.schema.json"
            if kind is SchemaKindOption.mission
            else tenders_dir(state.library) / SCHEMA_FILE
        )
        target = output or default
        write_schema(target, kind.value)
        err.print(f"wrote {target}", markup=False)
