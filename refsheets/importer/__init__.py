"""Importing an existing portfolio (.txt, .md, .pdf, .docx) into the library.

`import_portfolio(path, out_dir)` reads the portfolio, cuts it into missions, checks
every draft, then writes one YAML file per mission and returns an `ImportReport`: for
each mission the file, what became of it, the facts found and the facts missing.

Nothing is written when the input cannot be read as a portfolio. Existing files are
kept unless `force=True`; a file already holding the same text is left untouched, so
importing the same portfolio twice changes nothing. A mission already in the folder
under another name (same title and client) is not written twice.
"""

from __future__ import annotations

import contextlib
import difflib
import enum
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from refsheets.errors import Diagnostic, NotFoundError, RefsheetsError
from refsheets.files import UnreadableFile, read_limited
from refsheets.importer.extract import Line, extract_lines
from refsheets.importer.parse import Draft, parse_portfolio
from refsheets.importer.write import file_stems, render_mission
from refsheets.model import Entity, Mission, Period, read_amount
from refsheets.output import cannot_write
from refsheets.taxonomy import Taxonomy, fold
from refsheets.yamlfile import read_source

__all__ = [
    "Draft",
    "ImportReport",
    "ImportStatus",
    "ImportedMission",
    "Line",
    "import_into_library",
    "import_portfolio",
]


class ImportStatus(enum.Enum):
    """What the import did with one mission's file."""

    WRITTEN = "written"  # a new file
    OVERWRITTEN = "overwritten"  # an existing file replaced, with force
    UNCHANGED = "unchanged"  # the file already holds exactly this text
    KEPT = "kept"  # an existing, different file left alone (no force)
    DUPLICATE = "duplicate"  # the mission is already in the folder under another name


@dataclass(frozen=True)
class ImportedMission:
    """One mission of the portfolio and the file it went to."""

    draft: Draft
    path: Path
    status: ImportStatus
    text: str
    duplicate_of: Path | None = None

    @property
    def found(self) -> list[str]:
        """Short labels of the facts the portfolio gives."""
        return self.draft.found()

    @property
    def missing(self) -> dict[str, str]:
        """The facts the portfolio does not give, each with the reason."""
        return dict(self.draft.missing)

    @property
    def loads(self) -> bool:
        """False when the file lacks a title or a client name and will not load yet."""
        return self.draft.title is not None and self.draft.client is not None


@dataclass(frozen=True)
class ImportReport:
    """What an import read and wrote."""

    source: Path
    out_dir: Path
    missions: tuple[ImportedMission, ...]
    dry_run: bool = False

    def count(self, status: ImportStatus) -> int:
        """How many missions ended with `status`."""
        return sum(1 for mission in self.missions if mission.status is status)

    @property
    def changed(self) -> list[Path]:
        """The files written or overwritten (or that would be, in a dry run)."""
        return [
            m.path
            for m in self.missions
            if m.status in (ImportStatus.WRITTEN, ImportStatus.OVERWRITTEN)
        ]

    @property
    def to_complete(self) -> list[ImportedMission]:
        """Missions whose file needs a title or client name before it loads."""
        return [m for m in self.missions if not m.loads and m.status is not ImportStatus.DUPLICATE]


def import_portfolio(
    path: Path | str,
    out_dir: Path | str,
    *,
    force: bool = False,
    dry_run: bool = False,
    taxonomy: Taxonomy | None = None,
    entities: Mapping[str, Entity] | None = None,
) -> ImportReport:
    """Import the portfolio at `path` as mission files in `out_dir`.

    `entities` maps the brands of the page footers to entity keys (without it, a brand
    "POP Café" becomes the key `pop-cafe`); `taxonomy` lets the report flag tags it does
    not know (tags are written as the portfolio writes them, and resolved when loaded).
    Raises RefsheetsError, before writing anything, when the input is not a portfolio.
    """
    source = Path(path)
    target = Path(out_dir)
    if target.exists() and not target.is_dir():
        raise RefsheetsError(f"{target} is a file; give a folder with --out")
    lines = extract_lines(source)
    drafts = parse_portfolio(lines, source=source, entities=entities)
    _validate(drafts, source)
    if taxonomy is not None and len(taxonomy.tags):
        for draft in drafts:
            unknown = [tag for tag in draft.tags if taxonomy.resolve(tag) is None]
            if unknown:
                draft.remarks.append("tags not in tags.yaml: " + ", ".join(unknown))
    existing = _existing_missions(target)
    planned: list[ImportedMission] = []
    claimed: set[Path] = set()
    for draft, stem in zip(drafts, file_stems(drafts), strict=True):
        text = render_mission(draft)
        file = _own_file(target, stem, draft, existing, claimed)
        claimed.add(file)
        planned.append(_plan(draft, file, text, existing, force=force))
    if not dry_run:
        _write_all(
            [
                (m.path, m.text)
                for m in planned
                if m.status in (ImportStatus.WRITTEN, ImportStatus.OVERWRITTEN)
            ]
        )
    return ImportReport(source, target, tuple(planned), dry_run)


def import_into_library(
    path: Path | str,
    library_root: Path | str,
    *,
    out_dir: Path | str | None = None,
    force: bool = False,
    dry_run: bool = False,
    init: bool = False,
) -> ImportReport:
    """Import into a library: its brands and tags are used, its missions folder by default.

    `out_dir` that is itself a library (or `init`) means that library's missions/;
    `init` creates the library first (`refsheets init`) when it does not exist yet.
    """
    from refsheets.library import MISSIONS_DIR, load_library
    from refsheets.settings import SETTINGS_FILE

    root = Path(library_root)
    if out_dir is not None:
        target = Path(out_dir)
        if init or (target / MISSIONS_DIR).is_dir() or (target / SETTINGS_FILE).is_file():
            root, out_dir = target, None
    if init and not (root / MISSIONS_DIR).is_dir() and not dry_run:
        from refsheets.init import init_library

        init_library(root)
    taxonomy: Taxonomy | None = None
    entities: Mapping[str, Entity] | None = None
    with contextlib.suppress(NotFoundError):  # a new library: no missions folder yet
        library = load_library(root)
        taxonomy, entities = library.taxonomy, library.entities or None
    return import_portfolio(
        path,
        Path(out_dir) if out_dir is not None else root / MISSIONS_DIR,
        force=force,
        dry_run=dry_run,
        taxonomy=taxonomy,
        entities=entities,
    )


def _validate(drafts: list[Draft], source: Path) -> None:
    """Check every draft against the mission model before anything is written."""
    problems: list[Diagnostic] = []
    for draft in drafts:
        data = draft.to_data()
        # The gaps the report lists are filled for the check only: the file keeps them.
        data["title"] = data["title"] or "-"
        data["client"]["name"] = data["client"]["name"] or "-"
        try:
            Mission.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                where = ".".join(str(part) for part in error["loc"])
                problems.append(
                    Diagnostic(
                        source,
                        f"{draft.label}: {where}: {error['msg']}",
                        draft.start.line,
                    )
                )
    if problems:
        raise RefsheetsError(
            f"{len(problems)} problem(s) in {source}; nothing was imported", problems
        )


def _existing_missions(folder: Path) -> dict[Path, dict[str, Any]]:
    """The mission files already in `folder`, parsed loosely (broken ones are skipped)."""
    found: dict[Path, dict[str, Any]] = {}
    if not folder.is_dir():
        return found
    for file in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        # Read as the library reads: bounded, regular files only (a FIFO would hang).
        source, _ = read_source(file)
        if source is not None:
            found[file] = source.data
    return found


def _same_mission(draft: Draft, data: dict[str, Any]) -> bool:
    """True when a file already holds the mission the draft describes: recognised by its
    facts (title, client, amount, years), whatever the file is called."""

    def norm(value: Any) -> str:
        return " ".join(fold(value).split()) if isinstance(value, str) else ""

    client = data.get("client")
    client_name = norm(client.get("name") if isinstance(client, dict) else None)
    title = norm(data.get("title"))
    if not draft.title:
        return draft.context is not None and norm(draft.context) == norm(data.get("context"))
    title_likeness = difflib.SequenceMatcher(None, norm(draft.title), title).ratio()
    same_client = draft.client is None or _alike(norm(draft.client), client_name)
    if title_likeness == 1.0 and same_client:
        return True
    facts = 0  # the amount and the years, when both sides give them
    amount, years = _amount_of(draft.budget), _years_of(draft.period)
    if amount is not None and amount == _amount_of(data.get("budget")):
        facts += 1
    if years is not None and years == _years_of(data.get("period")):
        facts += 1
    # A retitled mission ("Village du futur – Réinventer les ruralités !" kept as
    # "Village du futur") is the same when its client and facts agree.
    return same_client and (title_likeness >= 0.8 or (title_likeness >= 0.4 and facts >= 1))


def _alike(one: str, other: str) -> bool:
    """Two client names for one client: equal, one inside the other, or nearly equal."""
    if not one or not other:
        return False
    return (
        one == other
        or one in other
        or other in one
        or difflib.SequenceMatcher(None, one, other).ratio() >= 0.85
    )


def _amount_of(value: Any) -> int | None:
    try:
        data = read_amount(value)
    except ValueError:
        return None
    amount = data.get("amount") if isinstance(data, dict) else None
    return amount if isinstance(amount, int) else None


def _years_of(value: Any) -> tuple[int | None, int | None] | None:
    if value is None:
        return None
    try:
        period = Period.model_validate(value)
    except (ValidationError, ValueError):
        return None
    return (
        period.start.year if period.start else None,
        period.end.year if period.end else None,
    )


def _own_file(
    target: Path,
    stem: str,
    draft: Draft,
    existing: dict[Path, dict[str, Any]],
    claimed: set[Path],
) -> Path:
    """The draft's file: `stem`, or `stem-2`, `-3`… when that name already holds another
    mission of the library (an id never names two missions, and --force never overwrites
    a different one)."""
    file, n = target / f"{stem}.yaml", 1
    while file in claimed or (file in existing and not _same_mission(draft, existing[file])):
        n += 1
        file = target / f"{stem}-{n}.yaml"
    return file


def _plan(
    draft: Draft,
    file: Path,
    text: str,
    existing: dict[Path, dict[str, Any]],
    *,
    force: bool,
) -> ImportedMission:
    if file.exists() or file.is_symlink():
        try:
            same = read_limited(file, len(text.encode()) + 1).decode() == text
        except (UnreadableFile, UnicodeDecodeError):
            same = False
        if same:
            return ImportedMission(draft, file, ImportStatus.UNCHANGED, text)
        status = ImportStatus.OVERWRITTEN if force else ImportStatus.KEPT
        return ImportedMission(draft, file, status, text)
    for other, data in existing.items():
        if other != file and _same_mission(draft, data):
            return ImportedMission(draft, file, ImportStatus.DUPLICATE, text, duplicate_of=other)
    return ImportedMission(draft, file, ImportStatus.WRITTEN, text)


def _write_all(files: list[tuple[Path, str]]) -> None:
    """Write every file, or none: all are staged beside their target, then renamed."""
    if not files:
        return
    staged: list[tuple[Path, Path]] = []
    target = files[0][0]
    try:
        for target, text in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((Path(name), target))  # before writing: a failed write is removed
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.chmod(name, 0o644)
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        hint = "free some space, or import into a folder you can write to (--out)"
        raise cannot_write(target, exc, hint=hint) from None
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
