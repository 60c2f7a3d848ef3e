"""`write_json` writes the very text of `json.dumps(value, ensure_ascii=False, indent=2)`,
in pieces, for every value json encodes, and refuses what json refuses."""

from __future__ import annotations

import enum
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refsheets.pretty_json
from refsheets.pretty_json import write_json
from tests.conftest import DATA, run_cli


class Kind(enum.StrEnum):
    public = "public"


class Level(enum.IntEnum):
    high = 3


class Ratio(float):
    pass


_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: json writes NaN, Infinity, -Infinity
    | st.text()  # quotes, backslashes, controls, surrogates, anything
    | st.sampled_from([Kind.public, Level.high, Ratio(0.5), -0.0, 1e300, 10**30])
)
_KEYS = (
    st.text()
    | st.integers()
    | st.floats()
    | st.booleans()
    | st.none()
    | st.sampled_from([Kind.public, Level.high])
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_KEYS, inner, max_size=5)
    ),
    max_leaves=40,
)


def _written(value: Any, indent: int = 2) -> str:
    pieces: list[str] = []
    write_json(value, pieces.append, indent)
    return "".join(pieces)


@settings(max_examples=400, deadline=None)
@given(value=_VALUES, indent=st.sampled_from([2, 0, 4]))
def test_the_text_is_json_dumps_indented(value: Any, indent: int) -> None:
    assert _written(value, indent) == json.dumps(value, ensure_ascii=False, indent=indent)


def test_a_long_value_is_written_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(refsheets.pretty_json, "_FLUSH_PIECES", 10)
    value = {"selected": [{"rank": n, "words": ["a", "b"], "parts": {}} for n in range(200)]}
    pieces: list[str] = []
    write_json(value, pieces.append)
    assert len(pieces) > 10
    assert "".join(pieces) == json.dumps(value, ensure_ascii=False, indent=2)


@pytest.mark.parametrize(
    "value",
    [object(), {"a": [1, {2}]}, {("a", "b"): 1}, {1.5: b"bytes"}],
    ids=["object", "set", "tuple key", "bytes"],
)
def test_what_json_refuses_is_refused_alike(value: Any) -> None:
    with pytest.raises(TypeError) as ours:
        _written(value)
    with pytest.raises(TypeError) as theirs:
        json.dumps(value, ensure_ascii=False, indent=2)
    assert str(ours.value) == str(theirs.value)


def test_a_cycle_is_refused() -> None:
    cycle: list[Any] = [1]
    cycle.append({"again": cycle})
    with pytest.raises(ValueError, match="Circular reference"):
        _written(cycle)


def test_a_value_met_twice_without_a_cycle_is_written_twice() -> None:
    shared = {"a": [1.5, math.inf]}
    value = [shared, shared, [shared]]
    assert _written(value) == json.dumps(value, ensure_ascii=False, indent=2)


def test_pick_json_is_json_dumps_of_the_result() -> None:
    # What a user gets: the command's output is the result's JSON, indented, parsed back.
    out = run_cli(
        ["-L", str(DATA), "pick", "--query", "tiers-lieu numérique", "--json", "--on", "2026-04-17"]
    ).stdout
    value = json.loads(out)
    assert out == json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    assert value["selected"] and value["selected"][0]["rank"] == 1
