"""Cutting a portfolio's lines into mission drafts, with the facts found and those missing.

A mission page of a portfolio reads: a header (client, years, title, in any order and
any of them possibly absent), the sections "Contexte", "Partis pris", "Réalisations",
"Expertises et thématiques", an amount followed by "de budget", then a footer (page
furniture, the brand's name and e-mail, "avec …" partner lines, photo captions).

The section headings are the anchors: a mission is a run of headings in that order, and
a heading that does not come later than the previous one opens the next mission. What
lies between two missions is split in two: the footer of the first (everything up to
its last recognisable footer line, or up to the last page break) and the header of the
second. Nothing is guessed: a fact the page does not state is reported missing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refsheets.errors import Diagnostic, RefsheetsError
from refsheets.importer.bodies import public_body
from refsheets.importer.extract import PAGE_BREAK, Line
from refsheets.model import Budget, Entity, Period
from refsheets.taxonomy import fold, tag_key

SECTION_ORDER = ("context", "approach", "deliverables", "tags")

# Heading labels, folded, hyphens as spaces, "&" as "et".
_HEADINGS: dict[str, str] = {
    "contexte": "context",
    "le contexte": "context",
    "partis pris": "approach",
    "parti pris": "approach",
    "nos partis pris": "approach",
    "notre parti pris": "approach",
    "approche": "approach",
    "notre approche": "approach",
    "realisations": "deliverables",
    "nos realisations": "deliverables",
    "livrables": "deliverables",
    "expertises et thematiques": "tags",
    "expertises": "tags",
    "thematiques": "tags",
    "mots cles": "tags",
}
_SECTION_LABELS = {
    "context": "Contexte",
    "approach": "Partis pris",
    "deliverables": "Réalisations",
    "tags": "Expertises et thématiques",
}

# Page furniture of the portfolio, as letters only.
_FURNITURE = {"explorez", "nosprojets", "exploreznosprojets"}

_BULLET = re.compile(r"^(?:[•·▪●○◦►➢✓→]\s*|[-–—*+]\s+|\d{1,2}[.)]\s+)(?P<text>\S.*)$")
_EMAIL = re.compile(r"^(?:(?P<brand>.+?)\s*[—–|·,:-]\s*)?(?P<email>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)$")
MAX_MISSIONS = 500
_EMAIL_LINE_CHARS = 320  # a brand and an address; longer, the pattern is quadratic


def _email_match(text: str) -> re.Match[str] | None:
    """A footer line 'Brand — name@host' (or a bare address); None for anything else.

    Brand separators and address characters overlap ('-'), so the pattern tries every
    split of the line: it is only tried on lines short enough to be a footer's.
    """
    if "@" not in text or len(text) > _EMAIL_LINE_CHARS:
        return None
    return _EMAIL.match(text)


# A bound of a period, read on folded text: "2019", "mars 2019", "03/2019".
_BOUND = r"(?:(?P<{0}month>[a-z]+)\.?\s+|(?P<{0}num>\d{{1,2}})/)?(?P<{0}year>(?:19|20)\d{{2}})"
_YEARS = re.compile(
    r"^(?:de\s+|depuis\s+)?"
    + _BOUND.format("start")
    + r"(?:\s*(?:-|–|—|/|a|au)\s*"
    + _BOUND.format("end")
    + r")?$"
)
_MONTHS = {
    **dict.fromkeys(("janvier", "janv"), 1),
    **dict.fromkeys(("fevrier", "fevr", "fev"), 2),
    "mars": 3,
    **dict.fromkeys(("avril", "avr"), 4),
    "mai": 5,
    "juin": 6,
    **dict.fromkeys(("juillet", "juil"), 7),
    "aout": 8,
    **dict.fromkeys(("septembre", "sept"), 9),
    **dict.fromkeys(("octobre", "oct"), 10),
    **dict.fromkeys(("novembre", "nov"), 11),
    **dict.fromkeys(("decembre", "dec"), 12),
}
_AMOUNT = re.compile(
    r"^(?:(?:budget|montant)\s*:?\s*)?"
    r"(?P<value>(?P<number>\d{1,3}(?:[ .]\d{3})+|\d+)(?:,(?P<cents>\d{1,2}))?\s*"
    r"(?P<thousands>k\s*)?(?:€|eur\b|euros?\b)\s*(?P<basis>HT|H\.T\.?|TTC|T\.T\.C\.?)?)"
    r"\s*(?:de\s+budget)?\.?$",
    re.IGNORECASE,
)
_BUDGET_LABEL = {"de budget", "budget"}
_FUNCTION_WORDS = {
    *("a", "au", "aux", "avec", "dans", "de", "des", "du", "en", "et", "la", "le", "les"),
    *("ou", "par", "pour", "sur", "un", "une", "vers"),
}
# The article is dropped only in lower case: "avec la Compagnie …" but "avec La Fabrique …".
_PARTNER = re.compile(r"^[Aa]vec\s+(?:(?:le|la|les)\s+|l['’]\s*)?(?P<name>.+)$")
_PUBLIC_PREFIXES = (
    "ville de ",
    "ville d'",
    "commune de ",
    "commune d'",
    "mairie de ",
    "mairie d'",
    "region ",
    "departement ",
    "conseil departemental",
    "conseil regional",
    "communaute de communes",
    "communaute d'agglomeration",
    "communaute urbaine",
    "metropole ",
    "syndicat mixte",
    "etablissement public",
    "prefecture",
    "ministere",
)
_PLACE = re.compile(r"^(?:ville|commune|mairie)\s+(?:de\s+|d['’]\s*)(?P<place>.+)$", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:(?:le|la|les)\s+|l['’]\s*)", re.IGNORECASE)

# Markdown, which text exports of portfolios carry: kept as plain text.
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MD_QUOTE = re.compile(r"^>\s?")
# The bold and link patterns never scan past the next delimiter: with `.+?`, a long line
# of unclosed "**a " made each "**" scan the rest of the line (quadratic: 103 s a line).
_MD_LINK = re.compile(r"\[([^\[\]]*)\]\([^()]*\)")
_MD_BOLD = re.compile(r"(\*\*|__)(?=\S)((?:(?!\1)[^*_]|\*(?!\*)|_(?!_))+?)(?<=\S)\1")
_MD_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_MD_RULE = re.compile(r"^(?:-{3,}|\*{3,}|_{3,})$")


@dataclass
class Draft:
    """One mission as read from the portfolio: what it says, and what it does not."""

    index: int  # 1-based position in the portfolio
    start: Line  # its first section heading, for messages
    title: str | None = None
    client: str | None = None
    client_kind: str | None = None
    client_location: str | None = None
    period: str | int | None = None
    entity: str | None = None
    partners: list[tuple[str, str | None]] = field(default_factory=list)
    context: str | None = None
    approach: str | None = None
    deliverables: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    budget: str | None = None
    captions: list[str] = field(default_factory=list)
    notes: str | None = None
    missing: dict[str, str] = field(default_factory=dict)
    remarks: list[str] = field(default_factory=list)
    # Gathered on the way, resolved at the end.
    _brands: list[str] = field(default_factory=list, repr=False)
    _emails: list[str] = field(default_factory=list, repr=False)

    @property
    def label(self) -> str:
        """'mission 3 (line 52)', for messages."""
        return f"mission {self.index} ({self.start.where()})"

    def to_data(self) -> dict[str, Any]:
        """The mission file's content, keys in the library's order; None marks a gap.

        `title` and `client.name` are always present (None when the page does not give
        them), since a mission file must have them; the other keys only when found.
        """
        client: dict[str, Any] = {"name": self.client}
        if self.client_kind:
            client["kind"] = self.client_kind
        if self.client_location:
            client["location"] = self.client_location
        data: dict[str, Any] = {"title": self.title, "client": client}
        if self.period is not None:
            data["period"] = self.period
        if self.entity:
            data["entity"] = self.entity
        if self.partners:
            data["partners"] = [
                {"name": name, **({"role": role} if role else {})} for name, role in self.partners
            ]
        if self.context:
            data["context"] = self.context
        if self.approach:
            data["approach"] = self.approach
        if self.deliverables:
            data["deliverables"] = list(self.deliverables)
        if self.tags:
            data["tags"] = list(self.tags)
        if self.budget:
            data["budget"] = self.budget
        if self.notes:
            data["notes"] = self.notes
        return data

    def found(self) -> list[str]:
        """The facts the page gives, as short labels for a report."""
        facts: list[tuple[str, object]] = [
            ("title", self.title),
            ("client", self.client),
            ("client kind", self.client_kind),
            ("location", self.client_location),
            ("period", self.period),
            ("budget", self.budget),
            ("entity", self.entity),
            ("context", self.context),
            ("approach", self.approach),
        ]
        labels = [name for name, value in facts if value is not None]
        for name, values in (
            ("partners", self.partners),
            ("deliverables", self.deliverables),
            ("tags", self.tags),
            ("photo captions", self.captions),
        ):
            if values:
                labels.append(f"{name} ({len(values)})")
        return labels


def parse_portfolio(
    lines: Sequence[Line],
    *,
    source: Path,
    entities: Mapping[str, Entity] | None = None,
) -> list[Draft]:
    """The missions of a portfolio, in the order they appear.

    Raises RefsheetsError when the text holds no mission (no section heading), or when a
    mission has headings but no text at all; nothing is guessed to fill a gap.
    """
    cleaned = [_strip_markup(line) for line in lines]
    headings = [(i, *found) for i, line in enumerate(cleaned) if (found := _heading(line.text))]
    if not headings:
        raise RefsheetsError(
            f"found no mission in {source}: a mission page has the headings "
            + ", ".join(f"'{label}'" for label in _SECTION_LABELS.values())
            + " on lines of their own; is it a portfolio?"
        )
    groups: list[list[tuple[int, str, str]]] = []
    for heading in headings:
        if groups and SECTION_ORDER.index(heading[1]) > SECTION_ORDER.index(groups[-1][-1][1]):
            groups[-1].append(heading)
        else:
            groups.append([heading])

    if len(groups) > MAX_MISSIONS:
        # Each mission costs a few milliseconds to parse and tens to write and check.
        raise RefsheetsError(
            f"{source} holds {len(groups)} missions; one import takes at most {MAX_MISSIONS}: "
            "split the portfolio, or check that it is the right file"
        )
    parser = _Parser(cleaned, entities or {}, entities is not None, source)
    drafts: list[Draft] = []
    body_end = 0
    for number, group in enumerate(groups, start=1):
        draft = Draft(number, cleaned[group[0][0]])
        zone = cleaned[body_end : group[0][0]]
        if drafts:
            trailing, leading, page_split = _split_zone(zone, parser)
            parser.read_footer(drafts[-1], trailing)
        else:
            trailing, leading, page_split = _split_zone(zone, parser, first=True)
            ignored = [line.text for line in trailing if _is_text(line)]
            if ignored:
                draft.remarks.append(
                    "ignored before the first mission: " + " / ".join(_short(t) for t in ignored)
                )
        parser.read_header(draft, leading, page_split)
        next_start = groups[number][0][0] if number < len(groups) else len(cleaned)
        body_end = parser.read_body(draft, group, next_start)
        drafts.append(draft)
    parser.read_footer(drafts[-1], cleaned[body_end:])

    problems: list[Diagnostic] = []
    for draft in drafts:
        for brand in draft._brands:
            key = parser.brand_key(brand)
            if key:
                parser.portfolio_brands.setdefault(key, brand)
    for draft in drafts:
        parser.finish(draft)
        if not (draft.context or draft.approach or draft.deliverables):
            problems.append(
                Diagnostic(
                    source,
                    f"{draft.label} has the heading '{_SECTION_LABELS[_first_section(draft)]}' "
                    "but no text under its headings; is the layout a portfolio's?",
                    draft.start.line,
                )
            )
    if problems:
        raise RefsheetsError(
            f"{source} does not read as a portfolio; nothing was imported", problems
        )
    return drafts


def _first_section(draft: Draft) -> str:
    """The section of a draft's first heading."""
    found = _heading(draft.start.text)
    return found[0] if found else "context"


# --------------------------------------------------------------------------- lines


def _strip_markup(line: Line) -> Line:
    text = line.text
    if not text or line.is_page_break:
        return line
    if _MD_RULE.match(text):
        return Line(PAGE_BREAK, line.line, line.page)
    text = _MD_HEADING.sub("", text)
    text = _MD_QUOTE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_BOLD.sub(r"\2", text)
    text = _MD_ITALIC.sub(r"\1", text)
    text = _MD_ESCAPE.sub(r"\1", text).strip()
    return Line(text, line.line, line.page)


def _label_key(text: str) -> str:
    key = fold(text).replace("&", " et ").replace("-", " ").replace("_", " ")
    return " ".join(key.strip(" :.").split())


def _heading(text: str) -> tuple[str, str] | None:
    """(section, text on the same line) when `text` is a section heading."""
    if not text or len(text) > 200:
        return None
    section = _HEADINGS.get(_label_key(text))
    if section:
        return section, ""
    head, sep, rest = text.partition(":")
    if sep and rest.strip():
        section = _HEADINGS.get(_label_key(head))
        if section:
            return section, rest.strip()
    return None


def _is_text(line: Line) -> bool:
    return bool(line.text) and not line.is_page_break and not _is_furniture(line.text)


def _is_furniture(text: str) -> bool:
    return re.sub(r"[^a-z0-9]", "", fold(text)) in _FURNITURE


def _is_partner_line(text: str) -> bool:
    match = _PARTNER.match(text)
    # "avec la Compagnie …" names a firm; "Avec les habitants, …" is a sentence.
    return match is not None and match.group("name")[:1].isupper()


def _cuts_sentence(before: Sequence[Line], after: Sequence[Line]) -> bool:
    """True when a page break falls inside a paragraph or a list of a section's text.

    A portfolio whose text flows across pages breaks its paragraphs anywhere; the break
    is not a paragraph's end when the text above it does not end a sentence and the text
    below it (past the page's furniture) starts in lower case, nor a list's end when an
    item follows an item.
    """
    if not before or not before[-1].text:
        return False
    following = next(
        (
            line.text
            for line in after
            if line.is_page_break
            or (line.text and not (_is_furniture(line.text) or _email_match(line.text)))
        ),
        None,
    )
    if following is None or following == PAGE_BREAK:
        return False
    if _BULLET.match(following):
        # A list the page cut: the item above the break is in the same block.
        for line in reversed(before):
            if not line.text:
                return False
            if _BULLET.match(line.text):
                return True
        return False
    return following[:1].islower() and not before[-1].text.endswith((".", "!", "?", "…"))


def _continues(previous: str, text: str) -> bool:
    """True when `text` carries on the header line above (a title the layout wrapped)."""
    if text[:1].islower() or previous.endswith(("–", "—", "-", ":", ",")):
        return True
    # No French title or caption ends on an article or a preposition: the layout cut it.
    last = fold(previous).rsplit(" ", 1)[-1]
    return last in _FUNCTION_WORDS or last.endswith(("d'", "l'", "d’", "l’"))


def _join_all(pieces: Sequence[str]) -> str:
    """The lines of one header element, joined as the layout wrapped them."""
    text = pieces[0]
    for piece in pieces[1:]:
        text = _join(text, piece)
    return text


def _join(left: str, right: str) -> str:
    """Two pieces of a line that the layout wrapped."""
    if left.endswith("-") and not left.endswith(" -"):
        return left + right
    return f"{left} {right}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _blocks(lines: Sequence[Line]) -> list[list[str]]:
    """Runs of non-blank lines; page breaks separate like blank lines."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.is_blank or line.is_page_break:
            if current:
                blocks.append(current)
            current = []
        else:
            current.append(line.text)
    if current:
        blocks.append(current)
    return blocks


def _paragraphs(lines: Sequence[Line]) -> str | None:
    """A section's text: paragraphs kept apart, wrapped lines joined, list items kept."""
    paragraphs: list[str] = []
    for block in _blocks(lines):
        rows: list[str] = []
        for text in block:
            if rows and not _BULLET.match(text):
                rows[-1] = _join(rows[-1], text)
            else:
                rows.append(text)
        paragraphs.append("\n".join(rows))
    return "\n\n".join(paragraphs) or None


def _items(lines: Sequence[Line]) -> tuple[list[str], list[str]]:
    """The items of a list section, and the lines that are not items."""
    blocks = _blocks(lines)
    marked = any(_BULLET.match(text) for block in blocks for text in block)
    items: list[str] = []
    strays: list[str] = []
    for block in blocks:
        in_item = False
        for text in block:
            match = _BULLET.match(text)
            if match:
                items.append(match.group("text").strip())
                in_item = True
            elif not marked:
                items.append(text)
            elif in_item:
                items[-1] = _join(items[-1], text)  # an item wrapped by the layout
            else:
                strays.append(text)
    return items, strays


def _tags(lines: Sequence[Line]) -> list[str]:
    rows = [line.text for line in lines if line.text and not line.is_page_break]
    text = _join_all(rows) if rows else ""
    parts = text.split("#")[1:] if "#" in text else re.split(r"[,;·|]", text)
    tags: list[str] = []
    keys: set[str] = set()
    for part in parts:
        tag = part.strip(" ,;·|.")
        key = tag_key(tag)
        if tag and key not in keys:
            keys.add(key)
            tags.append(tag)
    return tags


YearMonthPair = tuple[int, int | None]


def _years(text: str) -> tuple[YearMonthPair, YearMonthPair | None] | None:
    """The bounds of a period line ("2019 - 2020", "mars 2019 à juin 2020"), or None."""
    match = _YEARS.match(fold(text).strip())
    if not match:
        return None
    bounds: list[YearMonthPair] = []
    for side in ("start", "end"):
        year = match.group(f"{side}year")
        if year is None:
            continue
        name, number = match.group(f"{side}month"), match.group(f"{side}num")
        month = _MONTHS.get(name) if name else int(number) if number else None
        if (name and month is None) or (month is not None and not 1 <= month <= 12):
            return None  # "Lille 2019" is a title, not a date
        bounds.append((int(year), month))
    return bounds[0], (bounds[1] if len(bounds) > 1 else None)


# --------------------------------------------------------------------------- zones

_FOOTER_KINDS = {"amount", "budget-label", "furniture", "email", "brand", "partner"}


class _Parser:
    """What the passes over one portfolio share: its lines and the known brands."""

    def __init__(
        self, lines: list[Line], entities: Mapping[str, Entity], with_entities: bool, source: Path
    ) -> None:
        self.lines = lines
        self.entities = entities
        self.with_entities = with_entities
        self.brand_names = {fold(entity.name): key for key, entity in entities.items()}
        self.brand_emails = {
            fold(entity.email): key for key, entity in entities.items() if entity.email
        }
        self.text_source = source.suffix.lower() in (".txt", ".md", ".markdown")
        # Every brand the portfolio's footers show, for pages whose footer shows none.
        self.portfolio_brands: dict[str, str] = {
            key: entity.name for key, entity in entities.items()
        }

    def brand_key(self, brand: str) -> str | None:
        """The entity key of a brand's name; without entities.yaml, its slug."""
        key = self.brand_names.get(fold(brand))
        if key is None and not self.with_entities:
            key = _slug(brand)
        return key

    def is_brand(self, text: str) -> bool:
        return fold(text) in self.brand_names

    def classify(self, lines: Sequence[Line]) -> list[str]:
        """The kind of each line of a zone between two missions' bodies."""
        kinds: list[str] = []
        for line in lines:
            text = line.text
            if line.is_page_break:
                kinds.append("break")
            elif not text:
                kinds.append("blank")
            elif _is_furniture(text):
                kinds.append("furniture")
            elif _AMOUNT.match(text):
                kinds.append("amount")
            elif fold(text) in _BUDGET_LABEL:
                kinds.append("budget-label")
            elif _email_match(text):
                kinds.append("email")
            elif self.is_brand(text):
                kinds.append("brand")
            elif _is_partner_line(text):
                kinds.append("partner")
            elif _years(text):
                kinds.append("years")
            else:
                kinds.append("other")
        for i, kind in enumerate(kinds):
            if kind == "partner":
                # A partner's name wrapped onto the next lines of the same block.
                j = i + 1
                while j < len(kinds) and kinds[j] == "other":
                    kinds[j] = "partner+"
                    j += 1
            elif kind == "email":
                # The line naming the brand sits just above its e-mail.
                j = i - 1
                while j >= 0 and kinds[j] == "blank":
                    j -= 1
                if j >= 0 and kinds[j] == "other" and len(lines[j].text.split()) <= 5:
                    kinds[j] = "brand"
        return kinds

    # ------------------------------------------------------------------ footer, header

    def read_footer(self, draft: Draft, lines: Sequence[Line]) -> None:
        """Budget, brands, partners and captions below a mission's sections."""
        kinds = self.classify(lines)
        self._read_common(draft, lines, kinds)
        wrapped = False  # the previous line is a caption that may go on
        for line, kind in zip(lines, kinds, strict=True):
            if kind == "other" and wrapped and _continues(draft.captions[-1], line.text):
                draft.captions[-1] = _join(draft.captions[-1], line.text)
            elif kind in ("other", "years"):
                draft.captions.append(line.text)
            wrapped = kind == "other"

    def read_header(self, draft: Draft, lines: Sequence[Line], page_split: bool) -> None:
        """Client, years and title above a mission's sections."""
        kinds = self.classify(lines)
        self._read_common(draft, lines, kinds)
        elements: list[str] = []
        current: list[str] = []
        years: list[str] = []
        for line, kind in zip(lines, kinds, strict=True):
            if kind == "other":
                if current and not _continues(current[-1], line.text):
                    elements.append(_join_all(current))
                    current = []
                current.append(line.text)
                continue
            if current and kind in ("blank", "break", "years"):
                elements.append(_join_all(current))
                current = []
            if kind == "years":
                years.append(line.text)
        if current:
            elements.append(_join_all(current))
        if years:
            self._set_period(draft, years[0])
            for extra in years[1:]:
                draft.remarks.append(f"second years line ignored: {extra}")
        if len(elements) == 1:
            draft.title = elements[0]
        elif len(elements) >= 2:
            draft.client, draft.title = elements[-2], elements[-1]
            for extra in elements[:-2]:
                draft.remarks.append(f"line above the title ignored: {_short(extra)}")

    def _read_common(self, draft: Draft, lines: Sequence[Line], kinds: list[str]) -> None:
        partner: list[str] | None = None
        for line, kind in zip(lines, kinds, strict=True):
            if kind == "partner+" and partner is not None:
                partner.append(line.text)
                continue
            if partner is not None:
                self._add_partner(draft, " ".join(partner))
                partner = None
            if kind == "amount":
                self._set_budget(draft, line.text)
            elif kind == "brand":
                draft._brands.append(line.text)
            elif kind == "email":
                self._add_email(draft, line.text)
            elif kind == "partner":
                match = _PARTNER.match(line.text)
                partner = [match.group("name")] if match else []
        if partner is not None:
            self._add_partner(draft, " ".join(partner))

    def _add_email(self, draft: Draft, text: str) -> None:
        match = _email_match(text)
        if match:
            draft._emails.append(match.group("email"))
            if match.group("brand"):  # "POP Up — popupequipe@pop.eu.com"
                draft._brands.append(match.group("brand"))

    def _add_partner(self, draft: Draft, name: str) -> None:
        name = name.strip(" ,;.")
        if name and all(fold(name) != fold(known) for known, _ in draft.partners):
            draft.partners.append((name, None))

    def _set_period(self, draft: Draft, text: str) -> None:
        found = _years(text)
        if not found:  # pragma: no cover - classified as years before
            return
        start, end = found
        if end is not None and (end[0], end[1] or 0) < (start[0], start[1] or 0):
            draft.missing["period"] = f"the dates read '{text}': the end comes before the start"
            return
        if end is None and start[1] is None:
            draft.period = start[0]
            return
        months = start[1] is not None or (end is not None and end[1] is not None)
        if not months:
            try:
                Period.model_validate(text)
            except ValueError:
                pass
            else:
                draft.period = text  # as the portfolio writes it: "2019 – 2020", "2021/2022"
                return
        bounds = [start] if end is None else [start, end]
        draft.period = " - ".join(
            f"{year}" if month is None else f"{year}-{month:02d}" for year, month in bounds
        )

    def _set_budget(self, draft: Draft, text: str) -> None:
        match = _AMOUNT.match(text)
        if not match:  # pragma: no cover - classified as an amount before
            return
        if draft.budget is not None:
            draft.remarks.append(f"second amount ignored: {text}")
            return
        if match.group("cents") not in (None, "0", "00"):
            draft.missing["budget"] = (
                f"the amount '{match.group('value')}' has cents; amounts are whole euros: "
                "write it by hand"
            )
            return
        amount = int(re.sub(r"\D", "", match.group("number")))
        raw_basis = match.group("basis")
        basis = re.sub(r"[^A-Z]", "", raw_basis.upper()) if raw_basis else None
        value = match.group("value").strip()
        if match.group("thousands"):
            amount *= 1000
            value = ""
        if not basis:
            draft.missing["budget basis"] = (
                "the amount says neither HT nor TTC; refsheets reads it as HT: check it"
            )
        try:
            if not value:
                raise ValueError("an amount in thousands is written out in full")
            Budget.model_validate(value)
        except ValueError:
            value = f"{amount:,} €".replace(",", " ") + (f" {basis}" if basis else "")
        draft.budget = value

    # ------------------------------------------------------------------ body

    def read_body(self, draft: Draft, group: list[tuple[int, str, str]], limit: int) -> int:
        """Read the sections of one mission; return where its body ends."""
        end = limit
        for position, (index, section, inline) in enumerate(group):
            if position + 1 < len(group):
                stop = group[position + 1][0]
            else:
                stop = self._last_section_end(section, index + 1, limit)
            end = stop
            content = self._section_lines(draft, self.lines[index + 1 : stop])
            if inline:
                content.insert(0, Line(inline, self.lines[index].line, self.lines[index].page))
            self._read_section(draft, section, content)
        return end

    def _section_lines(self, draft: Draft, lines: Sequence[Line]) -> list[Line]:
        """A section's lines without the page furniture a page break brought into it."""
        kept: list[Line] = []
        joining = False  # inside a sentence that a page break cut in two
        for position, line in enumerate(lines):
            if line.is_page_break:
                joining = _cuts_sentence(kept, lines[position + 1 :])
                if not joining:
                    kept.append(Line("", line.line, line.page))
            elif (joining and not line.text) or _is_furniture(line.text):
                continue
            elif _email_match(line.text):
                self._add_email(draft, line.text)
            elif self.is_brand(line.text):
                draft._brands.append(line.text)
            else:
                joining = False
                kept.append(line)
        return kept

    def _read_section(self, draft: Draft, section: str, content: list[Line]) -> None:
        if section == "context":
            draft.context = _merge(draft.context, _paragraphs(content))
        elif section == "approach":
            draft.approach = _merge(draft.approach, _paragraphs(content))
        elif section == "deliverables":
            items, strays = _items(content)
            draft.deliverables.extend(items)
            draft.captions.extend(strays)
        else:
            draft.tags.extend(t for t in _tags(content) if t not in draft.tags)

    def _last_section_end(self, section: str, start: int, limit: int) -> int:
        """Where the last section of a mission stops: at its footer, or its list's end."""
        seen = False
        after_blank = False
        hashed: bool | None = None
        for i in range(start, limit):
            line = self.lines[i]
            text = line.text
            if line.is_page_break:
                if self._section_goes_on(section, hashed, seen, i + 1, limit):
                    continue
                return i
            if not text:
                after_blank = seen
                continue
            if _years(text):
                return self._header_start(start, i)
            if (
                _is_furniture(text)
                or _AMOUNT.match(text)
                or fold(text) in _BUDGET_LABEL
                or _email_match(text)
                or self.is_brand(text)
            ):
                return i
            if section == "deliverables" and after_blank and not _BULLET.match(text):
                return i
            if section == "tags":
                if hashed is None:
                    hashed = text.startswith("#")
                elif hashed and not text.startswith("#"):
                    # A line of tags the layout wrapped goes on in lower case.
                    if after_blank or not text[:1].islower():
                        return i
                elif not hashed and after_blank:
                    return i
            seen = True
            after_blank = False
        return limit

    def _section_goes_on(
        self, section: str, hashed: bool | None, seen: bool, start: int, limit: int
    ) -> bool:
        """True when the last section of a mission carries on past a page break.

        A portfolio whose missions flow across pages breaks them anywhere: between a
        heading and its text, inside a wrapped line, between two items of a list.
        """
        if not seen:
            return True
        following = next((line for line in self.lines[start:limit] if line.text), None)
        if following is None or following.is_page_break:
            return False
        text = following.text
        if text[:1].islower():
            return True
        if section == "tags":
            return bool(hashed) and text.startswith("#")
        return section == "deliverables" and _BULLET.match(text) is not None

    def _header_start(self, start: int, years: int) -> int:
        """Where the next page's header begins, given its years line.

        A page without amount or footer runs straight into the next page's header: the
        short line just above the years (a client's name) belongs to that header.
        """
        i = years - 1
        while i >= start and not self.lines[i].text:
            i -= 1
        above = self.lines[i] if i >= start else None
        if (
            above is not None
            and (i == start or not self.lines[i - 1].text)
            and _is_header_line(above.text)
        ):
            return i
        return years

    # ------------------------------------------------------------------ resolution

    def finish(self, draft: Draft) -> None:
        """Settle the facts read from several places, and list what is missing."""
        self._resolve_entity(draft)
        self._resolve_client(draft)
        self._resolve_partners(draft)
        if draft.captions:
            draft.notes = _caption_note(draft.captions, self.text_source)
        for fact, value, reason in (
            ("title", draft.title, "the page gives no title"),
            ("client", draft.client, "the page names no client (no header above the title)"),
            ("period", draft.period, "the page gives no years"),
            ("budget", draft.budget, "no amount followed by 'de budget'"),
            ("context", draft.context, "no 'Contexte' section"),
            ("approach", draft.approach, "no 'Partis pris' section"),
            ("deliverables", draft.deliverables or None, "no 'Réalisations' list"),
            ("tags", draft.tags or None, "no 'Expertises et thématiques' tags"),
        ):
            if value is None:
                draft.missing.setdefault(fact, reason)
        if draft.client and not draft.client_kind:
            draft.missing["client kind"] = (
                "the client's name does not say whether it is public or private"
            )

    def _resolve_entity(self, draft: Draft) -> None:
        keys: list[str] = []
        names: dict[str, str] = {}
        unknown: list[str] = []
        for brand in draft._brands:
            key = self.brand_key(brand)
            if key is None:
                unknown.append(brand)
                continue
            names.setdefault(key, brand)
            if key not in keys:
                keys.append(key)
        for email in draft._emails:
            key = self.brand_emails.get(fold(email))
            if key and key not in keys:
                keys.append(key)
                names.setdefault(key, self.entities[key].name)
        for key, name in self.portfolio_brands.items():
            names.setdefault(key, name)
        texts = [draft.approach or "", draft.context or ""]
        if unknown and not keys:
            draft.missing["entity"] = (
                f"the brand '{unknown[0]}' is not in entities.yaml; add it, then set entity:"
            )
            return
        if len(keys) == 1:
            draft.entity = keys[0]
            return
        # Several brands on the page, or none: the one the text says did the work.
        candidates = keys or list(self.portfolio_brands)
        for text in texts:
            named = [key for key in candidates if _mentions(text, names[key])]
            if len(named) == 1:
                draft.entity = named[0]
                if not keys:
                    draft.remarks.append(f"entity '{named[0]}' taken from the text")
                return
        if keys:
            draft.missing["entity"] = (
                f"the page shows several brands ({', '.join(names[k] for k in keys)}) "
                "and the text does not say which one carried the mission"
            )
        else:
            draft.missing["entity"] = "no brand in the page's footer nor in its text"

    def _resolve_client(self, draft: Draft) -> None:
        if not draft.client:
            return
        name = draft.client.replace("’", "'")
        evidence = public_body(name)
        if evidence is None and fold(name).startswith(_PUBLIC_PREFIXES):
            evidence = f"'{name.split()[0]}'"
        if evidence is not None:
            draft.client_kind = "public"
            draft.remarks.append(f"client kind public: {evidence} in the client's name")
        place = _PLACE.match(draft.client)
        if place:
            draft.client_location = place.group("place").strip()

    def _resolve_partners(self, draft: Draft) -> None:
        text = fold(f"{draft.context or ''} {draft.approach or ''}").replace("’", "'")
        resolved: list[tuple[str, str | None]] = []
        for name, role in draft.partners:
            words = _ARTICLE.sub("", fold(name)).split()
            if words and re.search(
                r"en groupement avec\s+(?:(?:le|la|les)\s+|l'\s*)?" + re.escape(words[0]), text
            ):
                role = "co-contractor"
            resolved.append((name, role))
        draft.partners = resolved


def _merge(old: str | None, new: str | None) -> str | None:
    if old and new:
        return f"{old}\n\n{new}"
    return old or new


def _mentions(text: str, name: str) -> bool:
    pattern = r"(?<![a-z0-9])" + re.escape(fold(name)) + r"(?![a-z0-9])"
    return re.search(pattern, fold(text)) is not None


def _caption_note(captions: list[str], text_source: bool) -> str:
    quoted = " et ".join(f"« {caption} »" for caption in captions)
    if len(captions) == 1:
        where = "dans la source texte" if text_source else "importée"
        return (
            f"Le portfolio montre une photo légendée {quoted}. L'image elle-même n'est pas "
            f"{where} : ajoutez-la sous photos: une fois le fichier dans la bibliothèque."
        )
    where = "dans la source texte" if text_source else "importées"
    return (
        f"Le portfolio montre des photos légendées {quoted}. Les images elles-mêmes ne sont "
        f"pas {where} : ajoutez-les sous photos: une fois les fichiers dans la bibliothèque."
    )


def _slug(text: str) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", fold(text)))


def _split_zone(
    zone: Sequence[Line], parser: _Parser, *, first: bool = False
) -> tuple[list[Line], list[Line], bool]:
    """Split the lines between two missions into the first's footer and the next's header.

    The footer ends at its last recognisable line (amount, furniture, brand, e-mail,
    partner). A page break after that line ends it too, so that a caption at the bottom
    of a page stays with its page, but only when the next page starts with header text:
    in a portfolio whose missions flow across pages, the break may fall between the next
    mission's header and its first heading, or inside that header (a years line before
    the break is never a caption), and then it does not say where the header starts.
    """
    kinds = parser.classify(zone)
    footer_end = 0
    if not first:
        footer_end = 1 + max(
            (i for i, kind in enumerate(kinds) if kind in _FOOTER_KINDS or kind == "partner+"),
            default=-1,
        )
    split = footer_end
    for i in range(footer_end, len(zone)):
        if kinds[i] == "years" and not first:
            break
        if kinds[i] == "break" and any(kind in ("other", "years") for kind in kinds[i + 1 :]):
            split = i + 1
    if split > footer_end and not first:
        split = _header_cut_by_break(zone, kinds, footer_end, split, parser)
    footer, header = list(zone[:split]), list(zone[split:])
    page_split = split > 0 and zone[split - 1].is_page_break
    if page_split and split == footer_end + 1 and _header_elements(header, parser) > 2:
        footer, header = _rejoin_wrapped_partner(footer, header, kinds[: split - 1])
    return footer, header, page_split


def _header_cut_by_break(
    zone: Sequence[Line], kinds: Sequence[str], footer_end: int, split: int, parser: _Parser
) -> int:
    """Where the header starts when the next page opens on its years line.

    A page that opens on a years line may carry on a header that began above the break:
    the blocks just above it that read as a header line (short, not a sentence, as in
    `_header_start`) belong to it, up to the client and title a header holds.
    """
    first_text = next((k for k in kinds[split:] if k not in ("blank", "break")), None)
    if first_text != "years":
        return split
    room = 2 - _header_elements(zone[split:], parser)
    ends = (".", ":", ";", ",")
    start = split - 1  # the page break
    i = start - 1
    while room > 0:
        while i >= footer_end and not zone[i].text:
            i -= 1
        # A title may end with "!" or "?", as "Réinventer les ruralités !" does.
        if i < footer_end or kinds[i] != "other" or not _is_header_line(zone[i].text, ends):
            break
        top = i
        while top - 1 >= footer_end and kinds[top - 1] == "other":
            top -= 1
        if top != i:  # a block of several lines is a caption or a paragraph
            break
        start, i, room = i, i - 1, room - 1
    return start if start < split - 1 else split


def _is_header_line(text: str, ends: tuple[str, ...] = (".", "!", "?", ":", ";", ",")) -> bool:
    """True for a line that reads as a client's name or a title, not a sentence."""
    return (
        len(text.split()) <= 8
        and not text.endswith(ends)
        and not _BULLET.match(text)
        and not text.startswith("#")
    )


def _header_elements(lines: Sequence[Line], parser: _Parser) -> int:
    """How many blocks of plain text (client, title, ...) a header holds."""
    kinds = parser.classify(lines)
    count = 0
    for i, kind in enumerate(kinds):
        if kind == "other" and (i == 0 or kinds[i - 1] != "other"):
            count += 1
    return count


def _rejoin_wrapped_partner(
    footer: list[Line], header: list[Line], footer_kinds: Sequence[str]
) -> tuple[list[Line], list[Line]]:
    """Give back to a footer the end of a partner's name that a page break pushed over.

    A header holds a client and a title; when the next page shows one more block of
    text, right at its top, and the page before ended on an "avec ..." line, that block
    is the rest of the partner's name, wrapped by the layout.
    """
    if not footer_kinds or footer_kinds[-1] not in ("partner", "partner+"):
        return footer, header
    end = 0
    while end < len(header) and header[end].text and not header[end].is_page_break:
        end += 1
    if end == 0:
        return footer, header
    # The page break goes, so that the name's lines are read as one partner line.
    return footer[:-1] + header[:end], header[end:]
