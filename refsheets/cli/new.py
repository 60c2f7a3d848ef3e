"""`refsheets new mission [ID]` and `refsheets new tender NAME`: files to fill in."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from refsheets.cli._app import app, out, state
from refsheets.errors import UsageError

new_app = typer.Typer(
    help="Start a mission or a tender file: every key, explained in French, TODO to fill in.",
    no_args_is_help=True,
)
app.add_typer(new_app, name="new")

EditOption = Annotated[
    bool, typer.Option("--edit", "-e", help="Open the new file in $VISUAL or $EDITOR.")
]


@new_app.command("mission")
def new_mission_command(
    mission_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[ID]",
            help="The mission's id, its file name: 2025-commune-tiers-lieu "
            "[default: nouvelle-mission, to rename].",
        ),
    ] = None,
    edit: EditOption = False,
) -> None:
    """Write missions/ID.yaml in the library, to fill in; `refsheets check` lists the TODOs."""
    from refsheets.init import new_mission

    path = new_mission(state.library, mission_id)
    out.print(str(path), markup=False)
    if edit:
        _open_editor(path)


@new_app.command("tender")
def new_tender_command(
    name: Annotated[str, typer.Argument(help="The tender's file name: val-de-canche-amo.")],
    edit: EditOption = False,
) -> None:
    """Write tenders/NAME.yaml (the library's tenders/ folder), to fill in."""
    from refsheets.init import new_tender
    from refsheets.settings import tenders_dir

    path = new_tender(tenders_dir(state.library), name)
    out.print(str(path), markup=False)
    if edit:
        _open_editor(path)


def _open_editor(path: Path) -> None:
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not command:
        raise UsageError(f"no editor: set EDITOR (e.g. export EDITOR=nano) or open {path} yourself")
    try:
        subprocess.run([*shlex.split(command), str(path)], check=False)
    except OSError as exc:
        raise UsageError(f"cannot start the editor '{command}': {exc.strerror or exc}") from None
