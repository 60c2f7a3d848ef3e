"""All-or-nothing publication of an export folder, one export per folder at a time.

The export is built in a hidden temporary folder beside its target and swapped in at the
end; a failure, or Ctrl-C, leaves the previous export as it was and no partial folder. A
lock file (flock) refuses a second export to the same folder while one runs.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from refsheets.errors import ExitStatus, RefsheetsError, RenderError


class ExportBusyError(RefsheetsError):
    """Another export to the same folder is running."""

    exit_status = ExitStatus.BUSY


def cannot_write_export(folder: Path, exc: OSError) -> RenderError:
    """The one-line error of an export folder the system will not let us write."""
    return RenderError(
        f"cannot write the export in {folder}: {exc.strerror or exc}; "
        "give a folder you can write to with --out"
    )


# The descriptors of the locks this process holds: a forked worker closes its copies
# (`forget_locks`), so that only the process that took a lock ever holds it.
_held: set[int] = set()


def _open_lock_file(path: Path) -> int:
    """Open (or create) a lock file without following a link planted at its path."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RenderError(
                f"{path} is a symbolic link, not refsheets' lock file; remove it and export again"
            ) from None
        raise cannot_write_export(path.parent, exc) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RenderError(f"{path} is not a regular file (refsheets' lock); remove it")
    return fd


@contextlib.contextmanager
def hold_lock(path: Path, *, exclusive: bool, busy: str) -> Iterator[int]:
    """Hold an flock on `path` for the duration, or raise ExportBusyError at once.

    An flock belongs to the open file, so it goes with the process that holds it, however
    it ends (kill -9 included): a lock is never left behind by a dead export. The file is
    only ever a hint of who holds it. `busy` is the message when the lock is taken; "{holder}"
    in it is replaced by what the holder wrote.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write_export(path.parent, exc) from None
    fd = _open_lock_file(path)
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 100, 0).decode("utf-8", "replace").strip()
            raise ExportBusyError(busy.replace("{holder}", holder or "another process")) from None
        _held.add(fd)
        if exclusive:
            with contextlib.suppress(OSError):  # only a hint for the message above
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        try:
            yield fd
        finally:
            _held.discard(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def forget_locks() -> None:
    """In a forked child: close the inherited lock descriptors (the parent keeps its
    locks; the child must not keep them alive should the parent die)."""
    for fd in list(_held):
        with contextlib.suppress(OSError):
            os.close(fd)
    _held.clear()


@contextlib.contextmanager
def export_lock(target: Path) -> Iterator[None]:
    """Hold the lock of `target` for the duration; refuse at once if it is taken."""
    busy = (
        f"another export to {target} is running ({{holder}}); wait for it to finish, "
        "or export to another folder with --out"
    )
    with hold_lock(target.parent / f".{target.name}.lock", exclusive=True, busy=busy):
        yield


_STAGING_SUFFIX = ".tmp"


def _staging_pattern(target: Path) -> re.Pattern[str]:
    # mkdtemp's names: the prefix, 8 random characters, the suffix; nothing of another
    # tender's folder can match (its name would have to be this target's).
    return re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}{re.escape(_STAGING_SUFFIX)}")


def clean_stale_staging(target: Path) -> list[str]:
    """Remove staging folders a killed export left beside `target` (call with its lock
    held: no live export is staging there then); return their names. A link is removed,
    never followed."""
    pattern = _staging_pattern(target)
    removed: list[str] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        path = Path(entry.path)
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(entry.name)
    return removed


def _hold_signals() -> tuple[list[int], Callable[[], None]]:
    """Hold Ctrl-C and `kill` (SIGTERM) back: return the list of those that come, and the
    function that gives them their handlers back. Python runs signal handlers in the main
    thread only, so elsewhere (in a thread) nothing is held."""
    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        return held, lambda: None
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda signum, frame: held.append(signum))

    def release() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return held, release


@contextlib.contextmanager
def staging_folder(target: Path) -> Iterator[Path]:
    """A temporary folder beside `target`, removed unless it was published.

    Ctrl-C is held back from before the folder is made until the block that removes it is
    entered: a KeyboardInterrupt raised in between (inside mkdtemp, once the folder exists)
    would leave it behind with nobody knowing its name.
    """
    held, release = _hold_signals()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(
            tempfile.mkdtemp(prefix=f".{target.name}.", suffix=_STAGING_SUFFIX, dir=target.parent)
        )
    except OSError as exc:
        release()
        raise cannot_write_export(target.parent, exc) from None
    except BaseException:
        release()
        raise
    try:
        release()
        # A signal that came while held is raised here, where the folder gets removed.
        if held:
            raise KeyboardInterrupt
        # mkdtemp makes a private (0700) folder: the published export is for colleagues too.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)
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
    if old.is_symlink():
        old.unlink()  # not ours: a link is removed, never followed nor put in place
    elif old.is_dir() and not target.exists() and not target.is_symlink():
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
