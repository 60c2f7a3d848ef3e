"""Writing outputs atomically: a temporary file beside the target, then a rename.

A failed or interrupted write leaves no partial file and keeps the older one intact. A
write the system refuses (a full disk, a read-only folder, a file where a folder should
be) is a user situation, not a bug: it becomes a `CannotWriteError` (exit 4) whose one
line names the file and the reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from refsheets.errors import RenderError

# What the system says when a folder or a disk cannot take a file: the user's to fix.
WRITE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EEXIST,
        errno.ELOOP,
        errno.ENAMETOOLONG,
        errno.EIO,
    }
)


class CannotWriteError(RenderError):
    """A file or folder the system would not let us write."""


def cannot_write(path: Path | str, exc: OSError, *, hint: str | None = None) -> CannotWriteError:
    """The one-line error for `exc`, raised while writing `path`."""
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        reason = "a file stands where its path needs a folder"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        advice = "free some space, or write elsewhere"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        advice = "choose a folder you can write to"
    else:
        advice = "check that path"
    return CannotWriteError(f"cannot write {path}: {reason}; {hint or advice}")


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it over `target` on success."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as exc:
        raise cannot_write(target, exc) from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS:
            raise cannot_write(target, exc) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(target: Path, data: bytes) -> None:
    """Write `data` to `target` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
