"""`list` and `pick` read the summaries the library's index keeps: the same answers as
reading every file, after any edit, and a summary of another shape is never used."""

from __future__ import annotations

import datetime
import json
import shutil
import sqlite3
import time
from pathlib import Path

import pytest

import refsheets.index
import refsheets.library
from refsheets.index import INDEX_DIR, index_path
from refsheets.library import Summaries, load_library, load_summaries
from refsheets.select import PickQuery, pick
from refsheets.summary import summary_from, summary_text
from tests.conftest import DATA, run_cli

TODAY = datetime.date(2026, 4, 17)
QUERY = "Programmation d'un tiers-lieu numérique intercommunal"
QUERIES = [
    PickQuery(text=QUERY),
    PickQuery(text="numérique numérique médiation", since=2020, min_amount=10_000),
    PickQuery(tags=("tiers-lieu",)),
    PickQuery(tags=("tiers-lieu", "médiation"), match="all", client_kind="public"),
    PickQuery(within=5, require=("amount", "dates", "attestation"), limit=3),
]
ANONYMOUS = """\
title: Programmation d'un tiers-lieu numérique intercommunal
client:
  name: Commune Secrète
  kind: public
  location: Secretville
  anonymous_label: Commune rurale, Hauts-de-France
disclosure: anonymous
period: mars 2022 - 2023
entity: pop-up
context: Un tiers-lieu numérique numérique pour une intercommunalité rurale.
deliverables:
  - Programmation du tiers-lieu
tags: [tiers-lieu, médiation]
budget: 30 000 € HT
"""
INVALID = "title: [\n"


@pytest.fixture(autouse=True)
def _no_racy_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # Files written by a test are seconds old: keep them anyway, or nothing would be indexed.
    monkeypatch.setattr(refsheets.index, "RACY_SECONDS", 0)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    shutil.copytree(DATA, root, ignore=shutil.ignore_patterns(INDEX_DIR))
    (root / "missions" / "anonymous-mission.yaml").write_text(ANONYMOUS, encoding="utf-8")
    (root / "missions" / "broken-mission.yaml").write_text(INVALID, encoding="utf-8")
    return root


def picks(catalog: Summaries, *, private: bool) -> list[object]:
    return [pick(catalog, query, today=TODAY).to_json(private=private) for query in QUERIES]


def test_a_summary_holds_its_missions_facts(library: Path) -> None:
    whole = load_library(library)
    assert "anonymous-mission" in whole.missions
    for mission in whole.missions.values():
        summary = summary_from(summary_text(mission))
        assert summary.title == mission.title
        assert tuple(summary.client) == (
            mission.client.name,
            mission.client.kind,
            mission.client.anonymous_label,
        )
        assert summary.period == (
            None if mission.period is None else (mission.period.start, mission.period.end)
        )
        assert summary.budget == (
            None if mission.budget is None else (mission.budget.amount, mission.budget.basis)
        )
        assert (summary.entity, summary.tags, summary.attestation, summary.disclosure) == (
            mission.entity,
            tuple(mission.tags),
            mission.attestation,
            mission.disclosure,
        )


def _summary(**changes: object) -> str:
    row: list[object] = [
        "Titre",
        "Client",
        "public",
        None,
        "named",
        [[2021, 3], [2022, None]],
        [20000, "HT"],
        "pop-up",
        ["tiers-lieu"],
        None,
    ]
    fields = "title name kind label disclosure period budget entity tags attestation".split()
    for key, value in changes.items():
        row[fields.index(key)] = value
    return json.dumps(row)


def test_a_well_formed_summary_is_read() -> None:
    summary = summary_from(_summary())
    assert summary.period is not None and summary.period.start is not None
    assert (summary.period.start.year, summary.period.start.month) == (2021, 3)


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "{}",
        '"Titre"',
        "[" * 100_000,
        _summary(title=""),
        _summary(title=5),
        _summary(name=None),
        _summary(kind="both"),
        _summary(disclosure="anonymous"),  # no label to show instead of the client
        _summary(period=[[2021, 13], None]),
        _summary(period=[["2021", None], None]),
        _summary(period=[[True, None], None]),
        _summary(period=[2021]),
        _summary(budget=[-5, "HT"]),
        _summary(budget=[5.5, "HT"]),
        _summary(budget=[5, "EUR"]),
        _summary(tags=["ok", 3]),
        _summary(tags=[""]),
        _summary(tags="tiers-lieu"),
        _summary(title="Titre\x1b[31m rouge"),
        _summary(entity="pop\u202eup"),
        _summary(attestation=["a.pdf"]),
    ],
)
def test_a_summary_of_another_shape_is_refused(text: str) -> None:
    with pytest.raises((ValueError, TypeError, RecursionError)):
        summary_from(text)


def test_summaries_pick_as_the_whole_missions_do(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_library(library, index=True)  # the first read writes the index
    parsed: list[str] = []
    load_mission = refsheets.library._load_mission

    def counted(path: Path, *args: object, **kwargs: object) -> object:
        parsed.append(path.name)
        return load_mission(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(refsheets.library, "_load_mission", counted)
    summaries = load_summaries(library, search=True)
    monkeypatch.undo()
    # Only the missions the index never keeps (with photos or an attestation) are read.
    whole = load_library(library)
    kept_out = {
        f"{mission_id}.yaml"
        for mission_id, mission in whole.missions.items()
        if mission.photos or mission.attestation
    }
    assert set(parsed) == kept_out
    assert summaries.notes == []
    assert list(summaries.missions) == list(whole.missions)
    assert [d.format() for d in summaries.errors] == [d.format() for d in whole.errors]
    assert summaries.errors  # the broken file's
    for private in (False, True):
        assert picks(summaries, private=private) == picks(Summaries.of(whole), private=private)
        assert picks(summaries, private=private) == [
            pick(whole, query, today=TODAY).to_json(private=private) for query in QUERIES
        ]


def test_an_edited_file_is_read_again_and_the_index_kept(library: Path) -> None:
    load_library(library, index=True)
    mission = library / "missions" / "anonymous-mission.yaml"
    mission.write_text(ANONYMOUS.replace("30 000", "45 000"), encoding="utf-8")
    summaries = load_summaries(library, search=True)
    budget = summaries.missions["anonymous-mission"].budget
    assert budget is not None and budget.amount == 45_000
    assert picks(summaries, private=False) == picks(
        Summaries.of(load_library(library)), private=False
    )
    # The edited file's entry is written again: the next read uses its summary.
    with sqlite3.connect(index_path(library)) as connection:
        (text,) = connection.execute(
            "SELECT summary FROM summaries WHERE name = 'anonymous-mission.yaml'"
        ).fetchone()
    connection.close()
    assert summary_from(text).budget == (45_000, "HT")


def test_summaries_without_terms_are_completed_by_a_search(library: Path) -> None:
    load_library(library, index=True, search=False)
    (library / "missions" / "added-mission.yaml").write_text(
        "title: Un tiers-lieu numérique\nclient:\n  name: Ville\n", encoding="utf-8"
    )
    load_library(library, index=True, search=False)  # rewritten, without the terms
    searched = load_summaries(library, search=True)
    assert set(searched.search_words) == set(searched.missions)
    assert picks(searched, private=False) == picks(
        Summaries.of(load_library(library)), private=False
    )


def _rewrite(library: Path, table: str, column: str, value: str) -> None:
    """Rewrite one column of the anonymous mission's row in `table`, its checksum too."""
    with sqlite3.connect(index_path(library)) as connection:
        name, *key, diagnostics, number, length = connection.execute(
            "SELECT name, size, mtime_ns, ctime_ns, inode, device, diagnostics, number, length "
            "FROM summaries WHERE name = 'anonymous-mission.yaml'"
        ).fetchone()
        entry = refsheets.index._Entry(tuple(key), None, diagnostics, None, value, number, length)
        checksum = (
            entry.words_checksum(name, value)
            if table == "words"
            else entry.summary_checksum(name, value)
        )
        connection.execute(
            f"UPDATE {table} SET {column} = ?, checksum = ? WHERE name = ?",
            (value, checksum, name),
        )
    connection.close()


def _forge_terms(library: Path, terms: str) -> None:
    """Rewrite one mission's search terms, their checksum included."""
    _rewrite(library, "words", "words", terms)


@pytest.mark.parametrize("forged", ["", "3.0 programm", "7.0\t programm ", "3.0\tprogramm"])
def test_forged_terms_are_noted_and_the_index_rebuilt(library: Path, forged: str) -> None:
    load_library(library, index=True)
    _forge_terms(library, forged)
    summaries = load_summaries(library, search=True)
    assert len(summaries.notes) == 1 and "anonymous-mission.yaml" in summaries.notes[0]
    assert picks(summaries, private=True) == picks(
        Summaries.of(load_library(library)), private=True
    )
    assert load_summaries(library, search=True).notes == []


def _forge(library: Path, summary: str) -> None:
    """Rewrite one summary row whole, its checksum included."""
    _rewrite(library, "summaries", "summary", summary)


@pytest.mark.parametrize("forged", ["not json", _summary(title=""), _summary(kind=["x"])])
def test_a_forged_summary_is_noted_and_the_index_rebuilt(library: Path, forged: str) -> None:
    load_library(library, index=True)
    _forge(library, forged)
    summaries = load_summaries(library)
    assert len(summaries.notes) == 1 and "anonymous-mission.yaml" in summaries.notes[0]
    assert picks(summaries, private=True) == picks(
        Summaries.of(load_library(library)), private=True
    )
    again = load_summaries(library)
    assert again.notes == []
    assert isinstance(again.missions["anonymous-mission"], tuple)  # a summary again


def test_the_cli_lists_and_picks_the_same_from_summaries(
    library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()
    pick_args = ["pick", "--on", "2026-04-17"]
    commands = [
        ["list"],
        ["list", "--private"],
        ["list", "--json"],
        [*pick_args, "--query", QUERY],
        [*pick_args, "--query", QUERY, "--private"],
        [*pick_args, "--tag", "tiers-lieu", "--tag", "médiation"],
        [*pick_args, "--json", "--query", QUERY, "--min-amount", "10k"],
        [*pick_args, "--json", "--private", "--tag", "tiers-lieu"],
        [*pick_args, "--ids", "--query", "médiation numérique", "--limit", "2"],
    ]
    bypass = {"REFSHEETS_NO_INDEX": "1"}
    # The subprocesses keep the racy window: let the written files age past it.
    time.sleep(refsheets.index.RACY_SECONDS + 0.5)

    def assert_same_answers() -> None:
        for command in commands:
            args = ["--library", str(library), *command]
            without = run_cli(args, env=bypass)
            assert without.returncode == 0, without.stderr
            result = run_cli(args)
            assert (result.returncode, result.stdout, result.stderr) == (
                without.returncode,
                without.stdout,
                without.stderr,
            ), command

    run_cli(["--library", str(library), "list"])  # writes the index
    assert_same_answers()
    listed = run_cli(["--library", str(library), "list"]).stdout
    assert "Commune rurale, Hauts-de-France" in listed and "Commune Secrète" not in listed
    assert "Commune Secrète" in run_cli(["--library", str(library), "list", "--private"]).stdout
    # Edited between two runs (within the racy window, then past it).
    mission = library / "missions" / "anonymous-mission.yaml"
    mission.write_text(ANONYMOUS.replace("Programmation", "Préfiguration"), encoding="utf-8")
    assert_same_answers()
    time.sleep(refsheets.index.RACY_SECONDS + 0.5)
    assert_same_answers()
    assert "Préfiguration" in run_cli(["--library", str(library), "list"]).stdout
    # A summary of another shape: a warning, the same answer, the index rebuilt.
    _forge(library, _summary(tags="x"))
    forged = run_cli(["--library", str(library), *commands[3]])
    assert "warning: the library's index" in forged.stderr
    assert "anonymous-mission.yaml" in forged.stderr
    without = run_cli(["--library", str(library), *commands[3]], env=bypass)
    assert forged.stdout == without.stdout
    assert_same_answers()
