"""`refsheets tender new` and `refsheets cpv`, run as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import DATA, ROOT, run_cli

NOTICES = Path(__file__).resolve().parent / "fixtures" / "notices"

RC = """Article 5 – Références

Le candidat présente au moins deux et au plus trois références de prestations
similaires de moins de cinq ans pour des acheteurs publics, d'un montant minimal
de 5 000 € HT, en précisant le montant, la date et le destinataire public ou privé.
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: a copy of the library in data/, an empty tenders/."""
    shutil.copytree(DATA, tmp_path / "data")
    (tmp_path / "tenders").mkdir()
    (tmp_path / "rc.txt").write_text(RC, encoding="utf-8")
    return tmp_path


def test_tender_new_writes_the_file_and_says_what_is_left(project: Path) -> None:
    notice = NOTICES / "cn_24_FRA_comments.xml"
    result = run_cli(["tender", "new", str(notice), "rc.txt", "--entity", "pop-up"], cwd=project)
    assert result.returncode == 0, result.stderr
    written = project / "tenders" / "19s0001.yaml"
    assert "tenders/19s0001.yaml written" in result.stderr
    assert "1 TODO line(s) to settle" in result.stderr  # the themes: no tag has codes yet
    assert "BT-821 of LOT-0001, LOT-0002" in result.stderr
    data = yaml.safe_load(written.read_text(encoding="utf-8"))
    assert data["rules"] == {
        "years": 5,
        "min_amount": 5000,
        "client_kind": "public",
        "min_references": 2,
        "max_references": 3,
        "required_facts": ["amount", "dates", "client_kind"],
    }
    again = run_cli(["tender", "new", str(notice), "--entity", "pop-up"], cwd=project)
    assert again.returncode == 2
    assert "tenders/19s0001.yaml exists; give another --out, or --force" in again.stderr


def test_tender_new_dry_run_prints_the_file(project: Path) -> None:
    result = run_cli(["tender", "new", str(NOTICES / "cn_81_FRA.xml"), "--dry-run"], cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# yaml-language-server: $schema=tender.schema.json\n")
    assert (
        "deadline: 2020-09-14 16:00:00+01:00  # cn_81_FRA.xml, BT-1311 (LOT-0000)" in result.stdout
    )
    assert "would be written" in result.stderr
    assert list((project / "tenders").iterdir()) == []


@pytest.mark.parametrize(
    ("name", "content", "status", "message"),
    [
        ("avis.xml", "pas du XML", 1, "avis.xml:1:1: not well-formed XML"),
        (
            "espd.xml",
            '<QualificationApplicationRequest xmlns="urn:oasis:names:specification:ubl:schema:'
            'xsd:QualificationApplicationRequest-2"/>',
            1,
            "espd.xml is an ESPD request (DUME), not a notice",
        ),
        ("record.json", "{}", 1, "record.json is JSON but not a BOAMP record"),
        ("rc.odt", "x", 2, "rc.odt: a '.odt' file; `tender new` reads a notice"),
        ("rc.pdf", "%PDF-1.4 broken", 1, "rc.pdf cannot be read as a PDF"),
    ],
)
def test_bad_sources_exit_with_one_line(
    project: Path, name: str, content: str, status: int, message: str
) -> None:
    (project / name).write_text(content, encoding="utf-8")
    result = run_cli(["tender", "new", name], cwd=project)
    assert result.returncode == status, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list((project / "tenders").iterdir()) == []


def test_a_missing_source(project: Path) -> None:
    result = run_cli(["tender", "new", "absent.xml"], cwd=project)
    assert result.returncode == 3
    assert "no file at absent.xml" in result.stderr


def test_cpv_by_label_prefix_and_json() -> None:
    result = run_cli(["cpv", "conseil en gestion", "--limit", "3"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "79400000  Conseil en affaires et en gestion et services connexes  "
        "(Business and management consultancy and related services)"
    )
    assert len(result.stdout.splitlines()) == 3
    english = run_cli(["cpv", "child daycare", "--json"])
    assert {
        "code": "85312110",
        "label_fr": "Services de crèches et garderies d'enfants",
        "label_en": "Child daycare services",
    } in json.loads(english.stdout)
    prefix = run_cli(["cpv", "7941", "--json"])
    assert [entry["code"] for entry in json.loads(prefix.stdout)][:2] == ["79410000", "79411000"]
    none = run_cli(["cpv", "zzzz"])
    assert none.returncode == 3
    assert "no CPV code matches 'zzzz'" in none.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["cpv", "conseil"],
        ["tender", "new", str(NOTICES / "cn_24_FRA_comments.xml"), "--dry-run"],
    ],
)
def test_notice_commands_do_not_import_the_renderers(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "refsheets", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "refsheets.cli" in imported
    assert not {name for name in imported if name.split(".")[0] in ("weasyprint", "docx")}
