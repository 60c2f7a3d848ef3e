"""The card: a typed, print-ready view of one mission, fed to every output format.

Templates and the Word writer receive a `Card`, never the raw mission: every field is
already formatted (amount, period, labels, French typography) and private fields are not
there at all, so no template can print them by mistake.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from refsheets.library import Library
from refsheets.model import Entity, Mission, Partner
from refsheets.taxonomy import Taxonomy
from refsheets.text import format_amount, format_period
from refsheets.typography import english, french, keep_last_words

Lang = Literal["fr", "en"]


@dataclass(frozen=True)
class Labels:
    """The fixed words of a card, in one language."""

    context: str
    approach: str
    deliverables: str
    tags: str
    budget: str
    period: str
    client: str
    location: str
    carried_by: str
    public: str
    private: str
    with_partners: str
    in_group_with: str
    reference: str
    contact: str
    photo: str
    roles: dict[str, str] = field(default_factory=dict)
    # Our role in the contract, after "Mission portée par <brand>": {members} are the
    # groupement's other members, {holder} the firm that held the contract, {hired} our
    # subcontractors (a subcontractor is never a member of the groupement).
    our_role: dict[str, str] = field(default_factory=dict)
    hired: str = ""


LABELS: dict[str, Labels] = {
    "fr": Labels(
        context="Contexte",
        approach="Partis pris",
        deliverables="Réalisations",
        tags="Expertises et thématiques",
        budget="Montant",
        period="Période",
        client="Client",
        location="Lieu",
        carried_by="Mission portée par",
        public="Client public",
        private="Client privé",
        with_partners="Avec",
        in_group_with="En groupement avec",
        reference="Référence",
        contact="Contact",
        photo="Photo de la mission",
        roles={
            "sole": "titulaire",
            "lead": "mandataire",
            "co-contractor": "cotraitant",
            "subcontractor": "sous-traitant",
        },
        our_role={
            "sole": "en tant que titulaire du marché",
            "lead": "en tant que mandataire d'un groupement avec {members}",
            "lead-alone": "en tant que mandataire d'un groupement",
            "co-contractor": "en tant que cotraitant d'un groupement avec {members}",
            "co-contractor-alone": "en tant que cotraitant d'un groupement",
            "subcontractor": "en tant que sous-traitant de {holder}",
            "subcontractor-alone": "en tant que sous-traitant",
        },
        hired="avec {hired} en sous-traitance",
    ),
    "en": Labels(
        context="Context",
        approach="Approach",
        deliverables="Deliverables",
        tags="Expertise and themes",
        budget="Amount",
        period="Period",
        client="Client",
        location="Location",
        carried_by="Carried out by",
        public="Public client",
        private="Private client",
        with_partners="With",
        in_group_with="In a consortium with",
        reference="Reference",
        contact="Contact",
        photo="Photo of the mission",
        roles={
            "sole": "contract holder",
            "lead": "lead",
            "co-contractor": "co-contractor",
            "subcontractor": "subcontractor",
        },
        our_role={
            "sole": "as sole contractor",
            "lead": "as lead of a consortium with {members}",
            "lead-alone": "as lead of a consortium",
            "co-contractor": "as co-contractor in a consortium with {members}",
            "co-contractor-alone": "as co-contractor in a consortium",
            "subcontractor": "as subcontractor to {holder}",
            "subcontractor-alone": "as subcontractor",
        },
        hired="with {hired} as subcontractor(s)",
    ),
}


@dataclass(frozen=True)
class Block:
    """A piece of running text: a paragraph, or a numbered or bulleted list."""

    kind: Literal["paragraph", "ordered", "bullets"]
    items: tuple[str, ...]


@dataclass(frozen=True)
class CardPhoto:
    """A photo to print, with its file on disk (inside the library)."""

    path: Path
    caption: str | None
    alt: str  # the alternative text of the tagged PDF: the alt key, else the caption
    crop: bool = False


@dataclass(frozen=True)
class Brand:
    """Who carried the mission, as the footer prints it."""

    key: str | None
    name: str | None
    email: str | None
    website: str | None
    phone: str | None


@dataclass(frozen=True)
class Card:
    """Everything a reference card prints, formatted and in reading order."""

    id: str
    lang: Lang
    labels: Labels
    title: str
    client: str
    client_kind: str | None  # the label: "Client public"
    location: str | None
    period: str | None
    amount: str | None
    brand: Brand
    partners: str | None  # "En groupement avec X (cotraitant)"
    context: tuple[Block, ...]
    approach: tuple[Block, ...]
    deliverables: tuple[str, ...]
    tags: tuple[str, ...]  # labels of the taxonomy, in the mission's order
    photos: tuple[CardPhoto, ...]

    @property
    def keywords(self) -> tuple[str, ...]:
        """For the document's metadata."""
        return self.tags


_ORDERED_ITEM = re.compile(r"^\s*\d+[.)]\s+")
_BULLET_ITEM = re.compile(r"^\s*[-•*–]\s+")


def split_blocks(text: str | None, typeset: TypesetFn) -> tuple[Block, ...]:
    """Split text into paragraphs and lists (blank lines separate blocks)."""
    if not text:
        return ()
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in chunk.splitlines() if line.strip()]
        if lines and all(_ORDERED_ITEM.match(line) for line in lines):
            items = tuple(typeset(_ORDERED_ITEM.sub("", line)) for line in lines)
            blocks.append(Block("ordered", items))
        elif lines and all(_BULLET_ITEM.match(line) for line in lines):
            items = tuple(typeset(_BULLET_ITEM.sub("", line)) for line in lines)
            blocks.append(Block("bullets", items))
        else:
            blocks.append(Block("paragraph", (typeset(" ".join(s.strip() for s in lines)),)))
    return tuple(blocks)


class TypesetFn:
    """Typography for one language, binding the last words of each piece."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __call__(self, text: str) -> str:
        text = french(text) if self.lang == "fr" else english(text)
        return keep_last_words(text)


def build_card(
    library: Library, mission_id: str, *, lang: Lang = "fr", mission: Mission | None = None
) -> Card:
    """The card of one mission of `library`."""
    mission = mission or library.get(mission_id)
    return card_from_mission(
        mission_id,
        mission,
        lang=lang,
        taxonomy=library.taxonomy,
        entity=library.entities.get(mission.entity or ""),
        library_root=library.root,
    )


def card_from_mission(
    mission_id: str,
    mission: Mission,
    *,
    lang: Lang,
    taxonomy: Taxonomy,
    entity: Entity | None,
    library_root: Path,
) -> Card:
    """Build the card from its parts (for callers that hold them already)."""
    labels = LABELS[lang]
    typeset = TypesetFn(lang)
    plain = french if lang == "fr" else english
    client = mission.client
    client_name = (
        client.anonymous_label if mission.disclosure == "anonymous" else client.name
    ) or client.name
    kind = {"public": labels.public, "private": labels.private}.get(client.kind or "")
    tags: list[str] = []
    for tag in mission.tags:
        resolved = taxonomy.resolve(tag)
        # A tag outside the taxonomy is printed as written, but capitalised like the
        # labels beside it ("espace public" -> "Espace public").
        label = (
            resolved.label_in(lang)
            if resolved
            else tag.lstrip("#")[:1].upper() + tag.lstrip("#")[1:]
        )
        if label not in tags:
            tags.append(label)
    return Card(
        id=mission_id,
        lang=lang,
        labels=labels,
        title=plain(mission.title),
        client=plain(client_name),
        client_kind=kind,
        location=(
            plain(client.location) if client.location and mission.disclosure == "named" else None
        ),
        period=format_period(mission.period, lang),
        amount=format_amount(mission.budget, lang) if mission.budget else None,
        brand=Brand(
            key=mission.entity,
            name=entity.name if entity else None,
            email=entity.email if entity else None,
            website=entity.website if entity else None,
            phone=entity.phone if entity else None,
        ),
        partners=_partners_line(mission, labels, plain),
        context=split_blocks(mission.context, typeset),
        approach=split_blocks(mission.approach, typeset),
        deliverables=tuple(typeset(item) for item in mission.deliverables),
        tags=tuple(tags),
        photos=tuple(
            CardPhoto(
                library_root / photo.path,
                plain(photo.caption) if photo.caption else None,
                alt=plain(photo.alt or photo.caption or f"{labels.photo} : {mission.title}"),
                crop=photo.crop,
            )
            for photo in mission.photos
        ),
    )


def _partners_line(mission: Mission, labels: Labels, plain: Callable[[str], str]) -> str | None:
    if mission.role is not None:
        return _our_role_line(mission, labels, plain)
    if not mission.partners:
        return None
    names = []
    for partner in mission.partners:
        role = labels.roles.get(partner.role or "")
        names.append(f"{plain(partner.name)} ({role})" if role else plain(partner.name))
    # "En groupement" only when a role says so: the source's bare "avec X" stays "Avec X".
    grouped = any(p.role in ("lead", "co-contractor") for p in mission.partners)
    lead = labels.in_group_with if grouped else labels.with_partners
    return f"{lead} {', '.join(names)}"


def _our_role_line(mission: Mission, labels: Labels, plain: Callable[[str], str]) -> str:
    """ "en tant que mandataire d'un groupement avec X (cotraitant)", from our role and the
    partners' roles; our subcontractors are named apart, never as members."""

    def names(partners: list[Partner]) -> str:
        return ", ".join(
            f"{plain(p.name)} ({labels.roles[p.role]})" if p.role else plain(p.name)
            for p in partners
        )

    role = mission.role or "sole"
    hired = [p for p in mission.partners if p.role == "subcontractor"]
    others = [p for p in mission.partners if p.role != "subcontractor"]
    if role == "subcontractor":
        # The firms we worked under; a fellow subcontractor is not who we answered to.
        holders = [p for p in mission.partners if p.role in ("sole", "lead", None)]
        key = "subcontractor" if holders else "subcontractor-alone"
        return labels.our_role[key].format(holder=names(holders))
    if role == "sole":
        line = labels.our_role["sole"]
        hired = mission.partners  # a sole contractor's partners can only be its subcontractors
    else:
        key = role if others else f"{role}-alone"
        line = labels.our_role[key].format(members=names(others))
    if hired:
        line += ", " + labels.hired.format(hired=", ".join(plain(p.name) for p in hired))
    return line
