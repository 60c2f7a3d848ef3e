"""The library's index: what reading each mission file found, kept beside the files.

Reading 10,000 mission files (YAML parsing, then validation) takes seconds; most of them
have not changed since the last command. The index, `LIBRARY/.refsheets/index.sqlite`,
keeps for each file of `missions/` what `load_library` found in it: the validated mission
(as JSON, validated again by the same model when read back, so the index can never hand
over a mission the model refuses) and its diagnostics; its summary (`summary.py`: what
`list` and `pick` show and weigh, read back only in the shape written, in a table of its
own so that they read a few hundred bytes a mission) and its search terms
(`search.DocumentTerms`); and, for the library, the inverted list of each term and pair
of terms (`search.Postings`: which summaries, by their row's number, hold it, and how
often), so that a pick's query reads the lists of its own words, never every mission's
words. The YAML files stay the truth:

- an entry is used only while the file's size, mtime, ctime, inode and device are the
  ones it was read with (ctime cannot be set back by any tool, so `touch -d` or a copy
  with the same mtime still means a new read);
- a file changed less than `RACY_SECONDS` before it was read is not kept (a second
  change within the file system's clock tick could leave every stat field equal);
- the whole index is forgotten when the taxonomy, the entities, refsheets' own code or
  the versions of Python, pydantic or PyYAML change (its `context` differs);
- a mission that points at photos or an attestation is never kept: those files are
  checked on every read, as without the index.

The index is a reader of an untrusted file too: a regular file only (a symbolic link is
never followed), bounded in size, opened by SQLite through /proc/self/fd/N (the very file
checked) read-only and immutable (no lock, no journal); its schema must be exactly ours
and each entry match its checksum. Anything wrong drops it with a note and it is rebuilt
from the YAML files. It is written to a new temporary file (through /proc/self/fd too,
without a journal) and renamed over the old one, so a reader sees the old index or the
new, never half of one. A library
that cannot be written (read-only) is simply read without keeping an index.

`REFSHEETS_NO_INDEX=1` bypasses it (nothing read, nothing written).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import operator
import os
import sqlite3
import stat
import sys
import tempfile
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from refsheets.errors import Diagnostic
from refsheets.files import UnreadableFile, read_limited
from refsheets.model import Mission
from refsheets.search import (
    FIELD_WEIGHTS,
    DocumentTerms,
    Postings,
    add_postings,
    document_length,
)
from refsheets.summary import summary_text

INDEX_DIR = ".refsheets"
INDEX_FILE = "index.sqlite"
NO_INDEX_ENV = "REFSHEETS_NO_INDEX"

FORMAT = 5
"""Bumped when the index's tables change."""

RACY_SECONDS = 3
"""A file changed this recently when read is not kept (file system clock ticks are coarse)."""

MAX_ENTRY_BYTES = 64 * 1024
"""The most JSON one file's entry may hold; a larger mission is read from its file each time."""

_PER_FILE_BYTES = MAX_ENTRY_BYTES + 4096
_BASE_BYTES = 1024 * 1024

_SCHEMA = (
    ("table", "meta", "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"),
    (
        "table",
        "files",
        "CREATE TABLE files (name TEXT PRIMARY KEY, size INTEGER NOT NULL, "
        "mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, "
        "device INTEGER NOT NULL, mission TEXT, diagnostics TEXT NOT NULL, "
        "checksum BLOB NOT NULL)",
    ),
    (
        "table",
        "summaries",
        "CREATE TABLE summaries (name TEXT PRIMARY KEY, size INTEGER NOT NULL, "
        "mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, "
        "device INTEGER NOT NULL, summary TEXT, diagnostics TEXT NOT NULL, "
        "number INTEGER NOT NULL, length REAL, checksum BLOB NOT NULL)",
    ),
    (
        "table",
        "words",
        "CREATE TABLE words (name TEXT PRIMARY KEY, words TEXT NOT NULL, checksum BLOB NOT NULL)",
    ),
    (
        "table",
        "postings",
        "CREATE TABLE postings (term TEXT PRIMARY KEY, documents BLOB NOT NULL, "
        "checksum BLOB NOT NULL)",
    ),
)
_SEVERITIES = ("error", "warning")
WEIGHTS = frozenset(FIELD_WEIGHTS.values())
_SQLITE_HEADER = b"SQLite format 3\x00"


def index_enabled() -> bool:
    """False when REFSHEETS_NO_INDEX is set to anything but '' or '0'."""
    return os.environ.get(NO_INDEX_ENV, "") in ("", "0")


def index_path(root: Path) -> Path:
    """Where the index of the library at `root` lives."""
    return root / INDEX_DIR / INDEX_FILE


_Key = tuple[int, int, int, int, int]


@dataclass
class _Entry:
    key: _Key
    mission: str | Mission | None
    """The mission's JSON as kept; the mission itself once read back."""
    diagnostics: str
    words: str | None
    summary: str | None = None
    """The mission's summary (`summary.summary_text`), as kept or read."""
    number: int = -1
    """The summary's document number in the index's inverted lists."""
    length: float | None = None
    """The mission's weighted length for search (None: its words are not in the lists)."""

    @property
    def mission_text(self) -> str | None:
        """The mission's JSON, as the index keeps it."""
        if isinstance(self.mission, Mission):
            return self.mission.model_dump_json()
        return self.mission

    @property
    def summary_text(self) -> str | None:
        """The mission's summary, as the index keeps it."""
        if self.summary is None and isinstance(self.mission, Mission):
            self.summary = summary_text(self.mission)
        return self.summary

    def words_checksum(self, name: str, words: str) -> bytes:
        """A digest of the entry's words, with its name and key (the words of another
        version of the file are not used)."""
        return hashlib.blake2b(
            f"{name}\x1f{self.key!r}\x1f{words}".encode("utf-8", "replace"), digest_size=16
        ).digest()

    def summary_checksum(self, name: str, summary: str | None) -> bytes:
        """A digest of a summary's row: its entry, its document number and its length."""
        # One string, one digest: this runs for each of 50,000 rows a pick reads.
        held = "\x00" if summary is None else "\x01" + summary
        text = (
            f"{name}\x1f{self.key!r}\x1f{held}\x1f{self.diagnostics}\x1f{self.number}"
            f"\x1f{self.length!r}"
        )
        return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()

    def checksum(self, name: str, mission: str | None) -> bytes:
        """A digest of the whole entry (`mission` its JSON, or its summary): a row damaged
        on disk is not used."""
        # One string, one digest: this runs for each of 10,000 rows a command reads.
        held = "\x00" if mission is None else "\x01" + mission
        text = f"{name}\x1f{self.key!r}\x1f{held}\x1f{self.diagnostics}"
        return hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest()


class Found(NamedTuple):
    """What reading one file found, as the index kept it."""

    mission: Mission | None
    diagnostics: list[Diagnostic]
    words: str | None
    """The mission's text split for search, as kept (`words_from` reads it); None when
    the index was opened without words, or has none for this file."""


@dataclass
class MissionIndex:
    """The index of one library, read at the start of a load and saved at its end."""

    root: Path
    context: str
    entries: dict[str, _Entry] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """What went wrong with the index itself (shown as warnings; never changes an answer)."""
    changed: bool = False
    started_ns: int = field(default_factory=time.time_ns)
    with_words: bool = True
    summaries: bool = False
    """Read the missions' summaries (`entries` then hold them, not the missions)."""
    postings: Postings | None = None
    """With `summaries`, the inverted lists of the terms asked for (`open`)."""
    documents: int = 0
    """How many document numbers the inverted lists use (the summaries' rows)."""
    dropped: str | None = None
    """Why the index was found unusable, if it was (the first reason)."""
    _wanted: tuple[str, ...] = ()
    _kept: dict[str, _Entry] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        root: Path,
        context_files: list[Path],
        *,
        words: bool = True,
        summaries: bool = False,
        postings: Sequence[str] | None = None,
    ) -> MissionIndex:
        """The index of the library at `root`, empty when there is none or it is unusable.

        `context_files` (the taxonomy, the entities) shape every mission's diagnostics: a
        change in any of them forgets every entry. Without `words`, the missions' words
        for search are not read (a command that does not search holds less). With
        `summaries`, each entry holds the mission's summary instead of the mission (read
        only: `library.load_summaries` never writes the index). With `postings` (and
        `summaries`), the inverted lists of those terms and pairs are read (`postings`: a
        term no document holds has none), in the same read as the summaries.
        """
        index = cls(root, _context(context_files), with_words=words, summaries=summaries)
        if postings is not None and summaries:
            index._wanted = tuple(dict.fromkeys(postings))
            index.postings = {}
        index._read()
        return index

    # ----------------------------------------------------------------- reading

    def _read(self) -> None:
        path = index_path(self.root)
        missions = self.root / "missions"
        try:
            count = sum(1 for _ in os.scandir(missions))
        except OSError:
            count = 0
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            self.changed = True
            return
        except OSError as exc:
            self._drop(f"cannot be read ({exc.strerror})")
            return
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            self._drop("is not a regular file (a link or a special file); not followed")
            return
        bound = _BASE_BYTES + count * _PER_FILE_BYTES
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            self._drop(f"cannot be opened ({exc.strerror})")
            return
        try:
            opened = os.fstat(fd)
            if not stat.S_ISREG(opened.st_mode):
                self._drop("is not a regular file; not read")
                return
            if opened.st_size > bound:
                self._drop(f"is over {bound // (1024 * 1024)} MiB")
                return
            if os.pread(fd, len(_SQLITE_HEADER), 0) != _SQLITE_HEADER:
                self._drop("is not an index written by refsheets")
                return
            self._load(fd)
        except (sqlite3.Error, ValueError, TypeError, OverflowError, MemoryError, OSError) as exc:
            self.entries = {}
            self._drop(f"is damaged ({type(exc).__name__}: {str(exc)[:80]})")
        finally:
            os.close(fd)

    def _load(self, fd: int) -> None:
        connection = _connect(fd)
        try:
            connection.execute("PRAGMA trusted_schema = OFF")
            schema = connection.execute(
                "SELECT type, name, sql FROM sqlite_master ORDER BY name"
            ).fetchall()
            if ("table", "meta", _SCHEMA[0][2]) in schema:
                version = connection.execute("SELECT value FROM meta WHERE key = 'format'")
                if version.fetchall() != [(str(FORMAT),)]:
                    self.changed = True  # another version's index: stale, not damaged
                    return
            expected = sorted(_SCHEMA, key=lambda row: row[1])
            # An autoindex of a primary key has no SQL and is SQLite's own.
            if [row for row in schema if row[2] is not None] != expected or any(
                not str(row[1]).startswith("sqlite_autoindex_") for row in schema if row[2] is None
            ):
                raise ValueError("not the tables of a refsheets index")
            meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") != str(FORMAT) or meta.get("context") != self.context:
                # Written by another version or for another taxonomy: stale, not damaged.
                self.changed = True
                return
            if self.summaries:
                self._load_summaries(connection)
                return
            rows = connection.execute(
                "SELECT name, size, mtime_ns, ctime_ns, inode, device, mission, diagnostics, "
                "checksum FROM files"
            )
            for name, size, mtime, ctime, inode, device, mission, found, check in rows:
                key = (size, mtime, ctime, inode, device)
                if not (
                    isinstance(name, str)
                    and all(type(part) is int for part in key)
                    and (mission is None or isinstance(mission, str))
                    and isinstance(found, str)
                ):
                    raise ValueError("an entry of the wrong types")
                entry = _Entry(key, mission, found, None)
                if check != entry.checksum(name, mission):
                    raise ValueError(f"the entry of {name[:60]!r} does not match its checksum")
                self.entries[name] = entry
            self._load_words(connection)
        finally:
            connection.close()

    def _load_summaries(self, connection: sqlite3.Connection) -> None:
        rows = connection.execute(
            "SELECT name, size, mtime_ns, ctime_ns, inode, device, summary, diagnostics, "
            "number, length, checksum FROM summaries"
        )
        for name, size, mtime, ctime, inode, device, summary, found, number, length, check in rows:
            key = (size, mtime, ctime, inode, device)
            if not (
                isinstance(name, str)
                and type(size) is type(mtime) is type(ctime) is type(inode) is type(device) is int
                and (summary is None or isinstance(summary, str))
                and isinstance(found, str)
                and type(number) is int
                and (length is None or (type(length) is float and length >= 0))
            ):
                raise ValueError("an entry of the wrong types")
            entry = _Entry(key, None, found, None, summary, number, length)
            if check != entry.summary_checksum(name, summary):
                raise ValueError(f"the entry of {name[:60]!r} does not match its checksum")
            self.entries[name] = entry
        # Document numbers are the rows' own, each once: 0 to the count of rows.
        numbers = sorted(entry.number for entry in self.entries.values())
        if numbers != list(range(len(numbers))):
            raise ValueError("summaries numbered otherwise than one to a row")
        self.documents = len(numbers)
        self._load_words(connection)
        if self.postings is None or not self._wanted:
            return
        held = bytearray(len(numbers))
        for entry in self.entries.values():
            held[entry.number] = entry.length is not None
        marks = ",".join("?" * len(self._wanted))
        found_lists = connection.execute(
            f"SELECT term, documents, checksum FROM postings WHERE term IN ({marks})", self._wanted
        )
        for term, documents, check in found_lists:
            if not (isinstance(term, str) and isinstance(documents, bytes)):
                raise ValueError("an inverted list of the wrong types")
            if check != _postings_checksum(term, documents):
                raise ValueError(f"the inverted list of {term[:60]!r} does not match its checksum")
            self.postings[term] = _postings_from(documents, held)

    def _load_words(self, connection: sqlite3.Connection) -> None:
        if not self.with_words:
            return
        for name, words, check in connection.execute("SELECT name, words, checksum FROM words"):
            owner = self.entries.get(name)
            if owner is None or not isinstance(words, str):
                raise ValueError("words of no entry, or of the wrong type")
            if check != owner.words_checksum(name, words):
                raise ValueError(f"the words of {name[:60]!r} do not match their checksum")
            owner.words = words

    def _drop(self, why: str) -> None:
        self.dropped = self.dropped or why
        self.notes.append(
            f"the library's index {index_path(self.root)} {why}; "
            "it is rebuilt from the mission files"
        )
        self.changed = True

    def lookup(self, path: Path) -> Found | None:
        """What reading `path` found last time, or None when the file must be read."""
        entry = self.entries.get(path.name)
        if entry is None:
            return None
        key = key_of(path)
        if key is None or key != entry.key:
            return None
        try:
            diagnostics = diagnostics_from(path, entry.diagnostics)
            # Entries read from the file hold the mission's JSON (a str) until looked up.
            text = entry.mission
            mission = Mission.model_validate_json(text) if isinstance(text, str) else None
        except (ValueError, TypeError, RecursionError):  # ValidationError is a ValueError
            if not self.notes:  # one note for the whole index
                self._drop("holds an entry the model refuses")
            return None
        if mission is not None and any(d.severity == "error" for d in diagnostics):
            return None  # a valid mission never has errors: not an entry this index wrote
        if mission is None and entry.words is not None:
            return None  # words are kept for valid missions only
        # The mission's JSON is not held twice: a save writes it again from the mission.
        del self.entries[path.name]
        self._kept[path.name] = _Entry(entry.key, mission, entry.diagnostics, entry.words)
        return Found(mission, diagnostics, entry.words)

    # ----------------------------------------------------------------- writing

    def record(
        self,
        path: Path,
        key: _Key | None,
        mission: Mission | None,
        found: list[Diagnostic],
        words: DocumentTerms | None,
    ) -> None:
        """Keep what reading `path` (whose stat was `key` before the read) found, and the
        mission's text split for search."""
        entry = self.entry_for(path, key, mission, found, words)
        if entry is not None:
            self._kept[path.name] = entry
            self.changed = True

    def entry_for(
        self,
        path: Path,
        key: _Key | None,
        mission: Mission | None,
        found: list[Diagnostic],
        words: DocumentTerms | None,
    ) -> _Entry | None:
        """The entry `record` would keep for what reading `path` found; None for a file
        the index never keeps (changed lately, pointing at photos, too large…)."""
        if key is None or key != key_of(path):
            return None  # changed while being read, or not a regular file
        if max(key[1], key[2]) >= self.started_ns - RACY_SECONDS * 1_000_000_000:
            return None
        if mission is not None and (mission.photos or mission.attestation):
            return None
        if any(d.path != path for d in found):
            return None
        text = mission.model_dump_json() if mission is not None else None
        summary = summary_text(mission) if mission is not None else None
        diagnostics = json.dumps(
            [[d.message, d.line, d.column, d.field, d.severity, d.code, d.detail] for d in found],
            ensure_ascii=False,
        )
        split = _words_text(words) if words is not None else None
        if len(text or "") + len(diagnostics) + len(split or "") > MAX_ENTRY_BYTES:
            return None
        return _Entry(key, text, diagnostics, split, summary)

    def keep_words(self, path: Path, words: DocumentTerms) -> None:
        """Keep the words of a file looked up without them (an index written while no
        search was asked for)."""
        entry = self._kept.get(path.name)
        if entry is not None and entry.words is None:
            entry.words = _words_text(words)
            self.changed = True

    def save(self) -> None:
        """Write the index when anything changed; quietly skip a library that cannot be
        written (read-only, full) or whose index folder is not a plain folder."""
        if not self.changed and not self.entries:
            return
        folder = self.root / INDEX_DIR
        try:
            folder.mkdir(mode=0o755, exist_ok=True)
            info = os.lstat(folder)
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
                self.notes.append(f"{folder} is not a plain folder; the index is not written")
                return
            ignore = folder / ".gitignore"
            if not os.path.lexists(ignore):
                _write_new(folder, ignore, b"# refsheets' index: rebuilt from the YAML files\n*\n")
            self._write(folder)
        except OSError:
            return  # a read-only library works without its index

    def _write(self, folder: Path) -> None:
        """Write the index to a new file in `folder`, then rename it over the old one.

        SQLite writes the temporary file through /proc/self/fd/N (the very file mkstemp
        created, never a link swapped in since), without a journal: a file that is not
        renamed into place is only deleted. Rows go one by one, never all in memory.
        """
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".index-", suffix=".tmp")
        try:
            proc = f"/proc/self/fd/{fd}"
            target = proc if os.path.exists(proc) else temporary
            connection = sqlite3.connect(target, isolation_level=None)
            try:
                self._fill(connection)
            finally:
                connection.close()
            os.replace(temporary, folder / INDEX_FILE)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        finally:
            os.close(fd)

    def _fill(self, connection: sqlite3.Connection) -> None:
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA temp_store = MEMORY")
        connection.execute("BEGIN")
        for _, _, sql in _SCHEMA:
            connection.execute(sql)
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("format", str(FORMAT)), ("context", self.context)],
        )
        names = sorted(self._kept)
        connection.executemany(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self._row(name) for name in names),
        )
        # Each summary numbered by its row; the words of each (a valid mission's) go into
        # the inverted lists under that number, and its length beside its summary.
        postings: Postings = {}
        for number, name in enumerate(names):
            entry = self._kept[name]
            entry.number, entry.length = number, None
            if entry.words is not None:
                terms = terms_from(entry.words)
                entry.length = document_length(terms)
                add_postings(postings, number, terms)
        connection.executemany(
            "INSERT INTO summaries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (self._summary_row(name) for name in names),
        )
        connection.executemany(
            "INSERT INTO postings VALUES (?, ?, ?)",
            (
                (term, data, _postings_checksum(term, data))
                for term, lists in postings.items()
                if (data := _postings_bytes(*lists))
            ),
        )
        connection.executemany(
            "INSERT INTO words VALUES (?, ?, ?)",
            (
                (name, words, self._kept[name].words_checksum(name, words))
                for name in names
                if (words := self._kept[name].words) is not None
            ),
        )
        connection.execute("COMMIT")

    def _row(self, name: str) -> tuple[object, ...]:
        entry = self._kept[name]
        text = entry.mission_text
        return (name, *entry.key, text, entry.diagnostics, entry.checksum(name, text))

    def _summary_row(self, name: str) -> tuple[object, ...]:
        entry = self._kept[name]
        text = entry.summary_text
        check = entry.summary_checksum(name, text)
        return (name, *entry.key, text, entry.diagnostics, entry.number, entry.length, check)


def _postings_checksum(term: str, data: bytes) -> bytes:
    """A digest of one inverted list, with its term."""
    digest = hashlib.blake2b(term.encode("utf-8", "replace") + b"\x1f", digest_size=16)
    digest.update(data)
    return digest.digest()


def _postings_bytes(numbers: array[int], frequencies: array[int]) -> bytes:
    """An inverted list as the index keeps it: its document numbers, then the twice
    weighted frequency of each, as unsigned 32-bit little-endian integers."""
    data = numbers + frequencies
    if sys.byteorder != "little":
        data.byteswap()
    return data.tobytes()


def _postings_from(data: bytes, held: bytearray) -> tuple[array[int], array[int]]:
    """An inverted list as `_postings_bytes` writes it; ValueError for anything else: a
    number that is not ascending, or of a summary without words, or a frequency of 0."""
    if len(data) % 8:
        raise ValueError("an inverted list of the wrong size")
    values = array("I")
    values.frombytes(data)
    if sys.byteorder != "little":
        values.byteswap()
    half = len(values) // 2
    numbers, frequencies = values[:half], values[half:]
    if not numbers:
        raise ValueError("an empty inverted list")
    if not (
        numbers[-1] < len(held)
        and all(map(operator.lt, numbers, itertools.islice(numbers, 1, None)))
        and all(map(held.__getitem__, numbers))
        and min(frequencies) > 0
    ):
        raise ValueError("an inverted list of numbers or frequencies out of place")
    return numbers, frequencies


def key_of(path: Path | str, dir_fd: int | None = None) -> _Key | None:
    """The stat fields an entry is keyed by; None for anything but a regular file (a
    relative `path` is in the folder open at `dir_fd`, if given)."""
    try:
        info = os.lstat(path, dir_fd=dir_fd)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev)


def diagnostics_from(path: Path, text: str) -> list[Diagnostic]:
    found = json.loads(text)
    if not isinstance(found, list):
        raise ValueError("diagnostics are not a list")
    diagnostics = []
    for item in found:
        if not (isinstance(item, list) and len(item) == 7):
            raise ValueError("a diagnostic of the wrong shape")
        message, line, column, where, severity, code, detail = item
        if not (
            isinstance(message, str)
            and (line is None or type(line) is int)
            and (column is None or type(column) is int)
            and (where is None or isinstance(where, str))
            and severity in _SEVERITIES
            and (code is None or isinstance(code, str))
            and (detail is None or isinstance(detail, str))
        ):
            raise ValueError("a diagnostic of the wrong types")
        diagnostics.append(
            Diagnostic(path, message, line, column, where, severity, code=code, detail=detail)
        )
    return diagnostics


def _connect(fd: int) -> sqlite3.Connection:
    """A read-only connection to the index open at `fd`.

    On Linux SQLite opens /proc/self/fd/N, the very file checked (not a path that could
    be swapped for a link since), read-only and immutable: no lock, no journal, pages read
    as queried. Elsewhere the file is read whole into an in-memory database.
    """
    proc = f"/proc/self/fd/{fd}"
    if os.path.exists(proc):
        return sqlite3.connect(f"file:{proc}?mode=ro&immutable=1", uri=True)
    chunks = []
    while chunk := os.read(fd, 1024 * 1024):
        chunks.append(chunk)
    connection = sqlite3.connect(":memory:")
    connection.deserialize(b"".join(chunks))
    return connection


def _words_text(terms: DocumentTerms) -> str:
    # One line a field weight, "3.0<tab> term  term ": a search reads 10,000 of these, and
    # splitting lines costs a tenth of decoding JSON. Terms hold no tab nor newline.
    return "\n".join(f"{weight!r}\t{text}" for weight, text in terms)


_WEIGHT_OF = {repr(weight): weight for weight in WEIGHTS}


def terms_from(text: str) -> DocumentTerms:
    """A mission's terms for search as the index keeps them (read only when a search
    needs them); ValueError when they do not have the shape the index writes."""
    terms: DocumentTerms = []
    for line in text.split("\n"):
        weight, tab, found = line.partition("\t")
        if not (tab and weight in _WEIGHT_OF and len(found) > 2 and found[0] == found[-1] == " "):
            raise ValueError("terms of the wrong shape")
        terms.append((_WEIGHT_OF[weight], found))
    return terms


def _write_new(folder: Path, target: Path, data: bytes) -> None:
    """Write `data` to `target` whole: a new temporary file, then a rename (which replaces
    a link planted at `target` and never writes through it)."""
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".index-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _context(files: list[Path]) -> str:
    """A digest of everything besides a file that shapes what reading it finds."""
    digest = hashlib.blake2b(digest_size=16)
    from importlib import metadata

    import pydantic
    import yaml

    # The search's terms are the French stemmer's: its version is part of the context too.
    try:
        stemmer = metadata.version("snowballstemmer")
    except metadata.PackageNotFoundError:
        stemmer = "?"
    digest.update(f"{sys.version}|{pydantic.VERSION}|{yaml.__version__}|{stemmer}".encode())
    package = Path(__file__).resolve().parent
    for source in sorted(package.rglob("*.py")):
        digest.update(str(source.relative_to(package)).encode())
        digest.update(source.read_bytes())
    for path in files:
        digest.update(b"\x00" + path.name.encode())
        try:
            digest.update(read_limited(path, 16 * 1024 * 1024))
        except UnreadableFile as exc:
            digest.update(b"\x01" + exc.reason.encode())
    return digest.hexdigest()
