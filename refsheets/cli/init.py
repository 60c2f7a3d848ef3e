"""`refsheets init DIR`: create a library of one's own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from refsheets.cli._app import app, out


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="The new library's folder (new or empty).")],
    name: Annotated[
        str | None, typer.Option("--name", help="The library's name [default: the folder's].")
    ] = None,
) -> None:
    """Create a library: missions/, tags.yaml, entities.yaml, tenders/, schemas, a README."""
    from refsheets.init import init_library

    written = init_library(folder, name=name)
    out.print(f"created the library {folder} ({len(written)} files)", markup=False)
    out.print(
        f"next: cd {folder} && refsheets new mission   (then refsheets check; "
        "refsheets finds the library from any folder inside it)",
        markup=False,
    )
