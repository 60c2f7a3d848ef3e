"""`refsheets pick` as a user runs it: ids for render, tables, JSON, tender files, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

TIERS_LIEU = {
    "2019-cc-haute-somme-feuille-de-route-tiers-lieu",
    "2021-cc-haute-somme-tiers-lieu-peronne",
    "2021-region-bourgogne-village-du-futur",
    "2021-valenciennes-passage-de-la-paix",
    "2022-havelinghen-emergence-tiers-lieu",
    "vilogia-lieu-innovation-habitat",
}
SINCE_2021 = {
    "2021-cc-haute-somme-tiers-lieu-peronne",
    "2021-region-bourgogne-village-du-futur",
    "2021-valenciennes-passage-de-la-paix",
    "2022-havelinghen-emergence-tiers-lieu",
}


@pytest.mark.parametrize("typed", ["tiers-lieu", "Tiers Lieux"])
def test_ids_are_exactly_the_six_tiers_lieux(typed: str) -> None:
    result = run_cli(["pick", "--tag", typed, "--ids"])
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 6
    assert set(lines) == TIERS_LIEU
    assert result.stderr == ""


def test_since_keeps_four_and_reports_the_undated_one_on_stderr() -> None:
    result = run_cli(["pick", "--tag", "tiers-lieu", "--since", "2021", "--ids"])
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.splitlines()) == SINCE_2021
    assert (
        "excluded vilogia-lieu-innovation-habitat: no dates "
        "(needed to check: ended in 2021 or later)" in result.stderr
    )
    assert "excluded 2019-cc-haute-somme-feuille-de-route-tiers-lieu: ended in 2020" in (
        result.stderr
    )


def test_the_table_shows_rank_score_why_and_the_excluded() -> None:
    result = run_cli(["pick", "--tag", "tiers-lieu", "--since", "2021"])
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for header in ("#", "id", "title", "client", "period", "amount", "score", "why"):
        assert f" {header} " in text
    assert "tags: Tiers-lieu" in text
    assert "213\u202f000\u00a0€\u00a0HT" in text
    assert "2 mission(s) excluded by the filters" in text
    assert "no dates (needed to check: ended in 2021 or later)" in text
    assert "4 mission(s) picked" in text


def test_query_json_ranks_and_gives_score_parts() -> None:
    result = run_cli(
        [
            "pick",
            "--query",
            "Assistance à maîtrise d'ouvrage pour la programmation et le modèle économique "
            "d'un tiers-lieu numérique intercommunal",
            "--on",
            "2026-03-01",
            "--limit",
            "3",
            "--json",
        ]
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["reference_date"] == "2026-03-01"
    first = data["selected"][0]
    assert first["id"] == "2019-cc-haute-somme-feuille-de-route-tiers-lieu"
    assert first["parts"]["text"] == 1.0
    assert "intercommunal" in first["why"]["words"]
    assert len(data["selected"]) == 3
    for item in data["selected"]:
        parts = item["parts"]
        total = 0.5 * parts["text"] + 0.35 * parts["tags"] + 0.15 * parts["recency"]
        assert item["score"] == pytest.approx(total, abs=1e-4)


def test_filters_from_the_command_line() -> None:
    result = run_cli(
        [
            "pick",
            "--tag",
            "tiers-lieu",
            "--min-amount",
            "10000",
            "--max-amount",
            "50000",
            "--client-kind",
            "public",
            "--entity",
            "pop-up",
            "--within",
            "5",
            "--on",
            "2026-04-17",
            "--json",
        ]
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [item["id"] for item in data["selected"]] == [
        "2021-region-bourgogne-village-du-futur",
        "2021-valenciennes-passage-de-la-paix",
    ]
    reasons = {item["id"]: item["reasons"] for item in data["excluded"]}
    assert reasons["2021-cc-haute-somme-tiers-lieu-peronne"] == [
        "amount 213\u202f000 € HT is above the maximum 50\u202f000 €",
        "carried by pop-cafe, not pop-up",
    ]
    assert set(reasons) == TIERS_LIEU - {item["id"] for item in data["selected"]}


def test_match_all_needs_every_tag() -> None:
    result = run_cli(["pick", "-t", "tiers-lieu", "-t", "Habitants", "--match", "all", "--ids"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["2022-havelinghen-emergence-tiers-lieu"]


def test_an_unknown_tag_exits_2_listing_the_nearest() -> None:
    result = run_cli(["pick", "--tag", "fab-lab2", "--ids"])
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown tag 'fab-lab2' (nearest known: fablab" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--ids", "--json"],
        ["--on", "2026/04/17"],
        ["--match", "some"],
        ["--min-amount", "9", "--max-amount", "1"],
    ],
)
def test_bad_arguments_exit_2(args: list[str]) -> None:
    result = run_cli(["pick", "--tag", "tiers-lieu", *args])
    assert result.returncode == 2, result.stdout
    assert "Traceback" not in result.stderr


def test_a_tender_file_applies_its_rules_and_flags_override_them() -> None:
    result = run_cli(["pick", "--tender", "tenders/example.yaml", "--json"])
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tender"] == "tenders/example.yaml"
    assert data["reference_date"] == "2026-04-17"  # the deadline, not today
    assert data["query"]["tags"] == ["tiers-lieu"]
    assert len(data["selected"]) == 3
    assert data["selected"][0]["id"] == "2021-cc-haute-somme-tiers-lieu-peronne"
    assert {item["id"] for item in data["excluded"] if item["kind"] == "rules"} == {
        "2019-cc-haute-somme-feuille-de-route-tiers-lieu",
        "vilogia-lieu-innovation-habitat",
    }
    overridden = run_cli(["pick", "--tender", "tenders/example.yaml", "--limit", "1", "--ids"])
    assert overridden.stdout.splitlines() == ["2021-cc-haute-somme-tiers-lieu-peronne"]


def test_a_broken_tender_file_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "name: AMO\nbuyer: Commune\ndeadline: 2026-04-17\nentity: pop-up\nthemes: [tiers-lie]\n",
        encoding="utf-8",
    )
    result = run_cli(["pick", "--tender", str(path)])
    assert result.returncode == 1
    assert "t.yaml:5:10: themes: unknown tag 'tiers-lie'; nearest known: tiers-lieu" in (
        result.stderr
    )
    missing = run_cli(["pick", "--tender", str(tmp_path / "nope.yaml")])
    assert missing.returncode == 3
    assert "no tender file" in missing.stderr


def test_pick_does_not_import_weasyprint() -> None:
    result = run_cli(
        ["pick", "--query", "tiers-lieu numérique", "--tag", "tiers-lieu"],
        env={"PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert result.returncode == 0, result.stderr
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    assert "refsheets.select" in imported  # the import log is really there
    assert not [name for name in imported if name.split(".")[0] == "weasyprint"]
