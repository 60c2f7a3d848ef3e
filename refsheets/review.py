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

from refsheets.library import Library
from refsheets.model import Mission

WINDOWS = (3, 5)
"""The years windows tenders use most."""

Kind = Literal["window", "overdue", "fact", "attestation", "leak", "tag", "error"]


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
) -> Review:
    """Everything to act on in `library` as of `today`, soonest first.

    References that leave the 3- or 5-year window within `horizon_months`; reviews
    older than the library's review period (`refsheets.yaml`, 12 months by default) or
    never done; facts and attestations missing; anonymity leaks; unknown tags; files
    that do not load. Then, per tag, how many references qualify today.
    """
    period = review_period_months or library.settings.review_period
    review = Review(today, horizon_months, period, missions=len(library.paths))
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
                        f"leaves the {years}-year window on {leaves.isoformat()} "
                        f"(ended {_month_text(end_month(mission))})",
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
                    f"never reviewed: add 'reviewed: {today.strftime('%d/%m/%Y')}' once read "
                    "through (and 'owner:')",
                    owner=owner,
                )
            )
        elif due <= today:
            review.findings.append(
                Finding(
                    "overdue",
                    mission_id,
                    f"review overdue since {due.isoformat()} (last reviewed "
                    f"{mission.reviewed.isoformat() if mission.reviewed else '?'}, every "
                    f"{period} months)",
                    due,
                    owner=owner,
                )
            )
        if mission.attestation is None:
            review.findings.append(
                Finding(
                    "attestation",
                    mission_id,
                    "no attestation (certificate of good performance): tenders may ask for it",
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
            if "unknown tag" in diagnostic.message
            else "leak"
            if "anonymous" in diagnostic.message
            else "fact"
        )
        loaded = library.missions.get(about)
        review.findings.append(
            Finding(
                kind,
                about,
                (f"{diagnostic.field}: " if diagnostic.field else "") + diagnostic.message,
                line=diagnostic.line,
                owner=loaded.owner if loaded else None,
            )
        )
    order = {"overdue": 0, "window": 1, "error": 2, "leak": 3, "fact": 4, "attestation": 5}
    review.findings.sort(
        key=lambda f: (f.date or dt.date.max, order.get(f.kind, 6), f.mission_id, f.line or 0)
    )
    review.tags = _tag_counts(library, today)
    review.timeline = _timeline(library)
    return review


def _tag_counts(library: Library, today: dt.date) -> list[TagCount]:
    counts: dict[str, TagCount] = {}
    for key, label in _tags_in_use(library):
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


def _tags_in_use(library: Library) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for _, mission in library:
        for tag in mission.tags:
            resolved = library.taxonomy.resolve(tag)
            if resolved is not None:
                seen.setdefault(resolved.key, resolved.label)
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


def _month_text(month: tuple[int, int] | None) -> str:
    if month is None:
        return "?"
    return f"{month[0]}-{month[1]:02d}"


def finding_lines(findings: Sequence[Finding]) -> list[str]:
    """The findings as one line each, for the terminal."""
    lines = []
    for finding in findings:
        when = f"{finding.date.isoformat()}  " if finding.date else ""
        who = f" [{finding.owner}]" if finding.owner else ""
        lines.append(f"{when}{finding.kind:<11} {finding.mission_id}{who}: {finding.message}")
    return lines
