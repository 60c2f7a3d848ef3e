"""The library's index never changes an answer: the same missions and diagnostics as reading
every file, after any edit, and a damaged or planted index is dropped with a note."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

import refsheets.index
import refsheets.library
from refsheets.index import INDEX_DIR, index_path
from refsheets.library import Library, load_library, mission_to_json
from refsheets.select import PickQuery, mission_terms, pick
from tests.conftest import DATA, run_cli

TODAY = datetime.date(2026, 4, 17)
QUERIES = [
    PickQuery(text="Programmation d'un tiers-lieu numérique intercommunal"),
    PickQuery(tags=("tiers-lieu",)),
]


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files written by a test are seconds old: keep them anyway, or nothing would be indexed.
    monkeypatch.setattr(refsheets.index, "RACY_SECONDS", 0)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    shutil.copytree(DATA, root, ignore=shutil.ignore_patterns(INDEX_DIR))
    return root


def answers(library: Library) -> dict[str, Any]:
    """Everything a command shows of a library: missions, diagnostics, picks."""
    return {
        "missions": [mission_to_json(i, m, private=True) for i, m in library],
        "paths": {i: str(p) for i, p in library.paths.items()},
        "diagnostics": [d.format() for d in library.diagnostics],
        "picks": [pick(library, query, today=TODAY).to_json() for query in QUERIES],
    }


def assert_same(root: Path) -> Library:
    """Load `root` with and without the index; assert the same answers; return the former."""
    indexed = load_library(root, index=True)
    assert answers(indexed) == answers(load_library(root))
    return indexed


def rows(root: Path) -> list[str]:
    with sqlite3.connect(index_path(root)) as connection:
        return [name for (name,) in connection.execute("SELECT name FROM files ORDER BY name")]


def test_an_unchanged_file_is_not_read_again(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = assert_same(library)
    assert first.notes == []
    assert len(rows(library)) == len(first.paths)
    assert (library / INDEX_DIR / ".gitignore").read_text(encoding="utf-8").endswith("*\n")

    def read(*args: object) -> None:
        raise AssertionError("an unchanged mission was parsed again")

    monkeypatch.setattr(refsheets.library, "_load_mission", read)
    again = load_library(library, index=True)
    monkeypatch.undo()
    assert answers(again) == answers(load_library(library))
    # The texts come as terms for search too, as `mission_terms` makes them.
    assert set(again.search_words) == set(again.missions)
    for mission_id, mission in again:
        terms = mission_terms(again.taxonomy, mission)
        kept = again.search_words[mission_id]
        assert isinstance(kept, str) and refsheets.index.terms_from(kept) == terms


def test_every_edit_is_seen(library: Path) -> None:
    assert_same(library)
    missions = library / "missions"
    first, second, third, *_ = sorted(missions.glob("*.yaml"))
    # Same size, same mtime, other content: ctime still moves.
    text = first.read_text(encoding="utf-8")
    stat = first.stat()
    first.write_text(text.replace("title: ", "title: X", 1)[:-1], encoding="utf-8")
    os.utime(first, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert first.stat().st_size == stat.st_size
    indexed = assert_same(library)
    assert indexed.missions[first.stem].title.startswith("X")
    # Same mtime, another size.
    stat = second.stat()
    with second.open("a", encoding="utf-8") as handle:
        handle.write("notes: ajoutée\n")
    os.utime(second, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert_same(library)
    # Made invalid, deleted, renamed, added.
    third.write_text("title: [\n", encoding="utf-8")
    assert third.stem not in assert_same(library).missions
    second.unlink()
    first.rename(missions / "renamed-mission.yaml")
    shutil.copy(DATA / "missions" / first.name, missions / "added-mission.yaml")
    indexed = assert_same(library)
    assert {"renamed-mission", "added-mission"} <= set(indexed.missions)
    assert second.stem not in indexed.paths
    assert "renamed-mission.yaml" in rows(library) and second.name not in rows(library)


def test_a_changed_taxonomy_or_entity_list_forgets_every_entry(library: Path) -> None:
    assert_same(library)
    tags = library / "tags.yaml"
    tags.write_text(tags.read_text(encoding="utf-8").replace("tiers-lieu:", "tiers-lieux-x:"))
    assert_same(library)
    entities = library / "entities.yaml"
    entities.write_text("entities: {}\n", encoding="utf-8")
    assert_same(library)


@pytest.mark.parametrize(
    "damage",
    [
        "truncated",
        "garbage",
        "empty",
        "foreign",
        "bad-entry",
        "bad-diagnostic",
        "bad-words",
        "huge",
        "forged",
    ],
)
def test_a_damaged_index_is_dropped_and_rebuilt(library: Path, damage: str) -> None:
    assert_same(library)
    path = index_path(library)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:5000])
    elif damage == "garbage":
        path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":
        path.unlink()
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE files (name TEXT)")
            connection.execute("CREATE TRIGGER t AFTER INSERT ON files BEGIN SELECT 1; END")
        connection.close()
    elif damage == "forged":
        # A row rewritten whole, checksum included: the model still refuses its mission.
        with sqlite3.connect(path) as connection:
            name, *key, diagnostics = connection.execute(
                "SELECT name, size, mtime_ns, ctime_ns, inode, device, diagnostics "
                "FROM files WHERE mission IS NOT NULL LIMIT 1"
            ).fetchone()
            text = '{"title": ""}'
            entry = refsheets.index._Entry(tuple(key), text, diagnostics, None)
            connection.execute(
                "UPDATE files SET mission = ?, checksum = ? WHERE name = ?",
                (text, entry.checksum(name, text), name),
            )
        connection.close()
    elif damage == "huge":
        with path.open("ab") as handle:
            handle.truncate(200 * 1024 * 1024)
    else:
        with sqlite3.connect(path) as connection:
            table, column, value = {
                "bad-entry": ("files", "mission", json.dumps({"title": 5})),
                "bad-diagnostic": ("files", "diagnostics", '[["x", "one", null, null, "error"]]'),
                "bad-words": ("words", "words", '[[3.0, "autre chose"]]'),
            }[damage]
            connection.execute(f"UPDATE {table} SET {column} = ?", (value,))
        connection.close()
    indexed = assert_same(library)
    assert len(indexed.notes) == 1 and str(path) in indexed.notes[0]
    assert load_library(library, index=True).notes == []  # rebuilt


def test_a_link_at_the_index_path_is_not_followed(library: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.sqlite"
    shutil.copy(DATA / "tags.yaml", outside)
    before = outside.read_bytes()
    (library / INDEX_DIR).mkdir()
    index_path(library).symlink_to(outside)
    indexed = assert_same(library)
    assert "not a regular file" in indexed.notes[0]
    assert outside.read_bytes() == before
    assert not index_path(library).is_symlink()  # replaced by a real index


def test_a_linked_index_folder_is_not_written_through(library: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (library / INDEX_DIR).symlink_to(elsewhere, target_is_directory=True)
    indexed = assert_same(library)
    assert list(elsewhere.iterdir()) == []
    assert any("not a plain folder" in note for note in indexed.notes)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_library_is_read_without_an_index(library: Path) -> None:
    library.chmod(0o555)
    try:
        indexed = assert_same(library)
    finally:
        library.chmod(0o755)
    assert indexed.notes == []
    assert not (library / INDEX_DIR).exists()


def test_the_cli_answers_the_same_with_and_without_the_index(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()
    commands = [
        ["list", "--json"],
        ["pick", "--json", "--on", "2026-04-17", "--query", "tiers-lieu numérique"],
        ["pick", "--json", "--on", "2026-04-17", "--tag", "tiers-lieu"],
        ["check", "--no-fit"],
    ]
    bypass = {"REFSHEETS_NO_INDEX": "1"}
    # The subprocesses keep the racy window: let the copied files age past it.
    time.sleep(refsheets.index.RACY_SECONDS + 0.5)
    for command in commands:
        args = ["--library", str(library), *command]
        without = run_cli(args, env=bypass)
        assert not (library / INDEX_DIR).exists() or command != commands[0]
        cold, warm = run_cli(args), run_cli(args)
        for result in (cold, warm):
            assert (result.returncode, result.stdout, result.stderr) == (
                without.returncode,
                without.stdout,
                without.stderr,
            )
    assert len(rows(library)) == len(list((library / "missions").glob("*.yaml")))
    index_path(library).write_bytes(b"not an index")
    damaged = run_cli(["--library", str(library), "list", "--json"])
    assert damaged.returncode == 0
    assert "warning: the library's index" in damaged.stderr
    assert damaged.stdout == run_cli(["--library", str(library), "list", "--json"]).stdout


def test_words_kept_by_a_command_that_does_not_search(library: Path) -> None:
    # `list` keeps no words when it rewrites the index; the next search splits them again.
    load_library(library, index=True, search=False)
    (library / "missions" / "added-mission.yaml").write_text(
        "title: Un tiers-lieu numérique\nclient:\n  name: Ville\n", encoding="utf-8"
    )
    listed = load_library(library, index=True, search=False)
    assert set(listed.search_words) == {"added-mission"}  # read from its file now
    assert_same(library)
    with sqlite3.connect(index_path(library)) as connection:
        (count,) = connection.execute("SELECT count(*) FROM words").fetchone()
    connection.close()
    assert count == len(listed.missions)
