"""Writing a drafted tender as a tender file whose comments say where each value was read.

Every rule is preceded by the sentence it came from, quoted, with its place; a value not
found, or disputed between sources, is a `# TODO` line instead of a key: the file never
holds a value nobody read.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence

from refsheets.importer.write import _flow_scalar, _scalar, slug
from refsheets.notice.draft import (
    RULE_ORDER,
    Draft,
    LotDraft,
    RuleDraft,
    Sourced,
    describe_cpv,
    language_of,
)
from refsheets.notice.eforms import Deadline
from refsheets.notice.rules import Rule

WIDTH = 92
_GROUPED_DIGITS = re.compile(r"(?<=\d) (?=\d{3}\b)")

_RULE_NAMES = {
    "years": "the years window",
    "min_amount": "a minimum amount",
    "client_kind": "a kind of client",
    "min_references": "a least number of references",
    "max_references": "a greatest number of references",
    "required_facts": "the facts each reference must show",
    "page_limit": "a page limit",
}


def tender_stem(draft: Draft) -> str:
    """A file name for the tender: its reference, else its title (ASCII, lower-case)."""
    for value in (draft.reference, draft.name):
        if value is not None:
            stem = slug(str(value.value), max_words=8)[:60].strip("-")
            if stem:
                return stem
    return "tender"


def render_tender(draft: Draft) -> str:
    """The tender file's text."""
    lines = ["# yaml-language-server: $schema=tender.schema.json"]
    lines.append("# Written by `refsheets tender new` from:")
    lines += [f"#   - {source}" for source in draft.sources]
    lines += _comment(
        "Each value says where it was read: check it against its source, settle every "
        "TODO line, then run `refsheets tender check` on this file.",
        "",
    )
    for note in draft.notes:
        lines += _comment(note, "")
    if draft.criteria:
        lines.append("# Rules on references looked for in:")
        lines += [f"#   - {where}" for where in draft.criteria]
    for text in draft.disagreements:
        lines += _comment(f"The sources disagree on {text} (a TODO line below)", "")
    lines.append("")
    for key in ("name", "buyer", "reference", "deadline"):
        value = getattr(draft, key)
        if key in draft.disputed:
            lines += _comment(f"TODO {key}: {draft.disputed[key]}", "")
        else:
            lines += _field(key, value, "", optional=key == "reference")
    lines += _cpv(draft.cpv, "")
    lines += _themes(draft.themes, draft.cpv, "", inherited=False)
    lines += _query(draft.query, "")
    lines += _rules(draft.rules, draft.criteria, "")
    if draft.entity is not None:
        lines.append(f"entity: {_scalar(draft.entity)}")
    else:
        known = f": one of {', '.join(draft.entities)}" if draft.entities else ""
        lines.append(f"# TODO entity: which of our structures answers{known}")
    language, todo = language_of(draft)
    if language is not None and draft.language is not None:
        lines.append(f"language: {language}  # {draft.language.where}: {draft.language.value}")
    elif todo:
        lines.append(f"# TODO language: {todo}")
    if draft.lots:
        lines.append("lots:")
        for lot in draft.lots:
            lines += _lot(lot, draft)
    return "\n".join(lines) + "\n"


def _comment(text: str, indent: str) -> list[str]:
    # A no-break space inside "5 000" keeps the number on one line (textwrap breaks only
    # at ASCII spaces); it reads the same.
    text = _GROUPED_DIGITS.sub("\u00a0", " ".join(text.split()))
    return textwrap.wrap(
        text,
        width=WIDTH,
        initial_indent=f"{indent}# ",
        subsequent_indent=f"{indent}#   ",
        break_on_hyphens=False,
    )


def _quote(rule: Rule, indent: str) -> list[str]:
    return _comment(f"« {rule.quote} » ({rule.where})", indent)


def _value(value: object) -> str:
    if isinstance(value, Deadline):
        return value.yaml()
    if isinstance(value, list):
        return "[" + ", ".join(_flow_scalar(str(item)) for item in value) + "]"
    if isinstance(value, int):
        return str(value)
    return _scalar(str(value))


def _field(key: str, value: Sourced | None, indent: str, *, optional: bool = False) -> list[str]:
    if value is None:
        return [] if optional else [f"{indent}# TODO {key}: not found in the sources"]
    return [f"{indent}{key}: {_value(value.value)}  # {value.where}"]


def _cpv(value: Sourced | None, indent: str) -> list[str]:
    if value is None:
        return []
    codes = [str(code) for code in value.value] if isinstance(value.value, list) else []
    lines = _comment(f"{value.where}: {describe_cpv(codes)}", indent)
    return [*lines, f"{indent}cpv: {_value(codes)}"]


def _themes(
    themes: Sequence[str] | None, cpv: Sourced | None, indent: str, *, inherited: bool
) -> list[str]:
    if themes:
        return [f"{indent}themes: {_value(list(themes))}  # the tags whose CPV codes match"]
    if inherited or cpv is None:
        return [] if inherited else [f"{indent}# TODO themes: the tags of the subject"]
    codes = ", ".join(str(code) for code in cpv.value) if isinstance(cpv.value, list) else ""
    return _comment(
        f"TODO themes: no tag of tags.yaml maps to CPV {codes}; name the tags of the "
        "subject, or give a tag the `cpv:` codes it covers",
        indent,
    )


def _query(value: Sourced | None, indent: str) -> list[str]:
    if value is None:
        return []
    paragraphs = [" ".join(p.split()) for p in str(value.value).split("\n") if p.strip()]
    lines = [f"{indent}# The object of the call ({value.where}).", f"{indent}query: |"]
    for paragraph in paragraphs:
        lines += textwrap.wrap(
            paragraph,
            width=WIDTH,
            initial_indent=f"{indent}  ",
            subsequent_indent=f"{indent}  ",
            break_on_hyphens=False,
            break_long_words=False,
        )
    return lines


def _rules(rules: RuleDraft | None, looked_in: Sequence[str], indent: str) -> list[str]:
    if rules is None:
        return []
    lines = [f"{indent}rules:"]
    inner = indent + "  "
    written = False
    quoted: set[tuple[str, str]] = set()  # a sentence is quoted once, then referred to
    for key in RULE_ORDER:
        if key in rules.values:
            again = []
            for rule in rules.quotes.get(key, []):
                if (rule.quote, rule.where) in quoted:
                    again.append(rule.where)
                    continue
                quoted.add((rule.quote, rule.where))
                lines += _quote(rule, inner)
            if key in rules.notes:
                lines += _comment(rules.notes[key], inner)
            line = f"{inner}{key}: {_value(rules.values[key])}"
            if again:
                line += f"  # the sentence quoted above ({'; '.join(again)})"
            lines.append(line)
            written = True
        elif key in rules.conflicts:
            lines += _comment(
                f"TODO {key}: the sources disagree; choose, quoting your source:", inner
            )
            for rule in rules.conflicts[key]:
                lines += _comment(f"- {_value(rule.value)}: « {rule.quote} » ({rule.where})", inner)
        else:
            vague = [rule for rule in rules.vague if rule.key == key]
            if vague:
                for rule in vague:
                    lines += _comment(
                        f"TODO {key}: « {rule.quote} » ({rule.where}): {rule.note}", inner
                    )
            elif key != "page_limit":
                where = (
                    "the texts read (listed at the top)" if looked_in else "no text: give the RC"
                )
                lines += _comment(f"TODO {key}: {_RULE_NAMES[key]} not found in {where}", inner)
    for rule in rules.other_facts:
        asked = ", ".join(str(fact) for fact in rule.value) if isinstance(rule.value, tuple) else ""
        said = (
            f"the sentence quoted above ({rule.where})"
            if (rule.quote, rule.where) in quoted
            else f"« {rule.quote} » ({rule.where})"
        )
        lines += _comment(
            f"Also asked of each reference, not checked by refsheets: {asked}: {said}", inner
        )
    if not written:
        lines[0] = f"{indent}rules: {{}}"  # the TODO lines below say what was looked for
    return lines


def _lot(lot: LotDraft, draft: Draft) -> list[str]:
    indent = "    "
    lines = [f"  - number: {_value(lot.number)}  # {lot.id}"]
    lines += _field("title", lot.title, indent, optional=True)
    lines += _field("deadline", lot.deadline, indent, optional=True)
    lines += _cpv(lot.cpv, indent)
    lines += _themes(lot.themes, lot.cpv, indent, inherited=lot.themes is None)
    lines += _query(lot.query, indent)
    if lot.rules is not None:
        looked = [where for where in draft.criteria if lot.id in where]
        lines += _rules(lot.rules, looked, indent)
    return lines
