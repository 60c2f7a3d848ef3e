"""All-or-nothing publication of an export folder, one export per folder at a time.

The export is built in a hidden temporary folder beside its target and swapped in at the
end; a failure, or Ctrl-C, leaves the previous export as it was and no partial folder. A
lock file (flock) refuses a second export to the same folder while one runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from refsheets.errors import RefsheetsError


class ExportBusyError(RefsheetsError):
    """Another export to the same folder is running."""


@contextlib.contextmanager
def export_lock(target: Path) -> Iterator[None]:
    """Hold the lock of `target` for the duration; refuse at once if it is taken."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.parent / f".{target.name}.lock"
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ExportBusyError(
                f"another export to {target} is running ({holder}); wait for it to finish, "
                "or export to another folder with --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """A temporary folder beside `target`, removed unless it was published."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, target: Path) -> None:
    """Swap `staging` in as `target`; the older export is removed only once replaced."""
    old: Path | None = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def zip_folder(folder: Path, target: Path, *, prefix: str) -> None:
    """A reproducible zip of `folder` (sorted entries, fixed dates) at `target`."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p != target):
            info = zipfile.ZipInfo(
                f"{prefix}/{path.relative_to(folder).as_posix()}", date_time=(1980, 1, 1, 0, 0, 0)
            )
            # PDF pages, .docx and .xlsx are compressed already: storing them costs nothing
            # and deflating them again gains a few per cent for most of the zip's time.
            info.compress_type = (
                zipfile.ZIP_STORED
                if path.suffix in (".pdf", ".docx", ".xlsx", ".zip")
                else zipfile.ZIP_DEFLATED
            )
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
