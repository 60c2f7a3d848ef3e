"""`refsheets tender check` and `refsheets pick --tender` as a bid manager runs them.

The command reads today's date from the clock: the tenders here are written so that the
verdict does not depend on it (a deadline long past, rules that can or cannot be met
whatever the day).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA, SEED_TENDERS, run_cli
from tests.test_choice import FEUILLE, ONE_OF_THREE, PERONNE


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The library and the tenders, copied: the tests never read what a user adds."""
    shutil.copytree(DATA, tmp_path / "data")
    shutil.copytree(SEED_TENDERS, tmp_path / "tenders")
    return tmp_path


def _write(project: Path, text: str) -> str:
    (project / "tenders" / "t.yaml").write_text(text, encoding="utf-8")
    return "tenders/t.yaml"


def test_check_says_not_ready_with_the_shortfall_and_exits_1(project: Path) -> None:
    result = run_cli(["tender", "check", _write(project, ONE_OF_THREE)], cwd=project)
    assert result.returncode == 1, result.stderr
    assert "NOT READY" in result.stdout
    assert "1 qualify, 1 in the annex (asked: at least 3, at most 3)" in result.stdout
    assert "2 short" in result.stdout and FEUILLE in result.stdout
    assert "warning: the deadline 2026-04-17 is past" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_says_ready_and_exits_0(project: Path) -> None:
    text = ONE_OF_THREE.replace("  years: 3\n", "").replace(
        "min_references: 3", "min_references: 1"
    )
    result = run_cli(["tender", "check", _write(project, text), "--json"], cwd=project)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ready"] is True and data["past_deadline"] is True
    assert data["days_left"] < 0
    (lot,) = data["lots"]
    assert lot["qualifying"] >= 3 and len(lot["chosen"]) == 3
    assert {"id": PERONNE, "entity": "pop-cafe"} in lot["sister_brand"]


def test_check_of_the_two_lot_example_names_each_lot(project: Path) -> None:
    result = run_cli(["tender", "check", "tenders/example-lots.yaml"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert "Lot 1: Préfiguration et programmation de tiers-lieux" in result.stdout
    assert "Lot 2: Médiation numérique et participation des habitants" in result.stdout
    assert "READY" in result.stdout
    one = run_cli(
        ["tender", "check", "tenders/example-lots.yaml", "--lot", "2", "--json"], cwd=project
    )
    assert [lot["lot"] for lot in json.loads(one.stdout)["lots"]] == ["2"]


def test_check_refuses_a_lot_that_does_not_exist_and_a_broken_file(project: Path) -> None:
    result = run_cli(["tender", "check", "tenders/example-lots.yaml", "--lot", "3"], cwd=project)
    assert result.returncode == 3
    assert "the tender has no lot 3; its lots: 1, 2" in result.stderr
    broken = run_cli(["tender", "check", _write(project, ONE_OF_THREE + "lots: 3\n")], cwd=project)
    assert broken.returncode == 1
    assert "t.yaml:14:7: lots: should be a list" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_an_included_reference_outside_the_window_is_refused_naming_the_rule(
    project: Path,
) -> None:
    text = (
        ONE_OF_THREE.replace("  min_references: 3\n", "") + f"references:\n  include: [{FEUILLE}]\n"
    )
    result = run_cli(["tender", "check", _write(project, text)], cwd=project)
    assert result.returncode == 1
    assert f"{FEUILLE} is included by hand (the tender) but breaks the rule years" in result.stdout
    waived = text.replace(
        f"  include: [{FEUILLE}]\n",
        f"  include:\n    - id: {FEUILLE}\n      waive: [years]\n"
        "      reason: Accord de l'acheteur.\n",
    )
    accepted = run_cli(["tender", "check", _write(project, waived)], cwd=project)
    assert accepted.returncode == 0, accepted.stdout
    assert f"+ {FEUILLE} (waives years)" in accepted.stdout


def test_pick_shows_the_hand_choice_and_every_miss(project: Path) -> None:
    text = ONE_OF_THREE.replace("  min_references: 3\n", "").replace("years: 3", "years: 6") + (
        "references:\n"
        f"  include: [{FEUILLE}]\n"
        "  exclude:\n"
        f"    - id: {PERONNE}\n"
        "      reason: Portée par POP Café.\n"
    )
    path = _write(project, text)
    table = run_cli(["pick", "--tender", path], cwd=project)
    assert table.returncode == 0, table.stderr
    assert "included by hand" in table.stdout
    assert "The closest missions not chosen" in table.stdout
    assert "excluded by hand: Portée par POP Café." in table.stdout
    data = json.loads(run_cli(["pick", "--tender", path, "--json"], cwd=project).stdout)
    assert data["selected"][0]["id"] == FEUILLE and data["selected"][0]["by_hand"] is True
    kinds = {item["id"]: item["kind"] for item in data["excluded"]}
    assert kinds[PERONNE] == "hand"
    assert set(kinds) | {item["id"] for item in data["selected"]} == {
        p.stem for p in (project / "data" / "missions").glob("*.yaml")
    }
    subject = [item for item in data["excluded"] if item["kind"] == "subject"]
    assert subject and all("text score" in item["reasons"][0] for item in subject)
    ids = run_cli(["pick", "--tender", path, "--ids"], cwd=project).stdout.splitlines()
    assert ids == [item["id"] for item in data["selected"]]


def test_pick_a_lot(project: Path) -> None:
    result = run_cli(
        ["pick", "--tender", "tenders/example-lots.yaml", "--lot", "1", "--json"], cwd=project
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["lot"] == "1"
    assert [item["id"] for item in data["selected"][:2]] == [PERONNE, FEUILLE]
    both = json.loads(
        run_cli(["pick", "--tender", "tenders/example-lots.yaml", "--json"], cwd=project).stdout
    )
    assert [lot["lot"] for lot in both["lots"]] == ["1", "2"]
    no_tender = run_cli(["pick", "--lot", "1"], cwd=project)
    assert no_tender.returncode == 2


def test_tender_check_does_not_import_weasyprint(project: Path) -> None:
    result = run_cli(
        ["tender", "check", "tenders/example-lots.yaml"],
        cwd=project,
        env={"PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert result.returncode == 0, result.stderr
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert "refsheets.readiness" in imported  # the import log is really there
    assert not [n for n in imported if n.split(".")[0] in ("weasyprint", "docx")]
