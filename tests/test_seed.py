"""The suite never depends on what a user adds to `data/` or `tenders/`.

`data/` is the demo library and where a user starts adding her own missions; the tests
that check the seed's facts read the frozen copy in `tests/fixtures/seed/`. Two guards:
no test module names the live folders, and the suite run in a copy of the project with
one more mission and one more tender stays green.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from refsheets import load_library
from tests.conftest import DATA, DEMO, ROOT, SEED

GUARD_ENV = "REFSHEETS_SEED_GUARD"

# Ways a test could read the live folders: a path built from the project root, or a command
# run from the project root (where `data/` is the default library).
LIVE_READS = re.compile(
    r"""(?:PROJECT_)?ROOT\s*/\s*["'](?:data|tenders)["']|cwd\s*=\s*(?:PROJECT_)?ROOT\b"""
    r"""|\bDEMO\s*/\s*["']missions|\bfor\s+\w+\s+in\s+\(\s*["']data["']"""
)
# Modules allowed to name them: the seed's own plumbing and this guard; the hostile import
# limits run Python code from the project root (imports only, no library read).
ALLOWED = {"conftest.py", "test_seed.py", "test_import_limits.py"}

COUNTING_MODULES = [
    f"tests/{name}.py" for name in ("test_library", "test_cli_pick", "test_tender", "test_taxonomy")
]

USER_MISSION = """\
# yaml-language-server: $schema=../mission.schema.json
title: Programmation d'un tiers-lieu rural
client:
  name: Commune de Ressons
  kind: public
  location: Ressons
period: 2025 - 2026
entity: pop-up
deliverables:
  - Programme fonctionnel du tiers-lieu
tags: [tiers-lieu, co-conception, habitants]
budget: 48 000 € HT
"""

USER_TENDER = """\
name: AMO tiers-lieu rural
buyer: Commune de Ressons
deadline: 2026-09-30
entity: pop-up
themes: [tiers-lieu]
"""


def test_no_test_module_reads_the_live_library() -> None:
    offenders = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.name in ALLOWED:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if LIVE_READS.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "read tests/conftest.py DATA/SEED, not the live folders"


def test_the_seed_is_the_demo_library_as_transcribed() -> None:
    """The seed was copied from `data/`: same ids, and it loads without an error."""
    seed = load_library(DATA)
    assert seed.errors == []
    assert len(seed.missions) == 8
    assert set(seed.missions) <= {path.stem for path in (DEMO / "missions").glob("*.yaml")}


def _project_files() -> list[str]:
    """The project's files as a fresh clone has them (tracked, or new and not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [name for name in listed if (ROOT / name).is_file()]


@pytest.mark.slow
@pytest.mark.skipif(bool(os.environ.get(GUARD_ENV)), reason="already inside the guard's copy")
def test_a_mission_and_a_tender_added_by_the_user_leave_the_suite_green(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs the project's git checkout to copy it")
    project = tmp_path / "project"
    for name in _project_files():
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    (project / "data" / "missions" / "2025-ressons-programmation-tiers-lieu.yaml").write_text(
        USER_MISSION, encoding="utf-8"
    )
    (project / "tenders" / "ressons.yaml").write_text(USER_TENDER, encoding="utf-8")
    # The user's mission is valid and counts: without the seed, "8 missions", the tag
    # counts, the picks and the tender's selection would all change.
    user_library = load_library(project / "data")
    assert user_library.errors == [] and len(user_library.missions) == 9

    # The tests that count missions and tags, pick, and read tenders (those that broke when
    # the suite read `data/`); the others read the same constants, which the scan above
    # keeps honest.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-m",
            "not slow",
            *COUNTING_MODULES,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, GUARD_ENV: "1"},
        timeout=1800,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert SEED.is_dir()
