"""Starting a tender file from the call's own documents: its notice and its RC.

Readers of the outside world, beside `importer/`: an eForms notice (UBL XML, SDK 1.x), a
BOAMP open-data record (JSON), and the RC or any document of the call (.txt, .md, .pdf
with text, .docx, read by the importer's readers). The notice gives the call's identity,
the texts its rules on references; each value is written with where it was read, and
what no source states is a `# TODO` line.

    result = new_tender([Path("avis.xml"), Path("rc.pdf")], library=library)
    print(result.path, result.todos)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from refsheets.errors import RenderError, UsageError, did_you_mean
from refsheets.library import Library
from refsheets.notice.draft import Document, Draft, draft_tender
from refsheets.notice.eforms import Notice, NoticeError
from refsheets.notice.write import render_tender, tender_stem
from refsheets.output import write_atomic

__all__ = ["NewTender", "Notice", "NoticeError", "new_tender", "read_source_file"]

DOCUMENT_SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".docx")


@dataclass(frozen=True)
class NewTender:
    """What `tender new` wrote (or would write), and what is left to do."""

    path: Path
    text: str
    draft: Draft
    written: bool

    @property
    def todos(self) -> list[str]:
        """The `# TODO` lines of the file, without their '# TODO ': the values left for
        the bid manager, each with its key first ("rules.years: the sources disagree…")."""
        todos = []
        section = ""
        for line in self.text.splitlines():
            stripped = line.strip()
            if not line.startswith((" ", "#")) and ":" in line:
                section = line.split(":", 1)[0]  # a top-level key: rules, lots…
            if stripped.startswith("# TODO "):
                todo = stripped.removeprefix("# TODO ")
                nested = line.startswith(" ") and section in ("rules", "lots")
                todos.append(f"{section}.{todo}" if nested else todo)
        return todos


def read_source_file(path: Path) -> Notice | Document:
    """One source: a notice (.xml eForms, .json BOAMP) or a document of the call."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        from refsheets.notice.eforms import read_eforms

        return read_eforms(path)
    if suffix == ".json":
        from refsheets.notice.boamp import read_boamp

        return read_boamp(path)
    if suffix in DOCUMENT_SUFFIXES:
        from refsheets.importer.extract import extract_lines

        lines = [(line.text, f"{path.name}, {line.where()}") for line in extract_lines(path)]
        # A page break ends a paragraph, as a blank line does.
        return Document(path, [("" if text == "\f" else text, where) for text, where in lines])
    raise UsageError(
        f"{path}: a '{suffix or 'no extension'}' file; `tender new` reads a notice (.xml "
        f"eForms, .json BOAMP record) and documents of the call ({', '.join(DOCUMENT_SUFFIXES)})"
    )


def new_tender(
    sources: Sequence[Path],
    *,
    library: Library | None = None,
    out: Path | None = None,
    tenders_dir: Path = Path("tenders"),
    entity: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> NewTender:
    """Draft a tender file from `sources` and write it (atomically) unless `dry_run`.

    Raises UsageError without sources, with two notices that are not the same call, or
    when the file exists and `force` is not given; NoticeError (and the importer's
    errors) for a source that cannot be read.
    """
    if not sources:
        raise UsageError("give the notice (.xml or .json) and/or the RC of the call")
    notices: list[Notice] = []
    documents: list[Document] = []
    for path in sources:
        source = read_source_file(path)
        if isinstance(source, Notice):
            notices.append(source)
        else:
            documents.append(source)
    entities = list(library.entities) if library is not None else []
    if entity is None and len(entities) == 1:
        entity = entities[0]
    if entity is not None and entities and entity not in entities:
        raise UsageError(f"unknown entity '{entity}'; {did_you_mean(entity, entities)}")
    draft = draft_tender(
        notices[0] if notices else None,
        documents,
        taxonomy=library.taxonomy if library is not None else None,
        entity=entity,
        entities=entities,
    )
    for other in notices[1:]:
        _compare_notices(draft, notices[0], other)
    text = render_tender(draft)
    path = out if out is not None else tenders_dir / f"{tender_stem(draft)}.yaml"
    if path.exists() and not force and not dry_run:
        raise UsageError(f"{path} exists; give another --out, or --force to replace it")
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the tender file's path with --out")
    if not dry_run:
        try:
            write_atomic(path, text.encode("utf-8"))
        except OSError as exc:
            raise RenderError(f"cannot write {path}: {exc.strerror}") from None
    return NewTender(path, text, draft, written=not dry_run)


def _compare_notices(draft: Draft, first: Notice, other: Notice) -> None:
    """Two notices of one call (TED XML and BOAMP record): what differs is reported and
    left for the bid manager, never chosen."""
    pairs: list[tuple[str, object, object]] = [
        ("name", first.title, other.title),
        ("buyer", first.buyer, other.buyer),
        ("reference", first.reference, other.reference),
    ]
    first_deadlines = sorted({lot.deadline.date for lot in first.lots if lot.deadline})
    other_deadlines = sorted({lot.deadline.date for lot in other.lots if lot.deadline})
    if first_deadlines and other_deadlines:
        pairs.append(("deadline", first_deadlines[0], other_deadlines[0]))
    for key, a, b in pairs:
        if a is not None and b is not None and str(a).casefold() != str(b).casefold():
            said = f"{first.path.name} says '{a}', {other.path.name} says '{b}'"
            draft.disagreements.append(f"{key}: {said}")
            draft.disputed[key] = f"the sources disagree: {said}"
            setattr(draft, key, None)
    draft.sources.append(f"{other.path.name} ({other.kind}, compared with {first.path.name})")
