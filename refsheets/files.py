"""Reading a file of the outside world with a bound on what it can cost.

Every reader of the library (YAML files, portfolios, attestations) goes through
`read_limited`: only a regular file is read (a FIFO would hang the reader, `/dev/zero`
or `/dev/urandom` would never end), and the size cap bounds the read itself, not a
`stat` taken before it. A file that cannot be read raises `UnreadableFile`, whose
message completes a sentence that starts with the file's name.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class UnreadableFile(Exception):
    """A file refsheets will not or cannot read; `reason` completes '<path> …'."""

    def __init__(self, reason: str, *, too_big: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.too_big = too_big


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def describe_os_error(exc: OSError | ValueError) -> str:
    """Why a path could not be opened, as the end of a sentence about it."""
    if isinstance(exc, ValueError):  # Python refuses a path holding a NUL byte
        return "has a NUL character in its name; rename it"
    if exc.errno == errno.ELOOP:
        return "is a symbolic link that loops (it points, in the end, at itself); fix the link"
    if exc.errno == errno.ENAMETOOLONG:
        return "has a name too long for the file system (255 bytes a name at most); shorten it"
    if exc.errno == errno.ENOENT:
        return "does not exist"
    if exc.errno == errno.EACCES:
        return "cannot be read: permission denied"
    return f"cannot be read: {exc.strerror or exc}"


def read_limited(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them.

    Raises UnreadableFile when the path is not a regular file (after symbolic links),
    cannot be opened, or holds more than `limit` bytes (`too_big` is then set).
    """
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError) as exc:
        raise UnreadableFile(describe_os_error(exc)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableFile(
                f"is {_kind(mode)}, not a regular file; refsheets reads only regular "
                "files: put the file itself here"
            )
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(describe_os_error(exc)) from None
    finally:
        os.close(fd)
    if size > limit:
        raise UnreadableFile(f"is over the limit of {_size(limit)}", too_big=True)
    return b"".join(chunks)


def _size(count: int) -> str:
    if count >= 1024 * 1024:
        return f"{count // (1024 * 1024)} MiB"
    return f"{count // 1024} KiB"
