"""Threat: an unlucky output folder turns a user's situation into a bug report, or a loss.

Item 7 and the output side of item 12 of issue 10. A full disk or a read-only folder
(export, import, schema), an `out/.cache` that is a file or cannot be written, an
`out/<tender>` that is a file or a link: each is the user's to fix, so each must end with
the documented exit code and one line saying what and where, never exit 70 nor a
traceback, and leave nothing behind. Two tender files whose names give the same output
folder (`été.yaml` and `ete.yaml`) must be refused, naming both, instead of the second
silently replacing the first's export.

A full disk is a small tmpfs mounted for the test when the tests run as root (as here);
elsewhere the same commands run under RLIMIT_FSIZE (writes then fail with EFBIG). A
read-only folder is a read-only tmpfs as root (root ignores permission bits), a 0555
folder otherwise.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, ROOT
from tests.hostile.exporting import make_project, write_tender

AS_ROOT = os.geteuid() == 0


def _mount(path: Path, options: str) -> bool:
    """Mount a tmpfs at `path` with `options`; False when this machine does not let us."""
    if not AS_ROOT:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


@contextlib.contextmanager
def full_disk(path: Path, size: int) -> Iterator[int | None]:
    """`path`, a folder on which only about `size` bytes fit. Yields None when a tmpfs
    holds it; else the RLIMIT_FSIZE that the command must run under."""
    path.mkdir(parents=True, exist_ok=True)
    if _mount(path, f"size={size}"):
        try:
            yield None
        finally:
            subprocess.run(["umount", "-l", str(path)], check=False)
    else:
        yield size


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path`, a folder nothing can be written into."""
    path.mkdir(parents=True, exist_ok=True)
    if _mount(path, "size=64k,ro"):
        try:
            yield
        finally:
            subprocess.run(["umount", "-l", str(path)], check=False)
    else:
        path.chmod(0o555)
        try:
            yield
        finally:
            path.chmod(0o755)


def refsheets(
    args: list[str], cwd: Path, *, fsize: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The real command, optionally under RLIMIT_FSIZE (SIGXFSZ ignored: writes fail)."""

    def limit() -> None:
        if fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, "-m", "refsheets", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "PYTHONPATH": str(ROOT)},
        preexec_fn=limit,
        timeout=600,
    )


def _one_line_user_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    for word in words:
        assert word in errors[0], result.stderr


def _leftovers(folder: Path) -> list[str]:
    """What an export left in `folder` besides its cache and lock files."""
    return sorted(
        p.name for p in folder.iterdir() if p.name not in (".cache", ".cache.lock", ".t.lock")
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = make_project(tmp_path / "p", 3)
    write_tender(project, references=3, formats="[pdf, docx]")
    return project


# ----------------------------------------------------------------- full disk, read-only


@pytest.mark.slow
def test_export_to_a_full_disk(project: Path) -> None:
    out = project / "small"
    with full_disk(out, 256 * 1024) as fsize:
        result = refsheets(["export", "tenders/t.yaml", "--out", "small"], project, fsize=fsize)
        _one_line_user_error(result, 4, "cannot write")
        assert "No space left on device" in result.stderr or "File too large" in result.stderr
        assert _leftovers(out) == []  # no staging folder, no half export


def test_export_to_a_read_only_folder(project: Path) -> None:
    out = project / "locked"
    with read_only(out):
        result = refsheets(["export", "tenders/t.yaml", "--out", "locked"], project)
        _one_line_user_error(result, 4, "locked")
        assert os.listdir(out) == []


def test_import_to_a_full_disk_or_a_read_only_folder(project: Path) -> None:
    portfolio = str(FIXTURES / "portfolio.txt")
    with full_disk(project / "small", 8192) as fsize:
        result = refsheets(["import", portfolio, "--out", "small"], project, fsize=fsize)
        _one_line_user_error(result, 4, "cannot write", "small")
        assert not [p for p in os.listdir(project / "small") if p.endswith(".tmp")]
    with read_only(project / "locked"):
        result = refsheets(["import", portfolio, "--out", "locked"], project)
        _one_line_user_error(result, 4, "locked")


def test_schema_to_a_full_disk_or_a_read_only_folder(project: Path) -> None:
    with full_disk(project / "small", 4096) as fsize:
        result = refsheets(["schema", "mission", "--out", "small/s.json"], project, fsize=fsize)
        _one_line_user_error(result, 4, "cannot write", "s.json")
        assert os.listdir(project / "small") == []
    with read_only(project / "locked"):
        result = refsheets(["schema", "mission", "--out", "locked/s.json"], project)
        _one_line_user_error(result, 4, "s.json")


# ----------------------------------------------------------------- the cache, the folder


def test_a_cache_that_is_a_file(project: Path) -> None:
    (project / "out").mkdir()
    (project / "out" / ".cache").write_text("not a folder")
    result = refsheets(["export", "tenders/t.yaml"], project)
    _one_line_user_error(result, 4, ".cache is not a folder")
    assert sorted(os.listdir(project / "out")) == [".cache"]


def test_a_cache_that_cannot_be_written(project: Path) -> None:
    (project / "out").mkdir()
    with read_only(project / "out" / ".cache"):
        result = refsheets(["export", "tenders/t.yaml"], project)
        _one_line_user_error(result, 4, "card cache")
    assert _leftovers(project / "out") == []


def test_an_export_folder_that_is_a_file(project: Path) -> None:
    (project / "out").mkdir()
    (project / "out" / "t").write_text("mine")
    result = refsheets(["export", "tenders/t.yaml"], project)
    _one_line_user_error(result, 4, "is a file")
    assert (project / "out" / "t").read_text() == "mine"
    assert sorted(os.listdir(project / "out")) == ["t"]


def test_an_export_folder_that_is_a_link(project: Path, tmp_path: Path) -> None:
    victim = tmp_path / "elsewhere"
    victim.mkdir()
    (victim / "keep.txt").write_text("mine")
    (project / "out").mkdir()
    (project / "out" / "t").symlink_to(victim, target_is_directory=True)
    result = refsheets(["export", "tenders/t.yaml"], project)
    _one_line_user_error(result, 4, "symbolic link")
    assert os.listdir(victim) == ["keep.txt"]
    assert (project / "out" / "t").is_symlink()
    assert sorted(os.listdir(project / "out")) == ["t"]


# ----------------------------------------------------------------- two tenders, one folder


@pytest.mark.parametrize(
    ("first", "second"), [("été", "ete"), ("!!!", ".."), ("Appel 2026", "appel-2026")]
)
def test_two_tender_files_for_one_folder_are_refused(
    project: Path, first: str, second: str
) -> None:
    tender = (project / "tenders" / "t.yaml").read_text(encoding="utf-8")
    for name in (first, second):
        (project / "tenders" / f"{name}.yaml").write_text(tender, encoding="utf-8")
    result = refsheets(["export", f"tenders/{second}.yaml", "--dry-run"], project)
    _one_line_user_error(result, 2, f"{first}.yaml", f"{second}.yaml")
    assert not (project / "out").exists()


@pytest.mark.slow
def test_a_tender_of_another_folder_never_replaces_an_export(project: Path) -> None:
    tender = (project / "tenders" / "t.yaml").read_text(encoding="utf-8")
    for folder in ("a", "b"):
        (project / "tenders" / folder).mkdir()
        (project / "tenders" / folder / "appel.yaml").write_text(
            tender.replace("formats: [pdf, docx]", "formats: [pdf]"), encoding="utf-8"
        )
    assert refsheets(["export", "tenders/a/appel.yaml"], project).returncode == 0
    before = (project / "out" / "appel" / "manifest.json").read_bytes()
    result = refsheets(["export", "tenders/b/appel.yaml"], project)
    _one_line_user_error(result, 2, "appel.yaml")
    assert (project / "out" / "appel" / "manifest.json").read_bytes() == before
    again = refsheets(["export", "tenders/a/appel.yaml"], project)
    assert again.returncode == 0, again.stderr
