"""`refsheets preview`: the rendered card (or a tender's annex) live in a browser."""

from __future__ import annotations

import contextlib
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from refsheets.cli._app import app, err, out, state
from refsheets.cli.render import LabelLang


def _is_tender(target: str) -> bool:
    return target.endswith((".yaml", ".yml")) or "/" in target or Path(target).is_file()


@app.command()
def preview(
    target: Annotated[
        str,
        typer.Argument(metavar="ID|TENDER.yaml", help="A mission id, or a tender file."),
    ],
    port: Annotated[
        int,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            help="Port on 127.0.0.1; 0 picks a free one.",
            show_default=True,
        ),
    ] = 8421,
    layout: Annotated[
        str | None,
        typer.Option("--layout", help="A layout for the card; default: the mission's entity."),
    ] = None,
    lang: Annotated[
        LabelLang,
        typer.Option("--lang", help="Language of the card's labels."),
    ] = LabelLang.fr,
    dpi: Annotated[
        int | None,
        typer.Option("--dpi", help="Resolution of the page images (36-600; default 150)."),
    ] = None,
) -> None:
    """Serve the rendered card on 127.0.0.1, rendered again at each save; Ctrl-C stops."""
    from refsheets.errors import UsageError
    from refsheets.preview import (
        MissionTarget,
        PreviewTarget,
        TenderTarget,
        private_folder,
        run_preview,
    )

    def ready(url: str) -> None:
        out.print(url, markup=False)
        sys.stdout.flush()  # a script reading our stdout gets the address at once
        err.print(f"preview of {target} at {url} (Ctrl-C stops)", markup=False)

    def log(line: str) -> None:
        err.print(line, markup=False, highlight=False)

    # Ctrl-C is how a preview stops: honour it even when started from a script that
    # ignores SIGINT for its background jobs (Python then keeps ignoring it too).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    with contextlib.ExitStack() as stack:
        chosen: PreviewTarget
        if _is_tender(target):
            if layout is not None or lang is not LabelLang.fr:
                raise UsageError(
                    "--layout and --lang are set by the tender file (layout:, language:)"
                )
            work = stack.enter_context(private_folder())
            chosen = TenderTarget(state.library, Path(target), work)
        else:
            chosen = MissionTarget(
                state.library, target, layout, "en" if lang is LabelLang.en else "fr"
            )
        run_preview(chosen, port=port, dpi=dpi, on_ready=ready, log=log)
