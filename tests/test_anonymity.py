"""Facts that must not slip: an anonymous mission that still names its client (text or
photo captions), warned at the line; a card tightened to fit one page, said by `check`
and `render` with the fit step and the size."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from refsheets import load_library
from refsheets.anonymity import giveaways
from refsheets.model import Mission
from tests.conftest import run_cli

ANONYMOUS = """\
title: Reconversion d'un passage commercial
client:
  name: Ville de Valenciennes
  kind: public
  location: Valenciennes
  anonymous_label: Ville moyenne du Nord
period: 2021
entity: pop-up
context: |
  Un passage commercial en face de la gare.

  La municipalité de Valenciennes souhaite le rouvrir.
approach: Des ateliers avec les habitants.
deliverables:
  - Scénarios d'usage
photos:
  - path: photos/atelier.jpg
    caption: Atelier à Valenciennes
budget: 12 400 € HT
disclosure: anonymous
"""


def _write(library: Path, text: str) -> Path:
    (library / "photos").mkdir(exist_ok=True)
    Image.new("RGB", (400, 300), (40, 120, 160)).save(library / "photos" / "atelier.jpg")
    path = library / "missions" / "anon.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_words_that_give_a_client_away() -> None:
    mission = Mission.model_validate(
        {"title": "T", "client": {"name": "CC Haute-Somme", "location": "Péronne"}}
    )
    assert giveaways(mission) == ["CC Haute-Somme", "Haute-Somme", "Somme", "Péronne"]


def test_an_anonymous_mission_naming_its_client_warns_at_the_line(library_copy: Path) -> None:
    path = _write(library_copy, ANONYMOUS)
    library = load_library(library_copy)
    leaks = [d for d in library.warnings if d.path == path and "anonymous" in d.message]
    where = {(d.field, d.line) for d in leaks}
    # the context's second paragraph (line 12), and the photo caption (line 18)
    assert where == {("context", 12), ("photos.caption", 18)}
    assert all("'Valenciennes'" in d.message for d in leaks)
    assert "anon" in library.missions  # a warning: the card can still be made


def test_a_named_mission_or_a_clean_anonymous_one_does_not_warn(library_copy: Path) -> None:
    path = _write(library_copy, ANONYMOUS.replace("disclosure: anonymous", "disclosure: named"))
    assert not [d for d in load_library(library_copy).warnings if "anonymous" in d.message]
    clean = ANONYMOUS.replace("La municipalité de Valenciennes", "La ville").replace(
        "Atelier à Valenciennes", "Atelier"
    )
    path.write_text(clean, encoding="utf-8")
    assert not [d for d in load_library(library_copy).warnings if "anonymous" in d.message]


LONG = "Une phrase assez longue pour remplir la fiche de référence, ligne après ligne. " * 14


@pytest.mark.slow
def test_a_tightened_card_is_said_by_check_and_render(library_copy: Path, tmp_path: Path) -> None:
    path = library_copy / "missions" / "2021-valenciennes-passage-de-la-paix.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("context: |\n", f"context: |\n  {LONG}\n\n", 1), "utf-8")
    check = run_cli(["--library", str(library_copy), "check"])
    assert check.returncode == 0, check.stderr
    notes = [line for line in check.stderr.splitlines() if " was tightened " in line]
    assert len(notes) == 1, check.stderr
    assert notes[0].startswith(f"{path}: note: the card of mission")
    assert "fit step" in notes[0] and " pt instead of 11.0 pt" in notes[0]
    render = run_cli(
        [
            "--library",
            str(library_copy),
            "render",
            "2021-valenciennes-passage-de-la-paix",
            "--out",
            str(tmp_path),
        ]
    )
    assert render.returncode == 0, render.stderr
    assert "note: the card of mission '2021-valenciennes-passage-de-la-paix' was tightened" in (
        render.stderr
    )
    # a card at its comfortable size says nothing
    plain = run_cli(
        ["--library", str(library_copy), "render", "anzin-mediation-numerique-qpv", "--out",
         str(tmp_path)]
    )  # fmt: skip
    assert " was tightened " not in plain.stderr
