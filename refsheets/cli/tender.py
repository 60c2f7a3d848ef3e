"""`refsheets tender …`: commands about one call for tenders (its file, its readiness)."""

from __future__ import annotations

import typer

from refsheets.cli._app import app

tender_app = typer.Typer(
    name="tender",
    help="Tender files: start one from a notice, check that a tender is ready to answer.",
    no_args_is_help=True,
)
app.add_typer(tender_app)
