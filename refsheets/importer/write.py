"""Mission drafts as library files: the YAML text, in the library's own format, and names.

The text is written by hand rather than by a YAML dumper, to read like the hand-checked
files (schema line first, keys in the model's order, `|` blocks for texts, tags as a flow
list); every file is parsed back before it is returned, so a quoting slip is a bug caught
here and never a broken file in the library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import yaml

from refsheets.importer.bodies import abbreviated
from refsheets.importer.parse import Draft
from refsheets.taxonomy import fold

SCHEMA_LINE = "# yaml-language-server: $schema=../mission.schema.json"
MAX_STEM_WORDS = 10
# The library's ids: year, client in up to 3 words, title in up to 3 (a hyphenated word is
# one), never longer than a file name one reads at a glance.
CLIENT_WORDS = 3
TITLE_WORDS = 3
MAX_STEM_LENGTH = 60

# Words that make a file name longer without telling missions apart.
_STOP_WORDS = frozenset(
    "a au aux d de des du en et l la le les un une pour par sur avec dans".split()
)


def render_mission(draft: Draft) -> str:
    """The YAML text of one mission file; gaps are left empty with a TODO comment."""
    data = draft.to_data()
    out: list[str] = [SCHEMA_LINE]
    gaps = [
        label
        for fact, label in (
            ("period", "the period"),
            ("client kind", "the client's kind"),
            ("budget", "the amount"),
            ("entity", "which of our structures carried it"),
        )
        if fact in draft.missing
    ]
    if gaps:
        out.append("# Imported by refsheets; the portfolio does not give " + _and(gaps) + ".")
    if data["title"] is None:
        out.append("# TODO: the portfolio gives this mission no title; write one from its text.")
        out.append("title:")
    else:
        out.append(f"title: {_scalar(data['title'])}")
    out.append("client:")
    client = data["client"]
    if client["name"] is None:
        out.append("  # TODO: the portfolio names no client on this page; write its name.")
        out.append("  name:")
    else:
        out.append(f"  name: {_scalar(client['name'])}")
    for key in ("kind", "location"):
        if key in client:
            out.append(f"  {key}: {_scalar(client[key])}")
    if "period" in data:
        period = data["period"]
        out.append(f"period: {period if isinstance(period, int) else _scalar(period)}")
    if "entity" in data:
        out.append(f"entity: {_scalar(data['entity'])}")
    if "partners" in data:
        out.append("partners:")
        for partner in data["partners"]:
            out.append(f"  - name: {_scalar(partner['name'])}")
            if "role" in partner:
                out.append(f"    role: {_scalar(partner['role'])}")
    for key in ("context", "approach"):
        if key in data:
            out.append(f"{key}: |")
            out.extend(f"  {row}" if row else "" for row in data[key].split("\n"))
    if "deliverables" in data:
        out.append("deliverables:")
        out.extend(f"  - {_scalar(item)}" for item in data["deliverables"])
    if "tags" in data:
        out.append("tags: [" + ", ".join(_flow_scalar(tag) for tag in data["tags"]) + "]")
    if "budget" in data:
        if "budget basis" in draft.missing:
            out.append("# TODO: the portfolio does not say HT or TTC; refsheets reads HT.")
        out.append(f"budget: {_scalar(data['budget'])}")
    if "notes" in data:
        out.append(f"notes: {_scalar(data['notes'])}")
    text = "\n".join(out) + "\n"
    _check_round_trip(text, data)
    return text


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " nor " + items[-1]


def _scalar(value: str) -> str:
    """`value` as a YAML scalar after 'key: ' or '- ': plain when it reads back as itself."""
    if value and "\n" not in value and value == value.strip():
        try:
            if yaml.safe_load(f"k: {value}") == {"k": value}:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)  # JSON strings are YAML double-quoted


def _flow_scalar(value: str) -> str:
    """`value` as an item of a `[a, b]` list."""
    if value and value == value.strip():
        try:
            if yaml.safe_load(f"[{value}]") == [value]:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)


def _check_round_trip(text: str, data: dict[str, Any]) -> None:
    read = yaml.safe_load(text)
    for key in ("context", "approach"):
        if key in read and isinstance(read[key], str):
            read[key] = read[key].rstrip("\n")
    if read != data:  # pragma: no cover - a bug in this module, never bad input
        raise AssertionError(f"the YAML written for {data.get('title')!r} does not read back")


def slug(text: str, *, max_words: int = MAX_STEM_WORDS) -> str:
    """ASCII, lower-case words joined by hyphens, without the filler words; a hyphenated
    word ("tiers-lieu", "co-design") counts as one."""
    words = [w for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", fold(text)) if w not in _STOP_WORDS]
    return "-".join(words[:max_words])


def file_stem(draft: Draft) -> str:
    """A mission id in the library's scheme: the first year, the client as said in short,
    a few words of the title (`2021-cc-haute-somme-tiers-lieu-peronne`), ASCII, at most
    MAX_STEM_LENGTH characters."""
    parts: list[str] = []
    if draft.period is not None:
        parts.append(str(draft.period)[:4])
    if draft.client:
        parts.append(slug(abbreviated(draft.client), max_words=CLIENT_WORDS))
    if draft.title:
        parts.append(slug(draft.title, max_words=TITLE_WORDS))
    stem = "-".join(part for part in parts if part)
    if not draft.client and not draft.title:
        # No title nor client: named from what the page gives (its text), marked TODO so
        # that the owner renames it in the library's scheme once the title is written.
        words = slug(draft.context or draft.approach or "", max_words=TITLE_WORDS)
        stem = "-".join(part for part in ("todo", stem, words) if part)
        if stem == "todo":
            stem = f"todo-{draft.index:02d}"
    if len(stem) > MAX_STEM_LENGTH:
        stem = stem[: MAX_STEM_LENGTH + 1].rsplit("-", 1)[0]
    return stem.strip("-")


def file_stems(drafts: Sequence[Draft]) -> list[str]:
    """One distinct stem per draft: repeats get -2, -3… in portfolio order."""
    stems: list[str] = []
    taken: set[str] = set()
    last: dict[str, int] = {}  # the last number given to each base: linear, not cubic
    for draft in drafts:
        base = file_stem(draft)
        stem, n = base, last.get(base, 1)
        while stem in taken:
            n += 1
            stem = f"{base}-{n}"
        last[base] = n
        taken.add(stem)
        stems.append(stem)
    return stems
