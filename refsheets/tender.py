"""Tender files: what one call for tenders asks, in `tenders/<name>.yaml`.

A tender file names the call (name, buyer, reference, deadline), its subject (themes as
tags, the object's text), the buyer's rules on references (years window, minimum amount,
client kind, how many, facts each must show), and how we answer (the brand, the layout,
the formats, the language). It is validated like a mission: strict keys, every problem
at once, each pointing at `file:line:col`.

    tender = load_tender(Path("tenders/example.yaml"), library=library)
    result = pick(library, tender.pick_query(), today=date.today())
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator

from refsheets.errors import Diagnostic, NotFoundError, RefsheetsError, did_you_mean
from refsheets.library import Library
from refsheets.model import NonEmptyText, Strict, Text
from refsheets.select import Fact, PickQuery
from refsheets.yamlfile import Source, line_of, read_source, validate_source

TENDERS_DIR = "tenders"


class TenderError(RefsheetsError):
    """A tender file that cannot be used; its diagnostics say where and why."""


def _date_of(value: Any) -> Any:
    # YAML reads `2026-04-17 12:00` as a datetime: a deadline's hour does not move a year
    # window, so keep the day.
    if isinstance(value, dt.datetime):
        return value.date()
    return value


Deadline = Annotated[dt.date, BeforeValidator(_date_of)]


class TenderRules(Strict):
    """The buyer's rules on references, as the tender's rules of consultation state them."""

    years: int | None = Field(
        default=None,
        strict=True,
        ge=0,
        description="References ended at most this many years before the deadline.",
    )
    min_amount: int | None = Field(
        default=None, strict=True, ge=0, description="Lowest amount of a reference, whole euros."
    )
    client_kind: Literal["public", "private"] | None = Field(
        default=None, description="Only references for this kind of client."
    )
    max_references: int | None = Field(
        default=None, strict=True, ge=1, description="How many references the annex holds."
    )
    required_facts: list[Fact] = Field(
        default=[], description="Facts every reference must show: amount, dates, …"
    )
    own_references_only: bool = Field(
        default=False,
        strict=True,
        description=(
            "Only missions carried by the answering entity. Off by default: a candidate may "
            "rely on the capacities of a sister structure that joins the bid."
        ),
    )


class Tender(Strict):
    """One call for tenders and how we answer it."""

    name: NonEmptyText = Field(description="The tender's title, as the buyer wrote it.")
    buyer: NonEmptyText
    reference: Text | None = Field(default=None, description="The buyer's reference number.")
    deadline: Deadline = Field(description="Date limite de remise des offres (YYYY-MM-DD).")
    themes: list[NonEmptyText] = Field(default=[], description="Tags of the subject.")
    match: Literal["any", "all"] = Field(
        default="any", description="References with any of the themes, or all of them."
    )
    query: Text | None = Field(
        default=None, description="The tender's object, ranked as free text (default: name)."
    )
    rules: TenderRules = TenderRules()
    entity: NonEmptyText = Field(description="The brand that answers: a key of entities.yaml.")
    layout: NonEmptyText | None = Field(
        default=None, description="The cards' layout (default: the entity's own)."
    )
    formats: list[Literal["pdf", "docx"]] = Field(default=["pdf"], min_length=1)
    language: Literal["fr", "en"] = "fr"

    @field_validator("layout")
    @classmethod
    def _layout_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", value):
            raise ValueError(
                f"'{value}' is not a layout name; use the name of a folder of layouts/ "
                "(lower-case letters, digits, hyphens)"
            )
        return value

    def pick_query(self) -> PickQuery:
        """The pick this tender asks for: its themes and object, its rules as filters.

        The years window counts back from the deadline; `max_references` is the limit.
        """
        rules = self.rules
        return PickQuery(
            tags=tuple(self.themes),
            match=self.match,
            text=self.query or self.name,
            within=rules.years,
            on=self.deadline,
            min_amount=rules.min_amount,
            client_kind=rules.client_kind,
            entity=self.entity if rules.own_references_only else None,
            require=tuple(dict.fromkeys(rules.required_facts)),
            limit=rules.max_references,
        )


def load_tender(path: Path | str, *, library: Library | None = None) -> Tender:
    """Read and validate a tender file.

    With `library`, also check that its themes are known tags and its entity exists,
    with the same `file:line:col` diagnostics. Raises NotFoundError when the file does
    not exist, TenderError (carrying every diagnostic) when it is not valid.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(
            f"no tender file {path}; tender files live in {TENDERS_DIR}/ "
            f"(see {TENDERS_DIR}/example.yaml)"
        )
    source, problems = read_source(path)
    if source is None:
        raise TenderError(f"{path} is not a valid tender file", problems)
    tender, problems = validate_source(source, Tender)
    if tender is None:
        raise TenderError(f"{path} is not a valid tender file; fix the problems above", problems)
    if library is not None:
        problems = check_tender(source, tender, library)
        if problems:
            raise TenderError(
                f"{path} does not match the library {library.root}; fix the problems above",
                problems,
            )
    return tender


def check_tender(source: Source, tender: Tender, library: Library) -> list[Diagnostic]:
    """What the tender names and the library does not know: themes, entity."""
    problems = []
    for i, theme in enumerate(tender.themes):
        if library.taxonomy.resolve(theme) is None:
            near = library.taxonomy.nearest(theme)
            hint = f"nearest known: {', '.join(near)}" if near else "`refsheets tags` lists them"
            problems.append(_at(source, ("themes", i), f"unknown tag '{theme}'; {hint}"))
    if library.entities and tender.entity not in library.entities:
        hint = did_you_mean(tender.entity, library.entities)
        problems.append(_at(source, ("entity",), f"unknown entity '{tender.entity}'; {hint}"))
    return problems


def _at(source: Source, loc: tuple[str | int, ...], message: str) -> Diagnostic:
    line, column = line_of(source, loc)
    field = ".".join(str(part) for part in loc if isinstance(part, str))
    return Diagnostic(source.path, message, line, column, field=field)
