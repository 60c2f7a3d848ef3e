"""Shared test helpers: the project's folders and the real CLI run as a subprocess."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline (a loaded CI machine is slow, not wrong); in CI the examples are
# derived from the test, so a red run can be reproduced, while local runs keep exploring.
settings.register_profile("refsheets", deadline=None, derandomize=bool(os.environ.get("CI")))
settings.load_profile("refsheets")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The tests never read the live `data/` and `tenders/`: those are the user's (she adds her
# missions there). Tests that check the seed's facts read this frozen copy instead.
SEED = FIXTURES / "seed"
DATA = SEED / "data"
SEED_TENDERS = SEED / "tenders"
# The live demo library and tenders, for the checks of committed files only (the
# generated schemas, the committed example tenders by name).
DEMO = ROOT / "data"
DEMO_TENDERS = ROOT / "tenders"

_seed_project: Path | None = None


def seed_project() -> Path:
    """A writable copy of the seed project (`data/`, `tenders/`), one per test process.

    It is the default working folder of `run_cli`, so that a command run without
    `--library` reads the frozen seed, and whatever it writes (`out/`) stays out of the
    repository.
    """
    global _seed_project
    if _seed_project is None:
        folder = Path(tempfile.mkdtemp(prefix="refsheets-seed-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        shutil.copytree(SEED, folder, dirs_exist_ok=True)
        _seed_project = folder
    return _seed_project


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `refsheets ARGS` in a new process, as a user would, and capture its output.

    It runs in a copy of the seed project unless `cwd` says otherwise.
    """
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    full_env.pop(
        "REFSHEETS_LIBRARY", None
    ) if env is None or "REFSHEETS_LIBRARY" not in env else None
    return subprocess.run(
        [sys.executable, "-m", "refsheets", *args],
        cwd=seed_project() if cwd is None else cwd,
        input=input,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=600,
    )


def convert_with_libreoffice(files: list[Path], out_dir: Path, profile: Path) -> None:
    """Convert .docx files to PDF with LibreOffice, in one call, with a private profile
    (so parallel runs do not share one)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("LibreOffice (soffice) is not installed: run scripts/setup.sh --dev")
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    """A writable copy of the seed library."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of the seed project: `data/` (the library) and `tenders/`."""
    shutil.copytree(SEED, tmp_path, dirs_exist_ok=True)
    return tmp_path
