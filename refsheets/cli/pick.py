"""`refsheets pick`: the missions that fit a tender, ranked, with why."""

from __future__ import annotations

import datetime
import enum
import gc
import operator
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from refsheets.cli._app import (
    amount_option,
    app,
    client_kind_option,
    day_option,
    err,
    open_library,
    open_summaries,
    out,
    print_json,
)

if TYPE_CHECKING:
    from refsheets.choice import Choice
    from refsheets.library import Library, Summaries
    from refsheets.select import PickResultOf
    from refsheets.summary import MissionFacts
    from refsheets.tender import Tender


class MatchMode(enum.StrEnum):
    """How `pick --tag` combines several tags."""

    any = "any"
    all = "all"


@app.command()
def pick(
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag",
            "-t",
            help="A tag to look for (repeat for several); aliases, case, accents and "
            "plurals do not matter.",
        ),
    ] = None,
    match: Annotated[
        MatchMode | None,
        typer.Option("--match", help="Missions with any of the tags, or all of them [any]."),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="Free text to rank by: the tender's title or object."),
    ] = None,
    since: Annotated[
        int | None, typer.Option("--since", help="Missions that ended in or after this year.")
    ] = None,
    within: Annotated[
        int | None,
        typer.Option("--within", help="Missions that ended at most N years before --on."),
    ] = None,
    on: Annotated[
        datetime.date | None,
        typer.Option(
            "--on",
            parser=day_option,
            metavar="DATE",
            help="Reference date for --within and recency, e.g. the tender's deadline: "
            "2027-01-15 or 15/01/2027 [default: today].",
        ),
    ] = None,
    min_amount: Annotated[
        int | None,
        typer.Option(
            "--min-amount",
            parser=amount_option,
            metavar="AMOUNT",
            help="Lowest amount: 10000, '10 000 €', 10k€.",
        ),
    ] = None,
    max_amount: Annotated[
        int | None,
        typer.Option(
            "--max-amount", parser=amount_option, metavar="AMOUNT", help="Highest amount."
        ),
    ] = None,
    client_kind: Annotated[
        str | None,
        typer.Option(
            "--client-kind",
            parser=client_kind_option,
            metavar="KIND",
            help="Public or private client (public, publique, privé…).",
        ),
    ] = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="Missions carried by this entity.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", help="Keep at most N missions, the best.")
    ] = None,
    tender: Annotated[
        Path | None,
        typer.Option(
            "--tender",
            help="Show the choice a tender file makes (themes, object, rules, hand choice), "
            "as `export` does; the options above override its subject and rules instead.",
        ),
    ] = None,
    lot: Annotated[
        str | None,
        typer.Option("--lot", help="With --tender: only this lot (its number: 1, 2A)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON, with score parts.")
    ] = False,
    private: Annotated[
        bool,
        typer.Option("--private", help="Show the real client of anonymous missions."),
    ] = False,
    ids_only: Annotated[
        bool,
        typer.Option(
            "--ids",
            help="Print the ids only, one a line (for `refsheets render -`); "
            "exclusions go to stderr.",
        ),
    ] = False,
) -> None:
    """Pick the missions that fit a tender, ranked, with why; list those the filters exclude.

    Score = 0.50 x text relevance (BM25F, best = 1) + 0.35 x share of wanted tags carried
    + 0.15 x recency (halves every 4 years); ties go to the more recent mission, then the id.
    """
    import dataclasses

    from refsheets.select import PickQuery
    from refsheets.select import pick as pick_missions

    if as_json and ids_only:
        raise typer.BadParameter("choose one of --json and --ids", param_hint="--json/--ids")
    if lot is not None and tender is None:
        raise typer.BadParameter("--lot needs --tender", param_hint="--lot")
    # A pick searches the words of every mission when it has text (or a tender's object).
    # Without a tender, the missions' summaries are enough (`library.load_summaries`).
    search = query is not None or tender is not None
    whole = open_library(search=search) if tender is not None else None
    library: Library | Summaries = (
        whole if whole is not None else open_summaries(search=search, query=query)
    )
    base = PickQuery()
    given: dict[str, Any] = {
        "tags": tuple(tag) if tag else None,
        "match": match.value if match else None,
        "text": query,
        "since": since,
        "within": within,
        "on": on,
        "min_amount": min_amount,
        "max_amount": max_amount,
        "client_kind": client_kind,
        "entity": entity,
        "limit": limit,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    if tender is not None and whole is not None:
        from refsheets.tender import load_tender

        tender_file = load_tender(tender, library=whole)
        if not overrides:
            show_choice(
                whole,
                tender_file,
                tender,
                lot,
                as_json=as_json,
                ids_only=ids_only,
                private=private,
            )
            return
        # Options override the subject or the rules: a plain pick, without the hand choice.
        base = tender_file.scope(lot).pick_query() if lot else tender_file.pick_query()
        if tender_file.lots and lot is None:
            err.print("note: the options apply to the tender's own keys, not to its lots")
        err.print("note: with options, the tender's hand choice is not applied")
    wanted = dataclasses.replace(base, **overrides)
    # A pick of 50,000 missions makes hundreds of thousands of small objects without a
    # cycle, and they live until the command ends; its table or JSON as many again, that
    # live until written. The cyclic collector, paused while they are made and written,
    # would walk them again and again (a tenth of the command; 0.05 s of the table).
    gc.disable()
    try:
        result = pick_missions(library, wanted, today=datetime.date.today())
        print_result(result, tender, as_json=as_json, ids_only=ids_only, private=private)
    finally:
        gc.enable()


def print_result(
    result: PickResultOf[MissionFacts],
    tender: Path | None,
    *,
    as_json: bool,
    ids_only: bool,
    private: bool,
) -> None:
    """A pick's result as JSON, ids or tables (anonymous clients hidden unless `private`)."""
    if as_json:
        print_json({"tender": str(tender) if tender else None, **result.to_json(private=private)})
        return
    if ids_only:
        for mission_id in result.ids:
            sys.stdout.write(mission_id + "\n")
        for item in result.excluded:
            err.print(f"excluded {item.id}: {'; '.join(item.reasons)}", markup=False)
        return
    print_pick(result, private=private)


def show_choice(
    library: Library,
    tender: Tender,
    path: Path,
    lot: str | None,
    *,
    as_json: bool,
    ids_only: bool,
    private: bool = False,
) -> None:
    """The choice `export` makes for a tender (each lot, or one), as a table, JSON or ids
    (anonymous clients hidden unless `private`)."""
    from refsheets.choice import choose

    scopes = [tender.scope(lot)] if lot is not None else tender.scopes()
    choices = [choose(library, scope, today=datetime.date.today()) for scope in scopes]
    if as_json:
        if len(choices) == 1:
            print_json({"tender": str(path), **choices[0].to_json(private=private)})
        else:
            print_json({"tender": str(path), "lots": [c.to_json(private=private) for c in choices]})
    elif ids_only:
        for mission_id in dict.fromkeys(i for c in choices for i in c.ids):
            sys.stdout.write(mission_id + "\n")
        for choice in choices:
            for miss in choice.missed:
                if miss.kind != "subject":
                    err.print(f"not chosen {miss.id}: {'; '.join(miss.reasons)}", markup=False)
    else:
        for choice in choices:
            print_choice(choice, private=private)
    for choice in choices:
        for problem in choice.errors:
            err.print(f"export would stop: {problem}", style="red", markup=False)
        for warning in choice.warnings:
            err.print(f"warning: {warning}", style="yellow", markup=False)


def print_choice(choice: Choice, *, private: bool = False) -> None:
    """The references of one annex, then the closest missions not chosen, with why
    (anonymous clients hidden unless `private`)."""
    from refsheets.library import client_name
    from refsheets.text import format_amount, format_period

    scope, rules = choice.scope, choice.scope.rules
    asked = []
    if rules.min_references is not None:
        asked.append(f"at least {rules.min_references}")
    if rules.max_references is not None:
        asked.append(f"at most {rules.max_references}")
    heading = f"Lot {scope.number}: {scope.title}" if scope.lot else "The tender"
    table = Table(
        title=f"{heading}: {len(choice.chosen)} reference(s)"
        + (f" ({', '.join(asked)})" if asked else "")
        + f", deadline {scope.deadline.isoformat()}"
    )
    headers = ("#", "id", "title", "client", "period", "amount", "score", "why")
    for i, column in enumerate(headers):
        table.add_column(column, overflow="fold", no_wrap=i in (0, 4, 5, 6))
    for item in choice.chosen:
        mission = item.mission
        table.add_row(
            str(item.rank),
            item.id,
            mission.title,
            client_name(mission, private=private),
            format_period(mission.period) or "—",
            format_amount(mission.budget) if mission.budget else "—",
            f"{item.score:.3f}" if item.score is not None else "—",
            item.why,
        )
    out.print(table)
    if not choice.missed:
        return
    near = Table(title="The closest missions not chosen")
    for column in ("id", "title", "score", "why not"):
        near.add_column(column, overflow="fold", no_wrap=column == "score")
    for miss in choice.closest:
        near.add_row(miss.id, miss.mission.title, f"{miss.score:.3f}", "; ".join(miss.reasons))
    out.print(near)
    rest = choice.missed[len(choice.closest) :]
    if rest:
        out.print(
            f"{len(rest)} more not chosen: "
            + ", ".join(miss.id for miss in rest)
            + " (`--json` gives every reason)",
            markup=False,
        )


def print_pick(result: PickResultOf[MissionFacts], *, private: bool = False) -> None:
    """The ranked missions and the excluded ones, as tables (anonymous clients hidden
    unless `private`)."""
    from refsheets.cli._table import (
        amount_cell,
        column_of,
        period_cell,
        print_columns,
        print_table,
    )
    from refsheets.library import client_name

    selected = result.selected
    missions = list(map(_MISSION, selected))
    # Built a column at a time, in C where it can: each distinct period, amount and score
    # formatted once.
    columns = [
        list(map(str, map(_RANK, selected))),
        list(map(_ID, selected)),
        list(map(_TITLE, missions)),
        [client_name(mission, private=private) for mission in missions],
        column_of(period_cell, list(map(_PERIOD, missions))),
        column_of(amount_cell, list(map(_BUDGET, missions))),
        column_of(_score_cell, list(map(_SCORE, selected))),
        list(map(_WHY, selected)),
    ]
    print_columns(
        f"{len(result.selected)} mission(s) picked "
        f"(reference date {result.reference_date.isoformat()})",
        ("#", "id", "title", "client", "period", "amount", "score", "why"),
        columns,
        no_wrap=(0, 4, 5, 6),
    )
    if result.excluded:
        print_table(
            f"{len(result.excluded)} mission(s) excluded by the filters",
            ("id", "title", "reason"),
            [(gone.id, gone.mission.title, "; ".join(gone.reasons)) for gone in result.excluded],
        )
    if result.beyond_limit:
        out.print(
            f"{len(result.beyond_limit)} more passed the filters, below the limit: "
            + ", ".join(result.beyond_limit),
            markup=False,
        )
    if result.unmatched:
        out.print(f"{result.unmatched} mission(s) not about the asked tags or words.")


_MISSION = operator.attrgetter("mission")
_RANK = operator.attrgetter("rank")
_ID = operator.attrgetter("id")
_TITLE = operator.attrgetter("title")
_PERIOD = operator.attrgetter("period")
_BUDGET = operator.attrgetter("budget")
_SCORE = operator.attrgetter("score")
_WHY = operator.attrgetter("why")


def _score_cell(score: float) -> str:
    return format(score, ".3f")
