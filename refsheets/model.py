"""The mission model: what one YAML file of the library may say.

Strict pydantic models (unknown keys are errors). A few fields accept the short forms a
bid manager types from a portfolio ("20 000 € HT", "2019 - 2020") and turn them into
their structured form, so the rest of the code only ever sees one shape.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from refsheets import french
from refsheets.cpv import parse_cpv

CpvCode = Annotated[str, BeforeValidator(parse_cpv, json_schema_input_type=str | int)]
"""A CPV 2008 code: `79411000` or `79411000-8`, kept as its 8 digits."""

# Characters XML 1.0 forbids (python-docx raises on them, WeasyPrint drops them silently),
# and the C1 controls (U+0080-U+009F: terminal escapes, U+0085 a line break to some
# readers and not to others).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
# Bidirectional overrides, embeddings and isolates: they reorder what a reader sees
# (U+202E shows "cod.exe" as "exe.doc"); French and English text never needs them.
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _check_xml_text(value: str) -> str:
    match = _XML_INVALID.search(value)
    if match:
        raise ValueError(
            f"contains the control character U+{ord(match.group()):04X} "
            f"at position {match.start() + 1}, which no card format can hold; remove it"
        )
    match = _BIDI_CONTROL.search(value)
    if match:
        raise ValueError(
            f"contains the invisible bidirectional control U+{ord(match.group()):04X} "
            f"at position {match.start() + 1}, which reorders the text a reader sees; "
            "remove it"
        )
    return value.strip()


Text = Annotated[str, AfterValidator(_check_xml_text)]
"""Printable text: stripped, free of XML-invalid control characters."""

NonEmptyText = Annotated[Text, Field(min_length=1)]


MAX_NAME_BYTES = 255  # one component of a path, on every common file system


def _check_relative_path(value: str) -> str:
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) or value.startswith("//"):
        raise ValueError(
            "is a URL; refsheets never fetches anything: copy the file into the library "
            "and give its path relative to the library folder"
        )
    match = _XML_INVALID.search(value) or _BIDI_CONTROL.search(value)
    if match:
        raise ValueError(
            f"holds the control character U+{ord(match.group()):04X}, which no file name "
            "should; rename the file and fix the path"
        )
    path = PurePosixPath(value.replace("\\", "/"))
    if any(len(part.encode()) > MAX_NAME_BYTES for part in path.parts):
        raise ValueError(
            f"has a name over {MAX_NAME_BYTES} bytes, longer than file systems allow; "
            "rename the file and fix the path"
        )
    if path.is_absolute():
        raise ValueError("is an absolute path; give a path relative to the library folder")
    if ".." in path.parts:
        raise ValueError(
            "leaves the library folder ('..'); copy the file into the library "
            "and give its path relative to it"
        )
    return str(path)


LibraryPath = Annotated[str, AfterValidator(_check_relative_path)]
"""A path relative to the library folder, that cannot leave it."""


class Strict(BaseModel):
    """Base of every model read from YAML: frozen, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, str_strip_whitespace=False, defer_build=True
    )


# --------------------------------------------------------------------------- period


@dataclass(frozen=True, order=True)
class YearMonth:
    """A year, or a month of a year: the precision portfolios give dates with."""

    year: int
    month: int | None = None

    def __str__(self) -> str:
        return f"{self.year}" if self.month is None else f"{self.year}-{self.month:02d}"

    @property
    def sort_key(self) -> tuple[int, int]:
        """A key that orders a bare year before its months."""
        return (self.year, self.month or 0)


def parse_year_month(value: object) -> YearMonth:
    """Read a year or a month as written: `2019`, `"2019-05"`, `"05/2019"`, `"mars 2019"`;
    raise ValueError (naming the accepted forms) otherwise."""
    if isinstance(value, YearMonth):
        return value
    year, month = french.parse_month(value)
    return YearMonth(year, month)


YearMonthField = Annotated[
    YearMonth,
    BeforeValidator(parse_year_month, json_schema_input_type=int | str),
    PlainSerializer(str, return_type=str),
]


class Period(Strict):
    """When the mission ran. Either bound may be unknown."""

    start: YearMonthField | None = None
    end: YearMonthField | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return {"start": value, "end": value}
        if isinstance(value, str):
            # "2019 - 2020", "2021/2022", "mars 2025 - novembre 2025", "depuis 2024"…
            start, end = french.split_period(value)
            return {"start": start, "end": end}
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.start and self.end and self.end.sort_key < self.start.sort_key:
            raise ValueError(
                f"ends ({self.end}) before it starts ({self.start}); swap start and end"
            )
        return self

    @property
    def last_year(self) -> int | None:
        """The year the mission ended (or started, when its end is unknown)."""
        bound = self.end or self.start
        return bound.year if bound else None


# --------------------------------------------------------------------------- budget


MAX_AMOUNT_DIGITS = 12
"""Digits of the largest amount (under a thousand billion euros): past it, a typo."""


class Budget(Strict):
    """The mission's amount, as the forms ask for it: whole euros, HT or TTC."""

    amount: int = Field(
        strict=True,
        ge=0,
        lt=10**MAX_AMOUNT_DIGITS,
        description="Whole euros, no separators: 20000",
    )
    currency: Literal["EUR"] = "EUR"
    basis: Literal["HT", "TTC"] = "HT"

    @model_validator(mode="before")
    @classmethod
    def _from_short_form(cls, value: Any) -> Any:
        return read_amount(value)


def read_amount(value: Any) -> Any:
    """The structured form of an amount written short: `20000` or `'20 000 € HT'` become
    `{"amount": 20000, "basis": "HT"}`; anything else is returned as given, for the model
    to judge. Raises ValueError for text that is not an amount.

    Missions' budgets and tenders' minimum amounts are both read here, so they accept the
    same forms.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"amount": value}
    if isinstance(value, float):
        raise ValueError(
            f"{value} is not a whole number of euros; write the amount without "
            "separators or cents, e.g. 20000"
        )
    if isinstance(value, str):
        digits = re.sub(r"\D", "", value)
        if len(digits) > MAX_AMOUNT_DIGITS:
            raise ValueError(
                f"'{value[:40]}' has {len(digits)} digits; an amount is at most "
                f"{MAX_AMOUNT_DIGITS} digits (whole euros): check it"
            )
        amount, basis = french.parse_amount(value)
        # Without HT/TTC the amount is read as HT (what the forms ask);
        # `library` warns that it was assumed (see `states_basis`).
        return {"amount": amount, "basis": basis or "HT"}
    return value


def states_basis(value: Any) -> bool:
    """Whether an amount as written in a file says HT or TTC (else HT is assumed)."""
    if isinstance(value, str):
        try:
            return french.parse_amount(value)[1] is not None
        except ValueError:
            return True  # not an amount at all: its own error says so
    if isinstance(value, dict):
        return "basis" in value
    return False


def _whole_euros(value: Any) -> Any:
    data = read_amount(value)
    if isinstance(data, dict) and set(data) <= {"amount", "currency", "basis"}:
        if data.get("currency", "EUR") != "EUR":
            raise ValueError(f"'{data['currency']}' is not a currency refsheets knows; use EUR")
        amount = data.get("amount")
        if isinstance(amount, int) and not isinstance(amount, bool) and amount < 0:
            raise ValueError(f"should be at least 0, not {amount}")
        return amount
    return data


def _as_given(value: Any) -> Any:
    return value


# The short forms are parsed by the models' own "before" validators; these annotations
# only tell the JSON Schema (and so editors) that a string or a number is welcome too.
BudgetField = Annotated[
    Budget,
    BeforeValidator(_as_given, json_schema_input_type=Budget | str | int),
    Field(
        description="The amount: 20000, '20 000 € HT', '18.000 € TTC', '20 k€ HT', or "
        "amount/currency/basis keys (without HT/TTC, HT is assumed and `check` says so)."
    ),
]
PeriodField = Annotated[
    Period,
    BeforeValidator(_as_given, json_schema_input_type=Period | str | int),
    Field(
        description="When: '2019 - 2020', '2021/2022', 2022, 'mars 2025 - novembre 2025', "
        "'03/2025 - 11/2025', 'depuis 2024', or start/end keys."
    ),
]

AmountField = Annotated[
    int,
    BeforeValidator(_whole_euros, json_schema_input_type=str | int),
    Field(strict=True),
]
"""Whole euros, in the forms a mission's budget accepts ('10 000 € HT', 10000); the
basis is not kept: a rule's amount is compared with each mission's as written."""


def read_day(value: Any) -> Any:
    """A day as written (`2026-04-17`, `17/04/2026`, `17 avril 2026`); YAML's datetimes keep
    their day: an hour never moves a years window. Anything else is returned as given,
    for the model to judge."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return french.parse_day(value)
    return value


DayField = Annotated[dt.date, BeforeValidator(read_day, json_schema_input_type=dt.date | str)]
"""A date, in the forms refsheets reads everywhere (a tender's deadline)."""


def _read_client_kind(value: Any) -> Any:
    return french.parse_client_kind(value) if isinstance(value, str) else value


ClientKindValue = Annotated[
    Literal["public", "private"],
    BeforeValidator(_read_client_kind, json_schema_input_type=str),
]
"""Public or private buyer, as the forms (DC2, DUME) ask: missions and tenders alike;
`publique`, `privé`… are read too."""


def _read_role(value: Any) -> Any:
    return french.parse_role(value) if isinstance(value, str) else value


RoleValue = Annotated[
    Literal["sole", "lead", "co-contractor", "subcontractor"],
    BeforeValidator(_read_role, json_schema_input_type=str),
]
"""A role in a public contract: sole (titulaire alone), lead (mandataire of a groupement),
co-contractor (cotraitant), subcontractor (sous-traitant); the French words are read too."""

# --------------------------------------------------------------------------- parts


class Client(Strict):
    """Who bought the mission."""

    name: NonEmptyText
    kind: ClientKindValue | None = Field(
        default=None, description="Public or private buyer, as the forms (DC2, DUME) ask."
    )
    location: Text | None = None
    anonymous_label: Text | None = Field(
        default=None,
        description="Shown instead of the name when disclosure is 'anonymous', "
        "e.g. 'Commune rurale, Hauts-de-France'.",
    )


class Partner(Strict):
    """A firm the mission was carried out with."""

    name: NonEmptyText
    role: RoleValue | None = Field(
        default=None,
        description="mandataire (lead of the groupement), cotraitant (co-contractor), "
        "sous-traitant (subcontractor), or titulaire (sole: it held the contract and we "
        "were its subcontractor).",
    )
    share: int | None = Field(
        default=None, strict=True, ge=0, description="Our part of the amount, in euros."
    )


class Photo(Strict):
    """A picture of the mission, printed on the card."""

    path: LibraryPath
    caption: Text | None = None
    alt: Text | None = Field(
        default=None,
        description="What the photo shows, for readers who cannot see it (default: caption).",
    )
    crop: bool = Field(
        default=False,
        strict=True,
        description="Fill the card's photo box, cutting the edges (default: the whole photo).",
    )


class Contact(Strict):
    """The client's referee (private: never printed)."""

    name: Text | None = None
    email: Text | None = None
    phone: Text | None = None


class Mission(Strict):
    """One past mission: what a reference card and the DC2/DUME forms are made from."""

    title: NonEmptyText
    client: Client
    period: PeriodField | None = None
    entity: Text | None = Field(
        default=None, description="Which of our structures carried it: a key of entities.yaml."
    )
    role: RoleValue | None = Field(
        default=None,
        description="Our role in the contract: titulaire (sole), mandataire (lead of a "
        "groupement), cotraitant (co-contractor) or sous-traitant (subcontractor).",
    )
    partners: list[Partner] = []
    context: Text | None = Field(default=None, description="The card's 'Contexte'.")
    approach: Text | None = Field(default=None, description="The card's 'Partis pris'.")
    deliverables: list[NonEmptyText] = Field(default=[], description="'Réalisations'.")
    tags: list[NonEmptyText] = []
    cpv: list[CpvCode] = Field(
        default=[], description="CPV codes of the mission (8 digits, `refsheets cpv` finds them)."
    )
    budget: BudgetField | None = None
    photos: list[Photo] = []
    # Private fields: never printed on a card, left out of public exports.
    contact: Contact | None = None
    notes: Text | None = None
    attestation: LibraryPath | None = Field(
        default=None, description="Certificate of good performance (PDF), private."
    )
    disclosure: Literal["named", "anonymous"] = "named"
    reviewed: DayField | None = Field(
        default=None,
        description="When the mission was last reviewed (15/01/2027): `refsheets review` "
        "flags it once the library's review period has passed. Private.",
    )
    owner: Text | None = Field(
        default=None, description="Who keeps this reference up to date. Private."
    )

    @model_validator(mode="after")
    def _anonymous_needs_label(self) -> Mission:
        if self.disclosure == "anonymous" and not self.client.anonymous_label:
            raise ValueError(
                "disclosure is 'anonymous' but client.anonymous_label is missing; "
                "add a generic description such as 'Commune rurale, Hauts-de-France'"
            )
        return self


PRIVATE_FIELDS = frozenset({"contact", "notes", "attestation", "disclosure", "reviewed", "owner"})
"""Fields that never reach a card nor a public export."""


# --------------------------------------------------------------------------- library files


class Entity(Strict):
    """One of our structures (a brand), that carries missions."""

    name: NonEmptyText
    email: Text | None = None
    website: Text | None = None
    phone: Text | None = None


class Entities(Strict):
    """`entities.yaml`: our structures by key."""

    entities: dict[str, Entity]


class TagDef(Strict):
    """A canonical tag of the taxonomy."""

    label: NonEmptyText
    label_en: NonEmptyText | None = Field(
        default=None, description="The label on English cards (default: the label)."
    )
    aliases: list[NonEmptyText] = []
    cpv: list[CpvCode] = Field(
        default=[],
        description="CPV codes of the tag's subject; each covers its descendants "
        "(79400000 covers 79411000). A tender's themes are the tags its codes match.",
    )


class Taxonomy(Strict):
    """`tags.yaml`: canonical tags by key, each with its label and aliases."""

    tags: dict[str, TagDef]
