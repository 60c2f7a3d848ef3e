"""A small library built at run time for the hostile tests: two good missions, the
taxonomy and the entities. Each test plants one hostile file beside them and checks that
the good missions still load."""

from __future__ import annotations

from pathlib import Path

import pytest

GOOD_MISSION = """\
title: Feuille de route d'un tiers-lieu
client:
  name: CC Haute-Somme
  kind: public
period: 2019 - 2020
entity: pop-up
deliverables:
  - Ateliers de co-conception
tags: [tiers-lieu]
budget: 20 000 € HT
"""

TAGS = "tags:\n  tiers-lieu:\n    label: Tiers-lieu\n"
ENTITIES = "entities:\n  pop-up:\n    name: POP Up\n    email: popup@example.org\n"


def make_library(root: Path) -> Path:
    """A library at `root` with the missions `good-a` and `good-b`."""
    (root / "missions").mkdir(parents=True)
    (root / "tags.yaml").write_text(TAGS, encoding="utf-8")
    (root / "entities.yaml").write_text(ENTITIES, encoding="utf-8")
    for name in ("good-a", "good-b"):
        (root / "missions" / f"{name}.yaml").write_text(GOOD_MISSION, encoding="utf-8")
    return root


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """A fresh small library in a temporary folder."""
    return make_library(tmp_path / "lib")
