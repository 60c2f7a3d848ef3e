"""The `refsheets` command as a user runs it: list, show, check, tags, schema, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATA, DEMO, FIXTURES, run_cli, seed_project

EXPECTED = {
    # id: (title, client, start, end, amount)
    "2019-cc-haute-somme-feuille-de-route-tiers-lieu": (
        "Feuille de route d'un tiers-lieu numérique",
        "CC Haute-Somme",
        "2019",
        "2020",
        20000,
    ),
    "2021-cc-haute-somme-tiers-lieu-peronne": (
        "Animation et développement du tiers lieu numérique de Péronne",
        "CC Haute-Somme",
        "2021",
        "2024",
        213000,
    ),
    "2019-epsm-lille-metropole-co-design-usagers": (
        "Co-design avec les usagers",
        "EPSM Lille Métropole",
        "2019",
        "2019",
        1250,
    ),
    "vilogia-lieu-innovation-habitat": (
        "Émergence d'un lieu dédié à l'innovation et à l'habitat de demain",
        "Vilogia",
        None,
        None,
        28250,
    ),
    "2021-valenciennes-passage-de-la-paix": (
        "Reconversion du Passage de la Paix en tiers-lieu",
        "Ville de Valenciennes",
        "2021",
        "2021",
        12400,
    ),
    "2021-region-bourgogne-village-du-futur": (
        "Village du futur – Réinventer les ruralités !",
        "Région Bourgogne",
        "2021",
        "2022",
        45700,
    ),
    "2022-havelinghen-emergence-tiers-lieu": (
        "Accompagner l'émergence d'un tiers-lieu",
        "Ville de Havelinghen",
        "2022",
        "2022",
        6000,
    ),
    "anzin-mediation-numerique-qpv": (
        "Médiation numérique et solidarité post-COVID en QPV",
        "Ville d'Anzin",
        None,
        None,
        3700,
    ),
}


def test_list_json_gives_the_source_facts() -> None:
    result = run_cli(["list", "--json"])
    assert result.returncode == 0, result.stderr
    missions = {m["id"]: m for m in json.loads(result.stdout)}
    assert set(missions) == set(EXPECTED)
    for mission_id, (title, client, start, end, amount) in EXPECTED.items():
        mission = missions[mission_id]
        assert mission["title"] == title
        assert mission["client"]["name"] == client
        assert mission["budget"] == {"amount": amount, "currency": "EUR", "basis": "HT"}
        assert mission.get("period", {}).get("start") == start
        assert mission.get("period", {}).get("end") == end
        assert "notes" not in mission and "contact" not in mission


def test_list_json_private_shows_notes() -> None:
    result = run_cli(["list", "--json", "--private"])
    missions = {m["id"]: m for m in json.loads(result.stdout)}
    assert "notes" in missions["vilogia-lieu-innovation-habitat"]


def test_list_table() -> None:
    result = run_cli(["list"])
    assert result.returncode == 0
    assert "213\u202f000\u00a0€\u00a0HT" in result.stdout
    assert "2021–2024" in result.stdout


def test_show_one_mission() -> None:
    result = run_cli(["show", "2021-region-bourgogne-village-du-futur", "--json"])
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["partners"] == [{"name": "Stratéact Dialogue", "role": "co-contractor"}]
    assert data["approach"].count("\n1. ") == 1


def test_show_unknown_id_suggests() -> None:
    result = run_cli(["show", "2021-valenciennes"])
    assert result.returncode == 3
    assert "2021-valenciennes-passage-de-la-paix" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_real_data_warns_for_each_missing_fact() -> None:
    result = run_cli(["check", "--no-fit"]) if _has_no_fit() else run_cli(["check"])
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    vilogia = "data/missions/vilogia-lieu-innovation-habitat.yaml"
    anzin = "data/missions/anzin-mediation-numerique-qpv.yaml"
    assert any(line.startswith(f"{vilogia}:1:1: warning: no period") for line in lines)
    assert any(line.startswith(f"{anzin}:1:1: warning: no period") for line in lines)
    assert any(line.startswith(f"{vilogia}:6:3: warning: client: no client kind") for line in lines)
    assert "0 error(s)" in result.stderr


def test_check_strict_fails_on_warnings() -> None:
    args = ["check", "--strict"] + (["--no-fit"] if _has_no_fit() else [])
    assert run_cli(args).returncode == 1


def _has_no_fit() -> bool:
    return "--no-fit" in run_cli(["check", "--help"]).stdout


def test_tags_counts_through_the_taxonomy() -> None:
    result = run_cli(["tags"])
    assert result.returncode == 0
    row = next(
        line
        for line in result.stdout.splitlines()
        if line.split("│")[1:2] == [" tiers-lieu "] or "│ tiers-lieu " in line
    )
    assert re.search(r"│\s*6\s*│", row), row
    mediation = next(line for line in result.stdout.splitlines() if "│ mediation " in line)
    assert re.search(r"│\s*1\s*│", mediation)


def test_library_from_environment(tmp_path: Path) -> None:
    result = run_cli(["list", "--json"], cwd=tmp_path, env={"REFSHEETS_LIBRARY": str(DATA)})
    assert len(json.loads(result.stdout)) == 8


def test_not_a_library(tmp_path: Path) -> None:
    result = run_cli(["--library", str(tmp_path), "list"])
    assert result.returncode == 3
    assert "no 'missions/' folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_schema_to_stdout_matches_committed() -> None:
    result = run_cli(["schema", "--out", "-"])
    assert json.loads(result.stdout) == json.loads((DEMO / "mission.schema.json").read_text())


def test_every_command_has_help() -> None:
    result = run_cli(["--help"])
    commands = re.findall(r"│ (\w[\w-]*)\s{2,}", result.stdout)
    assert {"list", "show", "check", "tags", "schema"} <= set(commands)
    for command in commands:
        sub = run_cli([command, "--help"])
        assert sub.returncode == 0 and "Usage" in sub.stdout, command


# ---------------------------------------------------------------- bad input, one file each

GOOD = (DATA / "missions" / "2022-havelinghen-emergence-tiers-lieu.yaml").read_text()

BAD_FILES: dict[str, tuple[bytes, str, str]] = {
    # name: (content, expected "line:col", expected words)
    "tab": (b"title: X\nclient:\n\tname: Y\n", "3:1", "never tabs"),
    "indent": (b"title: X\nclient:\n  name: Y\n   kind: public\n", "4:8", "indentation"),
    "duplicate": (
        b"title: X\nclient:\n  name: Y\ntitle: Z\n",
        "4:1",
        "'title' is given twice (first on line 1)",
    ),
    "yes-no": (
        b"title: X\nclient:\n  name: Y\ntags:\n  - oui\n  - no\n",
        "6:5",
        'YAML reads the bare word no as a yes/no value; write "no" in quotes',
    ),
    "thousands-dot": (
        b"title: X\nclient:\n  name: Y\nbudget:\n  amount: 1.200\n",
        "5:11",
        "YAML reads 1.200 as the decimal number 1.2",
    ),
    "not-utf8": ("title: Café\n".encode("latin-1"), "1:11", "is not UTF-8"),
    "empty": (b"# nothing yet\n", "1:1", "is empty"),
    "list": (b"- title: X\n", "1:1", "not a set of keys"),
    "control-char": (
        b'title: "Bad \\x0b title"\nclient:\n  name: Y\n',
        "1:8",
        "control character U+000B",
    ),
    "unknown-key": (
        b"title: X\nclient:\n  name: Y\n  knd: public\n",
        "4:3",
        "unknown key 'knd'; did you mean 'kind'?",
    ),
    "wrong-type": (b"title: X\nclient:\n  name: Y\ndeliverables: 3\n", "4:15", "should be a list"),
    "reversed": (
        b"title: X\nclient:\n  name: Y\nperiod: 2022 - 2019\n",
        "4:9",
        "swap start and end",
    ),
    "photo-escape": (
        b"title: X\nclient:\n  name: Y\nphotos:\n  - path: ../../etc/passwd.png\n",
        "5:11",
        "leaves the library folder",
    ),
    "photo-url": (
        b"title: X\nclient:\n  name: Y\nphotos:\n  - path: https://example.org/a.png\n",
        "5:11",
        "is a URL",
    ),
    "attestation-absolute": (
        b"title: X\nclient:\n  name: Y\nattestation: /etc/hostname\n",
        "4:14",
        "absolute path",
    ),
    "impossible-date": (
        b"title: X\nclient:\n  name: Y\nperiod:\n  start: 2019-02-30\n",
        "5:10",
        "'2019-02-30' is not a real date",
    ),
    "missing-title": (b"client:\n  name: Y\n", "1:1", "'title' is required"),
    "bad-kind": (
        b"title: X\nclient:\n  name: Y\n  kind: associatif\n",
        "4:9",
        "'associatif' is not a client kind; write public (or publique)",
    ),
    "bad-amount": (
        b"title: X\nclient:\n  name: Y\nbudget: vingt mille\n",
        "4:9",
        "is not an amount",
    ),
    "missing-photo": (
        b"title: X\nclient:\n  name: Y\nphotos:\n  - path: photos/none.png\n",
        "5:11",
        "no file at",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_check_reports_bad_file_with_line(library_copy: Path, name: str) -> None:
    content, position, words = BAD_FILES[name]
    (library_copy / "missions" / f"bad-{name}.yaml").write_bytes(content)
    result = run_cli(["--library", str(library_copy), "check", *_fit_flag()])
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if f"bad-{name}.yaml" in line]
    assert lines, result.stderr
    assert any(f"bad-{name}.yaml:{position}:" in line and words in line for line in lines), lines
    # the other missions still load
    assert "8 valid missions of 9" in result.stderr


def _fit_flag() -> list[str]:
    return ["--no-fit"] if _has_no_fit() else []


def test_list_and_show_go_on_without_a_broken_file(library_copy: Path) -> None:
    (library_copy / "missions" / "broken.yaml").write_text("title: [unclosed\n")
    listed = run_cli(["--library", str(library_copy), "list", "--json"])
    assert listed.returncode == 0
    assert len(json.loads(listed.stdout)) == 8
    assert "broken.yaml:2:1: YAML syntax" in listed.stderr
    shown = run_cli(["--library", str(library_copy), "show", "anzin-mediation-numerique-qpv"])
    assert shown.returncode == 0 and "broken.yaml" in shown.stderr
    invalid = run_cli(["--library", str(library_copy), "show", "broken"])
    assert invalid.returncode == 3 and "is invalid" in invalid.stderr


def test_all_problems_reported_at_once(library_copy: Path) -> None:
    (library_copy / "missions" / "many.yaml").write_text(
        "title: 12\nclient:\n  nme: Y\nbudget: 1.5\ntags: [yes]\nperiod: 2030 - 2020\n"
    )
    (library_copy / "missions" / "other.yaml").write_text("")
    result = run_cli(["--library", str(library_copy), "check", *_fit_flag()])
    many = [line for line in result.stderr.splitlines() if "many.yaml" in line]
    fields = {line.split(": ")[1] for line in many}
    assert {"title", "client.name", "client.nme", "budget", "tags[0]", "period"} <= fields, many
    assert any("other.yaml:1:1: is empty" in line for line in result.stderr.splitlines())


def test_huge_anchor_values_are_cut_short(library_copy: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    text = "\n".join(lines) + "\ntitle: *a7\nclient:\n  name: *a7\n"
    (library_copy / "missions" / "bomb.yaml").write_text(text)
    result = run_cli(["--library", str(library_copy), "check", *_fit_flag()])
    assert result.returncode == 1
    assert max(len(line) for line in result.stderr.splitlines()) < 400
    # 10**8 characters once expanded: refused before validation, at the repeating line.
    assert "bomb.yaml:7:5: repeats text through YAML aliases" in result.stderr


def test_debug_is_not_needed_for_user_errors(library_copy: Path) -> None:
    (library_copy / "missions" / "x.yaml").write_text("title: X\n")
    result = run_cli(["--debug", "--library", str(library_copy), "check", *_fit_flag()])
    assert result.returncode == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--json"],
        ["show", "2022-havelinghen-emergence-tiers-lieu"],
        ["tags"],
        ["check", "--no-fit"],
        ["schema", "--out", "-"],
        ["cpv", "conseil"],
        ["tender", "new", str(FIXTURES / "notices" / "cn_24_FRA_comments.xml"), "--dry-run"],
    ],
)
def test_commands_that_do_not_render_do_not_import_weasyprint(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "refsheets", *args],
        cwd=seed_project(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "refsheets.library" in imported  # the log is the one we think it is
    assert not {name for name in imported if name.split(".")[0] in ("weasyprint", "docx")}
