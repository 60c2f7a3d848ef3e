"""`refsheets tender new` and `refsheets cpv`, run as a user runs them."""

from __future__ import annotations

import json
import shutil
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
    # No tag has the code of green spaces; the RC gives every rule.
    assert "1 TODO line(s) to settle (themes) before `refsheets tender check" in result.stderr
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


def tiers_lieu_notice(path: Path) -> None:
    """A one-lot call for a tiers-lieu AMO, made from the SDK's cn_24 (its structure kept,
    its subject, codes and deadline changed)."""
    text = (NOTICES / "cn_24_FRA_comments.xml").read_text(encoding="utf-8")
    start = text.index("<cac:ProcurementProjectLot>", text.index("LOT-0002") - 200)
    end = text.index("</cac:ProcurementProjectLot>", start) + len("</cac:ProcurementProjectLot>")
    text = text[:start] + text[end:]
    title = "Service d'entretien de remise en état et de nettoyage des espaces verts"
    text = text.replace(
        title + ".",
        "Accompagnement à la préfiguration d'un tiers-lieu intercommunal : diagnostic, "
        "concertation des habitants, programmation et modèle économique.",
    )
    text = text.replace(title, "Assistance à maîtrise d'ouvrage pour un tiers-lieu")
    text = text.replace(">77310000<", ">79411000<").replace("2019-06-24Z", "2027-01-29Z")
    additional = (
        '<cac:AdditionalCommodityClassification><cbc:ItemClassificationCode listName="cpv">'
        "98133100</cbc:ItemClassificationCode></cac:AdditionalCommodityClassification>"
    )
    text = text.replace(
        "<cac:MainCommodityClassification>", additional + "<cac:MainCommodityClassification>", 1
    )
    path.write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_from_the_notice_to_the_annex(tmp_path: Path) -> None:
    shutil.copytree(DATA, tmp_path / "data")  # the frozen seed, not the user's data/
    for name in ("layouts", "fonts"):
        shutil.copytree(ROOT / name, tmp_path / name)
    (tmp_path / "tenders").mkdir()
    tiers_lieu_notice(tmp_path / "avis.xml")
    (tmp_path / "rc.txt").write_text(RC, encoding="utf-8")

    new = run_cli(["tender", "new", "avis.xml", "rc.txt", "--entity", "pop-up"], cwd=tmp_path)
    assert new.returncode == 0, new.stderr
    assert "TODO" not in new.stderr
    tender = tmp_path / "tenders" / "19s0001.yaml"
    data = yaml.safe_load(tender.read_text(encoding="utf-8"))
    assert data["cpv"] == ["79411000", "98133100"]
    assert data["themes"] == ["tiers-lieu", "accompagnement"]  # tags.yaml maps their codes

    check = run_cli(["tender", "check", "tenders/19s0001.yaml"], cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "READY: `refsheets export` will go through." in check.stdout

    exported = run_cli(["export", "tenders/19s0001.yaml", "--jobs", "1"], cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    out = tmp_path / "out" / "19s0001"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tender"]["rules"]["years"] == 5
    assert manifest["tender"]["rules"]["min_amount"] == 5000
    assert manifest["tender"]["rules"]["client_kind"] == "public"
    assert manifest["tender"]["deadline"] == "2027-01-29"
    selected = [reference["id"] for reference in manifest["selection"]]
    assert 2 <= len(selected) <= 3
    assert (out / "annexe-references.pdf").is_file()
    for mission in selected:
        assert (out / "cards" / f"{mission}.pdf").is_file()
