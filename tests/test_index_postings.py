"""A pick's query reads the index's inverted lists of its words, not every mission's words:
the same answers as reading every file, and a list damaged or forged is never used."""

from __future__ import annotations

import datetime
import shutil
import sqlite3
import sys
from array import array
from collections.abc import Callable
from pathlib import Path

import pytest

import refsheets.index
from refsheets.index import INDEX_DIR, index_path
from refsheets.library import Summaries, load_library, load_summaries
from refsheets.search import QueryTerms, query_names
from refsheets.select import PickQuery, pick
from tests.conftest import DATA
from tests.test_index import _no_racy_window  # noqa: F401 (autouse: a test's files are kept)

TODAY = datetime.date(2026, 4, 17)
QUERY = "Programmation d'un tiers-lieu numérique intercommunal"
OTHER = "numérique numérique médiation des habitants"
ADDED = """\
title: Programmation numérique d'un tiers-lieu intercommunal
client:
  name: Ville Ajoutée
  kind: public
period: 2024
context: Un tiers-lieu numérique, un tiers-lieu intercommunal.
tags: [tiers-lieu]
budget: 12 000 € HT
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """The repository's library with a broken mission (no words), indexed."""
    root = tmp_path / "lib"
    shutil.copytree(DATA, root, ignore=shutil.ignore_patterns(INDEX_DIR))
    (root / "missions" / "broken-mission.yaml").write_text("title: [\n", encoding="utf-8")
    load_library(root, index=True)
    return root


def answers(catalog: Summaries, text: str) -> list[object]:
    queries = [PickQuery(text=text), PickQuery(text=text, since=2020, tags=("tiers-lieu",))]
    return [pick(catalog, query, today=TODAY).to_json(private=True) for query in queries]


def whole_answers(library: Path, text: str) -> list[object]:
    return answers(Summaries.of(load_library(library)), text)


@pytest.mark.parametrize("text", [QUERY, OTHER, "jardin botanique", "de la"])
def test_a_query_reads_the_lists_of_its_words_only(library: Path, text: str) -> None:
    summaries = load_summaries(library, search=True, query=text)
    assert summaries.notes == []
    assert summaries.postings is not None
    assert summaries.search_words == {}  # no mission's words read
    assert set(summaries.postings.postings) <= set(query_names(QueryTerms.parse(text)))
    assert answers(summaries, text) == whole_answers(library, text)
    if text == QUERY:
        assert answers(summaries, text)[0]["selected"]  # type: ignore[index]


def test_a_mission_the_index_does_not_keep_is_counted_from_its_text(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file changed a moment ago is not kept: its words are counted, the others' listed.
    (library / "missions" / "added-mission.yaml").write_text(ADDED, encoding="utf-8")
    monkeypatch.setattr(refsheets.index, "RACY_SECONDS", 3600)  # as if just written
    summaries = load_summaries(library, search=True, query=QUERY)
    assert summaries.postings is not None
    assert set(summaries.search_words) == {"added-mission"}
    found = answers(summaries, QUERY)
    assert found == whole_answers(library, QUERY)
    ids = [item["id"] for item in found[0]["selected"]]  # type: ignore[index]
    assert "added-mission" in ids


def test_a_deleted_mission_leaves_the_lists(library: Path) -> None:
    gone = sorted((library / "missions").glob("*.yaml"))[0]
    gone.unlink()
    summaries = load_summaries(library, search=True, query=QUERY)
    assert summaries.postings is not None and summaries.notes == []
    found = answers(summaries, QUERY)
    assert found == whole_answers(library, QUERY)
    assert gone.stem not in str(found)


def _rows(library: Path) -> tuple[dict[str, int], set[int]]:
    """The terms' lists' sizes, and the numbers of the summaries without words."""
    with sqlite3.connect(index_path(library)) as connection:
        terms = dict(connection.execute("SELECT term, length(documents) FROM postings"))
        bare = {
            n for (n,) in connection.execute("SELECT number FROM summaries WHERE length IS NULL")
        }
    connection.close()
    return terms, bare


def _encode(numbers: list[int], frequencies: list[int]) -> bytes:
    values = array("I", numbers + frequencies)
    if sys.byteorder != "little":
        values.byteswap()
    return values.tobytes()


def _forge_list(library: Path, make: Callable[[list[int], list[int], set[int]], bytes]) -> None:
    """Rewrite the list of the query's first term, its checksum included."""
    term = QueryTerms.parse(QUERY).terms[0]
    _, bare = _rows(library)
    with sqlite3.connect(index_path(library)) as connection:
        (data,) = connection.execute(
            "SELECT documents FROM postings WHERE term = ?", (term,)
        ).fetchone()
        values = array("I")
        values.frombytes(data)
        half = len(values) // 2
        forged = make(list(values[:half]), list(values[half:]), bare)
        connection.execute(
            "UPDATE postings SET documents = ?, checksum = ? WHERE term = ?",
            (forged, refsheets.index._postings_checksum(term, forged), term),
        )
    connection.close()


FORGERIES: dict[str, Callable[[list[int], list[int], set[int]], bytes]] = {
    "odd size": lambda n, f, bare: _encode(n, f)[:-2],
    "empty": lambda n, f, bare: b"",
    "not ascending": lambda n, f, bare: _encode(n[::-1], f),
    "repeated": lambda n, f, bare: _encode([n[0], *n], [f[0], *f]),
    "beyond the rows": lambda n, f, bare: _encode([*n, 10**6], [*f, 2]),
    "a summary without words": lambda n, f, bare: _encode(
        sorted({*n, min(bare)}), [2] * len({*n, min(bare)})
    ),
    "a frequency of 0": lambda n, f, bare: _encode(n, [0, *f[1:]]),
}


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_list_is_noted_and_the_index_rebuilt(library: Path, forgery: str) -> None:
    _forge_list(library, FORGERIES[forgery])
    summaries = load_summaries(library, search=True, query=QUERY)
    assert len(summaries.notes) == 1 and str(index_path(library)) in summaries.notes[0]
    assert answers(summaries, QUERY) == whole_answers(library, QUERY)
    again = load_summaries(library, search=True, query=QUERY)
    assert again.notes == [] and again.postings is not None  # rebuilt, lists read again
    assert answers(again, QUERY) == whole_answers(library, QUERY)


def test_a_damaged_list_is_noted_and_the_index_rebuilt(library: Path) -> None:
    term = QueryTerms.parse(QUERY).terms[0]
    with sqlite3.connect(index_path(library)) as connection:
        # One frequency changed, the checksum left: damage, not a forgery.
        (data,) = connection.execute(
            "SELECT documents FROM postings WHERE term = ?", (term,)
        ).fetchone()
        damaged = data[:-4] + _encode([], [7])
        connection.execute("UPDATE postings SET documents = ? WHERE term = ?", (damaged, term))
    connection.close()
    summaries = load_summaries(library, search=True, query=QUERY)
    assert len(summaries.notes) == 1 and "checksum" in summaries.notes[0]
    assert answers(summaries, QUERY) == whole_answers(library, QUERY)
    assert load_summaries(library, search=True, query=QUERY).notes == []


@pytest.mark.parametrize("column, value", [("number", 0), ("length", -1.0), ("length", "3")])
def test_a_forged_number_or_length_is_noted_and_the_index_rebuilt(
    library: Path, column: str, value: object
) -> None:
    with sqlite3.connect(index_path(library)) as connection:
        name, *key, summary, diagnostics, number, length = connection.execute(
            "SELECT name, size, mtime_ns, ctime_ns, inode, device, summary, diagnostics, "
            "number, length FROM summaries WHERE number = 1"
        ).fetchone()
        fields = {"number": number, "length": length, column: value}
        entry = refsheets.index._Entry(
            tuple(key), None, diagnostics, None, summary, fields["number"], fields["length"]
        )
        connection.execute(
            f"UPDATE summaries SET {column} = ?, checksum = ? WHERE name = ?",
            (value, entry.summary_checksum(name, summary), name),
        )
    connection.close()
    summaries = load_summaries(library, search=True, query=QUERY)
    assert len(summaries.notes) == 1 and str(index_path(library)) in summaries.notes[0]
    assert answers(summaries, QUERY) == whole_answers(library, QUERY)
    assert load_summaries(library, search=True, query=QUERY).notes == []
