"""Exporting a call in lots and a hand choice, read back as the buyer and the bid manager
get them: one annex per lot, one manifest, the hand choice in order with its reasons."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import ROOT, SEED, run_cli

pytestmark = pytest.mark.slow

PERONNE = "2021-cc-haute-somme-tiers-lieu-peronne"
FEUILLE = "2019-cc-haute-somme-feuille-de-route-tiers-lieu"
BOURGOGNE = "2021-region-bourgogne-village-du-futur"
HAVELINGHEN = "2022-havelinghen-emergence-tiers-lieu"
VILOGIA = "vilogia-lieu-innovation-habitat"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project copied, and the two-lot example exported through the CLI once."""
    project = tmp_path_factory.mktemp("lots")
    shutil.copytree(SEED, project, dirs_exist_ok=True)  # data/ and tenders/, frozen
    for name in ("layouts", "fonts"):
        shutil.copytree(ROOT / name, project / name)
    result = run_cli(["export", "tenders/example-lots.yaml"], cwd=project)
    assert result.returncode == 0, result.stderr
    (project / "export.out").write_text(result.stdout + result.stderr, encoding="utf-8")
    return project


def _pages(path: Path) -> list[str]:
    return [
        (page.extract_text() or "").replace("\u202f", " ").replace("\u00a0", " ")
        for page in PdfReader(path).pages
    ]


def _manifest(project: Path) -> dict[str, object]:
    data = json.loads((project / "out" / "example-lots" / "manifest.json").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def test_each_lot_has_its_own_annex_whose_summary_holds_only_its_references(
    exported: Path,
) -> None:
    folder = exported / "out" / "example-lots"
    assert sorted(p.name for p in folder.iterdir()) == [
        "example-lots.zip",
        "lot-1",
        "lot-2",
        "manifest.json",
    ]
    titles = {
        "lot-1": ["Péronne", "Feuille de route", "Village du futur"],
        "lot-2": ["Havelinghen", "Péronne"],
    }
    for lot, number, own, other in (
        ("lot-1", 1, titles["lot-1"], "Accompagner l'émergence"),
        ("lot-2", 2, titles["lot-2"], "Village du futur"),
    ):
        pages = _pages(folder / lot / "annexe-references.pdf")
        assert len(pages) == 2 + len(own)  # cover, summary, one card each
        assert f"Lot {number}" in pages[0]
        summary = " ".join(pages[1].split())
        for title in own:
            assert title in summary, (lot, title)
        assert other not in summary
        assert (folder / lot / "annexe-references.docx").stat().st_size > 0
        assert not (folder / lot / "manifest.json").exists()  # one manifest, for the tender


def test_the_hand_choice_comes_first_in_the_annex_and_the_tables(exported: Path) -> None:
    folder = exported / "out" / "example-lots" / "lot-1"
    pages = _pages(folder / "annexe-references.pdf")
    assert "Péronne" in pages[2] and "Référence 1 / 3" in pages[2]
    assert "Feuille de route" in pages[3] and "Référence 2 / 3" in pages[3]
    raw = (folder / "references.csv").read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw), delimiter=";"))
    assert [row[0] for row in rows[1:]] == [PERONNE, FEUILLE, BOURGOGNE]


def test_the_manifest_records_inclusions_waivers_exclusions_and_every_miss(
    exported: Path,
) -> None:
    manifest = _manifest(exported)
    lots = manifest["lots"]
    assert isinstance(lots, list)
    one, two = lots
    assert (one["lot"], one["folder"], two["folder"]) == ("1", "lot-1", "lot-2")
    assert [item["id"] for item in one["selection"]] == [PERONNE, FEUILLE, BOURGOGNE]
    feuille = one["selection"][1]
    assert feuille["by_hand"] is True
    assert feuille["waived"] == {"years": "ended in 2020, more than 5 year(s) before 2027-01-29"}
    assert feuille["reason"].startswith("Feuille de route du tiers-lieu numérique")
    assert one["selection"][2]["by_hand"] is False
    excluded = {item["id"]: item for item in two["excluded"]}
    assert excluded[VILOGIA]["reasons"][0].startswith("excluded by hand: Dates et nature")
    assert "anzin-mediation-numerique-qpv" in excluded
    # every mission of the library is either in the lot's annex or named with its reason
    missions = {p.stem for p in (exported / "data" / "missions").glob("*.yaml")}
    for lot in lots:
        chosen = {item["id"] for item in lot["selection"]}
        assert chosen | {item["id"] for item in lot["excluded"]} == missions
        assert all(item["reasons"] for item in lot["excluded"])
    # a reference serving both lots; its sister-brand warning is given for each
    assert PERONNE in [item["id"] for item in two["selection"]]
    warnings = manifest["warnings"]
    assert isinstance(warnings, list)
    assert sum(w.startswith(f"{PERONNE} was carried by POP Café") for w in warnings) == 2
    listed = {item["path"] for item in manifest["files"]}  # type: ignore[attr-defined]
    assert (
        "lot-1/annexe-references.pdf" in listed and "lot-2/cards/" + HAVELINGHEN + ".pdf" in listed
    )


def test_one_lot_alone_leaves_the_other_as_it_was(exported: Path) -> None:
    folder = exported / "out" / "example-lots"
    before = (folder / "lot-1" / "annexe-references.pdf").read_bytes()
    result = run_cli(["export", "tenders/example-lots.yaml", "--lot", "2"], cwd=exported)
    assert result.returncode == 0, result.stderr
    assert (folder / "lot-1" / "annexe-references.pdf").read_bytes() == before
    manifest = json.loads((folder / "lot-2" / "manifest.json").read_text("utf-8"))
    assert [lot["lot"] for lot in manifest["lots"]] == ["2"]
    assert (folder / "lot-2" / "example-lots-lot-2.zip").is_file()
    missing = run_cli(["export", "tenders/example-lots.yaml", "--lot", "9"], cwd=exported)
    assert missing.returncode == 3 and "no lot 9; its lots: 1, 2" in missing.stderr


def test_an_included_reference_outside_the_window_stops_the_export(exported: Path) -> None:
    text = (exported / "tenders" / "example-lots.yaml").read_text("utf-8")
    # the same inclusion, without its waiver and reason
    text = re.sub(rf"- id: {FEUILLE}\n.*?(?=  - number: 2)", f"- {FEUILLE}\n", text, flags=re.S)
    assert "waive" not in text
    (exported / "tenders" / "no-waiver.yaml").write_text(text, encoding="utf-8")
    result = run_cli(["export", "tenders/no-waiver.yaml"], cwd=exported)
    assert result.returncode == 1, result.stdout
    assert (
        f"{FEUILLE} is included by hand (lot 1) but breaks the rule years: "
        "ended in 2020, more than 5 year(s) before 2027-01-29"
    ) in result.stderr
    assert not (exported / "out" / "no-waiver").exists()
