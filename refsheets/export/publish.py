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
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from refsheets.errors import ExitStatus, RefsheetsError, RenderError


class ExportBusyError(RefsheetsError):
    """Another export to the same folder is running."""

    exit_status = ExitStatus.BUSY


def _cannot_write(folder: Path, exc: OSError) -> RenderError:
    return RenderError(
        f"cannot write the export in {folder}: {exc.strerror or exc}; "
        "give a folder you can write to with --out"
    )


@contextlib.contextmanager
def export_lock(target: Path) -> Iterator[None]:
    """Hold the lock of `target` for the duration; refuse at once if it is taken."""
    lock_path = target.parent / f".{target.name}.lock"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+")  # noqa: SIM115 - closed below, after the unlock
    except OSError as exc:
        raise _cannot_write(target.parent, exc) from None
    with handle:
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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        )
    except OSError as exc:
        raise _cannot_write(target.parent, exc) from None
    # mkdtemp makes a private (0700) folder: the published export is for colleagues too.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, target: Path) -> None:
    """Put `staging` in place of `target` in one step; the older export goes only then.

    On Linux the two folders are exchanged atomically (renameat2 RENAME_EXCHANGE): there
    is no instant without an export. Elsewhere the older one is moved aside first, and
    `recover` puts it back if the process dies in between.
    """
    if not target.exists():
        os.replace(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now holds the older export
        return
    old = _aside(target)
    shutil.rmtree(old, ignore_errors=True)
    os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def recover(target: Path) -> None:
    """Put back an older export left aside by a publication that was cut short."""
    old = _aside(target)
    if old.exists() and not target.exists():
        os.replace(old, target)


def _aside(target: Path) -> Path:
    return target.parent / f".{target.name}.old"


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2); False where that is not available."""
    if sys.platform != "linux":
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(result == 0)


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
