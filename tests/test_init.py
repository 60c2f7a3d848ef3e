"""A library of one's own: `refsheets init`, discovery from inside it, `new` templates, and
a fresh library taken through every command a user runs."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from refsheets import load_library
from refsheets.errors import UsageError
from refsheets.init import init_library, new_mission, new_tender
from refsheets.model import Client, Mission, Partner
from refsheets.settings import find_library, resolve_library
from refsheets.tender import TenderError, load_tender
from tests.conftest import run_cli


def test_init_writes_a_working_library(tmp_path: Path) -> None:
    root = tmp_path / "refs"
    written = init_library(root, name="Atelier Exemple")
    names = {p.relative_to(root).as_posix() for p in written}
    assert names >= {
        "refsheets.yaml", "README.md", ".gitignore", "tags.yaml", "entities.yaml",
        "mission.schema.json", "tenders/tender.schema.json", "missions/.gitkeep",
    }  # fmt: skip
    library = load_library(root)
    assert library.errors == [] and library.missions == {}
    assert library.settings.name == "Atelier Exemple" and library.settings.review_period == 12
    assert len(library.taxonomy.tags) > 10  # the default taxonomy
    assert "Atelier Exemple" in (root / "README.md").read_text(encoding="utf-8")


def test_init_refuses_an_existing_library(tmp_path: Path) -> None:
    init_library(tmp_path / "refs")
    before = (tmp_path / "refs" / "tags.yaml").read_text(encoding="utf-8")
    with pytest.raises(UsageError, match="already holds a library"):
        init_library(tmp_path / "refs")
    assert (tmp_path / "refs" / "tags.yaml").read_text(encoding="utf-8") == before


def test_schema_lines_of_new_files_point_at_the_schemas(tmp_path: Path) -> None:
    root = tmp_path / "refs"
    init_library(root)
    mission = new_mission(root, "2025-commune-test")
    tender = new_tender(root / "tenders", "appel")
    for path in (mission, tender):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        target = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert target, first
        schema = (path.parent / target.group(1)).resolve()
        assert schema.is_file(), schema
        assert json.loads(schema.read_text(encoding="utf-8"))["type"] == "object"


def test_discovery_from_a_subfolder_like_git(tmp_path: Path) -> None:
    root = tmp_path / "refs"
    init_library(root)
    (root / "missions" / "deep").mkdir()
    assert find_library(root / "missions" / "deep") == root.resolve()
    assert find_library(tmp_path) is None
    assert resolve_library(None, tmp_path) == Path("data")  # the demo, as before
    assert resolve_library(Path("x"), root) == Path("x")  # --library wins


def test_the_mission_template_has_every_key_and_only_todos(tmp_path: Path) -> None:
    root = tmp_path / "refs"
    init_library(root)
    path = new_mission(root)
    assert path.name == "nouvelle-mission.yaml"
    assert new_mission(root).name == "nouvelle-mission-2.yaml"
    text = path.read_text(encoding="utf-8")
    # every key of the model, so that a key added to it without the template fails here
    keys = [*Mission.model_fields, *Client.model_fields, *Partner.model_fields, "path", "caption"]
    for key in keys:
        assert re.search(rf"^\s*#?\s*(- )?{key}:", text, re.MULTILINE), key
    library = load_library(root)
    todo = [d for d in library.diagnostics if d.path == path and "still TODO" in d.message]
    assert {d.field for d in todo} >= {"title", "client.name", "budget", "period", "role"}
    # no placeholder passes for a fact: the mission is not loaded, and nothing else is said
    assert "nouvelle-mission" not in library.missions
    assert all("still TODO" in d.message for d in library.diagnostics if d.path == path)


def test_the_tender_template_is_refused_until_filled(tmp_path: Path) -> None:
    path = new_tender(tmp_path / "tenders", "appel")
    with pytest.raises(TenderError) as info:
        load_tender(path)
    fields = {d.field for d in info.value.diagnostics}
    assert {"name", "buyer", "deadline", "entity"} <= fields
    with pytest.raises(UsageError, match="already exists"):
        new_tender(tmp_path / "tenders", "appel")
    with pytest.raises(UsageError, match="lower-case"):
        new_tender(tmp_path / "tenders", "Mon Appel")


FILLED_MISSION = {
    "title: TODO titre de la mission": "title: Programmation d'un tiers-lieu rural",
    "name: TODO nom du client": "name: Commune de Ressons",
    "kind: TODO publique ou privée": "kind: publique",
    "location: TODO lieu": "location: Ressons",
    "period: TODO période": "period: mars 2025 - novembre 2025",
    "entity: TODO structure": "entity: atelier",
    "role: TODO titulaire, mandataire, cotraitant ou sous-traitant": "role: titulaire",
    "TODO le contexte : le client, son projet, sa demande.": "La commune veut un lieu.",
    "TODO la démarche.": "Des ateliers avec les habitants.",
    "- TODO une réalisation": "- Programme du tiers-lieu",
    "- TODO une thématique": "- tiers-lieu",
    "budget: TODO montant": "budget: 18.000 € HT",
}
FILLED_TENDER = {
    "name: TODO objet du marché": "name: AMO tiers-lieu",
    "buyer: TODO acheteur": "buyer: Commune de Ressons",
    "deadline: TODO date limite": "deadline: 15/01/2027",
    "- TODO une thématique": "- tiers-lieu",
    "TODO l'objet du marché, copié du RC.": "Programmation d'un tiers-lieu rural.",
    "entity: TODO structure": "entity: atelier",
    "formats: [pdf, docx]": "formats: [pdf]",
}
EDITOR = """\
import json, sys
from pathlib import Path
path = Path(sys.argv[1])
text = path.read_text(encoding="utf-8")
for old, new in json.loads(Path(sys.argv[0]).with_suffix(".json").read_text()).items():
    text = text.replace(old, new)
path.write_text(text, encoding="utf-8")
"""


def _editor(tmp_path: Path, name: str, replacements: dict[str, str]) -> str:
    script = tmp_path / f"{name}.py"
    script.write_text(EDITOR, encoding="utf-8")
    script.with_suffix(".json").write_text(json.dumps(replacements), encoding="utf-8")
    return f"{sys.executable} {script}"


@pytest.mark.slow
def test_a_fresh_library_through_every_command(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    assert run_cli(["init", str(root)], cwd=tmp_path).returncode == 0
    (root / "entities.yaml").write_text(
        "entities:\n  atelier:\n    name: Atelier Exemple\n    email: bonjour@example.org\n",
        encoding="utf-8",
    )
    inside = root / "missions"  # refsheets finds the library from any folder inside it

    created = run_cli(
        ["new", "mission", "2025-ressons-tiers-lieu", "--edit"],
        cwd=inside,
        env={"EDITOR": _editor(tmp_path, "mission", FILLED_MISSION), "VISUAL": ""},
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().endswith("missions/2025-ressons-tiers-lieu.yaml")
    tender = run_cli(["new", "tender", "ressons"], cwd=root)
    assert tender.returncode == 0 and tender.stdout.strip() == "tenders/ressons.yaml"
    todo = run_cli(["pick", "--tender", "tenders/ressons.yaml"], cwd=root)
    assert todo.returncode == 1 and "still TODO" in todo.stderr
    edited = run_cli(
        ["new", "tender", "ressons-bis", "--edit"],
        cwd=root,
        env={"EDITOR": _editor(tmp_path, "tender", FILLED_TENDER), "VISUAL": ""},
    )
    assert edited.returncode == 0, edited.stderr

    check = run_cli(["check"], cwd=inside)
    assert check.returncode == 0, check.stderr
    assert "1 valid missions of 1; 0 error(s), 0 warning(s)" in check.stderr
    picked = run_cli(["pick", "--tender", "tenders/ressons-bis.yaml", "--ids"], cwd=root)
    assert picked.stdout.split() == ["2025-ressons-tiers-lieu"], picked.stderr
    exported = run_cli(["export", "tenders/ressons-bis.yaml"], cwd=root)
    assert exported.returncode == 0, exported.stderr
    assert (root / "out" / "ressons-bis" / "annexe-references.pdf").is_file()
    review = run_cli(["review", "--today", "01/12/2026"], cwd=root)
    assert review.returncode == 1  # never reviewed yet
    assert "2025-ressons-tiers-lieu : jamais relue" in review.stdout  # in French by default
    assert run_cli(["--version"], cwd=root).stdout.startswith("refsheets ")


def test_new_mission_outside_a_library_is_not_found(tmp_path: Path) -> None:
    result = run_cli(["--library", str(tmp_path), "new", "mission", "x"])
    assert result.returncode == 3 and "refsheets init" in result.stderr
    bad = run_cli(["--library", str(tmp_path), "new", "mission", "Bad Id"])
    assert bad.returncode in (2, 3)


def test_edit_without_an_editor_says_what_to_do(tmp_path: Path) -> None:
    init_library(tmp_path / "lib")
    result = run_cli(
        ["new", "mission", "x", "--edit"], cwd=tmp_path / "lib", env={"EDITOR": "", "VISUAL": ""}
    )
    assert result.returncode == 2 and "set EDITOR" in result.stderr
    assert (tmp_path / "lib" / "missions" / "x.yaml").is_file()  # written, then said
