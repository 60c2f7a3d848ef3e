"""The `refsheets` command: parses arguments, calls the library, maps errors to exit codes.

Only this module imports Typer. Commands that do not render must not import WeasyPrint
(about a second): rendering modules are imported inside the commands that need them.
"""

from __future__ import annotations

import datetime
import enum
import json
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from refsheets.errors import Diagnostic, ExitStatus, RefsheetsError
from refsheets.library import Library, load_library, mission_to_json
from refsheets.schema import write_schema

if TYPE_CHECKING:
    from refsheets.select import PickResult

app = typer.Typer(
    name="refsheets",
    help="Reference cards for French public tenders, from a library of missions in YAML.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


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


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        style = "red" if diagnostic.severity == "error" else "yellow"
        err.print(diagnostic.format(Path.cwd()), style=style, markup=False)


def _load(*, quiet_warnings: bool = True) -> Library:
    """Load the library; report broken files on stderr and go on without them."""
    library = load_library(state.library)
    shown = library.errors if quiet_warnings else library.diagnostics
    if library.errors:
        _print_diagnostics(shown)
        err.print(
            f"{len({d.path for d in library.errors})} file(s) left out; "
            "`refsheets check` lists every problem.",
            style="red",
        )
    return library


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


@app.command("list")
def list_missions(
    as_json: Annotated[bool, typer.Option("--json", help="Print the missions as JSON.")] = False,
    private: Annotated[
        bool, typer.Option("--private", help="With --json: include private fields.")
    ] = False,
) -> None:
    """List the missions of the library."""
    library = _load()
    if as_json:
        _print_json([mission_to_json(i, m, private=private) for i, m in library])
        return
    table = Table(title=f"{len(library.missions)} missions in {state.library}")
    for column in ("id", "title", "client", "period", "amount", "entity"):
        table.add_column(column, overflow="fold")
    from refsheets.text import format_amount, format_period

    for mission_id, mission in library:
        table.add_row(
            mission_id,
            mission.title,
            mission.client.name,
            format_period(mission.period) or "—",
            format_amount(mission.budget) if mission.budget else "—",
            mission.entity or "—",
        )
    out.print(table)


@app.command()
def show(
    mission_id: Annotated[str, typer.Argument(metavar="ID", help="The mission's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the mission as JSON.")] = False,
    private: Annotated[bool, typer.Option("--private", help="Include private fields.")] = False,
) -> None:
    """Show one mission."""
    library = _load()
    mission = library.get(mission_id)
    data = mission_to_json(mission_id, mission, private=private)
    if as_json:
        _print_json(data)
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
    library = load_library(state.library)
    _print_diagnostics(library.diagnostics)
    n_errors, n_warnings = len(library.errors), len(library.warnings)
    if not no_fit and library.missions:
        n_warnings += _check_fits(library)
    summary = (
        f"{len(library.missions)} valid missions of {len(library.paths)}; "
        f"{n_errors} error(s), {n_warnings} warning(s)"
    )
    failed = n_errors > 0 or (strict and n_warnings > 0)
    err.print(summary, style="red" if failed else "green")
    if failed:
        raise typer.Exit(ExitStatus.INVALID_DATA)


def _check_fits(library: Library) -> int:
    """Warn about the cards that will not fit on one page; return how many."""
    from refsheets.render import check_fits  # imports WeasyPrint: only when fitting

    misfits = [result for result in check_fits(library) if not result.fits]
    for result in misfits:
        path = library.paths.get(result.mission_id, Path(result.mission_id))
        diagnostic = Diagnostic(path, result.message, severity="warning")
        _print_diagnostics([diagnostic])
    return len(misfits)


def _read_ids(ids: list[str]) -> list[str]:
    """The ids given, with `-` replaced by the ids read from stdin (one per line)."""
    result: list[str] = []
    for item in ids:
        if item == "-":
            result += [line.strip() for line in sys.stdin if line.strip()]
        else:
            result.append(item)
    return result


class RenderFormat(enum.StrEnum):
    """What `render` writes."""

    pdf = "pdf"
    docx = "docx"
    all = "all"


class LabelLang(enum.StrEnum):
    """The language of a card's labels."""

    fr = "fr"
    en = "en"


@app.command()
def render(
    ids: Annotated[
        list[str],
        typer.Argument(
            metavar="ID…", help="Missions to render; - reads ids from stdin, one per line."
        ),
    ],
    fmt: Annotated[
        RenderFormat, typer.Option("--format", "-f", help="What to write.", show_default=True)
    ] = RenderFormat.pdf,
    layout: Annotated[
        str | None,
        typer.Option(
            "--layout", help="A layout (folder in layouts/); default: each mission's entity."
        ),
    ] = None,
    lang: Annotated[
        LabelLang,
        typer.Option("--lang", help="Language of the labels (the text stays as written)."),
    ] = LabelLang.fr,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the cards to.", show_default=True)
    ] = Path("out"),
) -> None:
    """Render reference cards: writes OUT/<id>.pdf (and .docx)."""
    formats = ("pdf", "docx") if fmt is RenderFormat.all else (fmt.value,)
    library = _load()
    from refsheets.render import render as render_cards

    written = render_cards(
        library,
        _read_ids(ids),
        formats=formats,
        layout=layout,
        lang="en" if lang is LabelLang.en else "fr",
        out_dir=out_dir,
    )
    for path in written:
        out.print(str(path), markup=False)
    err.print(f"wrote {len(written)} file(s) in {out_dir}")


@app.command()
def tags() -> None:
    """The tag taxonomy, with how many missions use each tag."""
    library = _load()
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
    output: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write it (default: LIBRARY/mission.schema.json; - for stdout).",
        ),
    ] = None,
) -> None:
    """Write the JSON Schema of a mission file, for editors."""
    target = output or state.library / "mission.schema.json"
    if str(target) == "-":
        from refsheets.schema import mission_schema

        _print_json(mission_schema())
        return
    write_schema(target)
    err.print(f"wrote {target}")


class MatchMode(enum.StrEnum):
    """How `pick --tag` combines several tags."""

    any = "any"
    all = "all"


class ClientKindOption(enum.StrEnum):
    """`pick --client-kind` values."""

    public = "public"
    private = "private"


@app.command()
def pick(
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            "-t",
            help="A tag to look for (repeat for several); aliases, case, accents and "
            "plurals do not matter.",
        ),
    ] = None,
    match: Annotated[
        MatchMode | None,
        typer.Option("--match", help="Missions with any of the tags, or all of them [any]."),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="Free text to rank by: the tender's title or object."),
    ] = None,
    since: Annotated[
        int | None, typer.Option("--since", help="Missions that ended in or after this year.")
    ] = None,
    within: Annotated[
        int | None,
        typer.Option("--within", help="Missions that ended at most N years before --on."),
    ] = None,
    on: Annotated[
        datetime.datetime | None,
        typer.Option(
            "--on",
            formats=["%Y-%m-%d"],
            help="Reference date for --within and recency, e.g. the tender's deadline "
            "[default: today].",
        ),
    ] = None,
    min_amount: Annotated[
        int | None, typer.Option("--min-amount", help="Lowest amount, whole euros.")
    ] = None,
    max_amount: Annotated[
        int | None, typer.Option("--max-amount", help="Highest amount, whole euros.")
    ] = None,
    client_kind: Annotated[
        ClientKindOption | None, typer.Option("--client-kind", help="Public or private client.")
    ] = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="Missions carried by this entity.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", help="Keep at most N missions, the best.")
    ] = None,
    tender: Annotated[
        Path | None,
        typer.Option(
            "--tender",
            help="Apply a tender file (themes, object, rules); the options above override it.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON, with score parts.")
    ] = False,
    ids_only: Annotated[
        bool,
        typer.Option(
            "--ids",
            help="Print the ids only, one a line (for `refsheets render -`); "
            "exclusions go to stderr.",
        ),
    ] = False,
) -> None:
    """Pick the missions that fit a tender, ranked, with why; list those the filters exclude.

    Score = 0.50 x text relevance (BM25F, best = 1) + 0.35 x share of wanted tags carried
    + 0.15 x recency (halves every 4 years); ties go to the more recent mission, then the id.
    """
    import dataclasses

    from refsheets.select import PickQuery
    from refsheets.select import pick as pick_missions

    if as_json and ids_only:
        raise typer.BadParameter("choose one of --json and --ids", param_hint="--json/--ids")
    library = _load()
    base = PickQuery()
    if tender is not None:
        from refsheets.tender import load_tender

        base = load_tender(tender, library=library).pick_query()
    given: dict[str, Any] = {
        "tags": tuple(tag) if tag else None,
        "match": match.value if match else None,
        "text": query,
        "since": since,
        "within": within,
        "on": on.date() if on else None,
        "min_amount": min_amount,
        "max_amount": max_amount,
        "client_kind": client_kind.value if client_kind else None,
        "entity": entity,
        "limit": limit,
    }
    wanted = dataclasses.replace(base, **{k: v for k, v in given.items() if v is not None})
    result = pick_missions(library, wanted, today=datetime.date.today())
    if as_json:
        _print_json({"tender": str(tender) if tender else None, **result.to_json()})
        return
    if ids_only:
        for mission_id in result.ids:
            sys.stdout.write(mission_id + "\n")
        for item in result.excluded:
            err.print(f"excluded {item.id}: {'; '.join(item.reasons)}", markup=False)
        return
    _print_pick(result)


def _print_pick(result: PickResult) -> None:
    from refsheets.text import format_amount, format_period

    table = Table(
        title=f"{len(result.selected)} mission(s) picked "
        f"(reference date {result.reference_date.isoformat()})"
    )
    rows = [
        (
            str(item.rank),
            item.id,
            item.mission.title,
            item.mission.client.name,
            format_period(item.mission.period) or "—",
            format_amount(item.mission.budget) if item.mission.budget else "—",
            f"{item.score:.3f}",
            item.why,
        )
        for item in result.selected
    ]
    headers = ("#", "id", "title", "client", "period", "amount", "score", "why")
    for i, column in enumerate(headers):
        # Short one-line columns get their width up front: rich then skips measuring each
        # of their cells (a table of 2,000 missions prints about 15 % faster).
        fixed = i in (0, 4, 5, 6)
        width = max([len(column), *(len(row[i]) for row in rows)]) if fixed else None
        table.add_column(column, overflow="fold", width=width, no_wrap=fixed)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    if result.excluded:
        excluded = Table(title=f"{len(result.excluded)} mission(s) excluded by the filters")
        for column in ("id", "title", "reason"):
            excluded.add_column(column, overflow="fold")
        for gone in result.excluded:
            excluded.add_row(gone.id, gone.mission.title, "; ".join(gone.reasons))
        out.print(excluded)
    if result.beyond_limit:
        out.print(
            f"{len(result.beyond_limit)} more passed the filters, below the limit: "
            + ", ".join(result.beyond_limit),
            markup=False,
        )
    if result.unmatched:
        out.print(f"{result.unmatched} mission(s) not about the asked tags or words.")


@app.command()
def export(
    tender: Annotated[Path, typer.Argument(metavar="TENDER.yaml", help="The tender file.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Parent folder of the export (out/<tender>/).")
    ] = Path("out"),
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Parallel renderers (default: cores).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the selection and the checks; write nothing.")
    ] = False,
    allow_incomplete: Annotated[
        bool,
        typer.Option(
            "--allow-incomplete",
            help="Export references that lack a required fact (the manifest records it).",
        ),
    ] = False,
    clear_cache: Annotated[
        bool, typer.Option("--clear-cache", help="Forget every rendered card first.")
    ] = False,
) -> None:
    """Export a tender's references annex: PDF and Word annexes, cards, tables, manifest, zip."""
    from refsheets.export import export_tender, plan_export
    from refsheets.export.cache import CardCache

    library = _load()
    today = datetime.date.today()
    if dry_run:
        plan = plan_export(
            tender, library, out_root=out_dir, today=today, allow_incomplete=allow_incomplete
        )
        _print_pick(plan.result)
        for ref in plan.references:
            if ref.missing:
                err.print(f"{ref.id}: lacks {', '.join(ref.missing)}", style="yellow")
        for warning in plan.warnings:
            err.print(f"warning: {warning}", style="yellow", markup=False)
        for problem in plan.problems:
            err.print(f"error: {problem}", style="red", markup=False)
        err.print(f"dry run: nothing written (the export would go to {plan.target})")
        if plan.problems:
            raise typer.Exit(ExitStatus.INVALID_DATA)
        return
    if clear_cache:
        removed = CardCache(out_dir / ".cache").clear()
        err.print(f"cache cleared ({removed} files)")
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(
                    f"{stage} cards" if stage != "annex" else "annex", total=total
                )
            bar.update(tasks[stage], completed=done, total=total)

        report = export_tender(
            tender,
            library,
            out_root=out_dir,
            today=today,
            jobs=jobs,
            allow_incomplete=allow_incomplete,
            progress=progress,
        )
    plan = report.plan
    for warning in plan.warnings:
        err.print(f"warning: {warning}", style="yellow", markup=False)
    for fmt in report.rendered:
        err.print(
            f"{fmt}: {report.rendered[fmt]} card(s) rendered, {report.cached[fmt]} from the cache"
        )
    out.print(f"{len(plan.references)} references exported to {plan.target}/")
    for path in report.files:
        out.print(f"  {path.relative_to(plan.target)}", markup=False)


@app.command("import")
def import_missions(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The portfolio: .txt, .md, .pdf or .docx.")
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Where to write the missions (default: LIBRARY/missions)."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite existing files that differ.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be written; write nothing.")
    ] = False,
) -> None:
    """Import the missions of an existing portfolio as mission files, with a report."""
    from refsheets.importer import ImportStatus, import_into_library

    report = import_into_library(file, state.library, out_dir=out_dir, force=force, dry_run=dry_run)
    table = Table(title=f"{len(report.missions)} missions in {file}")
    for column in ("file", "status", "found", "missing"):
        table.add_column(column, overflow="fold")
    for mission in report.missions:
        status = mission.status.value
        if report.dry_run and mission.status in (ImportStatus.WRITTEN, ImportStatus.OVERWRITTEN):
            status = f"would be {status}"
        if mission.duplicate_of is not None:
            status += f" of {mission.duplicate_of.name}"
        missing = [f"{fact}: {why}" for fact, why in mission.missing.items()]
        table.add_row(
            mission.path.name,
            status,
            ", ".join(mission.found),
            "\n".join(missing + mission.draft.remarks) or "—",
        )
    out.print(table)
    would = "would be " if report.dry_run else ""
    counts = ", ".join(
        f"{report.count(status)} "
        + (would if status in (ImportStatus.WRITTEN, ImportStatus.OVERWRITTEN) else "")
        + status.value
        for status in ImportStatus
        if report.count(status)
    )
    err.print(f"{counts}{' (dry run: nothing written)' if report.dry_run else ''}")
    if report.count(ImportStatus.KEPT):
        err.print("existing files that differ were kept; --force overwrites them", style="yellow")
    if report.to_complete:
        names = ", ".join(m.path.name for m in report.to_complete)
        err.print(
            f"{len(report.to_complete)} file(s) need a title or a client name before they "
            f"load (see the TODO lines): {names}",
            style="yellow",
            markup=False,
        )


def main() -> None:
    """Entry point: run the app, turning user errors into messages and exit codes."""
    try:
        app()
    except RefsheetsError as exc:
        _print_diagnostics(exc.diagnostics)
        err.print(f"error: {exc.message}", style="red", markup=False)
        sys.exit(int(exc.exit_status))
    except KeyboardInterrupt:
        err.print("interrupted", style="red")
        sys.exit(int(ExitStatus.INTERRUPTED))
    except Exception as exc:  # a bug: say so, traceback only with --debug
        if state.debug or os.environ.get("REFSHEETS_DEBUG"):
            traceback.print_exc()
        else:
            err.print(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in refsheets; run again with --debug and report the output.",
                style="red",
                markup=False,
            )
        sys.exit(int(ExitStatus.BUG))


if __name__ == "__main__":  # pragma: no cover
    main()
