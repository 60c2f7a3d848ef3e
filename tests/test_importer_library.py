"""Importing into a library: its missions/ (created with --init), missions recognised by
their facts, French public bodies recognised in client names, nothing new on re-import."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from refsheets import load_library
from refsheets.importer import ImportStatus, import_into_library
from refsheets.importer.bodies import public_body
from tests.conftest import DATA, FIXTURES, run_cli

# The portfolio the demo library was transcribed from (a copy of the source document).
SOURCE = FIXTURES / "portfolio.txt"


@pytest.mark.parametrize(
    ("name", "evidence"),
    [
        ("CC Haute-Somme", "'CC' (communauté de communes)"),
        ("CA du Douaisis", "'CA' (communauté d'agglomération)"),
        ("CU de Dunkerque", "'CU' (communauté urbaine)"),
        ("EPSM Lille Métropole", "'EPSM' (établissement public de santé mentale)"),
        ("CHU de Lille", "'CHU' (centre hospitalier universitaire)"),
        ("OPH de Roubaix", "'OPH' (office public de l'habitat)"),
        ("SEM Ville Renouvelée", "'SEM' (société d'économie mixte)"),
        ("Métropole Européenne de Lille", "'metropole'"),
        ("Commune de Ressons", "'commune'"),
        ("Ville d'Anzin", "'ville'"),
        ("Département du Nord", "'departement'"),
        ("Région Bourgogne", "'region'"),
    ],
)
def test_french_public_bodies_are_recognised_with_the_evidence(name: str, evidence: str) -> None:
    assert public_body(name) == evidence


@pytest.mark.parametrize("name", ["Vilogia", "Atelier Cambrésis", "Caisse d'Épargne", "Cchs"])
def test_other_names_are_not_public(name: str) -> None:
    assert public_body(name) is None


def test_the_report_gives_the_evidence(tmp_path: Path) -> None:
    report = import_into_library(SOURCE, tmp_path / "lib", init=True)
    by_client = {m.draft.client: m for m in report.missions}
    cchs = by_client["CC Haute-Somme"]
    assert cchs.draft.client_kind == "public"
    assert "client kind public: 'CC' (communauté de communes) in the client's name" in (
        cchs.draft.remarks
    )


def test_import_init_makes_a_library_that_loads(tmp_path: Path) -> None:
    result = run_cli(["import", str(SOURCE), "--out", str(tmp_path / "lib"), "--init"])
    assert result.returncode == 0, result.stderr
    library = load_library(tmp_path / "lib")
    assert (tmp_path / "lib" / "refsheets.yaml").is_file()
    assert len(library.missions) == 6  # two pages lack a title or a client: TODO in the file
    names = [p.name for p in (tmp_path / "lib" / "missions").glob("*.yaml")]
    assert not [n for n in names if n.startswith("mission-")]
    # the library then works from inside, without --library
    listed = run_cli(["list"], cwd=tmp_path / "lib" / "missions")
    assert listed.returncode == 0 and "6 missions" in listed.stdout


def test_reimporting_the_portfolio_into_the_demo_library_writes_nothing(tmp_path: Path) -> None:
    library = tmp_path / "data"
    shutil.copytree(DATA, library)
    before = {p.name: p.read_bytes() for p in (library / "missions").iterdir()}
    report = import_into_library(SOURCE, library)
    assert report.changed == []
    assert {m.status for m in report.missions} <= {
        ImportStatus.DUPLICATE,
        ImportStatus.UNCHANGED,
        ImportStatus.KEPT,
    }
    # recognised by their facts although the portfolio's ids differ from the library's
    duplicates = {m.duplicate_of.name for m in report.missions if m.duplicate_of is not None}
    assert "2021-region-bourgogne-village-du-futur.yaml" in duplicates  # retitled by hand
    assert {p.name: p.read_bytes() for p in (library / "missions").iterdir()} == before


def test_a_retitled_mission_is_recognised_by_its_facts(tmp_path: Path) -> None:
    library = tmp_path / "data"
    shutil.copytree(DATA, library)
    path = library / "missions" / "2021-valenciennes-passage-de-la-paix.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "title: Reconversion du Passage de la Paix en tiers-lieu",
        "title: Reconversion du Passage de la Paix",
    )
    assert text != path.read_text(encoding="utf-8")
    renamed = path.with_name("valenciennes-passage.yaml")
    renamed.write_text(text, encoding="utf-8")
    path.unlink()
    report = import_into_library(SOURCE, library, dry_run=True)
    matched = {m.duplicate_of.name for m in report.missions if m.duplicate_of is not None}
    assert "valenciennes-passage.yaml" in matched


def test_an_id_that_names_another_mission_gets_a_number(tmp_path: Path) -> None:
    """A library mission already called what an imported one would be called is neither
    overwritten (even with --force) nor taken for it: the new one gets -2."""
    library = tmp_path / "lib"
    report = import_into_library(SOURCE, library, init=True)
    first = report.missions[0].path
    other = (
        "title: Une étude sans rapport\nclient:\n  name: Commune de Ressons\n  kind: public\n"
        "period: 2010\nentity: pop-up\ndeliverables: [Rapport]\nbudget: 1 000 € HT\n"
    )
    first.write_text(other, encoding="utf-8")
    again = import_into_library(SOURCE, library, force=True)
    assert again.missions[0].path == first.with_name(f"{first.stem}-2.yaml")
    assert again.missions[0].status is ImportStatus.WRITTEN
    assert first.read_text(encoding="utf-8") == other
    assert {m.status for m in again.missions[1:]} == {ImportStatus.UNCHANGED}
