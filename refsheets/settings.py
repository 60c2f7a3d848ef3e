"""A library's own settings (`refsheets.yaml`), and finding the library to work on.

A folder with a `refsheets.yaml` is a library made by `refsheets init`; like git, a
command run anywhere below it works on it. The file holds the library's settings (its
name, how often each mission should be reviewed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from refsheets import french
from refsheets.model import Strict, Text

SETTINGS_FILE = "refsheets.yaml"
DEFAULT_LIBRARY = Path("data")
"""The demo library, used when no library is given nor found."""


def _read_months(value: Any) -> Any:
    return french.parse_months(value) if isinstance(value, str | int) else value


Months = Annotated[int, BeforeValidator(_read_months, json_schema_input_type=int | str)]


class LibrarySettings(Strict):
    """`refsheets.yaml`: what a library says about itself."""

    name: Text | None = None
    language: Literal["fr", "en"] = Field(
        default="fr",
        description="The language of the library's own reports (`refsheets review`): fr or en.",
    )
    review_period: Months = Field(
        default=12,
        description="How often each mission should be reviewed, in months ('12 mois', "
        "'6 months', '1 an'): `refsheets review` flags the ones reviewed longer ago.",
    )


def find_library(start: Path) -> Path | None:
    """The nearest folder at or above `start` that holds a `refsheets.yaml`, if any."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / SETTINGS_FILE).is_file():
            return folder
    return None


def resolve_library(given: Path | None, cwd: Path) -> Path:
    """The library a command works on: the one given (`--library`, REFSHEETS_LIBRARY),
    else the one found from `cwd` upwards, else the demo library `data/`."""
    if given is not None:
        return given
    found = find_library(cwd)
    if found is None:
        return DEFAULT_LIBRARY
    # Shown relative when it is below the current folder, as the user would type it.
    return Path(".") if found == cwd.resolve() else _relative_or_absolute(found, cwd)


def _relative_or_absolute(path: Path, cwd: Path) -> Path:
    try:
        return path.relative_to(cwd.resolve())
    except ValueError:
        return path


def tenders_dir(library_root: Path) -> Path:
    """Where the library's tender files live: `tenders/` inside a library made by `init`,
    else `tenders/` in the current folder (the demo's layout)."""
    inside = library_root / "tenders"
    return inside if inside.is_dir() else Path("tenders")
