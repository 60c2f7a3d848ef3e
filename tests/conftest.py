"""Shared test helpers: the project's folders and the real CLI run as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import settings

# No per-example deadline (a loaded CI machine is slow, not wrong); in CI the examples are
# derived from the test, so a red run can be reproduced, while local runs keep exploring.
settings.register_profile("refsheets", deadline=None, derandomize=bool(os.environ.get("CI")))
settings.load_profile("refsheets")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path = ROOT,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `refsheets ARGS` in a new process, as a user would, and capture its output."""
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    full_env.pop(
        "REFSHEETS_LIBRARY", None
    ) if env is None or "REFSHEETS_LIBRARY" not in env else None
    return subprocess.run(
        [sys.executable, "-m", "refsheets", *args],
        cwd=cwd,
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
    """A writable copy of the project's library."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target
