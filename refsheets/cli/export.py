"""`refsheets export`: a tender's whole references annex."""

from __future__ import annotations

import datetime
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from refsheets.cli._app import app, err, open_library, out
from refsheets.cli.pick import print_choice
from refsheets.errors import ExitStatus


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
    lot: Annotated[
        str | None,
        typer.Option(
            "--lot",
            help="Export only this lot (its number: 1, 2A) into out/<tender>/lot-N/.",
        ),
    ] = None,
) -> None:
    """Export a tender's references annex: PDF and Word annexes, cards, tables, manifest, zip
    (one annex per lot, in out/<tender>/lot-N/, for a tender in lots)."""
    from refsheets.export import export_tender, plan_tender

    library = open_library()
    today = datetime.date.today()
    if dry_run:
        plan = plan_tender(
            tender,
            library,
            out_root=out_dir,
            today=today,
            allow_incomplete=allow_incomplete,
            lot=lot,
        )
        for annex in plan.annexes:
            if annex.choice is not None:
                print_choice(annex.choice)
        for warning in plan.warnings:
            err.print(f"warning: {warning}", style="yellow", markup=False)
        for problem in plan.problems:
            err.print(f"error: {problem}", style="red", markup=False)
        err.print(f"dry run: nothing written (the export would go to {plan.target})")
        if plan.problems:
            raise typer.Exit(ExitStatus.INVALID_DATA)
        return
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
            lot=lot,
            clear_cache=clear_cache,
        )
    plan = report.plan
    if clear_cache:
        err.print("cache cleared")
    for warning in [*report.warnings, *plan.warnings]:
        err.print(f"warning: {warning}", style="yellow", markup=False)
    for fmt in report.rendered:
        err.print(
            f"{fmt}: {report.rendered[fmt]} card(s) rendered, {report.cached[fmt]} from the cache"
        )
    for annex in plan.annexes:
        where = f" ({annex.scope.label})" if annex.scope and annex.scope.lot else ""
        out.print(f"{len(annex.references)} references exported to {annex.target}/{where}")
    for line in _file_lines([path.relative_to(plan.target) for path in report.files]):
        out.print(f"  {line}", markup=False)


_CARD_KINDS = {".pdf": "PDF", ".docx": "Word"}


def _file_lines(files: list[Path]) -> list[str]:
    """The exported files, one a line, but each `cards/` folder in one line with its
    counts: 200 references were 400 lines of card files scrolling past the annexes."""
    counts: dict[Path, Counter[str]] = {}
    for path in files:
        if path.parent.name == "cards":
            counts.setdefault(path.parent, Counter())[path.suffix] += 1
    order = list(_CARD_KINDS)
    lines: list[str] = []
    shown: set[Path] = set()
    for path in files:
        folder = path.parent
        if folder not in counts:
            lines.append(str(path))
        elif folder not in shown:  # the folder's line, where its first card was
            shown.add(folder)
            kinds = sorted(
                counts[folder].items(),
                key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item),
            )
            parts = ", ".join(
                f"{n} {_CARD_KINDS.get(suffix, suffix.lstrip('.').upper())} card{'s' * (n > 1)}"
                for suffix, n in kinds
            )
            lines.append(f"{folder.as_posix()}/ ({parts})")
    return lines
