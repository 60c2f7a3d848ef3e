"""Tender files: what one call for tenders asks, in `tenders/<name>.yaml`.

A tender file names the call (name, buyer, reference, deadline), its subject (themes as
tags, the object's text), the buyer's rules on references (years window, minimum amount,
client kind, how many, facts each must show), the bid manager's hand choice (references to
include first, references to exclude, each with its reason), its lots (each with its own
subject, rules and hand choice, the tender's keys as defaults), and how we answer (the
brand, the layout, the formats, the language). It is validated like a mission: strict
keys, every problem at once, each pointing at `file:line:col`.

    tender = load_tender(Path("tenders/example.yaml"), library=library)
    for scope in tender.scopes():          # the whole tender, or each of its lots
        result = pick(library, scope.pick_query(), today=date.today())
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from refsheets.errors import Diagnostic, NotFoundError, RefsheetsError, did_you_mean
from refsheets.library import Library
from refsheets.model import (
    AmountField,
    ClientKindValue,
    CpvCode,
    DayField,
    NonEmptyText,
    Strict,
    Text,
)
from refsheets.select import Fact, PickQuery
from refsheets.todo import find_placeholders
from refsheets.yamlfile import Source, key_line_of, line_of, read_source, validate_source

TENDERS_DIR = "tenders"
SCHEMA_FILE = "tender.schema.json"
SCHEMA_LINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"
"""The first line of a tender file in `tenders/`: editors then complete and check it."""


class TenderError(RefsheetsError):
    """A tender file that cannot be used; its diagnostics say where and why."""


RuleName = Literal["years", "min_amount", "client_kind", "required_facts", "own_references_only"]
"""The rules a hand-picked reference may be allowed to break (`waive`)."""

RULE_NAMES: tuple[RuleName, ...] = (
    "years",
    "min_amount",
    "client_kind",
    "required_facts",
    "own_references_only",
)


class TenderRules(Strict):
    """The buyer's rules on references, as the tender's rules of consultation state them."""

    years: int | None = Field(
        default=None,
        strict=True,
        ge=0,
        description="References ended at most this many years before the deadline.",
    )
    min_amount: AmountField | None = Field(
        default=None,
        description="Lowest amount of a reference: 10000, or '10 000 € HT' (whole euros).",
    )
    client_kind: ClientKindValue | None = Field(
        default=None, description="Only references for this kind of client."
    )
    min_references: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        description="The RC's 'au moins': fewer qualifying references stop the export.",
    )
    max_references: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        description="The RC's 'au plus': how many references the annex holds at most.",
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
    page_limit: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        description="Pages the buyer allows per reference ('une page A4 maximum par "
        "référence'); refsheets cards are one page each.",
    )

    def merged(self, override: TenderRules | None) -> TenderRules:
        """These rules with the keys `override` sets (a lot's rules) replaced."""
        if override is None:
            return self
        return self.model_copy(
            update={key: getattr(override, key) for key in override.model_fields_set}
        )


def _as_given(value: Any) -> Any:
    return value


class Inclusion(Strict):
    """A reference the bid manager puts in the annex by hand, first, in this order."""

    id: NonEmptyText = Field(description="The mission's id (its file name).")
    waive: list[RuleName] = Field(
        default=[],
        description="Rules this reference may break, explicitly: years, min_amount, "
        "client_kind, required_facts, own_references_only.",
    )
    reason: Text | None = Field(
        default=None,
        description="Why: required with waive; the manifest records it.",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_id(cls, value: Any) -> Any:
        return {"id": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _waiver_has_reason(self) -> Inclusion:
        if self.waive and not self.reason:
            raise ValueError(
                f"'{self.id}' waives {', '.join(self.waive)} without a reason; add "
                "'reason: …' saying why the buyer should accept it (the manifest records it)"
            )
        return self


def _refuse_bare_id(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError(
            f"an exclusion needs its reason: write '- id: {value}' and, below it, "
            "'reason: …' (the manifest records why a reference was left out)"
        )
    return value


class Exclusion(Strict):
    """A reference the bid manager leaves out of the annex, with the reason."""

    id: NonEmptyText = Field(description="The mission's id (its file name).")
    reason: NonEmptyText = Field(description="Why it is left out; the manifest records it.")


InclusionField = Annotated[
    Inclusion, BeforeValidator(_as_given, json_schema_input_type=Inclusion | str)
]
ExclusionField = Annotated[Exclusion, BeforeValidator(_refuse_bare_id)]


class HandChoice(Strict):
    """The bid manager's choice: references to include first, references to exclude."""

    include: list[InclusionField] | None = Field(
        default=None,
        description="Mission ids to put first in the annex, in this order; each is still "
        "checked against the rules unless it waives one with a reason.",
    )
    exclude: list[ExclusionField] = Field(
        default=[], description="Mission ids to leave out, each with its reason."
    )


_LOT_NUMBER = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")


def _lot_number(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("should be a lot number such as 1 or 2A, not a yes/no value")
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        value = value.strip()
        if not (len(value) <= 16 and _LOT_NUMBER.fullmatch(value)):
            raise ValueError(
                f"'{value[:40]}' is not a lot number; write it as the RC does, "
                "with letters and digits: 1, 2, 2A"
            )
    return value


LotNumber = Annotated[str, BeforeValidator(_lot_number, json_schema_input_type=int | str)]


class Lot(Strict):
    """One lot of a call: its own subject, rules and hand choice; the tender's as defaults."""

    number: LotNumber = Field(description="The lot's number, as the RC gives it: 1, 2, 2A.")
    title: NonEmptyText | None = Field(default=None, description="The lot's title.")
    themes: list[NonEmptyText] | None = Field(
        default=None, description="Tags of the lot's subject (default: the tender's)."
    )
    match: Literal["any", "all"] | None = Field(
        default=None, description="References with any of the themes, or all of them."
    )
    query: Text | None = Field(
        default=None,
        description="The lot's object, ranked as free text (default: its title and the "
        "tender's query).",
    )
    deadline: DayField | None = Field(
        default=None, description="The lot's own deadline (default: the tender's)."
    )
    cpv: list[CpvCode] | None = Field(
        default=None, description="The lot's CPV codes, as its notice gives them."
    )
    rules: TenderRules | None = Field(
        default=None, description="Overrides the tender's rules, key by key."
    )
    references: HandChoice | None = Field(
        default=None,
        description="The lot's hand choice: its include replaces the tender's; exclusions add up.",
    )


class Tender(Strict):
    """One call for tenders and how we answer it."""

    name: NonEmptyText = Field(description="The tender's title, as the buyer wrote it.")
    buyer: NonEmptyText
    reference: Text | None = Field(default=None, description="The buyer's reference number.")
    deadline: DayField = Field(description="Date limite de remise des offres (YYYY-MM-DD).")
    cpv: list[CpvCode] = Field(
        default=[],
        description="The call's CPV codes (main first), as its notice gives them; "
        "`refsheets tender new` names the tags they match as themes.",
    )
    themes: list[NonEmptyText] = Field(default=[], description="Tags of the subject.")
    match: Literal["any", "all"] = Field(
        default="any", description="References with any of the themes, or all of them."
    )
    query: Text | None = Field(
        default=None, description="The tender's object, ranked as free text (default: name)."
    )
    rules: TenderRules = TenderRules()
    references: HandChoice = Field(
        default=HandChoice(),
        description="The bid manager's hand choice: include (first, in order), exclude.",
    )
    lots: list[Lot] = Field(
        default=[],
        description="The call's lots; each inherits the tender's keys and overrides them.",
    )
    entity: NonEmptyText = Field(description="The brand that answers: a key of entities.yaml.")
    layout: NonEmptyText | None = Field(
        default=None, description="The cards' layout (default: the entity's own)."
    )
    formats: list[Literal["pdf", "docx"]] = Field(default=["pdf"], min_length=1)
    language: Literal["fr", "en"] = "fr"
    pdf_variant: Literal[
        "pdf/ua-1", "pdf/a-2a", "pdf/a-2u", "pdf/a-2b", "pdf/a-3a", "pdf/a-3u", "pdf/a-3b"
    ] = Field(
        default="pdf/ua-1",
        description="PDF/UA-1 (tagged, accessible), or a PDF/A variant (also tagged) when "
        "the buyer asks for archival files.",
    )
    anonymous_attestations: list[NonEmptyText] = Field(
        default=[],
        description=(
            "Anonymous missions whose attestation may be appended all the same (an "
            "attestation names the client): an explicit choice, mission by mission."
        ),
    )

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
        """The pick the tender's own keys ask for (without its lots); see Scope.pick_query."""
        return self.scopes(whole=True)[0].pick_query()

    def scopes(self, *, whole: bool = False) -> list[Scope]:
        """What is answered: one scope per lot, or the whole tender when it has no lots
        (or when `whole`)."""
        if whole or not self.lots:
            return [_scope(self, None, None)]
        return [_scope(self, lot, i) for i, lot in enumerate(self.lots)]

    def scope(self, number: str | int | None) -> Scope:
        """The lot numbered `number` (None: the whole tender when it has no lots).

        Raises NotFoundError naming the lots when there is no such lot.
        """
        if number is None:
            if self.lots:
                numbers = ", ".join(lot.number for lot in self.lots)
                raise NotFoundError(
                    f"the tender has lots ({numbers}); choose one with --lot, or answer all"
                )
            return self.scopes()[0]
        wanted = str(number).strip()
        for index, lot in enumerate(self.lots):
            if lot.number.casefold() == wanted.casefold():
                return _scope(self, lot, index)
        if not self.lots:
            raise NotFoundError(f"the tender has no lots; drop --lot {wanted}")
        raise NotFoundError(
            f"the tender has no lot {wanted}; its lots: "
            + ", ".join(lot.number for lot in self.lots)
        )


@dataclass(frozen=True)
class Scope:
    """What one annex answers: the whole tender, or one lot with the tender's defaults
    filled in."""

    tender: Tender
    lot: Lot | None
    index: int | None
    """The lot's position in the file (for diagnostics); None for the whole tender."""
    themes: tuple[str, ...]
    match: Literal["any", "all"]
    text: str
    deadline: dt.date
    rules: TenderRules
    include: tuple[Inclusion, ...]
    exclude: tuple[Exclusion, ...]

    @property
    def number(self) -> str | None:
        """The lot's number, or None for a tender without lots."""
        return self.lot.number if self.lot else None

    @property
    def title(self) -> str:
        """The lot's title (or 'Lot N'), or the tender's name."""
        if self.lot is None:
            return self.tender.name
        return self.lot.title or f"Lot {self.lot.number}"

    @property
    def label(self) -> str:
        """'lot 2' or 'the tender', for messages."""
        return f"lot {self.lot.number}" if self.lot else "the tender"

    @property
    def folder(self) -> str | None:
        """The lot's sub-folder of the export (`lot-2`), None without lots."""
        return f"lot-{self.lot.number}" if self.lot else None

    def pick_query(self) -> PickQuery:
        """The pick this scope asks for: its themes and object, its rules as filters.

        The years window counts back from the deadline; `max_references` is the limit.
        """
        rules = self.rules
        return PickQuery(
            tags=self.themes,
            match=self.match,
            text=self.text,
            within=rules.years,
            on=self.deadline,
            min_amount=rules.min_amount,
            client_kind=rules.client_kind,
            entity=self.tender.entity if rules.own_references_only else None,
            require=tuple(dict.fromkeys(rules.required_facts)),
            limit=rules.max_references,
        )


def _scope(tender: Tender, lot: Lot | None, index: int | None) -> Scope:
    own = tender.references
    if lot is None:
        return Scope(
            tender,
            None,
            None,
            tuple(tender.themes),
            tender.match,
            tender.query or tender.name,
            tender.deadline,
            tender.rules,
            tuple(own.include or ()),
            tuple(own.exclude),
        )
    choice = lot.references
    include = choice.include if choice and choice.include is not None else own.include
    exclude = [*own.exclude, *(choice.exclude if choice else [])]
    # A lot's subject is its own object; without one, its title within the tender's.
    text = lot.query or "\n".join(x for x in (lot.title, tender.query or tender.name) if x)
    return Scope(
        tender,
        lot,
        index,
        tuple(lot.themes if lot.themes is not None else tender.themes),
        lot.match or tender.match,
        text,
        lot.deadline or tender.deadline,
        tender.rules.merged(lot.rules),
        tuple(include or ()),
        tuple(exclude),
    )


def load_tender(path: Path | str, *, library: Library | None = None) -> Tender:
    """Read and validate a tender file.

    With `library`, also check that its themes are known tags, its entity exists and its
    hand-picked references are missions of the library, with the same `file:line:col`
    diagnostics. Raises NotFoundError when the file does not exist, TenderError (carrying
    every diagnostic) when it is not valid.
    """
    path = Path(path)
    if not path.is_file():
        raise NotFoundError(
            f"no tender file {path}; tender files live in {TENDERS_DIR}/ "
            f"(see {TENDERS_DIR}/example.yaml)"
        )
    source, problems = read_source(path, kind="tender")
    if source is None:
        raise TenderError(f"{path} is not a valid tender file", problems)
    placeholders = find_placeholders(source.data)
    if placeholders:
        # A tender file from `refsheets new tender`: a TODO is never a rule nor a date.
        raise TenderError(
            f"{path} still has {len(placeholders)} TODO(s) to fill in; fill them in or "
            "delete the lines",
            [
                _at(source, loc, "still TODO: fill it in, or delete the line")
                for loc in placeholders
            ],
        )
    tender, problems = validate_source(source, Tender)
    if tender is None:
        raise TenderError(f"{path} is not a valid tender file; fix the problems above", problems)
    problems = check_consistency(source, tender)
    if problems:
        raise TenderError(f"{path} is not a valid tender file; fix the problems above", problems)
    if library is not None:
        problems = check_tender(source, tender, library)
        if problems:
            raise TenderError(
                f"{path} does not match the library {library.root}; fix the problems above",
                problems,
            )
    return tender


Loc = tuple[str | int, ...]


def _choices(tender: Tender) -> Iterator[tuple[Loc, HandChoice]]:
    yield ("references",), tender.references
    for i, lot in enumerate(tender.lots):
        if lot.references is not None:
            yield ("lots", i, "references"), lot.references


def _listed(choice: HandChoice) -> tuple[tuple[str, Sequence[Inclusion | Exclusion]], ...]:
    return (("include", choice.include or []), ("exclude", choice.exclude))


def check_consistency(source: Source, tender: Tender) -> list[Diagnostic]:
    """What each key allows but the file as a whole does not: more references asked at
    least than at most, an id chosen twice or both included and excluded, more references
    included by hand than the annex may hold, two lots with one number."""
    problems: list[Diagnostic] = []
    for where, choice in _choices(tender):
        for key, items in _listed(choice):
            seen: set[str] = set()
            for i, item in enumerate(items):
                if item.id in seen:
                    problems.append(
                        _at(source, (*where, key, i), f"'{item.id}' is listed twice; keep one")
                    )
                seen.add(item.id)
    numbers: set[str] = set()
    for i, lot in enumerate(tender.lots):
        if lot.number.casefold() in numbers:
            problems.append(
                _at(source, ("lots", i, "number"), f"two lots are numbered {lot.number}")
            )
        numbers.add(lot.number.casefold())
    scopes = tender.scopes(whole=True) + (tender.scopes() if tender.lots else [])
    for scope in scopes:
        problems += _scope_problems(source, scope)
    return sorted(_unique(problems), key=lambda d: (d.line or 0, d.column or 0))


def _rules_loc(scope: Scope, key: str) -> Loc:
    lot_rules = scope.lot.rules if scope.lot else None
    if lot_rules is not None and key in lot_rules.model_fields_set:
        return ("lots", scope.index or 0, "rules", key)
    return ("rules", key)


def _include_loc(scope: Scope) -> Loc:
    lot_choice = scope.lot.references if scope.lot else None
    if lot_choice is not None and lot_choice.include is not None:
        return ("lots", scope.index or 0, "references", "include")
    return ("references", "include")


def _scope_problems(source: Source, scope: Scope) -> list[Diagnostic]:
    problems = []
    rules = scope.rules
    if (
        rules.min_references is not None
        and rules.max_references is not None
        and rules.min_references > rules.max_references
    ):
        problems.append(
            _at(
                source,
                _rules_loc(scope, "min_references"),
                f"asks at least {rules.min_references} references but at most "
                f"{rules.max_references} ({scope.label}); check the RC and fix one",
            )
        )
    if rules.max_references is not None and len(scope.include) > rules.max_references:
        problems.append(
            _at(
                source,
                _include_loc(scope),
                key=True,
                message=f"includes {len(scope.include)} references by hand but the annex holds at "
                f"most {rules.max_references} (rules.max_references, {scope.label}); "
                "include fewer",
            )
        )
    excluded = {item.id for item in scope.exclude}
    for i, item in enumerate(scope.include):
        if item.id in excluded:
            excluded.discard(item.id)  # once per id
            problems.append(
                _at(
                    source,
                    (*_include_loc(scope), i),
                    f"'{item.id}' is both included and excluded ({scope.label}); "
                    "keep one of the two",
                )
            )
    return problems


def _unique(problems: list[Diagnostic]) -> list[Diagnostic]:
    # A lot that inherits the tender's keys repeats the tender's problems: say each once.
    return list(dict.fromkeys(problems))


def check_tender(source: Source, tender: Tender, library: Library) -> list[Diagnostic]:
    """What the tender names and the library does not know: themes, entity, mission ids."""
    problems = []
    theme_lists: list[tuple[Loc, list[str]]] = [(("themes",), tender.themes)]
    theme_lists += [
        (("lots", i, "themes"), lot.themes) for i, lot in enumerate(tender.lots) if lot.themes
    ]
    for where, themes in theme_lists:
        for i, theme in enumerate(themes):
            if library.taxonomy.resolve(theme) is None:
                near = library.taxonomy.nearest(theme)
                hint = (
                    f"nearest known: {', '.join(near)}" if near else "`refsheets tags` lists them"
                )
                problems.append(_at(source, (*where, i), f"unknown tag '{theme}'; {hint}"))
    if library.entities and tender.entity not in library.entities:
        hint = did_you_mean(tender.entity, library.entities)
        problems.append(_at(source, ("entity",), f"unknown entity '{tender.entity}'; {hint}"))
    for where, choice in _choices(tender):
        for key, items in _listed(choice):
            for i, item in enumerate(items):
                if item.id not in library.missions:
                    hint = did_you_mean(item.id, library.missions, listing="missions")
                    problems.append(
                        _at(
                            source,
                            (*where, key, i),
                            f"no mission '{item.id}' in the library; {hint}",
                        )
                    )
    return problems


def _at(source: Source, loc: Loc, message: str, *, key: bool = False) -> Diagnostic:
    """A diagnostic at the value at `loc` (or at its key, to speak of a whole list)."""
    line, column = key_line_of(source, loc) if key else line_of(source, loc)
    field = ".".join(str(part) for part in loc if isinstance(part, str))
    return Diagnostic(source.path, message, line, column, field=field)
