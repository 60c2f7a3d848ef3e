"""`refsheets render`: one-page reference cards."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from refsheets.cli._app import app, err, open_library, out, read_ids
from refsheets.errors import UsageError


class RenderFormat(enum.StrEnum):
    """What `render` writes."""

    pdf = "pdf"
    docx = "docx"
    png = "png"
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
    pdf_variant: Annotated[
        str,
        typer.Option(
            "--pdf-variant",
            help="pdf/ua-1 (tagged, accessible), or PDF/A for archiving: pdf/a-3u, pdf/a-3a, "
            "pdf/a-2u… (tagged too).",
            show_default=True,
        ),
    ] = "pdf/ua-1",
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the cards to.", show_default=True)
    ] = Path("out"),
    dpi: Annotated[
        int | None,
        typer.Option(
            "--dpi", help="Resolution of --format png, in pixels per inch (36-600; default 150)."
        ),
    ] = None,
) -> None:
    """Render reference cards: writes OUT/<id>.pdf (or .docx, or .png: one per page)."""
    formats = ("pdf", "docx") if fmt is RenderFormat.all else (fmt.value,)
    if dpi is not None and "png" not in formats:
        raise UsageError("--dpi sets the resolution of PNG images; add --format png")
    library = open_library()
    from refsheets.render import render as render_cards

    notices: list[str] = []
    written = render_cards(
        library,
        read_ids(ids),
        formats=formats,
        layout=layout,
        lang="en" if lang is LabelLang.en else "fr",
        out_dir=out_dir,
        dpi=dpi,
        pdf_variant=pdf_variant,
        notices=notices,
    )
    for path in written:
        out.print(str(path), markup=False)
    for notice in notices:
        err.print(f"note: {notice}", style="yellow", markup=False)
    err.print(f"wrote {len(written)} file(s) in {out_dir}")
