"""`refsheets tender new` (a tender file from its notice and RC) and `refsheets cpv`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from refsheets.cli._app import app, err, open_library, out, print_json
from refsheets.cli.tender import tender_app


@tender_app.command("new")
def tender_new(
    sources: Annotated[
        list[Path],
        typer.Argument(
            metavar="SOURCE...",
            help="The notice (.xml eForms, .json BOAMP record) and documents of the call "
            "(RC: .txt, .md, .pdf, .docx).",
        ),
    ],
    out_path: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The tender file (default: tenders/<reference>.yaml)."),
    ] = None,
    entity: Annotated[
        str | None,
        typer.Option("--entity", "-e", help="Which of our structures answers (entities.yaml)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the tender file; write nothing.")
    ] = False,
) -> None:
    """Start a tender file from the call's notice and RC: every value says where it was
    read, and what no source states is a TODO line."""
    from refsheets.notice import new_tender

    library = open_library()
    result = new_tender(
        sources, library=library, out=out_path, entity=entity, force=force, dry_run=dry_run
    )
    if dry_run:
        out.print(result.text, markup=False, end="")
    for text in result.draft.disagreements:
        err.print(f"disagreement: {text}", style="yellow", markup=False)
    for note in result.draft.notes:
        err.print(f"note: {note}", markup=False)
    todos = result.todos
    done = "would be written" if dry_run else "written"
    err.print(f"{result.path} {done}", markup=False)
    if todos:
        keys = ", ".join(dict.fromkeys(todo.split(":", 1)[0] for todo in todos))
        err.print(
            f"{len(todos)} TODO line(s) to settle ({keys}) before `refsheets tender check "
            f"{result.path}`",
            style="yellow",
            markup=False,
        )


@app.command("cpv")
def cpv(
    text: Annotated[
        str, typer.Argument(metavar="TEXT", help="Words of a label (French or English) or digits.")
    ],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many.")] = 20,
    json_output: Annotated[bool, typer.Option("--json", help="As JSON.")] = False,
) -> None:
    """Find CPV 2008 codes by their French or English label, or by the start of the code."""
    from refsheets.cpv import search_cpv

    found = search_cpv(text, limit=limit)
    if json_output:
        print_json(
            [{"code": e.code, "label_fr": e.label_fr, "label_en": e.label_en} for e in found]
        )
        return
    if not found:
        err.print(f"no CPV code matches '{text}'", style="yellow", markup=False)
        raise typer.Exit(3)
    for entry in found:
        out.print(f"{entry.code}  {entry.label_fr}  ({entry.label_en})", markup=False)
