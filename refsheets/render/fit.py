"""The fit rule shared by the PDF and the Word card: the steps of type and spacing a
long card is tightened through, and the sentence said when even the last one fails.

No WeasyPrint here: the Word side reads these without paying its import.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from refsheets.card import Card

FLOOR_PT = 8.5  # body text is never smaller


@dataclass(frozen=True)
class FitStep:
    """One setting of type and spacing, from comfortable (0) to the readable floor."""

    body_pt: float
    leading: float  # line height as a multiple of the font size (CSS line-height)
    title_pt: float
    space: float  # multiplies every vertical gap
    photo_scale: float = 1.0


FIT_STEPS: tuple[FitStep, ...] = (
    FitStep(11.0, 1.55, 25, 1.25),
    FitStep(10.5, 1.5, 23, 1.0),
    FitStep(10.0, 1.45, 21, 0.85),
    FitStep(9.5, 1.4, 20, 0.72, 0.9),
    FitStep(9.0, 1.35, 19, 0.62, 0.8),
    FitStep(8.75, 1.3, 18, 0.55, 0.7),
    FitStep(FLOOR_PT, 1.27, 17, 0.5, 0.6),
)
"""Tighter and tighter; the last is the floor (body text never under 8.5 pt)."""


def step_values(step: FitStep) -> dict[str, float]:
    """The sizes a fit step sets, by the name of their CSS variable without `--`:
    type sizes in pt, gaps and the photo's height in mm, `lh-body` a multiple."""
    from refsheets.render.images import PHOTO_HEIGHT_MM  # Pillow, only when asked

    s = step.space
    return {
        "fs-body": step.body_pt,
        # Deliverables are body text too: never under the floor.
        "fs-small": max(round(step.body_pt * 0.9, 2), FLOOR_PT),
        "fs-label": round(max(step.body_pt * 0.72, 7), 2),
        "fs-fact": round(step.body_pt * 1.12, 2),
        "fs-title": step.title_pt,
        "fs-client": round(step.title_pt * 0.55, 2),
        "lh-body": step.leading,
        "gap-xs": round(1.2 * s, 2),
        "gap-s": round(2.5 * s, 2),
        "gap-m": round(5 * s, 2),
        "gap-l": round(8 * s, 2),
        "gap-band": round(3.4 * min(s, 1.0), 2),
        "photo-h": round(PHOTO_HEIGHT_MM * step.photo_scale, 1),
    }


_UNITS = {"fs": "pt", "gap": "mm", "photo": "mm", "lh": ""}


def step_css(step: FitStep, index: int) -> str:
    """The CSS variables of this step, scoped to `.fit-<index>`."""
    values = step_values(step)
    declarations = " ".join(
        f"--{name}: {value}{_UNITS[name.split('-')[0]]};" for name, value in values.items()
    )
    return f".fit-{index} {{ {declarations} }}"


def overflow_message(what: str, mission_id: str, section: str | None, overflow_mm: float) -> str:
    """What overflows and by about how much, for a card that cannot fit even at the floor.

    `what` names the output: "card" or "Word card".
    """
    floor = FIT_STEPS[-1]
    lines = max(1, round(overflow_mm / (floor.body_pt * floor.leading * 25.4 / 72)))
    where = f"the section « {section} »" if section else "it"
    return (
        f"the {what} of mission '{mission_id}' does not fit on one A4 page, even with "
        f"the tightest spacing and {floor.body_pt} pt text: {where} overflows by about "
        f"{overflow_mm:.0f} mm (roughly {lines} lines); shorten that text"
    )


def tightened_message(what: str, mission_id: str, step: int) -> str | None:
    """What was given up for a card to fit one page (None when it fit at the first step):
    which fit step, at what size."""
    if step <= 0:
        return None
    chosen = FIT_STEPS[step]
    photos = f", photos at {chosen.photo_scale:.0%}" if chosen.photo_scale < 1 else ""
    return (
        f"the {what} of mission '{mission_id}' was tightened to fit one page: fit step "
        f"{step} of {len(FIT_STEPS) - 1} (body text {chosen.body_pt} pt instead of "
        f"{FIT_STEPS[0].body_pt} pt, spacing x{chosen.space}{photos}); shorten its text "
        "for a roomier card"
    )


def section_label(card: Card, key: str | None) -> str | None:
    """The printed name of a card's section (as both formats name them), for messages."""
    labels = card.labels
    return {
        "title": card.title[:40],
        "facts": labels.period,
        "context": labels.context,
        "approach": labels.approach,
        "deliverables": labels.deliverables,
        "tags": labels.tags,
        "photo": "photo",
    }.get(key or "", key)


@dataclass(frozen=True)
class FitResult:
    """Whether a card fits one page, at which step, or what overflows and by how much."""

    mission_id: str
    fits: bool
    step: int | None  # index in FIT_STEPS; None when it does not fit
    body_pt: float | None
    overflow_section: str | None = None  # the section's printed label ("Contexte")
    overflow_mm: float = 0.0
    pages: int = 1
    problem: str | None = None  # the card could not be laid out at all (this says why)

    @property
    def tightened(self) -> str | None:
        """When the card fits only at a tighter step: which step, at what size."""
        if not self.fits or self.step is None:
            return None
        return tightened_message("card", self.mission_id, self.step)

    @property
    def message(self) -> str:
        """A sentence for the user: what overflows, by about how much, what to do."""
        if self.problem:
            return self.problem
        if self.fits:
            return f"mission '{self.mission_id}' fits on one page (body {self.body_pt} pt)"
        return overflow_message("card", self.mission_id, self.overflow_section, self.overflow_mm)

    def to_json(self) -> dict[str, Any]:
        """The result as JSON-ready data (what the fit cache keeps)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FitResult:
        """A result read back from `to_json`'s data; ValueError when it is not one."""
        try:
            return cls(**data)
        except TypeError as exc:
            raise ValueError(f"not a fit result: {exc}") from None
