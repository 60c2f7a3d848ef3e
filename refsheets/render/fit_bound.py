"""A proof, without laying anything out, that a card fits one page at its first step.

`refsheets check` must say of every card whether it fits one A4 page. Laying a card out
with WeasyPrint costs about a tenth of a second; most cards are far from full, and for
those a cheap upper bound of their height settles the question. `fits_first_step` adds
up, for the base layout's structure (`layouts/base/card.html.j2` and `card.css`), the
tallest each block could be, and says True only when even that total leaves room on
the page. Any doubt answers None, and the card is laid out as before: the bound can
only spare work, never change an answer.

Why the bound holds:

- Widths. A run of text is never wider than the sum, for each character, of the widest
  glyph that may stand for it once substituted (its own, lining or tabular figures,
  contextual forms, a decomposition, or a ligature it starts, whose excess over its
  letters it carries), plus, for each pair, the most any glyph that may end the first
  and any that may start the second are kerned apart (never when they tighten), plus
  letter-spacing. A card holding a character the fonts lack anywhere (its footer, an
  alternative text) is left to the renderer, which refuses it.
- Lines. WeasyPrint breaks lines greedily (Pango finds the last break that fits, line
  after line). Filling lines greedily with widths no smaller than the real ones, at
  fewer break opportunities (only spaces before a letter or a digit, after a letter, a
  digit or closing punctuation; never at a hyphen, a dash or a no-break space), ends
  each line no later than the real breaker does, so it takes at least as many lines.
  Hyphenation only lets the real lines take more. (This holds because the filters of
  words.py give WeasyPrint no span it breaks badly before: see there.)
- Heights. Each line box is as tall as its line-height (one font size per block);
  margins are added in full where CSS would collapse them; the tag chips' lines are
  counted as a chip plus a whole strut; a photo as its maximum height.

The figures below are those of `card.css` at the first fit step; the model applies only
while the layout's template and stylesheet are byte for byte the ones it was written
for (`MODEL_FILES`): a brand that changes colours, fonts (static ones, kerned in GPOS),
margins or logo keeps it, a layout with its own template or CSS is laid out. The tests
compare the bound with real layouts of many cards.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refsheets.card import Block, Card
from refsheets.layouts import Layout, fonttools_quiet
from refsheets.render.fit import FIT_STEPS, step_values
from refsheets.render.words import WORD_JOINER, split_tail

PT = 25.4 / 72  # mm per point

# The files the model was written from, by their SHA-256: another template or
# stylesheet (a brand's own, or an edited base) is laid out instead.
MODEL_FILES = {
    "card.html.j2": "3844fc26c4cfc05fa4f4ed7ade0a09d64553998a6c3a7e06279474e489ac7007",
    "card.css": "2a474675a02acf2ef6ee617e1c37a6c65bca0c76809cc7d132909b22a33262ca",
}

PAGE_HEIGHT_MM = 297.0 - 13.0 - 19.0  # A4 less @page margin-top and margin-bottom
PAGE_WIDTH_MM = 210.0
SAFETY_MM = 3.0  # room the bound keeps unused, for rounding in the real layout


# ------------------------------------------------------------------ font metrics


class FaceMetrics:
    """Upper bounds of advances and kerning in one font file, in font units.

    HarfBuzz shapes the glyphs left after substitution: a character may be drawn as
    its own glyph, a substitute (lining figures, contextual forms), a decomposition, or
    part of a ligature, and kerning applies to those glyphs. So each character stands
    for all of them: its advance is the widest of them (a ligature's excess over its
    letters charged to its first letter), and a pair is kerned apart by at most the
    widest adjustment between any glyph that can end the first and any that can start
    the second ("fî" then "î" is kerned 169 units apart in Lato, "f" "î" not at all).
    """

    def __init__(self, path: Path) -> None:
        from fontTools.ttLib import TTFont

        try:
            with fonttools_quiet(), TTFont(path, lazy=True) as font:
                self._read(font)
        except NoBound:
            raise
        except Exception as exc:  # a file fontTools cannot read: no bound from it
            raise NoBound(f"{path.name}: {exc}") from None
        self._kern: dict[tuple[str, str], float] = {}
        self._texts: dict[str, float] = {}

    def _read(self, font: Any) -> None:
        if "fvar" in font:
            raise NoBound  # a variable font: its advances depend on the instance
        if "kern" in font and "GPOS" not in font:
            raise NoBound  # HarfBuzz would read the old kern table: not modelled
        self.units = float(font["head"].unitsPerEm)
        cmap = font.getBestCmap()
        metrics = font["hmtx"].metrics
        shapes = _Shapes(font["GSUB"].table if "GSUB" in font else None, metrics)
        self.advance: dict[str, float] = {}
        self._starts: dict[str, tuple[str, ...]] = {}
        self._ends: dict[str, tuple[str, ...]] = {}
        for code, name in cmap.items():
            char = chr(code)
            glyphs = shapes.closure(name)
            self.advance[char] = max(metrics[g][0] + shapes.excess.get(g, 0) for g in glyphs)
            self._starts[char] = tuple(sorted(shapes.extend(glyphs, shapes.starting)))
            self._ends[char] = tuple(sorted(shapes.extend(glyphs, shapes.ending)))
        self._pairs = _kern_lookups(font["GPOS"].table) if "GPOS" in font else []

    def units_of(self, text: str) -> float:
        """An upper bound of the advance of `text` set on one line, in font units."""
        found = self._texts.get(text)
        if found is None:
            found = 0.0
            previous = ""
            for char in text:
                advance = self.advance.get(char)
                if advance is None:
                    raise NoBound  # a character the font lacks: Pango would fall back
                found += advance
                if previous:
                    found += self.widening(previous, char)
                previous = char
            if len(self._texts) < 100_000:  # words recur; a bounded memo of them
                self._texts[text] = found
        return found

    def widening(self, first: str, second: str) -> float:
        """The most the pair (first, second) may be kerned apart (0 when it tightens)."""
        key = (first, second)
        found = self._kern.get(key)
        if found is None:
            ends, starts = self._ends.get(first, ()), self._starts.get(second, ())
            try:
                found = float(
                    sum(
                        max((lookup.widest(a, b) for a in ends for b in starts), default=0)
                        for lookup in self._pairs
                    )
                )
            except Exception as exc:  # a table read lazily, and damaged
                raise NoBound(str(exc)) from None
            self._kern[key] = found
        return found


class _Shapes:
    """What substitutions may make of each glyph (GSUB), for `FaceMetrics`."""

    def __init__(self, gsub: Any, metrics: dict[str, tuple[int, int]]) -> None:
        self.substitutes: dict[str, set[str]] = {}
        self.starting: dict[str, set[str]] = {}  # glyph -> ligatures and pieces it starts
        self.ending: dict[str, set[str]] = {}  # glyph -> ligatures and pieces it ends
        self.excess: dict[str, int] = {}  # glyph -> how much wider what replaces it is
        if gsub is None:
            return
        for subtable in _lookups(gsub, 1):
            for source, target in subtable.mapping.items():
                self.substitutes.setdefault(source, set()).add(target)
        for subtable in _lookups(gsub, 3):
            for source, targets in subtable.alternates.items():
                self.substitutes.setdefault(source, set()).update(targets)
        for subtable in _lookups(gsub, 8):  # reverse chaining: one glyph for another
            for glyph, target in zip(subtable.Coverage.glyphs, subtable.Substitute, strict=False):
                self.substitutes.setdefault(glyph, set()).add(target)
        for subtable in _lookups(gsub, 4, _DEFAULT_FEATURES):
            for first, ligatures in subtable.ligatures.items():
                for ligature in ligatures:
                    letters = [first, *ligature.Component]
                    self._replaced(first, ligature.LigGlyph, letters, metrics)
                    self.starting.setdefault(first, set()).add(ligature.LigGlyph)
                    self.ending.setdefault(letters[-1], set()).add(ligature.LigGlyph)
        for subtable in _lookups(gsub, 2, _DEFAULT_FEATURES):
            for source, sequence in subtable.mapping.items():
                if sequence:
                    self._replaced(source, "", [source], metrics, sequence)
                    self.starting.setdefault(source, set()).add(sequence[0])
                    self.ending.setdefault(source, set()).add(sequence[-1])

    def _replaced(
        self,
        glyph: str,
        ligature: str,
        letters: list[str],
        metrics: dict[str, tuple[int, int]],
        pieces: Sequence[str] = (),
    ) -> None:
        made = [ligature] if ligature else list(pieces)
        if not all(g in metrics for g in (*made, *letters)):
            raise NoBound  # a glyph the font does not measure
        width = sum(metrics[g][0] for g in made) - sum(metrics[g][0] for g in letters)
        if width > 0:
            self.excess[glyph] = max(self.excess.get(glyph, 0), width)

    def closure(self, glyph: str) -> set[str]:
        """`glyph` and every glyph substitutions may put in its place, at any depth."""
        found, todo = {glyph}, [glyph]
        while todo:
            for other in self.substitutes.get(todo.pop(), ()):
                if other not in found:
                    found.add(other)
                    todo.append(other)
        return found

    def extend(self, glyphs: set[str], made: dict[str, set[str]]) -> set[str]:
        """`glyphs`, and what they start (or end), with everything those may become."""
        found = set(glyphs)
        for glyph in glyphs:
            for other in made.get(glyph, ()):
                found |= self.closure(other)
        return found


class NoBound(Exception):
    """The model cannot bound this: lay the card out."""


class _PairLookup:
    """One GPOS pair-adjustment lookup of the `kern` feature, read lazily."""

    def __init__(self, subtables: list[Any]) -> None:
        self.subtables = subtables
        self._covered: list[dict[str, int]] = [
            {g: i for i, g in enumerate(st.Coverage.glyphs)} for st in subtables
        ]
        self._sets: dict[tuple[int, int], dict[str, int]] = {}

    def widest(self, first: str, second: str) -> int:
        """The largest positive x-advance any of its subtables gives the pair."""
        best = 0
        for n, subtable in enumerate(self.subtables):
            index = self._covered[n].get(first)
            if index is None:
                continue
            if subtable.Format == 1:
                pairs = self._sets.get((n, index))
                if pairs is None:
                    pairs = {
                        record.SecondGlyph: _x_advance(record.Value1)
                        for record in subtable.PairSet[index].PairValueRecord
                    }
                    self._sets[(n, index)] = pairs
                best = max(best, pairs.get(second, 0))
            else:
                class1 = subtable.ClassDef1.classDefs.get(first, 0)
                class2 = subtable.ClassDef2.classDefs.get(second, 0)
                record = subtable.Class1Record[class1].Class2Record[class2]
                best = max(best, _x_advance(record.Value1))
        return best


def _x_advance(value: Any) -> int:
    return int(getattr(value, "XAdvance", 0) or 0) if value is not None else 0


def _lookups(table: Any, kind: int, features: Iterable[str] | None = None) -> list[Any]:
    """The subtables of `table`'s lookups of type `kind` (extensions unwrapped), only
    those of `features` when given."""
    wanted: set[int] | None = None
    if features is not None:
        wanted = set()
        for record in table.FeatureList.FeatureRecord:
            if record.FeatureTag in features:
                wanted.update(record.Feature.LookupListIndex)
    found = []
    for index, lookup in enumerate(table.LookupList.Lookup):
        if wanted is not None and index not in wanted:
            continue
        for subtable in lookup.SubTable:
            if getattr(subtable, "ExtSubTable", None) is not None:
                subtable = subtable.ExtSubTable
            if subtable.LookupType == kind:
                found.append(subtable)
    return found


def _kern_lookups(gpos: Any) -> list[_PairLookup]:
    lookups = []
    for record in gpos.FeatureList.FeatureRecord:
        if record.FeatureTag not in ("kern", "dist"):  # the default pair adjustments
            continue
        for index in record.Feature.LookupListIndex:
            subtables = []
            for subtable in gpos.LookupList.Lookup[index].SubTable:
                if getattr(subtable, "ExtSubTable", None) is not None:
                    subtable = subtable.ExtSubTable
                if subtable.LookupType == 2:
                    subtables.append(subtable)
            if subtables:
                lookups.append(_PairLookup(subtables))
    # A lookup listed by several language systems' kern features counts once.
    unique = {id(lookup.subtables[0]): lookup for lookup in lookups}
    return list(unique.values())


# Features HarfBuzz applies to Latin text by default: the rest are asked for by name.
_DEFAULT_FEATURES = ("liga", "clig", "rlig", "ccmp", "calt", "locl", "rclt")


_faces: dict[tuple[Path, int, int], FaceMetrics | None] = {}
_faces_lock = threading.Lock()


def face_metrics(path: Path) -> FaceMetrics | None:
    """The metrics of a font file, read once per version of the file and process
    (None: no bound from it, or no such file)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (path, stat.st_size, stat.st_mtime_ns)
    with _faces_lock:
        if key not in _faces:
            try:
                _faces[key] = FaceMetrics(path)
            except NoBound:
                _faces[key] = None
        return _faces[key]


# ------------------------------------------------------------------ text


@dataclass(frozen=True)
class Font:
    """The font of a run of text: a face, a size and the CSS letter-spacing (em)."""

    face: FaceMetrics
    size_pt: float
    spacing_em: float = 0.0
    upper: bool = False

    def width_mm(self, text: str) -> float:
        """An upper bound of the width of `text` set on one line."""
        if self.upper:
            text = text.upper()
        spacing = max(self.spacing_em, 0.0) * len(text)
        return (self.face.units_of(text) / self.face.units + spacing) * self.size_pt * PT

    def lines(self, text: str, width_mm: float) -> int:
        """An upper bound of the lines `text` takes in a box `width_mm` wide."""
        if self.upper:
            text = text.upper()
        units = _units(text)
        if not units:
            return 1
        face = self.face
        scale = self.size_pt * PT / face.units
        space = self.width_mm(" ")
        count = 1
        line = -1.0  # the width of the current line; < 0 when it is empty
        last = ""  # its last character
        for unit in units:
            word = self.width_mm(unit)
            if word > width_mm:
                raise NoBound  # a word wider than its box: it would overflow or break
            if line >= 0:
                # The space between, and the kerning on either side of it, at its widest.
                gap = space + (face.widening(last, " ") + face.widening(" ", unit[0])) * scale
                if line + gap + word <= width_mm:
                    line += gap + word
                    last = unit[-1]
                    continue
                count += 1
            line, last = word, unit[-1]
        return count


# What CSS collapses into one breakable space (a form feed is not among them: drawn, it
# fails the character check).
_BREAKABLE = re.compile(r"[ \t\n\r]+")
# Where a unit may end before a space and a letter or digit: after a letter, a digit, or
# punctuation that closes (never after an opening mark: "(", "«", "„", "¿"…, nor after
# a straight quote, which may open).
_ENDS = frozenset(".,;:!?…)]}»›%’")


def _units(text: str) -> list[str]:
    """`text` cut into the pieces a line may break between: only at a space before a
    letter or a digit, after a letter, a digit or closing punctuation. The real breaker
    (Pango, UAX #14) may break there and elsewhere too; breaking at fewer places only
    makes the lines counted more, never fewer."""
    units: list[str] = []
    for piece in _BREAKABLE.split(text):
        if not piece:
            continue
        if units and not (
            piece[0].isalnum() and (units[-1][-1].isalnum() or units[-1][-1] in _ENDS)
        ):
            units[-1] += " " + piece  # glued: no break the model is sure of
        else:
            units.append(piece)
    return units


def _rendered(text: str) -> str:
    """The text `keep_tail` lays out, without its markup: its tail bound by no-break
    spaces (its word joiners are left out: drawn zero-wide, and a unit never breaks at
    a hyphen or a dash anyway)."""
    parts = split_tail(text)
    return text if parts is None else "".join(parts)


# ------------------------------------------------------------------ the card


@dataclass(frozen=True)
class _Fonts:
    body: FaceMetrics  # 400
    italic: FaceMetrics  # 400 italic
    semibold: FaceMetrics  # 600
    bold: FaceMetrics  # 700
    heading_bold: FaceMetrics  # heading 700
    heading_heavy: FaceMetrics  # heading 800


def _face(layout: Layout, family: str, weight: int, style: str = "normal") -> FaceMetrics:
    for face in layout.font_faces:
        if face.family == family and face.weight == weight and face.style == style:
            metrics = face_metrics(face.path)
            if metrics is not None:
                return metrics
    raise NoBound  # fontconfig would pick a neighbour, or synthesise: not modelled


def _fonts(layout: Layout) -> _Fonts:
    body, heading = layout.brand.fonts.body, layout.brand.fonts.heading
    return _Fonts(
        body=_face(layout, body, 400),
        italic=_face(layout, body, 400, "italic"),
        semibold=_face(layout, body, 600),
        bold=_face(layout, body, 700),
        heading_bold=_face(layout, heading, 700),
        heading_heavy=_face(layout, heading, 800),
    )


def model_applies(layout: Layout) -> bool:
    """Whether `layout`'s template and stylesheet are those the model was written for."""
    for name, digest in MODEL_FILES.items():
        files = layout.files(name)
        if name == "card.html.j2":
            files = files[-1:]  # the template is the nearest one (a brand's overrides)
        if len(files) != 1 or file_digest(files[0]) != digest:
            return False
    return True


_digests: dict[tuple[Path, int, int], str] = {}


def file_digest(path: Path) -> str:
    """The SHA-256 of a file (kept per size and modification time)."""
    stat = path.stat()
    key = (path, stat.st_size, stat.st_mtime_ns)
    found = _digests.get(key)
    if found is None:
        found = _digests[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def fits_first_step(card: Card, layout: Layout) -> bool | None:
    """True when `card` surely fits one page at the first fit step; None when only
    laying it out can tell (never False: a card over the bound may still fit). For many
    cards of one layout, prepare the layout once: `CardBound.of(layout)`."""
    bound = CardBound.of(layout)
    return None if bound is None else bound.fits(card)


def card_height_bound(card: Card, layout: Layout) -> float:
    """An upper bound of the card's height at the first fit step, in mm (card.css);
    NoBound when the model cannot tell."""
    bound = CardBound.of(layout)
    if bound is None:
        raise NoBound
    return bound.height(card)


@dataclass(frozen=True)
class CardBound:
    """The bound of one layout, what it needs of the layout worked out once: the model
    applies (its template and stylesheet), its faces' metrics, the characters they draw,
    and the brand's own words drawable."""

    layout: Layout
    fonts: _Fonts
    drawable: frozenset[str]

    @classmethod
    def of(cls, layout: Layout) -> CardBound | None:
        """The bound of `layout`; None when no card of it can be proven (another
        template or stylesheet, a face the model cannot read, a brand's word the fonts
        cannot draw): its cards are laid out."""
        try:
            if not model_applies(layout):
                return None
            fonts = _fonts(layout)
            drawable = set(_DRAWN_ANYWAY)
            for face in layout.font_faces:
                metrics = face_metrics(face.path)
                if metrics is None:
                    return None
                drawable.update(metrics.advance)
        except (NoBound, OSError):
            return None
        if not all(drawable.issuperset(text) for text in _strings(layout.brand.model_dump())):
            return None
        return cls(layout, fonts, frozenset(drawable))

    def fits(self, card: Card) -> bool | None:
        """As `fits_first_step`, in this layout."""
        try:
            height = self.height(card)
        except NoBound:
            return None
        return True if height <= PAGE_HEIGHT_MM - SAFETY_MM else None

    def height(self, card: Card) -> float:
        """An upper bound of the card's height at the first fit step, in mm."""
        # Any text the card may print (its footer, a photo's alternative text, the
        # document's metadata: not only what the model measures) with a character the
        # fonts lack: the renderer refuses it, and only it can say so.
        if not all(self.drawable.issuperset(text) for text in _strings(card)):
            raise NoBound
        return _card_height(card, self.layout, self.fonts)


def _card_height(card: Card, layout: Layout, fonts: _Fonts) -> float:
    v = step_values(FIT_STEPS[0])
    width = PAGE_WIDTH_MM - 2 * layout.brand.page_margin_mm
    labels = card.labels

    # .masthead: 9mm high, then --gap-l. The logo float is 9mm high too; the kicker
    # (floated right, 2.6mm down) is one line, or, pushed under a wide logo, still ends
    # above the headline.
    kicker = Font(fonts.bold, 7.5, 0.14, upper=True)
    kicker_text = labels.reference + (f" · {card.client_kind}" if card.client_kind else "")
    if kicker.width_mm(kicker_text) + 3.0 > width / 2:  # + .kicker-sep's padding
        raise NoBound
    height = 9.0 + v["gap-l"]

    # .headline: the client (line-height 1.2, then 1.2mm) and the title (1.12), inside
    # a 1.4mm rule and 5mm of padding, then --gap-m.
    inner = width - 1.4 - 5.0
    client = Font(fonts.heading_bold, v["fs-client"])
    title = Font(fonts.heading_heavy, v["fs-title"])
    height += client.lines(_rendered(card.client), inner) * v["fs-client"] * 1.2 * PT + 1.2
    height += title.lines(_rendered(card.title), inner) * v["fs-title"] * 1.12 * PT
    height += v["gap-m"]

    # .facts: a fixed table (21/21/21/37 %), labels over values; cells padded 4mm each
    # side and ruled 0.8mm on the left; then --gap-l.
    label = Font(fonts.bold, v["fs-label"], 0.12, upper=True)
    value = Font(fonts.bold, v["fs-fact"])
    note = Font(fonts.body, v["fs-small"])
    columns = [0.21, 0.21, 0.21, 0.37]
    cells = [width * share - 8.0 - 0.8 for share in columns]
    names = [labels.period, labels.budget, labels.location, labels.carried_by]
    label_lines = max(label.lines(n, w) for n, w in zip(names, cells, strict=True))
    height += v["gap-band"] + label_lines * v["fs-label"] * 1.2 * PT + 1.2
    values = [
        card.period or "—",
        card.amount or "—",
        card.location or "—",
        card.brand.name or layout.brand.name,
    ]
    value_heights = [
        value.lines(text, w) * v["fs-fact"] * 1.25 * PT
        for text, w in zip(values, cells, strict=True)
    ]
    if card.partners:
        value_heights[3] += 1.0 + note.lines(card.partners, cells[3]) * v["fs-small"] * 1.3 * PT
    height += max(value_heights) + v["gap-band"] + v["gap-l"]

    # .columns: two floats, .main 60 % and .side 34 %, as tall as the taller.
    main = _main_height(card, fonts, v, width * 0.6)
    height += max(main, _side_height(card, fonts, v, width * 0.34))
    return height


# Characters the renderer lets through without a glyph (see pdf._charset).
_DRAWN_ANYWAY = frozenset("\n\r\t" + WORD_JOINER)


def _strings(value: object) -> Iterator[str]:
    """Every string in `value` (a card: dataclasses, tuples, dicts, paths' names)."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _strings(getattr(value, item.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _heading(fonts: _Fonts, v: dict[str, float], text: str, width: float) -> float:
    # h2: uppercase, letter-spaced, line-height 1.2, 1.6mm + a 0.5pt rule, then --gap-s.
    font = Font(fonts.heading_heavy, v["fs-label"], 0.14, upper=True)
    return font.lines(text, width) * v["fs-label"] * 1.2 * PT + 1.6 + 0.5 * PT + v["gap-s"]


def _main_height(card: Card, fonts: _Fonts, v: dict[str, float], width: float) -> float:
    body = Font(fonts.body, v["fs-body"])
    line = v["fs-body"] * v["lh-body"] * PT
    height = 0.0
    sections: Sequence[tuple[str, tuple[Block, ...]]] = (
        (card.labels.context, card.context),
        (card.labels.approach, card.approach),
    )
    for name, blocks in sections:
        if not blocks:
            continue
        height += _heading(fonts, v, name, width)
        for block in blocks:
            if block.kind == "paragraph":
                height += body.lines(_rendered(block.items[0]), width) * line
            else:  # a list: 5mm of indent, --gap-xs after each item
                for item in block.items:
                    height += body.lines(_rendered(item), width - 5.0) * line + v["gap-xs"]
            height += v["gap-s"]
        height += v["gap-m"]  # .prose
    return height


def _side_height(card: Card, fonts: _Fonts, v: dict[str, float], width: float) -> float:
    height = 0.0
    if card.deliverables:
        # .deliverables li: 4mm indent, --fs-small at line-height 1.38, --gap-s after.
        small = Font(fonts.body, v["fs-small"])
        height += _heading(fonts, v, card.labels.deliverables, width)
        for item in card.deliverables:
            lines = small.lines(_rendered(item), width - 4.0)
            height += lines * v["fs-small"] * 1.38 * PT + v["gap-s"]
        height += v["gap-m"]
    if card.tags:
        # .tag chips: --fs-label text at 1.2, 0.9mm padding, 0.6pt border, 1.6mm below,
        # 1.8mm padding and 1mm margin across; each line counted as a chip plus a whole
        # strut of the paragraph (line-height 1 at the body size).
        chip = Font(fonts.semibold, v["fs-label"])
        across = 2 * 1.8 + 2 * 0.6 * PT + 1.0
        count, used = 1, 0.0
        space = Font(fonts.body, v["fs-body"]).width_mm(" ")
        for tag in card.tags:
            wide = chip.width_mm(tag) + across
            if wide > width:
                raise NoBound
            if used and used + space + wide > width:
                count, used = count + 1, wide
            else:
                used = used + space + wide if used else wide
        chip_height = v["fs-label"] * 1.2 * PT + 2 * 0.9 + 2 * 0.6 * PT + 1.6
        height += _heading(fonts, v, card.labels.tags, width)
        height += count * (chip_height + v["fs-body"] * PT) + v["gap-m"]
    caption = Font(fonts.italic, v["fs-label"])
    for photo in card.photos:
        # .photo: at most --photo-h tall; a caption 1.4mm under it; then --gap-m.
        height += v["photo-h"] + v["gap-m"]
        if photo.caption:
            height += 1.4 + caption.lines(photo.caption, width) * v["fs-label"] * 1.35 * PT
    return height
