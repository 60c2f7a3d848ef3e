"""Helpers of the hostile export tests: small projects built at run time, the CLI run.

A project is a folder holding `data/` (synthetic missions, see bench/synth.py, plus any
mission a test writes), copies of the project's `layouts/` and `fonts/`, and `tenders/`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from bench.synth import _WORDS, make_library
from tests.conftest import ROOT, run_cli

SYNTH_WORDS = " ".join(_WORDS)


def make_project(root: Path, missions: int = 3, *, seed: int = 0) -> Path:
    """A project at `root` with `missions` synthetic missions; returns `root`."""
    make_library(root / "data", missions, seed=seed)
    for name in ("layouts", "fonts"):
        shutil.copytree(ROOT / name, root / name)
    (root / "tenders").mkdir(exist_ok=True)
    return root


def mission_yaml(
    title: str,
    client: str,
    *,
    anonymous: str | None = None,
    partner: str | None = None,
    extra: str = "",
) -> str:
    """A valid mission file's text (values JSON-quoted: hostile text stays data).

    `anonymous` is the client's anonymous label, and makes the mission anonymous.
    """
    import json

    text = (
        f"title: {json.dumps(title)}\n"
        "client:\n"
        f"  name: {json.dumps(client)}\n"
        "  kind: public\n"
        "  location: Amiens\n"
        + (f"  anonymous_label: {json.dumps(anonymous)}\n" if anonymous else "")
        + "period: 2022 - 2023\n"
        "entity: pop-up\n"
        "context: Un contexte.\n"
        "tags: [tiers-lieu]\n"
        "budget: 20 000 € HT\n" + ("disclosure: anonymous\n" if anonymous else "")
    )
    if partner:
        text += f"partners:\n  - name: {json.dumps(partner)}\n    role: co-contractor\n"
    return text + extra


def add_mission(project: Path, mission_id: str, text: str) -> Path:
    """Write `data/missions/<mission_id>.yaml`."""
    path = project / "data" / "missions" / f"{mission_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def write_tender(
    project: Path,
    name: str = "t",
    *,
    references: int = 3,
    formats: str = "[pdf]",
    extra: str = "",
) -> Path:
    """A tender that takes the `references` best missions of any theme."""
    path = project / "tenders" / f"{name}.yaml"
    path.write_text(
        "name: Marché de test\n"
        "buyer: Commune de Test\n"
        "deadline: 2026-04-17\n"
        "themes: []\n"
        # words of bench/synth.py's missions: any synthetic mission is about the tender
        f"query: {SYNTH_WORDS}\n"
        f"rules:\n  max_references: {references}\n"
        "entity: pop-up\n"
        "layout: pop-up\n"
        f"formats: {formats}\n" + extra,
        encoding="utf-8",
    )
    return path


def export(project: Path, tender: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`refsheets export TENDER ARGS…` run in `project`, as a user would."""
    return run_cli(["export", str(tender.relative_to(project)), *args], cwd=project)
