"""`refsheets init DIR`: a working library of one's own, apart from the tool.

missions/, tags.yaml (the default taxonomy), entities.yaml, tenders/, the JSON Schemas
where the files' `$schema` lines point (`../mission.schema.json` from a mission,
`tender.schema.json` from a tender), a README for its owner and `refsheets.yaml`, which
marks the folder so that refsheets finds it from anywhere below.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

from refsheets.errors import NotFoundError, RenderError, UsageError
from refsheets.library import ENTITIES_FILE, MISSIONS_DIR, SCHEMA_FILE, TAGS_FILE
from refsheets.output import write_atomic
from refsheets.schema import schema_text
from refsheets.settings import SETTINGS_FILE

TENDERS_DIR = "tenders"
TENDER_SCHEMA_FILE = "tender.schema.json"


def _skeleton(name: str) -> str:
    return resources.files("refsheets").joinpath("skeleton", name).read_text(encoding="utf-8")


def init_library(root: Path, *, name: str | None = None) -> list[Path]:
    """Create a library at `root` (an empty or new folder); return the files written.

    Refuses a folder that already holds a library (its files are never overwritten).
    """
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file; give a folder for the new library")
    for marker in (SETTINGS_FILE, MISSIONS_DIR, TAGS_FILE):
        if (root / marker).exists():
            raise UsageError(
                f"{root} already holds a library ({marker} is there); nothing was changed"
            )
    title = name or root.resolve().name
    files = {
        SETTINGS_FILE: _skeleton("refsheets.yaml").replace("{name_yaml}", json.dumps(title)),
        "README.md": _skeleton("README.md").replace("{name}", title),
        ".gitignore": _skeleton("gitignore"),
        TAGS_FILE: _skeleton("tags.yaml"),
        ENTITIES_FILE: _skeleton("entities.yaml"),
        SCHEMA_FILE: schema_text("mission"),
        f"{TENDERS_DIR}/{TENDER_SCHEMA_FILE}": schema_text("tender"),
        # git keeps no empty folder: these keep missions/ in a fresh clone of the library.
        f"{MISSIONS_DIR}/.gitkeep": "",
    }
    written = []
    try:
        for relative, text in files.items():
            target = root / relative
            write_atomic(target, text.encode("utf-8"))
            written.append(target)
    except OSError as exc:
        raise RenderError(f"cannot create the library in {root}: {exc.strerror or exc}") from None
    return written


_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DRAFT_ID = "nouvelle-mission"


def new_mission(library_root: Path, mission_id: str | None = None) -> Path:
    """Write a mission template (every key, French comments, TODO placeholders) into the
    library's missions/; return its path. Without an id, `nouvelle-mission` (then -2, -3…),
    to be renamed to the library's scheme (`2025-client-sujet`)."""
    missions = Path(library_root) / MISSIONS_DIR
    if not missions.is_dir():
        raise NotFoundError(
            f"{library_root} is not a refsheets library: it has no '{MISSIONS_DIR}/' folder "
            "(create one with `refsheets init DIR`)"
        )
    if mission_id is None:
        taken = {p.stem for p in missions.glob("*.y*ml")}
        mission_id = next(
            candidate
            for n in range(1, len(taken) + 2)
            if (candidate := DRAFT_ID if n == 1 else f"{DRAFT_ID}-{n}") not in taken
        )
    _check_name(mission_id, "mission id", "2025-commune-tiers-lieu")
    return _write_new(missions / f"{mission_id}.yaml", _skeleton("mission.yaml"))


def new_tender(tenders: Path, name: str) -> Path:
    """Write a tender template into `tenders` (with its schema beside it, for editors);
    return its path."""
    _check_name(name, "tender name", "val-de-canche-amo")
    schema = tenders / TENDER_SCHEMA_FILE
    if not schema.exists():
        _write(schema, schema_text("tender"))
    return _write_new(tenders / f"{name}.yaml", _skeleton("tender.yaml"))


def _check_name(name: str, what: str, example: str) -> None:
    if not _ID.match(name):
        raise UsageError(
            f"'{name}' is not a {what}: use lower-case letters, digits and hyphens "
            f"(e.g. {example}); it names the file and the outputs"
        )


def _write_new(target: Path, text: str) -> Path:
    if target.exists():
        raise UsageError(f"{target} already exists; nothing was changed (choose another name)")
    _write(target, text)
    return target


def _write(target: Path, text: str) -> None:
    try:
        write_atomic(target, text.encode("utf-8"))
    except OSError as exc:
        raise RenderError(f"cannot write {target}: {exc.strerror or exc}") from None
