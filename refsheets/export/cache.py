"""The card cache: rendered cards kept under a key derived from what the renderer reads.

The API is small:

- `environment_digest(layout)`: everything a render reads besides the card itself: the
  files of the layout and of the layouts it extends, the font faces, refsheets' own code
  and version. Computed once per export.
- `card_key(card, environment=…, fmt=…)`: the key of one card in one format (`card_keys`:
  in several at once). The renderers (PDF and Word) receive a `Card` and a `Layout`,
  nothing else; the key is a digest of the whole `Card` object, walked field by field
  (`fingerprint`), files it names (photos) taken by their bytes. A field added to `Card`
  later is in the key without anyone having to remember it, and a value of a type the
  walk does not know is an error, not a silent gap.
- `CardCache(folder)`: `get(key, fmt)`, `put(key, fmt, data)`, `clear()`, `shared()`
  (held by an export while it reads and writes; `clear` needs it exclusively), and
  `warnings` (the bad entries it dropped).

Each entry on disk carries its own header: the key it was stored under, the payload's
length and SHA-256. An entry is used only when all three match; a truncated, emptied or
swapped entry (a valid card of another mission copied over it) is dropped, with a
warning, and the card is rendered again. Entries are opened without following links, and
only regular files are read: a link or a folder planted in the cache is removed, never
followed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import functools
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from refsheets import __version__
from refsheets.errors import RenderError
from refsheets.layouts import Layout
from refsheets.output import write_atomic

_MAGIC = b"refsheets-cache/1"
MAX_ENTRY_BYTES = 256 * 1024 * 1024  # far above any card; a planted huge file is not read
_PACKAGE = Path(__file__).resolve().parent.parent


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _canonical(value: Any) -> Any:
    """A JSON-ready, order-stable view of `value`; files named by a Path go by their bytes."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Path):
        if value.is_file():
            return {"file": value.name, "sha256": _file_digest(value)}
        if value.is_dir():
            return {
                "folder": value.name,
                "files": {
                    p.relative_to(value).as_posix(): _file_digest(p)
                    for p in sorted(value.rglob("*"))
                    if p.is_file()
                },
            }
        return {"missing": str(value)}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "@": type(value).__name__,
            **{f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, BaseModel):
        return {"@": type(value).__name__, **value.model_dump(mode="json")}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((_canonical(item) for item in value), key=repr)
    # A new kind of value reached the renderer: say so rather than leave it out of the key.
    raise TypeError(f"the cache key cannot take a {type(value).__name__}; teach _canonical it")


def fingerprint(value: Any) -> str:
    """The SHA-256 of `value`'s canonical form (dataclasses walked, files by their bytes)."""
    text = json.dumps(_canonical(value), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def code_digest() -> str:
    """refsheets' version and own source: a change of how cards are drawn is a change of
    every card."""
    return hashlib.sha256(f"{__version__}\0{_source_digest()}".encode()).hexdigest()


@functools.cache
def _source_digest() -> str:
    """The digest of refsheets' source files, read once per process: the code a process
    runs is the code it imported (a process that lives on, such as `preview`, keeps
    running it even when the files change)."""
    digest = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def environment_digest(layout: Layout) -> str:
    """What every render of `layout` reads besides the card: the layout (its folder and
    the folders it extends, every file), the brand as loaded, the font faces, the code."""
    return fingerprint(
        {
            "layout": layout.name,
            "brand": layout.brand,
            "chain": list(layout.chain),
            "fonts": [face.path for face in layout.font_files],
            "code": code_digest(),
        }
    )


def card_key(card: Any, *, environment: str, fmt: str) -> str:
    """The cache key of one card (a `Card`) in one format."""
    return card_keys(card, environment=environment, fmts=[fmt])[fmt]


def card_keys(card: Any, *, environment: str, fmts: Sequence[str]) -> dict[str, str]:
    """`card_key` of one card in each of `fmts`, the card walked (and its photos hashed)
    once: the same keys, an export asks for two or three formats of every card."""
    walked = json.dumps(_canonical(card), sort_keys=True, ensure_ascii=False)
    around = json.dumps(environment, ensure_ascii=False)
    # The text `fingerprint` makes of {"card", "environment", "format"}: its keys sorted,
    # json.dumps' default separators.
    return {
        fmt: hashlib.sha256(
            f'{{"card": {walked}, "environment": {around}, '
            f'"format": {json.dumps(fmt, ensure_ascii=False)}}}'.encode()
        ).hexdigest()
        for fmt in fmts
    }


def derived_key(environment: str, kind: str, *parts: str) -> str:
    """The key of an entry derived from a card or a layout's files besides the cards
    themselves (a font subset, a card's font facts): `kind` and `parts`, under the
    environment (the layout's files and refsheets' code)."""
    payload = "\0".join([environment, kind, *parts])
    return hashlib.sha256(payload.encode()).hexdigest()


def _header(key: str, data: bytes) -> bytes:
    digest = hashlib.sha256(data).hexdigest()
    return b"%s %s %d %s\n" % (_MAGIC, key.encode("ascii"), len(data), digest.encode("ascii"))


# What follows a bad entry dropped, by kind (cards, font subsets, a card's font facts).
_AGAIN = {".ttf": "the font subset is cut again", ".fonts": "the card's fonts are read again"}


class CardCache:
    """Rendered cards on disk, by key; every entry checked on read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.warnings: list[str] = []
        self.dropped = 0

    def _path(self, key: str, fmt: str) -> Path:
        if not key.isalnum() or not fmt.isalnum():
            raise ValueError(f"not a cache key: {key!r}.{fmt!r}")
        return self.folder / key[:2] / f"{key}.{fmt}"

    def _drop(self, path: Path, why: str) -> None:
        """Remove a bad entry (a link is removed, never followed) and say so."""
        self.dropped += 1
        again = _AGAIN.get(path.suffix, "the card is rendered again")
        self.warnings.append(f"cache entry {path} {why}: dropped, {again}")
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()

    def _shard(self, key: str) -> Path | None:
        """The entry's folder when it is a real folder (a planted link is removed)."""
        shard = self.folder / key[:2]
        try:
            mode = shard.lstat().st_mode
        except FileNotFoundError:
            return None
        if stat.S_ISDIR(mode):
            return shard
        self._drop(shard, "is not a folder")
        return None

    def get(self, key: str, fmt: str) -> bytes | None:
        """The cached bytes, or None (absent, or bad and dropped)."""
        path = self._path(key, fmt)
        if self._shard(key) is None:
            return None
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
                self._drop(path, "is a link or a folder")
                return None
            raise
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ENTRY_BYTES:
            os.close(fd)
            kind = "is not a regular file" if not stat.S_ISREG(info.st_mode) else "is too large"
            self._drop(path, kind)
            return None
        with os.fdopen(fd, "rb") as handle:
            header = handle.readline(len(_MAGIC) + 200)
            payload = handle.read()
        parts = header.rstrip(b"\n").split(b" ")
        if len(parts) != 4 or parts[0] != _MAGIC or not header.endswith(b"\n"):
            self._drop(path, "is damaged (no valid header)")
            return None
        if parts[1] != key.encode("ascii"):
            self._drop(path, "holds another card than its name says")
            return None
        if (
            parts[2] != b"%d" % len(payload)
            or hashlib.sha256(payload).hexdigest().encode("ascii") != parts[3]
        ):
            self._drop(path, "is damaged (its digest does not match)")
            return None
        return payload

    def put(self, key: str, fmt: str, data: bytes) -> None:
        """Store bytes under `key`, with their digest (atomically)."""
        path = self._path(key, fmt)
        self._shard(key)  # a link planted as the entry's folder goes before writing
        if path.is_dir() and not path.is_symlink():
            self._drop(path, "is a folder")
        write_atomic(path, _header(key, data) + data)

    def check_usable(self) -> None:
        """RenderError (exit 4, one line) when the cache folder cannot be used."""
        folder = self.folder
        try:
            if folder.exists() and not folder.is_dir():
                raise RenderError(
                    f"the card cache {folder} is not a folder; remove it (refsheets makes it "
                    "again) or export with another --out"
                )
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise RenderError(
                f"cannot write the card cache {folder}: {exc.strerror or exc}; make it "
                "writable, free some space, or export with another --out"
            ) from None

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        """Hold the cache for reading and writing; `clear` waits for nobody and refuses."""
        from refsheets.export.publish import hold_lock

        busy = f"the card cache {self.folder} is being cleared; export again in a moment"
        with hold_lock(self._lock_path(), exclusive=False, busy=busy):
            yield

    def _lock_path(self) -> Path:
        return self.folder.with_name(self.folder.name + ".lock")

    def clear(self) -> int:
        """Remove every entry; return how many there were. ExportBusyError (exit 5) while
        an export uses the cache."""
        from refsheets.export.publish import hold_lock

        if not self.folder.exists() and not self.folder.is_symlink():
            return 0
        busy = f"an export is using the card cache {self.folder}; clear it when no export runs"
        with hold_lock(self._lock_path(), exclusive=True, busy=busy):
            if self.folder.is_symlink() or not self.folder.is_dir():
                raise RenderError(
                    f"the card cache {self.folder} is not a folder; remove it yourself"
                )
            count = sum(1 for p in self.folder.rglob("*") if p.is_file())
            try:
                shutil.rmtree(self.folder)
            except OSError as exc:
                raise RenderError(
                    f"cannot clear the card cache {self.folder}: {exc.strerror or exc}"
                ) from None
            return count
