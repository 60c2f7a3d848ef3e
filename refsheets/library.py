"""The reference library: a folder of mission files, the taxonomy and our entities.

`load_library(root)` reads and validates everything in one pass and never stops at the
first problem: a broken file is reported and left out, the others load.
"""

from __future__ import annotations

import errno
import gc
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refsheets.attestation import attestation_problem
from refsheets.errors import Diagnostic, NotFoundError, did_you_mean, shorten
from refsheets.files import describe_os_error
from refsheets.french import fold
from refsheets.model import PRIVATE_FIELDS, Entities, Entity, Mission, states_basis
from refsheets.model import Taxonomy as TaxonomyFile
from refsheets.settings import SETTINGS_FILE, LibrarySettings
from refsheets.taxonomy import Taxonomy
from refsheets.todo import find_placeholders, without_placeholders
from refsheets.yamlfile import Source, line_of, read_source, validate_source, value_lines

if TYPE_CHECKING:
    from refsheets.search import DocumentTerms, PostingsSearch
    from refsheets.summary import MissionFacts

MISSIONS_DIR = "missions"
TAGS_FILE = "tags.yaml"
ENTITIES_FILE = "entities.yaml"
SCHEMA_FILE = "mission.schema.json"

# \Z, not $: "$" also matches before a final newline ("2021-evil\n" would pass).
_ID = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
_LOOP = OSError(errno.ELOOP, os.strerror(errno.ELOOP))


@dataclass
class Library:
    """Validated missions with what was found wrong on the way."""

    root: Path
    missions: dict[str, Mission]
    paths: dict[str, Path]
    taxonomy: Taxonomy
    entities: dict[str, Entity]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    search_words: dict[str, DocumentTerms | str] = field(default_factory=dict)
    """Missions' texts as terms for search (`select.mission_terms`), or as the library's
    index keeps them (`index.terms_from` reads them); a mission not here is analysed when
    searched."""
    notes: list[str] = field(default_factory=list)
    """What went wrong with the library's index (it was rebuilt; answers are unchanged)."""
    settings: LibrarySettings = field(default_factory=LibrarySettings)

    @property
    def errors(self) -> list[Diagnostic]:
        """Problems that kept a file out of the library."""
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        """Facts missing or doubtful in valid missions."""
        return [d for d in self.diagnostics if d.severity == "warning"]

    def get(self, mission_id: str) -> Mission:
        """The mission with that id, or a NotFoundError naming the closest ids."""
        try:
            return self.missions[mission_id]
        except KeyError:
            pass
        import difflib

        close = difflib.get_close_matches(mission_id, list(self.missions), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `refsheets list` shows them"
        if mission_id in self.paths:
            raise NotFoundError(f"mission '{mission_id}' is invalid; `refsheets check` says why")
        raise NotFoundError(f"no mission '{mission_id}' in {self.root}{hint}")

    def __iter__(self) -> Iterator[tuple[str, Mission]]:
        return iter(self.missions.items())

    def resolve_path(self, relative: str) -> Path:
        """A library-relative path (photo, attestation) as a path on disk."""
        return self.root / relative


def mission_files(folder: Path) -> list[Path]:
    """The mission files of `folder`: `*.yaml` then `*.yml`, each in name order (what
    `sorted(folder.glob(...))` gives, in one listing)."""
    return [folder / name for name in _mission_names(folder)]


def _mission_names(folder: Path) -> list[str]:
    names = os.listdir(folder)
    return [
        name
        for suffix in (".yaml", ".yml")
        for name in sorted(name for name in names if name.endswith(suffix))
    ]


def load_library(
    root: Path | str, *, index: bool = False, search: bool = True, rebuild: bool = False
) -> Library:
    """Read and validate every file of the library at `root`.

    Never raises for bad data: each problem becomes a diagnostic and the broken file is
    left out. Raises NotFoundError only when `root` has no missions folder at all.

    With `index`, what reading each unchanged file found last time is taken from the
    library's index (`refsheets.index`) instead of parsing it again: the same missions and
    diagnostics, in the same order; with `search`, the missions' texts split for search too
    (`search_words`), else a search splits them again. With `rebuild`, the index is
    written again even when no file changed (its summaries were found unusable).
    """
    root = Path(root)
    missions_dir = root / MISSIONS_DIR
    if not missions_dir.is_dir():
        raise NotFoundError(
            f"{root} is not a refsheets library: it has no '{MISSIONS_DIR}/' folder "
            "(give the library with --library DIR or REFSHEETS_LIBRARY, run refsheets inside "
            "one, or create one with `refsheets init DIR`)"
        )
    diagnostics: list[Diagnostic] = []
    settings_file = root / SETTINGS_FILE
    settings = None
    if settings_file.is_file():
        settings = _load_model(settings_file, LibrarySettings, diagnostics)
    settings = settings or LibrarySettings()
    taxonomy = _load_taxonomy(root, diagnostics)
    entities = _load_entities(root, diagnostics)
    missions: dict[str, Mission] = {}
    paths: dict[str, Path] = {}
    words: dict[str, DocumentTerms | str] = {}
    cache = None
    if index:
        from refsheets.index import MissionIndex, key_of
        from refsheets.select import mission_terms

        # A rebuild makes the terms again too: the index's may be the ones that were wrong.
        cache = MissionIndex.open(
            root, [root / TAGS_FILE, root / ENTITIES_FILE], words=search and not rebuild
        )
        if rebuild:
            cache.changed = True
    for path in mission_files(missions_dir):
        mission_id = path.stem
        paths[mission_id] = path
        if cache is None:
            mission = _load_mission(path, mission_id, root, taxonomy, entities, diagnostics)
        elif (found := cache.lookup(path)) is not None:
            mission = found.mission
            diagnostics.extend(found.diagnostics)
            if found.words is not None:
                words[mission_id] = found.words
            elif search and mission is not None:
                # Kept by a command that did not search: split now, and keep the words.
                split = mission_terms(taxonomy, mission)
                words[mission_id] = split
                cache.keep_words(path, split)
        else:
            key = key_of(path)
            before = len(diagnostics)
            mission = _load_mission(path, mission_id, root, taxonomy, entities, diagnostics)
            kept = None
            if mission is not None:
                kept = words[mission_id] = mission_terms(taxonomy, mission)
            cache.record(path, key, mission, diagnostics[before:], kept)
        if mission is not None:
            missions[mission_id] = mission
    notes: list[str] = []
    if cache is not None:
        cache.save()
        notes = cache.notes
    return Library(root, missions, paths, taxonomy, entities, diagnostics, words, notes, settings)


@dataclass
class Summaries:
    """The library as `list` and `pick` read it: each valid mission's facts
    (`summary.MissionFacts`), and the problems that kept files out."""

    root: Path
    missions: dict[str, MissionFacts]
    taxonomy: Taxonomy
    entities: dict[str, Entity]
    errors: list[Diagnostic]
    """Problems that kept a file out of the library (its warnings are `check`'s)."""
    search_words: dict[str, DocumentTerms | str] = field(default_factory=dict)
    """As `Library.search_words`: every mission's, when read with `search`."""
    notes: list[str] = field(default_factory=list)
    """What went wrong with the library's index (answers are unchanged)."""
    postings: PostingsSearch | None = None
    """Read with a query: the search of it from the index's inverted lists (then
    `search_words` holds only the missions the lists do not cover)."""

    @classmethod
    def of(cls, library: Library) -> Summaries:
        """The summaries of a library read whole (the missions are their own facts)."""
        missions: dict[str, MissionFacts] = dict(library.missions)
        return cls(
            library.root,
            missions,
            library.taxonomy,
            library.entities,
            library.errors,
            library.search_words,
            library.notes,
        )

    def __iter__(self) -> Iterator[tuple[str, MissionFacts]]:
        return iter(self.missions.items())


def load_summaries(
    root: Path | str, *, search: bool = False, query: str | None = None
) -> Summaries:
    """The library at `root` as `list` and `pick` need it, from its index's summaries.

    With `search` and a `query` (a pick's free text), the missions' words are not read:
    the inverted lists of the query's terms are (`Summaries.postings`), in the same read
    of the index as the summaries.

    A file the index summarised (same size, mtime, ctime, inode and device; with
    `search`, its terms kept too) is not read and no mission is built for it. A file the
    index never keeps (a mission with photos, one changed seconds ago) is read as
    `load_library` reads it. Any other file not summarised (added, changed), or an index
    missing, stale or damaged, and the library is read through `load_library`, which
    writes the index again: the same facts either way. A summary that does not decode is
    noted, and the index rebuilt.
    """
    # 50,000 summaries are hundreds of thousands of small containers without a cycle: the
    # cyclic collector would walk them again at each of its passes (a third of the time
    # of a read of 50,000). It is paused while they are made (not while a library is read
    # whole: parsing YAML makes garbage), and restored after.
    paused = gc.isenabled()
    gc.disable()
    try:
        found = _read_summaries(root, search=search, query=query)
    finally:
        if paused:
            gc.enable()
    if isinstance(found, Summaries):
        return found
    problem = found[0]
    summaries = Summaries.of(
        load_library(root, index=True, search=search, rebuild=problem is not None)
    )
    if problem is not None and not summaries.notes:  # else the whole read said why
        from refsheets.index import index_path

        note = f"the library's index {index_path(Path(root))} {problem}; it is rebuilt"
        summaries.notes.insert(0, note)
    return summaries


def _read_summaries(
    root: Path | str, *, search: bool, query: str | None = None
) -> Summaries | tuple[str | None]:
    """The summaries of `load_summaries`, or (why the index must be rebuilt, or None) when
    the library must be read whole."""
    from refsheets.index import MissionIndex, diagnostics_from, key_of, terms_from
    from refsheets.search import PostingsSearch, QueryTerms, SearchIndex, query_names
    from refsheets.select import mission_terms
    from refsheets.summary import summary_from

    root = Path(root)
    missions_dir = root / MISSIONS_DIR
    if not missions_dir.is_dir():
        return Summaries.of(load_library(root, index=True, search=search))  # says why
    diagnostics: list[Diagnostic] = []
    settings_file = root / SETTINGS_FILE
    if settings_file.is_file():
        _load_model(settings_file, LibrarySettings, diagnostics)
    taxonomy = _load_taxonomy(root, diagnostics)
    entities = _load_entities(root, diagnostics)
    inverted = search and query is not None
    names = query_names(QueryTerms.parse(query)) if query is not None else None
    cache = MissionIndex.open(
        root,
        [root / TAGS_FILE, root / ENTITIES_FILE],
        words=search and not inverted,
        summaries=True,
        postings=names,
    )
    ids: list[str | None] = [None] * cache.documents
    lengths: dict[str, float] = {}
    missions: dict[str, MissionFacts] = {}
    words: dict[str, DocumentTerms | str] = {}
    if cache.dropped is not None:
        # Damaged where only summaries are read (their rows, the inverted lists): the
        # whole read may find nothing wrong with the rest, and must write it again.
        return (cache.dropped,)
    stale = not cache.entries or bool(cache.notes)  # none yet, or to rebuild: load_library
    problem = None
    entries = cache.entries
    # Each file's stat taken in the folder opened once (no path to build and walk again).
    folder = os.open(missions_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in _mission_names(missions_dir) if not stale else ():
            entry = entries.get(name)
            key = key_of(name, dir_fd=folder)
            stem = name.rpartition(".")[0]
            # A mission whose words the index does not hold is read (and the index written
            # again with them) when a search needs them.
            unsearchable = (
                entry is not None
                and bool(entry.summary)
                and (entry.length is None if inverted else search and entry.words is None)
            )
            if entry is None or key != entry.key or unsearchable:
                path = missions_dir / name
                found: list[Diagnostic] = []
                mission = _load_mission(path, path.stem, root, taxonomy, entities, found)
                terms = mission_terms(taxonomy, mission) if mission is not None else None
                if cache.entry_for(path, key, mission, found, terms) is not None:
                    stale = True  # a file the index should keep: read the library and keep it
                    break
                diagnostics.extend(found)
                if mission is not None:
                    missions[stem] = mission
                    if search and terms is not None:
                        words[stem] = terms
                continue
            try:
                if entry.summary is None:
                    # An invalid file: its errors are shown; an entry without them is not ours.
                    read = diagnostics_from(missions_dir / name, entry.diagnostics)
                    errors = [d for d in read if d.severity == "error"]
                    if not errors:
                        raise ValueError("neither a mission nor an error")
                    diagnostics.extend(errors)
                    continue
                missions[stem] = summary_from(entry.summary)
                if inverted and entry.length is not None:
                    ids[entry.number] = stem
                    lengths[stem] = entry.length
                elif search and entry.words is not None:
                    words[stem] = terms_from(entry.words)
            except (ValueError, TypeError, RecursionError):
                problem = f"holds an entry of {name[:60]!r} that does not decode"
                break
    finally:
        os.close(folder)
    if stale or problem is not None:
        return (problem,)
    errors = [d for d in diagnostics if d.severity == "error"]
    summaries = Summaries(root, missions, taxonomy, entities, errors, words, cache.notes)
    if inverted and cache.postings is not None and names is not None:
        fresh = SearchIndex.from_terms({k: v for k, v in words.items() if not isinstance(v, str)})
        summaries.postings = PostingsSearch(cache.postings, ids, lengths, fresh, frozenset(names))
    return summaries


def _load_taxonomy(root: Path, diagnostics: list[Diagnostic]) -> Taxonomy:
    path = root / TAGS_FILE
    if not path.exists():
        return Taxonomy([])
    data = _load_model(path, TaxonomyFile, diagnostics)
    if not data:
        return Taxonomy([])
    taxonomy = Taxonomy.from_file(data)
    if taxonomy.clashes:
        source, _ = read_source(path)
        assert source is not None  # it was read a moment ago
        for name, first, other in taxonomy.clashes:
            definition = data.tags[other]
            loc: tuple[str | int, ...] = (
                ("tags", other, "aliases", definition.aliases.index(name))
                if name in definition.aliases
                else ("tags", other)
            )
            diagnostics.append(
                _diag(
                    source,
                    loc,
                    f"'{name}' also names the tag '{first}' (case, accents, hyphens and "
                    "plurals aside): a tag name must name one tag; remove or change one",
                )
            )
    return taxonomy


def _load_entities(root: Path, diagnostics: list[Diagnostic]) -> dict[str, Entity]:
    path = root / ENTITIES_FILE
    if not path.exists():
        return {}
    data = _load_model(path, Entities, diagnostics)
    return dict(data.entities) if data else {}


def _load_model(path: Path, model: Any, diagnostics: list[Diagnostic]) -> Any:
    source, problems = read_source(path)
    diagnostics.extend(problems)
    if source is None:
        return None
    value, problems = validate_source(source, model)
    diagnostics.extend(problems)
    return value


def _load_mission(
    path: Path,
    mission_id: str,
    root: Path,
    taxonomy: Taxonomy,
    entities: dict[str, Entity],
    diagnostics: list[Diagnostic],
) -> Mission | None:
    if not _ID.fullmatch(mission_id):
        diagnostics.append(
            Diagnostic(
                path,
                f"the file name '{shorten(path.name)}' is not a mission id; use lower-case "
                "letters, digits and hyphens only (it names the output files)",
            )
        )
        return None
    source, problems = read_source(path)
    diagnostics.extend(problems)
    if source is None:
        return None
    placeholders = find_placeholders(source.data)
    todo = list(_check_placeholders(source, placeholders))
    if placeholders:
        # Read as if the placeholders were not there: a TODO is never a fact.
        # Required keys keep their text (the TODO error above keeps the mission out).
        data = without_placeholders(source.data, keep=frozenset(_REQUIRED))
        source = Source(source.path, source.text, data)
    mission, problems = validate_source(source, Mission)
    problems = todo + problems
    # The entity and the tags are checked even when the file has other errors, from the
    # raw values where they are text, so that one `check` reports every problem at once.
    raw = source.data
    if mission is not None:
        entity, tags = mission.entity, list(enumerate(mission.tags))
    else:
        entity = raw.get("entity") if isinstance(raw.get("entity"), str) else None
        raw_tags = raw.get("tags") if isinstance(raw.get("tags"), list) else []
        tags = [(i, tag) for i, tag in enumerate(raw_tags) if isinstance(tag, str)]
    errors = problems + list(_check_entity(source, entity, entities))
    if mission is not None:
        errors += _check_files(source, mission, root)
        errors += _check_roles(source, mission)
    diagnostics.extend(errors)
    if mission is not None:
        # A fact still TODO is reported once, as TODO, not also as missing.
        pending = {loc[0] for loc in placeholders if loc} | {
            "kind" for loc in placeholders if tuple(loc[:2]) == ("client", "kind")
        }
        diagnostics.extend(_check_facts(source, mission, pending))
        diagnostics.extend(_check_anonymity(source, mission))
    diagnostics.extend(_check_tags(source, tags, taxonomy))
    return mission if not errors else None


def _check_entity(
    source: Source, entity: str | None, entities: dict[str, Entity]
) -> Iterator[Diagnostic]:
    """An error when the mission names an entity that entities.yaml does not hold."""
    if entity is not None and entities and entity not in entities:
        hint = did_you_mean(entity, entities)
        yield _diag(source, ("entity",), f"unknown entity '{shorten(entity)}'; {hint}")


def _check_files(source: Source, mission: Mission, root: Path) -> Iterator[Diagnostic]:
    """Errors for the photos and attestation a mission points at, when they are not there
    or not what they should be."""
    files: list[tuple[tuple[str | int, ...], str, tuple[str, ...]]] = [
        (("photos", i, "path"), photo.path, (".png", ".jpg", ".jpeg"))
        for i, photo in enumerate(mission.photos)
    ]
    if mission.attestation:
        files.append((("attestation",), mission.attestation, (".pdf",)))
    for loc, relative, suffixes in files:
        target = root / relative
        try:
            inside = target.resolve().is_relative_to(root.resolve())
            is_file = target.is_file()
        except RuntimeError:  # Python 3.11 reports a symbolic link loop so
            yield _diag(source, loc, f"{shorten(relative)} {describe_os_error(_LOOP)}")
            continue
        except (OSError, ValueError) as exc:  # a name too long, a NUL byte
            yield _diag(source, loc, f"{shorten(relative)} {describe_os_error(exc)}")
            continue
        if not inside:
            yield _diag(source, loc, "leaves the library folder through a link; copy the file in")
        elif not is_file:
            yield _diag(source, loc, f"no file at {relative} (relative to {root}); check the path")
        elif target.suffix.lower() not in suffixes:
            yield _diag(source, loc, f"should be a {' or '.join(suffixes)} file")
        elif loc[0] == "photos":
            # Checked here, from the header only (Pillow is imported only for missions
            # with photos), so that `check` reports a bad photo at its line and one bad
            # photo never stops the other missions from rendering.
            from refsheets.errors import RenderError
            from refsheets.render.images import inspect_photo

            try:
                inspect_photo(target)
            except RenderError as exc:
                yield _diag(source, loc, exc.message)
        else:
            problem = attestation_problem(target)
            if problem:
                yield _diag(source, loc, problem)


_ROLE_WORD = {
    "sole": "titulaire",
    "lead": "mandataire",
    "co-contractor": "cotraitant",
    "subcontractor": "sous-traitant",
}
# The partners' roles each of our roles rules out: a titulaire alone has no groupement; a
# groupement has one mandataire; a firm that held the contract alone had no cotraitant.
_IMPOSSIBLE = {
    "sole": {"lead", "co-contractor", "sole"},
    "lead": {"lead", "sole"},
    "co-contractor": {"sole"},
}


def _check_roles(source: Source, mission: Mission) -> Iterator[Diagnostic]:
    """Errors for partners' roles that contradict ours (`role`): the DC2 and the card
    would otherwise say two different things."""
    if mission.role is None:
        return
    ours = _ROLE_WORD[mission.role]
    for i, partner in enumerate(mission.partners):
        if partner.role in _IMPOSSIBLE.get(mission.role, set()):
            theirs = _ROLE_WORD[partner.role]
            hint = (
                "a firm we hired is a sous-traitant"
                if mission.role == "sole"
                else "check which firm led the groupement"
            )
            yield _diag(
                source,
                ("partners", i, "role"),
                f"{partner.name} cannot be {theirs} when we were {ours} (role: {ours}); {hint}",
            )


# What a card cannot be made without: a placeholder there keeps the mission out.
_REQUIRED: set[tuple[str | int, ...]] = {("title",), ("client", "name")}


def _check_placeholders(
    source: Source, placeholders: list[tuple[str | int, ...]]
) -> Iterator[Diagnostic]:
    """One diagnostic per placeholder, at its line."""
    for loc in placeholders:
        required = tuple(loc) in _REQUIRED
        yield _diag(
            source,
            loc,
            "still TODO: "
            + (
                "write it (a card cannot do without it)"
                if required
                else "fill it in, or delete the line"
            ),
            severity="error" if required else "warning",
            code="todo",
        )


def _check_facts(
    source: Source, mission: Mission, pending: set[str | int] | None = None
) -> Iterator[Diagnostic]:
    """Warnings for facts the tender forms ask for and that the mission lacks."""
    missing: list[tuple[tuple[str | int, ...], str, str]] = []
    if mission.period is None:
        missing.append(
            (
                ("period",),
                "no-period",
                "no period: tenders ask for each reference's dates; add "
                "'period: 2019 - 2020' once known",
            )
        )
    elif mission.period.start is not None and mission.period.end is None:
        missing.append(
            (
                ("period",),
                "ongoing",
                "the mission is still going on (no end): tenders count a reference from "
                "its end; add it once the mission is over",
            )
        )
    elif mission.period.start is None or mission.period.end is None:
        missing.append(
            (("period",), "one-bound", "the period has only one bound; add the other once known")
        )
    if mission.budget is None:
        missing.append(
            (
                ("budget",),
                "no-budget",
                "no budget: tenders ask for each reference's amount; add "
                "'budget: 20 000 € HT' once known",
            )
        )
    elif not states_basis(source.data.get("budget")):
        yield _diag(
            source,
            ("budget",),
            f"the amount does not say HT or TTC; read as {_spaced(mission.budget.amount)} € HT "
            "(hors taxes, what the forms ask): write HT or TTC after it",
            severity="warning",
            code="no-basis",
            detail=_spaced(mission.budget.amount),
        )
    if mission.client.kind is None:
        missing.append(
            (
                ("kind",),
                "no-kind",
                "no client kind: tenders ask whether the client was "
                "public or private; add 'kind: public' or 'kind: private'",
            )
        )
    if mission.entity is None:
        missing.append(
            (
                ("entity",),
                "no-entity",
                "no entity: say which of our structures carried the mission "
                "(it chooses the card's brand)",
            )
        )
    if not mission.deliverables:
        missing.append(
            (
                ("deliverables",),
                "no-deliverables",
                "no deliverables: the card's 'Réalisations' will be empty",
            )
        )
    for (key,), code, message in missing:
        if key in (pending or set()):
            continue
        # A missing key is reported on line 1; one that is there (the period with one
        # bound, the client without kind), at its line.
        at: tuple[str | int, ...] = ("client",) if key == "kind" else (key,)
        if at[0] not in source.data:
            at = ()
        yield _diag(source, at, message, severity="warning", code=code)


def _check_anonymity(source: Source, mission: Mission) -> Iterator[Diagnostic]:
    """Warnings, at the line, where an anonymous mission's card would still name its client."""
    from refsheets.anonymity import leaks

    lines = source.text.splitlines()
    for loc, needle in leaks(mission):
        line, column = line_of(source, loc)
        span = value_lines(source, loc)
        if span is not None:
            # The line of the block where the name is, not the block's first line.
            folded = fold(needle)
            for number in range(span[0], min(span[1], len(lines)) + 1):
                at = fold(lines[number - 1]).find(folded)
                if at >= 0:
                    line, column = number, at + 1
                    break
        field = ".".join(str(p) for p in loc if isinstance(p, str))
        yield Diagnostic(
            source.path,
            f"the mission is anonymous but this text names '{needle}' (its client): the card "
            "would give the client away; rewrite it with the anonymous label's words",
            line,
            column,
            field=field,
            severity="warning",
            code="leak",
            detail=needle,
        )


def _spaced(amount: int) -> str:
    return f"{amount:,}".replace(",", " ")


def _check_tags(
    source: Source, tags: list[tuple[int, str]], taxonomy: Taxonomy
) -> Iterator[Diagnostic]:
    """Warnings for tags the taxonomy does not know, naming the nearest known ones."""
    if len(taxonomy.tags):
        for i, tag in tags:
            if taxonomy.resolve(tag) is None:
                near = taxonomy.nearest(tag)
                hint = f"nearest known: {', '.join(near)}" if near else "see `refsheets tags`"
                yield _diag(
                    source,
                    ("tags", i),
                    f"unknown tag '{shorten(tag)}'; {hint} (or add it to tags.yaml)",
                    severity="warning",
                    code="unknown-tag",
                    detail=shorten(tag),
                )


def _diag(
    source: Source,
    loc: Sequence[str | int],
    message: str,
    severity: Any = "error",
    code: str | None = None,
    detail: str | None = None,
) -> Diagnostic:
    line, column = line_of(source, loc) if loc else (1, 1)
    return Diagnostic(
        source.path,
        message,
        line,
        column,
        field=".".join(str(p) for p in loc if isinstance(p, str)) or None,
        severity=severity,
        code=code,
        detail=detail,
    )


def client_name(mission: MissionFacts, *, private: bool = False) -> str:
    """The client as anything shown outside `--private` names it: an anonymous mission's
    label, never its real name."""
    client = mission.client
    if mission.disclosure == "anonymous" and not private:
        return client.anonymous_label or "—"
    return client.name


def mission_to_json(mission_id: str, mission: Mission, *, private: bool = False) -> dict[str, Any]:
    """A mission as a JSON-ready dict with its id; private fields only when asked."""
    data = mission.model_dump(mode="json", exclude_none=True)
    if not private:
        for key in PRIVATE_FIELDS:
            data.pop(key, None)
        if mission.disclosure == "anonymous":
            data["client"].pop("name", None)
            data["client"].pop("location", None)
    return {"id": mission_id, **data}
