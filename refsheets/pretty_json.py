"""JSON indented as `json.dumps(value, ensure_ascii=False, indent=2)` writes it, written
out as it is made.

The standard library encodes in C only without `indent`; with it, every value goes
through nested Python generators (`json.encoder._make_iterencode`), and the whole text
is joined from millions of pieces before a byte is written: `pick --query --json` of
50,000 missions spent 1.6 s there and held the pieces and the text at once. Here each
value is one call that appends its pieces to a list (strings are encoded by the same C
function as json's), and the list goes out each time it is long, so that the text is
never held whole. The bytes are those of `json.dumps`: same separators, same floats
(`NaN`, `Infinity`), same keys (numbers, booleans and null as json spells them), the
same TypeError for a value json refuses.
"""

from __future__ import annotations

import json.encoder
from collections import defaultdict
from collections.abc import Callable
from typing import Any

_FLUSH_PIECES = 16384
"""Pieces gathered before they are written (a few hundred KB of text)."""

_encode_string: Callable[[str], str] = json.encoder.encode_basestring  # C when available
_INFINITY = float("inf")


class _Indents(dict[int, str]):
    """Level -> a newline and that level's indentation, made on first use."""

    def __init__(self, indent: int) -> None:
        super().__init__()
        self.indent = indent

    def __missing__(self, level: int) -> str:
        self[level] = text = "\n" + " " * (self.indent * level)
        return text


def write_json(value: Any, write: Callable[[str], object], indent: int = 2) -> None:
    """Write `value` as `json.dumps(value, ensure_ascii=False, indent=indent)` would
    return it, in pieces, through `write`. A value json cannot encode raises its
    TypeError (some text may have been written by then), or ValueError for a cycle."""
    pieces: list[str] = []
    append = pieces.append
    newline = _Indents(indent)
    active: set[int] = set()  # the containers being written, to stop on a cycle
    first_heads: defaultdict[int, dict[str, str]] = defaultdict(dict)
    next_heads: defaultdict[int, dict[str, str]] = defaultdict(dict)

    def text_of(o: Any, level: int) -> str:
        # A leaf's text; a container's pieces appended, but the last, returned (so that a
        # leaf is one piece with what comes before it).
        kind = type(o)
        leaf = _LEAVES.get(kind)
        if leaf is not None:
            return leaf(o)
        if kind is not dict and kind is not list and kind is not tuple:
            # json's checks, in its order: a subclass of str, int or float is written as
            # its value (None, True and False have types of their own, met above).
            if isinstance(o, str):
                return _encode_string(o)
            if isinstance(o, int):
                return int.__repr__(o)
            if isinstance(o, float):
                return _float_text(o)
            if not isinstance(o, (list, tuple, dict)):
                raise TypeError(f"Object of type {o.__class__.__name__} is not JSON serializable")
        if not o:
            return "{}" if isinstance(o, dict) else "[]"
        marker = id(o)
        if marker in active:
            raise ValueError("Circular reference detected")
        active.add(marker)
        if len(pieces) > _FLUSH_PIECES:
            write("".join(pieces))
            pieces.clear()
        inner = newline[level + 1]
        separator = "," + inner
        if isinstance(o, dict):
            opening = "{" + inner
            # What goes before an entry's value, kept for each text key at each level
            # (the first entry of a dict, and the others): tables repeat their keys.
            heads = first_heads[level]
            for key, item in o.items():
                head = heads.get(key) if type(key) is str else None
                if head is None:
                    head = opening + (_encode_string(key) if type(key) is str else _key_text(key))
                    head += ": "
                    if type(key) is str:
                        heads[key] = head
                leaf = _LEAVES.get(type(item))
                if leaf is not None:
                    append(head + leaf(item))
                else:
                    append(head)
                    append(text_of(item, level + 1))
                opening = separator
                heads = next_heads[level]
            closing = "}"
        else:
            opening = "[" + inner
            for item in o:
                leaf = _LEAVES.get(type(item))
                if leaf is not None:
                    append(opening + leaf(item))
                else:
                    append(opening)
                    append(text_of(item, level + 1))
                opening = separator
            closing = "]"
        active.discard(marker)
        return newline[level] + closing

    append(text_of(value, 0))
    write("".join(pieces))


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _key_text(key: Any) -> str:
    # As json: a str as it is; a float, a boolean, None or an int spelled as JSON would
    # spell the value, then quoted; anything else refused (no `skipkeys`).
    if isinstance(key, str):
        return _encode_string(key)
    if isinstance(key, float):
        return _encode_string(_float_text(key))
    if key is True:
        return '"true"'
    if key is False:
        return '"false"'
    if key is None:
        return '"null"'
    if isinstance(key, int):
        return _encode_string(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


_LEAVES: dict[type, Callable[[Any], str]] = {
    str: _encode_string,
    int: int.__repr__,
    float: _float_text,
    bool: lambda value: "true" if value else "false",
    type(None): lambda _: "null",
}
"""The text of a value of each of these exact types."""
