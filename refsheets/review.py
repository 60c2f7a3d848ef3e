"""The freshness review of a library: what is about to fall out of the tenders' windows,
what is overdue for review, what is missing or leaking, and how many references each tag
still has.

Tenders count a reference when it ended at most 3 (often) or 5 years before the
deadline; a reference's end decides when it stops counting. The rule is the one `pick`
applies (`select.py`): a mission that ended in month M of year Y qualifies until month M
of year Y + N; a bare year counts as ending in December.

    review = review_library(library, today=date(2027, 1, 15))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from refsheets.errors import Diagnostic
from refsheets.library import Library
from refsheets.model import Mission

WINDOWS = (3, 5)
"""The years windows tenders use most."""

Kind = Literal["window", "overdue", "fact", "attestation", "leak", "tag", "error"]
Lang = Literal["fr", "en"]

# Everything the review says, in the library's language (French unless its settings or
# `--lang` say English): one report speaks one language. Keys are the findings' own
# messages, then the codes of the warnings `check` gives (see `library.py`).
TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "window": "sort de la fenêtre de {years} ans le {date} (terminée en {ended})",
        "never": "jamais relue : ajouter « reviewed: {today} » une fois relue (et « owner: »)",
        "overdue": "relecture en retard depuis le {date} (relue le {reviewed}, "
        "tous les {period} mois)",
        "attestation": "pas d'attestation de bonne exécution : les acheteurs peuvent la demander",
        "error": "ne se charge pas : `refsheets check` dit pourquoi",
        "warning": "à vérifier : `refsheets check` dit quoi",
        "todo": "encore TODO : à remplir, ou supprimer la ligne",
        "no-period": "pas de période : les formulaires demandent les dates de chaque "
        "référence ; ajouter « period: 2019 - 2020 »",
        "ongoing": "toujours en cours (pas de fin) : une référence compte à partir de sa fin",
        "one-bound": "la période n'a qu'une borne : ajouter l'autre",
        "no-budget": "pas de montant : les formulaires le demandent ; ajouter "
        "« budget: 20 000 € HT »",
        "no-basis": "le montant ne dit ni HT ni TTC : lu {detail} € HT ; écrire HT ou TTC",
        "no-kind": "client ni public ni privé : ajouter « kind: public » ou « kind: privé »",
        "no-entity": "pas d'entité : dire laquelle de nos structures a porté la mission",
        "no-deliverables": "pas de réalisations : la rubrique « Réalisations » de la fiche "
        "sera vide",
        "leak": "mission anonyme, mais ce texte nomme « {detail} » (son client) : la fiche "
        "le trahirait",
        "unknown-tag": "thématique inconnue « {detail} » : voir `refsheets tags`, ou l'ajouter "
        "à tags.yaml",
        "line": "ligne",
        "tags_heading": "références qui comptent aujourd'hui, par thématique "
        "(3 ans / 5 ans / toutes) :",
        "overdue_total": "{count} mission(s) à relire (relecture tous les {period} mois)",
    },
    "en": {
        "window": "leaves the {years}-year window on {date} (ended {ended})",
        "never": "never reviewed: add 'reviewed: {today}' once read through (and 'owner:')",
        "overdue": "review overdue since {date} (last reviewed {reviewed}, every {period} months)",
        "attestation": "no attestation (certificate of good performance): tenders may ask for it",
        "error": "does not load: `refsheets check` says why",
        "warning": "to check: `refsheets check` says what",
        "todo": "still TODO: fill it in, or delete the line",
        "no-period": "no period: tenders ask for each reference's dates; add 'period: 2019 - 2020'",
        "ongoing": "still going on (no end): tenders count a reference from its end",
        "one-bound": "the period has only one bound: add the other",
        "no-budget": "no budget: tenders ask for each reference's amount; add "
        "'budget: 20 000 € HT'",
        "no-basis": "the amount does not say HT or TTC: read as {detail} € HT; write HT or TTC",
        "no-kind": "no client kind: add 'kind: public' or 'kind: private'",
        "no-entity": "no entity: say which of our structures carried the mission",
        "no-deliverables": "no deliverables: the card's 'Réalisations' will be empty",
        "leak": "the mission is anonymous but this text names '{detail}' (its client): the "
        "card would give it away",
        "unknown-tag": "unknown tag '{detail}': see `refsheets tags`, or add it to tags.yaml",
        "line": "line",
        "tags_heading": "references that qualify today, per tag (3 years / 5 years / all):",
        "overdue_total": "{count} mission(s) overdue for review (every {period} months)",
    },
}
KIND_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "overdue": "relecture",
        "window": "fenêtre",
        "error": "erreur",
        "leak": "anonymat",
        "fact": "fait manquant",
        "attestation": "attestation",
        "tag": "thématique",
    },
    "en": {kind: kind for kind in ("overdue", "window", "error", "leak", "fact", "attestation")}
    | {"tag": "unknown tag"},
}


def day_text(day: dt.date, lang: Lang) -> str:
    """A date as the report's readers write it: 15/01/2027 in French, 2027-01-15 in English."""
    return day.strftime("%d/%m/%Y") if lang == "fr" else day.isoformat()


@dataclass(frozen=True)
class Finding:
    """One thing to act on, about one mission; `date` orders them (soonest first)."""

    kind: Kind
    mission_id: str
    message: str
    date: dt.date | None = None
    line: int | None = None
    owner: str | None = None


@dataclass(frozen=True)
class TagCount:
    """How many references of a tag qualify today in each window, and in all."""

    tag: str
    label: str
    within: dict[int, int]
    total: int


@dataclass(frozen=True)
class TimelineItem:
    """A mission on the timeline: its tags and the years it ran."""

    mission_id: str
    title: str
    tags: tuple[str, ...]
    start: tuple[int, int] | None  # (year, month), a bare year as January
    end: tuple[int, int] | None  # a bare year as December; None: still going on


@dataclass
class Review:
    """The review of a library on a given day."""

    today: dt.date
    horizon_months: int
    review_period_months: int
    lang: Lang = "fr"
    findings: list[Finding] = field(default_factory=list)
    tags: list[TagCount] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    missions: int = 0

    @property
    def overdue(self) -> list[Finding]:
        """The missions whose review is overdue (the command's exit status)."""
        return [f for f in self.findings if f.kind == "overdue"]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole review."""
        return {
            "today": self.today.isoformat(),
            "language": self.lang,
            "horizon_months": self.horizon_months,
            "review_period_months": self.review_period_months,
            "missions": self.missions,
            "overdue": len(self.overdue),
            "findings": [
                {**asdict(f), "date": f.date.isoformat() if f.date else None} for f in self.findings
            ],
            "tags": [
                {
                    "tag": t.tag,
                    "label": t.label,
                    "total": t.total,
                    **{f"within_{n}_years": count for n, count in t.within.items()},
                }
                for t in self.tags
            ],
        }


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")  # pragma: no cover


def end_month(mission: Mission) -> tuple[int, int] | None:
    """The (year, month) the mission ended, a bare year as December; None when unknown
    or still going on."""
    period = mission.period
    if period is None or period.end is None:
        return None
    return (period.end.year, period.end.month or 12)


def leaves_window(mission: Mission, years: int) -> dt.date | None:
    """The first day on which the mission no longer counts in a `years` window: the
    first day of the month after its end month, `years` later. None when its end is
    unknown or it is still going on."""
    end = end_month(mission)
    if end is None:
        return None
    year, month = end
    return add_months(dt.date(year + years, month, 1), 1)


def qualifies(mission: Mission, years: int, on: dt.date) -> bool:
    """Whether the mission counts in a `years` window on the day `on` (as `pick` rules)."""
    period = mission.period
    if period is not None and period.start is not None and period.end is None:
        return True  # still going on
    leaves = leaves_window(mission, years)
    return leaves is not None and on < leaves


def review_library(
    library: Library,
    *,
    today: dt.date,
    horizon_months: int = 6,
    review_period_months: int | None = None,
    lang: Lang | None = None,
) -> Review:
    """Everything to act on in `library` as of `today`, soonest first.

    References that leave the 3- or 5-year window within `horizon_months`; reviews
    older than the library's review period (`refsheets.yaml`, 12 months by default) or
    never done; facts and attestations missing; anonymity leaks; unknown tags; files
    that do not load. Then, per tag, how many references qualify today. The messages are
    in `lang`, by default the library's `language` (French unless it says English).
    """
    period = review_period_months or library.settings.review_period
    lang = lang or library.settings.language
    texts = TEXTS[lang]
    review = Review(today, horizon_months, period, lang, missions=len(library.paths))
    horizon = add_months(today, horizon_months)
    for mission_id, mission in library:
        owner = mission.owner
        for years in WINDOWS:
            leaves = leaves_window(mission, years)
            if leaves is not None and today < leaves <= horizon:
                review.findings.append(
                    Finding(
                        "window",
                        mission_id,
                        texts["window"].format(
                            years=years,
                            date=day_text(leaves, lang),
                            ended=_month_text(end_month(mission), lang),
                        ),
                        leaves,
                        owner=owner,
                    )
                )
        due = add_months(mission.reviewed, period) if mission.reviewed else None
        if due is None:
            review.findings.append(
                Finding(
                    "overdue",
                    mission_id,
                    texts["never"].format(today=day_text(today, lang)),
                    owner=owner,
                )
            )
        elif due <= today:
            review.findings.append(
                Finding(
                    "overdue",
                    mission_id,
                    texts["overdue"].format(
                        date=day_text(due, lang),
                        reviewed=day_text(mission.reviewed, lang) if mission.reviewed else "?",
                        period=period,
                    ),
                    due,
                    owner=owner,
                )
            )
        if mission.attestation is None:
            review.findings.append(
                Finding(
                    "attestation",
                    mission_id,
                    texts["attestation"],
                    owner=owner,
                )
            )
    ids_by_path = {path: mission_id for mission_id, path in library.paths.items()}
    for diagnostic in library.diagnostics:
        about = ids_by_path.get(diagnostic.path) or diagnostic.path.name
        kind: Kind = (
            "error"
            if diagnostic.severity == "error"
            else "tag"
            if diagnostic.code == "unknown-tag"
            else "leak"
            if diagnostic.code == "leak"
            else "fact"
        )
        loaded = library.missions.get(about)
        review.findings.append(
            Finding(
                kind,
                about,
                _diagnostic_text(diagnostic, lang),
                line=diagnostic.line,
                owner=loaded.owner if loaded else None,
            )
        )
    order = {"overdue": 0, "window": 1, "error": 2, "leak": 3, "fact": 4, "attestation": 5}
    review.findings.sort(
        key=lambda f: (f.date or dt.date.max, order.get(f.kind, 6), f.mission_id, f.line or 0)
    )
    review.tags = _tag_counts(library, today, lang)
    review.timeline = _timeline(library)
    return review


def _tag_counts(library: Library, today: dt.date, lang: Lang) -> list[TagCount]:
    counts: dict[str, TagCount] = {}
    for key, label in _tags_in_use(library, lang):
        counts[key] = TagCount(key, label, dict.fromkeys(WINDOWS, 0), 0)
    for _, mission in library:
        for key in {k for tag in mission.tags if (k := _canonical(library, tag))}:
            count = counts[key]
            counts[key] = TagCount(
                count.tag,
                count.label,
                {n: count.within[n] + (1 if qualifies(mission, n, today) else 0) for n in WINDOWS},
                count.total + 1,
            )
    return sorted(counts.values(), key=lambda t: (-t.total, t.tag))


def _canonical(library: Library, tag: str) -> str | None:
    resolved = library.taxonomy.resolve(tag)
    return resolved.key if resolved is not None else None


def _tags_in_use(library: Library, lang: Lang) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for _, mission in library:
        for tag in mission.tags:
            resolved = library.taxonomy.resolve(tag)
            if resolved is not None:
                seen.setdefault(resolved.key, resolved.label_in(lang))
    return list(seen.items())


def _timeline(library: Library) -> list[TimelineItem]:
    items = []
    for mission_id, mission in library:
        period = mission.period
        start = (period.start.year, period.start.month or 1) if period and period.start else None
        end = end_month(mission)
        if start is None and end is not None:
            start = (end[0], 1)
        tags = tuple(
            key for key in dict.fromkeys(_canonical(library, t) for t in mission.tags) if key
        )
        items.append(TimelineItem(mission_id, mission.title, tags, start, end))
    return items


def _diagnostic_text(diagnostic: Diagnostic, lang: Lang) -> str:
    """What `check` said, in `lang`: the known warnings by their code; anything else (the
    errors, whose wording is `check`'s) pointed at `check` in French."""
    texts = TEXTS[lang]
    # A key that is missing altogether is reported on line 1: no place to point at then.
    missing = diagnostic.code is not None and diagnostic.field is None
    at = f"{texts['line']} {diagnostic.line}" if diagnostic.line and not missing else ""
    where = f"{diagnostic.field} ({at})" if diagnostic.field and at else diagnostic.field or at
    if diagnostic.code in texts:
        message = texts[diagnostic.code].format(detail=diagnostic.detail or "")
    elif lang == "fr":
        message = texts["error" if diagnostic.severity == "error" else "warning"]
    else:
        message = diagnostic.message  # `check`'s own words, in English
    colon = " :" if lang == "fr" else ":"
    return f"{where}{colon} {message}" if where else message


def _month_text(month: tuple[int, int] | None, lang: Lang = "fr") -> str:
    if month is None:
        return "?"
    return f"{month[1]:02d}/{month[0]}" if lang == "fr" else f"{month[0]}-{month[1]:02d}"


def finding_lines(findings: Sequence[Finding], lang: Lang = "fr") -> list[str]:
    """The findings as one line each, for the terminal, in `lang`."""
    labels = KIND_LABELS[lang]
    width = max(len(label) for label in labels.values()) + 1
    colon = " :" if lang == "fr" else ":"
    lines = []
    for finding in findings:
        when = f"{day_text(finding.date, lang)}  " if finding.date else ""
        who = f" [{finding.owner}]" if finding.owner else ""
        kind = labels.get(finding.kind, finding.kind)
        lines.append(f"{when}{kind:<{width}} {finding.mission_id}{who}{colon} {finding.message}")
    return lines
