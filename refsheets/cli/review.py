"""`refsheets review`: the library's freshness, soonest first (exit 1 when overdue)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Annotated

import typer

from refsheets.cli._app import app, day_option, err, open_library, out, print_json
from refsheets.cli.render import LabelLang
from refsheets.errors import ExitStatus, RenderError


@app.command()
def review(
    as_json: Annotated[bool, typer.Option("--json", help="Print the review as JSON.")] = False,
    html: Annotated[
        Path | None,
        typer.Option("--html", metavar="FILE", help="Also write a one-page printable HTML report."),
    ] = None,
    months: Annotated[
        int,
        typer.Option(
            "--months", min=1, help="How far ahead to look for references leaving a window."
        ),
    ] = 6,
    lang: Annotated[
        LabelLang | None,
        typer.Option(
            "--lang",
            help="The report's language [default: the library's 'language', else fr].",
        ),
    ] = None,
    today: Annotated[
        datetime.date | None,
        typer.Option(
            "--today",
            parser=day_option,
            metavar="DATE",
            help="Review as of this day (15/01/2027) [default: today].",
        ),
    ] = None,
) -> None:
    """What needs attention: references leaving the 3- and 5-year windows (with the date),
    overdue reviews, missing facts and attestations, anonymity leaks, unknown tags; and
    per tag, the references that qualify today. Exits 1 when a review is overdue."""
    from refsheets.review import TEXTS, finding_lines, review_library

    library = open_library()
    result = review_library(
        library,
        today=today or datetime.date.today(),
        horizon_months=months,
        lang=None if lang is None else ("en" if lang is LabelLang.en else "fr"),
    )
    texts = TEXTS[result.lang]
    if html is not None:
        from refsheets.output import write_atomic
        from refsheets.review_html import review_html

        title = library.settings.name or library.root.resolve().name
        try:
            write_atomic(html, review_html(result, title=title).encode("utf-8"))
        except OSError as exc:
            raise RenderError(f"cannot write {html}: {exc.strerror or exc}") from None
        err.print(f"wrote {html}", markup=False)
    if as_json:
        print_json(result.to_json())
    else:
        for line in finding_lines(result.findings, result.lang):
            out.print(line, markup=False)
        out.print("")
        out.print(texts["tags_heading"], markup=False)
        for tag in result.tags:
            out.print(
                f"  {tag.label:<32} {tag.within[3]:>3} {tag.within[5]:>3} {tag.total:>3}",
                markup=False,
            )
    if result.overdue:
        err.print(
            texts["overdue_total"].format(
                count=len(result.overdue), period=result.review_period_months
            ),
            style="red",
            markup=False,
        )
        raise typer.Exit(int(ExitStatus.INVALID_DATA))
