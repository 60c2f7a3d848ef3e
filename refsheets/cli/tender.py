"""`refsheets tender …`: commands about one call for tenders (its file, its readiness)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from refsheets.cli._app import app, err, open_library, out, print_json
from refsheets.errors import ExitStatus

if TYPE_CHECKING:
    from refsheets.readiness import LotReadiness, Readiness

tender_app = typer.Typer(
    name="tender",
    help="Tender files: start one from a notice, check that a tender is ready to answer.",
    no_args_is_help=True,
)
app.add_typer(tender_app)


@tender_app.command("check")
def check_tender(
    tender: Annotated[Path, typer.Argument(metavar="TENDER.yaml", help="The tender file.")],
    lot: Annotated[
        str | None, typer.Option("--lot", help="Only this lot (its number: 1, 2A).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Is the tender ready to answer? Days to the deadline; per lot, the rules, how many
    references qualify against how many are asked, references leaving the years window
    before the deadline, missing facts and attestations, sister-brand references.
    Writes nothing. Exit 0 when ready, 1 when not."""
    from refsheets.readiness import assess
    from refsheets.tender import load_tender

    library = open_library()
    verdict = assess(
        load_tender(tender, library=library), library, today=datetime.date.today(), lot=lot
    )
    if as_json:
        print_json({"file": str(tender), **verdict.to_json()})
    else:
        print_readiness(verdict)
    if verdict.past:
        err.print(
            f"warning: the deadline {verdict.tender.deadline.isoformat()} is past "
            f"({-verdict.days_left} day(s) ago): the buyer no longer takes offers for this call",
            style="yellow",
            markup=False,
        )
    if not verdict.ready:
        raise typer.Exit(ExitStatus.INVALID_DATA)


def print_readiness(verdict: Readiness) -> None:
    """The verdict as a table per lot, then one line."""
    tender = verdict.tender
    days = verdict.days_left
    when = (
        f"PAST by {-days} day(s)" if days < 0 else ("today" if days == 0 else f"in {days} day(s)")
    )
    out.print(f"{tender.name}", markup=False)
    out.print(f"{tender.buyer} · deadline {tender.deadline.isoformat()} ({when})", markup=False)
    for lot in verdict.lots:
        out.print(_lot_table(lot))
    problems = sum(len(lot.choice.errors) for lot in verdict.lots)
    if verdict.ready:
        out.print("READY: `refsheets export` will go through.")
    else:
        out.print(f"NOT READY: {problems} problem(s) to solve before `refsheets export`.")


def _lot_table(lot: LotReadiness) -> Table:
    from refsheets.readiness import describe_rules

    scope, choice = lot.scope, lot.choice
    rules = scope.rules
    heading = f"Lot {scope.number}: {scope.title}" if scope.lot else "The tender"
    table = Table(title=f"{heading} — {'ready' if lot.ready else 'NOT READY'}")
    table.add_column("check", no_wrap=True)
    table.add_column("", no_wrap=True)
    table.add_column("detail", overflow="fold")
    table.add_row("rules", "", describe_rules(scope))
    asked = ", ".join(
        text
        for text in (
            f"at least {rules.min_references}" if rules.min_references else "",
            f"at most {rules.max_references}" if rules.max_references else "",
        )
        if text
    )
    short = rules.min_references is not None and len(choice.chosen) < rules.min_references
    full = rules.max_references is None or len(choice.chosen) >= rules.max_references
    table.add_row(
        "references",
        "✗" if short or not choice.chosen else ("✓" if full else "!"),
        f"{choice.qualifying} qualify, {len(choice.chosen)} in the annex"
        + (f" (asked: {asked})" if asked else "")
        + (": " + ", ".join(choice.ids) if choice.ids else ""),
    )
    hand = [item for item in choice.chosen if item.inclusion is not None]
    if hand or scope.exclude:
        lines = [
            f"+ {item.id}" + (f" (waives {', '.join(item.waived)})" if item.waived else "")
            for item in hand
        ] + [f"- {item.id}: {item.reason}" for item in scope.exclude]
        table.add_row("hand choice", "", "\n".join(lines))
    for problem in choice.errors:
        table.add_row("problem", "✗", problem)
    table.add_row(
        "leaving the window",
        "!" if lot.leaving else "✓",
        "\n".join(f"{x.id}: out of the window from {x.month}" for x in lot.leaving)
        or "none before the deadline",
    )
    table.add_row(
        "facts, attestations",
        "!" if lot.gaps else "✓",
        "\n".join(
            f"{gap.id}: "
            + ("lacks " if gap.chosen else "would qualify with ")
            + ", ".join(gap.facts)
            for gap in lot.gaps
        )
        or "complete",
    )
    table.add_row(
        "sister brand",
        "!" if lot.sister else "✓",
        "\n".join(f"{i}: carried by {e}" for i, e in lot.sister) or "none",
    )
    return table
