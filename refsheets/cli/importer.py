"""`refsheets import`: an existing portfolio into mission files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from refsheets.cli._app import app, err, out, state


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
    init: Annotated[
        bool,
        typer.Option(
            "--init",
            help="Create the library first (refsheets init) if it does not exist: the "
            "--out folder, else the --library one.",
        ),
    ] = False,
) -> None:
    """Import the missions of an existing portfolio as mission files, with a report."""
    from refsheets.importer import ImportStatus, import_into_library

    report = import_into_library(
        file, state.library, out_dir=out_dir, force=force, dry_run=dry_run, init=init
    )
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
