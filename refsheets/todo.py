"""Placeholders left to fill in: a value that starts with `TODO`.

`refsheets new` writes them where a fact is still to be given. A placeholder is never a
fact: the loaders read the file as if the key were absent, and say at its line that it is
still to do (an error for what a card cannot do without: a mission's title and client).
"""

from __future__ import annotations

import re
from typing import Any

PLACEHOLDER = re.compile(r"^\s*TODO\b")

Loc = tuple[str | int, ...]


def is_placeholder(value: object) -> bool:
    """Whether a value is a `TODO …` placeholder."""
    return isinstance(value, str) and PLACEHOLDER.match(value) is not None


def find_placeholders(data: Any) -> list[Loc]:
    """Where placeholders are in parsed YAML, as paths of keys and indexes.

    Each list or mapping is walked once: a YAML alias is the same object as its anchor,
    so a file of nested aliases (a "billion laughs") costs its size, not its expansion.
    """
    found: list[Loc] = []
    seen: set[int] = set()
    stack: list[tuple[Any, Loc]] = [(data, ())]
    while stack:
        value, loc = stack.pop()
        if is_placeholder(value):
            found.append(loc)
        elif isinstance(value, dict | list):
            if id(value) in seen:
                continue
            seen.add(id(value))
            items = value.items() if isinstance(value, dict) else enumerate(value)
            children = [
                (child, (*loc, key if isinstance(key, int) else str(key))) for key, child in items
            ]
            stack.extend(reversed(children))
    return found


def without_placeholders(data: Any, keep: frozenset[Loc] = frozenset()) -> Any:
    """The data with every placeholder left out (a key dropped, a list item dropped), but
    those at the paths in `keep` (required keys, which are reported apart). An object
    reached twice (a YAML alias) is rebuilt once."""
    done: dict[int, Any] = {}

    def rebuild(value: Any, loc: Loc) -> Any:
        if not isinstance(value, dict | list):
            return value
        if id(value) in done:
            return done[id(value)]
        if isinstance(value, dict):
            result: Any = {
                key: rebuild(child, (*loc, str(key)))
                for key, child in value.items()
                if not is_placeholder(child) or (*loc, str(key)) in keep
            }
        else:
            result = [
                rebuild(child, (*loc, i))
                for i, child in enumerate(value)
                if not is_placeholder(child)
            ]
        done[id(value)] = result
        return result

    return rebuild(data, ())
