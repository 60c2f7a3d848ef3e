"""The card cache: rendered cards kept by the hash of everything that shapes them.

The key covers the mission as validated, the photos' bytes, every file of the layout
(and of the layouts it extends), the fonts, the language and the tool's version; so the
cache is never wrong, only sometimes cold. Entries are written atomically.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from refsheets import __version__
from refsheets.model import Mission
from refsheets.output import write_atomic


def hash_files(paths: Iterable[Path]) -> str:
    """One digest over the names and bytes of `paths` (folders walked, sorted)."""
    digest = hashlib.sha256()
    files: list[Path] = []
    for path in paths:
        files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(str(file.name).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def card_key(
    mission_id: str,
    mission: Mission,
    *,
    library_root: Path,
    environment: str,
    lang: str,
    fmt: str,
) -> str:
    """The cache key of one card in one format."""
    digest = hashlib.sha256()
    payload = {
        "id": mission_id,
        "mission": mission.model_dump(mode="json"),
        "lang": lang,
        "format": fmt,
        "version": __version__,
        "environment": environment,
    }
    digest.update(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode())
    for photo in mission.photos:
        digest.update((library_root / photo.path).read_bytes())
    return digest.hexdigest()


class CardCache:
    """Rendered cards on disk, by key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str, fmt: str) -> Path:
        return self.folder / key[:2] / f"{key}.{fmt}"

    def get(self, key: str, fmt: str) -> bytes | None:
        """The cached bytes, or None."""
        path = self._path(key, fmt)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def put(self, key: str, fmt: str, data: bytes) -> None:
        """Store bytes under `key`."""
        write_atomic(self._path(key, fmt), data)

    def clear(self) -> int:
        """Remove every entry; return how many there were."""
        if not self.folder.exists():
            return 0
        count = sum(1 for p in self.folder.rglob("*") if p.is_file())
        shutil.rmtree(self.folder)
        return count
