"""Exporting a tender's references annex in one call: `export_tender(...)`.

The flow: read the tender, pick its references, check its rules, build the cards, render
what the cache does not hold (in batches, in parallel), assemble the annexes, the tables
and the manifest in a staging folder, zip it, and publish it in one rename. Nothing of a
failed export reaches `out/`.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import hashlib
import json
import os
import queue
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from refsheets import __version__
from refsheets.card import Card, build_card
from refsheets.errors import RefsheetsError, RenderError, UsageError
from refsheets.export.cache import CardCache, card_keys, environment_digest
from refsheets.export.fits import fit_key, known_steps, store_fit
from refsheets.export.fonts import without_embedded_fonts
from refsheets.export.publish import (
    cannot_write_export,
    clean_stale_staging,
    export_lock,
    forget_locks,
    publish,
    recover,
    staging_folder,
    zip_folder,
)
from refsheets.export.tables import rows_for, to_csv, to_xlsx
from refsheets.layouts import (
    BASE_LAYOUT,
    Layout,
    list_layouts,
    load_layout,
    resolve_layouts_root,
)
from refsheets.library import Library
from refsheets.model import Mission
from refsheets.output import WRITE_ERRNOS, cannot_write
from refsheets.render.fit import FIT_STEPS, FitResult
from refsheets.select import PickResult, Selected

if TYPE_CHECKING:
    # Read when a tender is planned, not when this package is: `check` imports the
    # card cache beside it and needs neither (their models are a tenth of its start).
    from refsheets.choice import Choice, Chosen
    from refsheets.tender import Scope, Tender

ANNEX_PDF = "annexe-references.pdf"
ANNEX_DOCX = "annexe-references.docx"
MANIFEST = "manifest.json"
BATCH_SIZE = 25  # cards per WeasyPrint document: large enough to amortise, small for progress
MIN_SPLIT = 4  # the fewest cards the export's last batch is halved into
FEW_CARDS = 4  # cards (all formats) rendered in this process rather than by workers
# The most references whose annexes are made beside a forked child (see `_write_annex`).
# The child's copy of the export's heap is counted again in the memory summed over
# processes: a re-export after one change peaked at 330 MB with 300 references, 382 MB
# with 400 and 419-424 MB with 500, forked; 281 MB in one process at 500 (3.5 s against
# 2.4 s), under the 400 MB a 500-card export may take.
FORK_AT_MOST = 300
LEAN_DOCX = "leandocx"  # the cache's format of a Word card without its fonts

FACT_LABELS = {
    "amount": "montant",
    "dates": "dates",
    "client_kind": "client public ou privé",
    "attestation": "attestation de bonne exécution",
}


class IncompleteReferencesError(RefsheetsError):
    """Selected references lack facts the tender requires."""


@dataclass(frozen=True)
class Reference:
    """One reference of an annex: its place, mission, card and what it lacks."""

    chosen: Chosen
    mission: Mission
    card: Card
    missing: tuple[str, ...]

    @property
    def id(self) -> str:
        """The mission id (ours: the manifest and the terminal use it)."""
        return self.chosen.id

    @property
    def selected(self) -> Selected | None:
        """Its ranking (None for a hand-picked mission not about the subject)."""
        return self.chosen.selected

    @property
    def public_id(self) -> str:
        """The name the buyer sees (card files, zip entries, tables): the mission id, or
        for an anonymous mission `reference_<k>`, k its place in the annex, since an id
        is often made of the client's name."""
        return self.card.id


@dataclass
class ExportPlan:
    """What one annex will hold (the whole tender's, or one lot's): the choice and the
    checks."""

    tender: Tender
    tender_path: Path
    result: PickResult
    references: list[Reference]
    target: Path
    layout: Layout
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    choice: Choice | None = None
    scope: Scope | None = None

    @property
    def deadline(self) -> date:
        """The annex's deadline: its lot's own, or the tender's."""
        return self.scope.deadline if self.scope else self.tender.deadline

    @property
    def title(self) -> str:
        """The annex's title: the tender's name, and the lot's number and title."""
        lot = self.scope.lot if self.scope else None
        if lot is None:
            return self.tender.name
        return f"{self.tender.name} — Lot {lot.number}" + (f" : {lot.title}" if lot.title else "")

    library_root: Path = Path("data")

    @property
    def environment(self) -> str:
        """A digest of every file that shapes the rendering: the layout chain, the fonts."""
        if self._environment is None:
            self._environment = environment_digest(self.layout)
        return self._environment

    _environment: str | None = field(default=None, init=False, repr=False)


@dataclass
class TenderPlan:
    """What a whole export will do: one annex per lot (or one for the tender), one
    manifest, one zip, all published together into `target`."""

    tender: Tender
    tender_path: Path
    target: Path
    """The folder published: out/<tender>/, or out/<tender>/lot-N/ for one lot."""
    lock: Path
    """The folder whose lock serialises exports of this tender: out/<tender>/."""
    annexes: list[ExportPlan]
    days_left: int
    """Days from today to the deadline (negative once it is past)."""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def references(self) -> list[Reference]:
        """Every annex's references, in order (a reference serving two lots twice)."""
        return [ref for annex in self.annexes for ref in annex.references]

    @property
    def by_lot(self) -> bool:
        """Whether the annexes are the tender's lots (each in its lot-N/ folder)."""
        return any(annex.scope is not None and annex.scope.lot for annex in self.annexes)


@dataclass
class ExportReport:
    """What an export did."""

    plan: TenderPlan
    files: list[Path]
    rendered: dict[str, int]  # format -> cards rendered (cache misses)
    cached: dict[str, int]  # format -> cards taken from the cache
    warnings: list[str] = field(default_factory=list)  # met on the way (bad cache entries…)


Progress = Callable[[str, int, int], None]
"""Called as progress(stage, done, total)."""


def key_format(plan: ExportPlan, fmt: str) -> str:
    """The format as the card cache keys it: a PDF card's bytes depend on its variant too."""
    return f"pdf {plan.tender.pdf_variant}" if fmt == "pdf" else fmt


def safe_name(text: str) -> str:
    """An ASCII file name without spaces, safe on tender platforms."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text).strip("-.").lower()
    return slug or "export"


def deadline_warning(tender: Tender, today: date) -> str | None:
    """A sentence when the tender's deadline is past, else None."""
    days = (tender.deadline - today).days
    if days >= 0:
        return None
    return (
        f"the deadline {tender.deadline.isoformat()} is past ({-days} day(s) ago): "
        "the buyer no longer takes offers for this call; check the deadline in the tender file"
    )


def plan_tender(
    tender_path: Path,
    library: Library,
    *,
    out_root: Path,
    today: date,
    allow_incomplete: bool = False,
    layouts_root: Path | None = None,
    lot: str | None = None,
) -> TenderPlan:
    """Read the tender, choose each annex's references and check the rules: one annex per
    lot (only lot `lot` when given), or one for a tender without lots."""
    from refsheets.tender import load_tender

    tender = load_tender(tender_path, library=library)
    scopes = [tender.scope(lot)] if lot is not None else tender.scopes()
    layouts_root = layouts_root or resolve_layouts_root(library.root)
    # A named layout must exist; the entity's own is used when there is one, else the
    # base layout (as `render` does): a new library's brand has no layout yet.
    name = tender.layout or (
        tender.entity if tender.entity in list_layouts(layouts_root) else BASE_LAYOUT
    )
    layout = load_layout(name, layouts_root)
    root = out_root / safe_name(tender_path.stem)
    # Two tender files for one folder: refused for the tender's folder and, for a lot
    # exported alone, for its own folder (its manifest names its tender file too).
    _refuse_shared_folder(tender_path, root)
    annexes = [
        _plan_annex(tender, tender_path, scope, library, layout, root, today, allow_incomplete)
        for scope in scopes
    ]
    target = annexes[0].target if lot is not None else root
    if target != root:
        _refuse_shared_folder(tender_path, target)
    plan = TenderPlan(tender, tender_path, target, root, annexes, (tender.deadline - today).days)
    past = deadline_warning(tender, today)
    if past:
        plan.warnings.append(past)
    for annex in annexes:
        plan.problems += annex.problems
        plan.warnings += annex.warnings
    return plan


def plan_export(
    tender_path: Path,
    library: Library,
    *,
    out_root: Path,
    today: date,
    allow_incomplete: bool = False,
    layouts_root: Path | None = None,
    lot: str | None = None,
) -> ExportPlan:
    """The plan of the one annex of a tender without lots (or of lot `lot`)."""
    plan = plan_tender(
        tender_path,
        library,
        out_root=out_root,
        today=today,
        allow_incomplete=allow_incomplete,
        layouts_root=layouts_root,
        lot=lot,
    )
    if len(plan.annexes) != 1:
        raise UsageError(f"{tender_path} has lots: name one, or plan them all with plan_tender")
    return plan.annexes[0]


def _plan_annex(
    tender: Tender,
    tender_path: Path,
    scope: Scope,
    library: Library,
    layout: Layout,
    root: Path,
    today: date,
    allow_incomplete: bool,
) -> ExportPlan:
    from refsheets.choice import choose

    choice = choose(library, scope, today=today, allow_incomplete=allow_incomplete)
    references = []
    for place, chosen in enumerate(choice.chosen, start=1):
        card = build_card(library, chosen.id, lang=tender.language, mission=chosen.mission)
        if chosen.mission.disclosure == "anonymous":
            # Named by its place in this annex; the card is drawn under that name too:
            # WeasyPrint writes the card's id into the PDF (as an anchor).
            card = replace(card, id=anonymous_name(place))
        references.append(Reference(chosen, chosen.mission, card, chosen.missing))
    target = root / scope.folder if scope.folder else root
    plan = ExportPlan(
        tender,
        tender_path,
        choice.ranking,
        references,
        target,
        layout,
        problems=list(choice.errors),
        warnings=list(choice.warnings),
        choice=choice,
        scope=scope,
        library_root=library.root,
    )
    answering = library.entities.get(tender.entity)
    where = f" ({scope.label})" if scope.lot else ""
    for ref in references:
        if ref.mission.entity and ref.mission.entity != tender.entity:
            carried = library.entities.get(ref.mission.entity)
            plan.warnings.append(
                f"{ref.id} was carried by {carried.name if carried else ref.mission.entity}, "
                f"not by {answering.name if answering else tender.entity} who answers{where}: "
                "the card says so; the bid must show that this capacity is available "
                "(groupement, commitment letter), or set rules.own_references_only"
            )
    for ref in references:
        if ref.missing:
            plan.warnings.append(
                f"{ref.id} lacks {', '.join(FACT_LABELS.get(f, f) for f in ref.missing)}, "
                f"which the tender requires{where}; the manifest records it"
            )
    # An anonymous mission left out only because its attestation is withheld: the bid
    # manager decides, rather than the annex silently going without it.
    withheld = [
        miss.id
        for miss in choice.missed
        if miss.kind == "rules"
        and miss.rules == ("required_facts",)
        and _withheld_attestation(miss.mission, miss.id, tender)
        and not _lacks_besides_attestation(miss.mission, scope, library.root)
    ]
    if withheld and not allow_incomplete:
        plan.problems.append(
            f"{', '.join(withheld)}: anonymous, and an attestation names the client{where}: "
            "list the id under `anonymous_attestations` in the tender file to append it all "
            "the same, or export with --allow-incomplete (without the attestation)"
        )
    return plan


def _lacks_besides_attestation(mission: Mission, scope: Scope, library_root: Path) -> bool:
    """Whether `mission` lacks a required fact other than its attestation."""
    from refsheets.choice import missing_facts

    others = [fact for fact in scope.rules.required_facts if fact != "attestation"]
    return bool(missing_facts(mission, others, library_root))


def anonymous_name(place: int) -> str:
    """The public name of an anonymous reference: its place in the annex. `_` is not
    allowed in mission ids, so this never collides with a named reference's id."""
    return f"reference_{place:02d}"


def _withheld_attestation(mission: Mission, mission_id: str, tender: Tender) -> bool:
    """An anonymous mission's attestation, which the tender did not explicitly allow."""
    return (
        mission.disclosure == "anonymous"
        and mission.attestation is not None
        and mission_id not in tender.anonymous_attestations
    )


def _refuse_shared_folder(tender_path: Path, target: Path) -> None:
    """UsageError when another tender file exports to the same folder as this one.

    `été.yaml` and `ete.yaml` (or `!!!.yaml` and `..yaml`) give one folder name: the second
    export would silently replace the first. Both the tender files beside this one and
    the export already in the folder (its manifest names its tender) are checked.
    """
    name = safe_name(tender_path.stem)
    with contextlib.suppress(OSError):
        for other in sorted(tender_path.parent.iterdir()):
            if (
                other.suffix in (".yaml", ".yml")
                and other.name != tender_path.name
                and safe_name(other.stem) == name
            ):
                raise UsageError(
                    f"{tender_path} and {other} would both export to {target}/; rename one of them"
                )
    manifest = target / MANIFEST
    if target.is_dir() and not target.is_symlink() and manifest.is_file():
        try:
            owner = json.loads(manifest.read_text(encoding="utf-8"))["tender"]
            previous = str(owner.get("path") or owner["file"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return  # not ours to judge: the export replaces it as before
        mine = str(tender_path.resolve()) if "path" in owner else tender_path.name
        if previous != mine:
            raise UsageError(
                f"{target}/ holds the export of another tender file, {previous}; "
                f"{tender_path} would replace it: rename one of them, or export with --out "
                "elsewhere"
            )


def export_tender(
    tender_path: Path,
    library: Library,
    *,
    out_root: Path,
    today: date,
    jobs: int | None = None,
    allow_incomplete: bool = False,
    layouts_root: Path | None = None,
    cache_root: Path | None = None,
    progress: Progress | None = None,
    lot: str | None = None,
    clear_cache: bool = False,
) -> ExportReport:
    """Export the tender's annex into `out_root/<tender>/` (one `lot-N/` folder per lot),
    or only lot `lot` into `out_root/<tender>/lot-N/`, all or nothing.

    `clear_cache` forgets every rendered card first (refused while another export uses
    the cache). The report's `warnings` say what the export met on its way (bad cache
    entries dropped, stale staging folders removed).
    """
    plan = plan_tender(
        tender_path,
        library,
        out_root=out_root,
        today=today,
        allow_incomplete=allow_incomplete,
        layouts_root=layouts_root,
        lot=lot,
    )
    if plan.problems:
        # The warnings too (a past deadline above all): the bid manager reads this message only.
        raise IncompleteReferencesError(
            "the export cannot go on:\n"
            + "\n".join([*plan.problems, *(f"warning: {w}" for w in plan.warnings)])
        )
    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise cannot_write_export(out_root, exc) from None
    _check_target(plan.lock)
    _check_target(plan.target)
    cache = CardCache(cache_root or out_root / ".cache")
    if clear_cache:
        cache.clear()
    cache.check_usable()
    try:
        with export_lock(plan.lock), cache.shared():
            return _export_locked(plan, library, cache, jobs, progress, today)
    except OSError as exc:
        if exc.errno not in WRITE_ERRNOS:
            raise
        where = exc.filename if isinstance(exc.filename, str) else plan.target
        raise cannot_write(where, exc, hint=_WRITE_HINT) from None


_WRITE_HINT = "nothing was published; free some space, or export elsewhere with --out"


def _check_target(target: Path) -> None:
    """RenderError when `target` is not a folder refsheets may replace: a file, a link."""
    if target.is_symlink():
        raise RenderError(
            f"{target} is a symbolic link; the export replaces its folder and will not "
            "follow a link: remove it, or export elsewhere with --out"
        )
    if target.exists() and not target.is_dir():
        raise RenderError(
            f"{target} is a file, not an export folder: move it away, or export elsewhere "
            "with --out"
        )


def _export_locked(
    plan: TenderPlan,
    library: Library,
    cache: CardCache,
    jobs: int | None,
    progress: Progress | None,
    today: date,
) -> ExportReport:
    """The export proper, with the folder's lock and the cache held."""
    jobs = max(1, jobs or os.cpu_count() or 1)
    formats: list[str] = list(dict.fromkeys(plan.tender.formats))
    report_progress = progress or (lambda stage, done, total: None)
    rendered = dict.fromkeys(formats, 0)
    cached = dict.fromkeys(formats, 0)
    warnings = [
        f"removed {name}, left in {plan.target.parent} by an export that was killed"
        for name in clean_stale_staging(plan.target)
    ]
    recover(plan.target)
    if "pdf" in formats:
        _import_held("refsheets.export.annex")  # pikepdf, before anything is staged
    with staging_folder(plan.target) as staging:
        for annex in plan.annexes:
            folder = staging / annex.target.relative_to(plan.target)
            folder.mkdir(exist_ok=True)
            with _old_objects_frozen():  # (what the lots before left included)
                counts = _write_annex(
                    annex, folder, formats, library, cache, jobs, report_progress, today=today
                )
            for fmt in formats:
                rendered[fmt] += counts[fmt]
                cached[fmt] += len(annex.references) - counts[fmt]
        # The zip is what gets uploaded: what the buyer should read, and nothing else. The
        # manifest (our choice, the missions left out and why) stays beside it, for us.
        name = (
            plan.target.name if plan.target == plan.lock else f"{plan.lock.name}-{plan.target.name}"
        )
        zip_folder(staging, staging / f"{name}.zip", prefix=name)
        manifest = build_manifest(plan, staging)
        (staging / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        _check_target(plan.target)
        publish(staging, plan.target)
    files = sorted(p for p in plan.target.rglob("*") if p.is_file())
    return ExportReport(plan, files, rendered, cached, warnings + cache.warnings)


def _import_held(module: str) -> None:
    """Import `module` with Ctrl-C held off until it is loaded (then raised as ever).

    pikepdf's extension (nanobind) aborts the process when a KeyboardInterrupt lands
    while its module is being set up ("Critical nanobind error", exit -6), where Ctrl-C
    must end an export with 130 and leave the earlier one as it was: one run in ten of
    test_ctrl_c_leaves_the_earlier_export, when the export first imported it mid-way."""
    import importlib

    if module in sys.modules or not hasattr(signal, "pthread_sigmask"):
        importlib.import_module(module)
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        importlib.import_module(module)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _write_annex(
    plan: ExportPlan,
    folder: Path,
    formats: list[str],
    library: Library,
    cache: CardCache,
    jobs: int,
    report_progress: Progress,
    *,
    today: date,
) -> dict[str, int]:
    """One annex's files into `folder`: cards, tables, the PDF and Word annexes; how many
    cards of each format were rendered (the others came from the cache)."""
    cards_dir = folder / "cards"
    cards_dir.mkdir()

    tables_written = False

    def write_tables() -> None:  # once: while the cards render, or after
        nonlocal tables_written
        if tables_written:
            return
        lang = plan.tender.language
        rows = rows_for([(r.public_id, r.mission) for r in plan.references], lang)
        (folder / "references.csv").write_bytes(to_csv(rows, lang))
        (folder / "references.xlsx").write_bytes(to_xlsx(rows, title=plan.title, lang=lang))
        tables_written = True

    aside = "pdf" in formats and jobs > 1 and hasattr(os, "fork")
    card_files, rendered, late = _render_cards(
        formats,
        plan,
        library,
        cache,
        jobs,
        report_progress,
        meanwhile=write_tables,
        defer=aside,
    )

    def write_cards() -> None:
        for fmt in formats:
            for place, ref in enumerate(plan.references):
                payload = card_files[fmt][ref.public_id]
                if fmt == "docx" and place == 0:
                    # The Word annex carries the fonts once; 200 cards each carrying the
                    # same six fonts would be most of the upload (platforms cap it). The
                    # other cards came without them already (see `_render_cards`).
                    payload = without_embedded_fonts(payload)
                (cards_dir / f"{ref.public_id}.{fmt}").write_bytes(payload)

    from refsheets.export.annex import annex_docx, annex_pdf

    report_progress("annex", 0, 1)

    def the_rest() -> None:
        write_tables()
        write_cards()
        if "docx" in formats:
            word_cards = [card_files["docx"][r.public_id] for r in plan.references]
            (folder / ANNEX_DOCX).write_bytes(annex_docx(plan, word_cards, today=today))

    # When the cards came from the cache (a warm export, a re-export after a change or
    # two), the annexes are most of the run and little is held: the tables, the cards'
    # files and the Word annex are written by a forked child while this process makes
    # the PDF annex. A cold export has its memory to mind instead: the Word annex first,
    # and its cards let go of, for the PDF annex, which holds every card's pages at
    # once, is its peak of memory.
    # A card or two to render (a re-export after a change): the child renders them
    # first (and pays for WeasyPrint's import and the layout's set-up, in a new
    # process), says so through a pipe, then writes its part; this process makes the
    # PDF annex meanwhile, and waits for those cards only when it reaches them.
    child = None
    ready = None
    if aside and sum(rendered.values()) <= FEW_CARDS and len(plan.references) <= FORK_AT_MOST:
        if late is not None:
            ready, told = os.pipe()

            def render_then_the_rest() -> None:
                late.render(True)
                os.write(told, b"1")
                the_rest()

            child = fork_call(render_then_the_rest)
            os.close(told)
        else:
            child = fork_call(the_rest)
    if child is None:
        if late is not None:
            late.render(False)
        the_rest()
        card_files.pop("docx", None)
        _trim_heap()
    waited = False

    def wait_for_late() -> None:
        # The cards the child rendered, from the cache; if it said nothing (it failed,
        # or died), or the cache lacks them, rendered here, to raise as they should.
        nonlocal waited
        if waited or late is None:
            return
        waited = True
        if ready is None:
            return
        told_ready = os.read(ready, 1) == b"1"
        os.close(ready)
        if not (told_ready and late.collect()):
            late.render(False)

    try:
        if "pdf" in formats:
            order = [r.public_id for r in plan.references]
            pdf_cards = _CardsInOrder(card_files["pdf"], order, wait_for_late)
            late_places = [i for i, card_id in enumerate(order) if card_id not in card_files["pdf"]]
            (folder / ANNEX_PDF).write_bytes(
                annex_pdf(plan, pdf_cards, library.root, today=today, cache=cache, late=late_places)
            )
            if child is None:  # (else held until the child is seen to have written)
                card_files.pop("pdf")
                _trim_heap()
        wait_for_late()
    finally:
        if ready is not None and not waited:
            os.close(ready)  # an error came before the late cards were needed
        succeeded = child.succeeded() if child is not None else True  # reaped, always
    if not succeeded:
        the_rest()  # again here: whatever failed in the child raises as it should
    report_progress("annex", 1, 1)
    return rendered


def _render_cards(
    formats: Sequence[str],
    plan: ExportPlan,
    library: Library,
    cache: CardCache,
    jobs: int,
    progress: Progress,
    *,
    meanwhile: Callable[[], None] = lambda: None,
    defer: bool = False,
) -> tuple[dict[str, dict[str, bytes]], dict[str, int], Late | None]:
    """Every card's bytes in every format: from the cache, or rendered (then cached).

    The misses of all formats go to one pool of `jobs` forked workers, in batches (one
    WeasyPrint document per PDF batch), so PDF and Word cards render side by side; the
    annex's own pages (cover and summary, footers), when not cached, are rendered there
    too, first, rather than after the cards in this process. `meanwhile` runs while the
    workers render; when a card or two are rendered here, without workers, it is not
    run at all: the caller runs it after (see `_write_annex`). With `defer`, those few
    cards are not rendered either (unless the annex's own pages must be): the `Late`
    returned renders them when and where the caller says, and the bytes of `data` lack
    them until then.
    """
    data: dict[str, dict[str, bytes]] = {fmt: {} for fmt in formats}
    first = plan.references[0].public_id if plan.references else None
    keys: dict[str, dict[str, str]] = {fmt: {} for fmt in formats}
    for ref in plan.references:
        by_format = card_keys(
            ref.card,
            environment=plan.environment,
            fmts=[key_format(plan, fmt) for fmt in formats],
        )
        for fmt in formats:
            keys[fmt][ref.public_id] = by_format[key_format(plan, fmt)]

    def keep(fmt: str, card_id: str, payload: bytes) -> None:
        # A Word card is held without its fonts (a tenth of its bytes: 500 cards held
        # whole were 110 MB), but for the first: the Word annex takes its package's
        # fonts from its first card, and only its body, styles and pictures from the
        # others. The card without its fonts is cached beside it (taking the fonts out
        # was a sixth of a warm export).
        if fmt == "docx" and card_id != first:
            payload = without_embedded_fonts(payload)
            cache.put(keys[fmt][card_id], LEAN_DOCX, payload)
        data[fmt][card_id] = payload

    def from_cache(fmt: str, card_id: str) -> bool:
        # The card, from the cache into `data` (a Word card but the first without its
        # fonts, kept so); False when the cache does not have it.
        key = keys[fmt][card_id]
        if fmt == "docx" and card_id != first:
            lean = cache.get(key, LEAN_DOCX)
            if lean is not None:
                data[fmt][card_id] = lean
                return True
        hit = cache.get(key, fmt)
        if hit is None:
            return False
        keep(fmt, card_id, hit)
        return True

    todo: dict[str, list[Card]] = {}
    for fmt in formats:
        todo[fmt] = [ref.card for ref in plan.references if not from_cache(fmt, ref.public_id)]
        progress(fmt, 0, len(todo[fmt]))
    variant = plan.tender.pdf_variant
    args: list[tuple[str, str, Path, Path, Sequence[Any], str]] = []
    if "pdf" in formats:
        from refsheets.export.annex import front_pages, html_key

        pages = [
            (html_key(plan, html, page_variant), what, html, page_variant)
            for what, html, page_variant in front_pages(plan)
            if cache.get(html_key(plan, html, page_variant), "pdf") is None
        ]
        if pages:
            args.append(("html", plan.layout.name, plan.layout.root, library.root, pages, variant))
    # A card whose fit step is known (from `check`, or an earlier export of it in
    # another tender) is laid out once, at that step.
    environment = plan.environment
    pdf_todo = todo.get("pdf", [])
    steps = dict(
        zip([card.id for card in pdf_todo], known_steps(cache, pdf_todo, environment), strict=True)
    )
    args += [
        (
            fmt,
            plan.layout.name,
            plan.layout.root,
            library.root,
            [(card, steps[card.id]) for card in batch] if fmt == "pdf" else batch,
            variant,
        )
        for fmt in formats
        for batch in _batches(todo[fmt], jobs)
    ]
    done = dict.fromkeys(formats, 0)
    cards_by_id = {ref.public_id: ref.card for ref in plan.references}

    silenced = False  # the rendering under way reports no progress (in a forked child)

    def store(fmt: str, result: list[tuple[str, bytes]]) -> None:
        if fmt == "html":
            for key, payload in result:
                cache.put(key, "pdf", payload)
            return
        if fmt == "fit":
            for card_id, payload in result:
                step = int(payload)
                fit = FitResult(card_id, True, step, FIT_STEPS[step].body_pt)
                store_fit(cache, fit_key(cards_by_id[card_id], environment), fit)
            return
        for card_id, payload in result:  # card ids are the references' public ids
            cache.put(keys[fmt][card_id], fmt, payload)
            keep(fmt, card_id, payload)
        done[fmt] += len(result)
        if not silenced:
            progress(fmt, done[fmt], len(todo[fmt]))

    _prepare_photos([card for fmt in formats for card in todo[fmt]])
    # A re-export after a mission or two changed lays out a card or two: forking a worker
    # for them (its start, and its heap copied page by page as it collects) cost more
    # than the card itself, in a run of seconds.
    few = sum(len(todo[fmt]) for fmt in formats) <= FEW_CARDS
    counts = {str(fmt): len(todo[fmt]) for fmt in formats}
    if defer and few and args and all(arg[0] != "html" for arg in args):

        def render(silent: bool = False) -> None:
            # `silent` in a forked child: the progress display (its lock perhaps held by
            # the display's own thread when the child forked) is this process's alone.
            nonlocal silenced
            silenced = silent
            for arg in args:
                _store_all(store, _render_batch(arg))

        def collect() -> bool:
            for fmt in formats:
                if not all(from_cache(fmt, card.id) for card in todo[fmt]):
                    return False
                progress(fmt, len(todo[fmt]), len(todo[fmt]))
            return True

        return data, counts, Late(render, collect)
    # (The objects there were before are frozen for the collector meanwhile: the
    # caller, `_export_locked`, makes each annex within `_old_objects_frozen`.)
    if jobs == 1 or len(args) <= 1 or few:
        if not few:  # with a card or two, `meanwhile` is the caller's to run after
            meanwhile()
        for arg in args:
            _store_all(store, _render_batch(arg))
    else:
        _render_shared(args, jobs, store, meanwhile)
    if args and not few:
        _trim_heap()  # what this process's own batches left, before the annexes
    return data, counts, None


@dataclass(frozen=True)
class Late:
    """A card or two left to render by `_render_cards(defer=True)`: `render` renders
    them here (into the cache and the export's bytes); `collect` takes what another
    process rendered from the cache (False when some is missing there)."""

    render: Callable[[bool], None]
    collect: Callable[[], bool]


# Full collections while a batch renders: none (a batch ends with one).
_HELD_OFF = 1 << 30


@contextlib.contextmanager
def _old_objects_frozen() -> Iterator[None]:
    """While an annex is made (and the workers and children it forks): the objects
    there are before (the library, the modules, the lots before, what an earlier export
    in this process left, garbage included) are left out of the cyclic collector's
    walks; they are given back to it after.

    The collector's full collections walk every object there is. While the cards
    render, each batch makes its one full collection itself when it ends
    (`_render_batch`); the collector's own, triggered as a batch's layout grew,
    walked it whole each time: 23 of them were a tenth of a cold 200-card export's
    CPU. In a re-export after a cold one in the same process (the bench, the preview),
    the one full collection the annex's allocations triggered walked what the cold
    export left: 71 of the 880 ms."""
    frozen = gc.get_freeze_count() == 0
    if frozen:
        gc.freeze()
    try:
        yield
    finally:
        if frozen:
            gc.unfreeze()


@contextlib.contextmanager
def _one_collection_after() -> Iterator[None]:
    """Hold off the collector's full collections meanwhile, and make one after: a laid
    out batch is a graph of cycles that only a full collection frees. The young
    generations are still collected as they fill."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, _HELD_OFF)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, old)
        _release_memory()


class _CardsInOrder(Sequence[bytes]):
    """The cards' bytes in the annex's order, from `cards` by id; an id not there yet
    (a card still rendering elsewhere) is waited for, by `wait`, when it is read."""

    def __init__(self, cards: dict[str, bytes], order: list[str], wait: Callable[[], None]):
        self.cards, self.order, self.wait = cards, order, wait

    def __len__(self) -> int:
        return len(self.order)

    @overload
    def __getitem__(self, index: int) -> bytes: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[bytes]: ...
    def __getitem__(self, index: int | slice) -> bytes | Sequence[bytes]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        card_id = self.order[index]
        if card_id not in self.cards:
            self.wait()
        return self.cards[card_id]


@dataclass(frozen=True)
class Forked:
    """A forked child running one call (see `fork_call`)."""

    pid: int

    def succeeded(self) -> bool:
        """Wait for the child; whether its call returned (False: it raised, or died)."""
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status) == 0


def fork_call(work: Callable[[], None]) -> Forked | None:
    """Run `work` in a forked child, for its files (None where processes cannot fork).

    The child shares nothing back but its exit status: a call that raised there is run
    again by the caller, in its own process, to raise as it should. It leaves by
    `os._exit`: no exit handler, no buffered output, no lock of the parent's released.
    """
    if not hasattr(os, "fork"):
        return None
    pid = os.fork()
    if pid:
        return Forked(pid)
    code = 1
    try:
        work()
        code = 0
    finally:
        os._exit(code)


def _release_memory() -> None:
    """Give the memory a rendered batch left back to the system: the laid-out document
    is garbage by then, but glibc keeps the freed heap (tens of MB a batch) unless
    asked to trim it, and an export's memory is summed over its processes."""
    gc.collect()
    _trim_heap()


def _trim_heap() -> None:
    """Give the heap glibc keeps after a free back to the system. Without the collector:
    what is let go of here (cards' bytes, an assembled annex) is freed by reference
    counts, and a full collection walks every object of the library (0.06 s a call)."""
    if sys.platform == "linux":
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def _prepare_photos(cards: Sequence[Card]) -> None:
    """Decode and downscale each photo of `cards` once, here, before the workers fork:
    the PDF and the Word batches of a card (other processes) then both start from the
    same downscaled bytes. A bad photo is left for its card's renderer to report."""
    paths = {photo.path for card in cards for photo in card.photos}
    if not paths:
        return
    from refsheets.render.images import PHOTO_CACHE

    for path in sorted(paths):
        with contextlib.suppress(RefsheetsError, OSError):
            PHOTO_CACHE.get(path)


def _render_shared(
    args: Sequence[tuple[str, str, Path, Path, Sequence[Any], str]],
    jobs: int,
    store: Callable[[str, list[tuple[str, bytes]]], None],
    meanwhile: Callable[[], None],
) -> None:
    """Render `args` in `jobs` processes: `jobs - 1` forked workers and this one.

    The batches wait in one list. Each worker is fed by a thread of this process, one
    batch at a time, from the front; this process, between its own work (`meanwhile`,
    storing what comes back), takes the last batch from the back and renders it itself:
    the two ends meet wherever the work balances. (A pool given every batch at once
    queues some of them to a worker ahead of time: at 200 cards this process then sat
    idle for the last three PDF batches, a fifth of the export.) One process fewer than
    a pool of `jobs` workers beside an idle parent: memory is summed over processes, and
    each process holds its own copy of the fonts, the stylesheets and a batch's layout.
    """
    waiting = collections.deque(args)
    lock = threading.Lock()
    results: queue.SimpleQueue[Any] = queue.SimpleQueue()
    finished = object()  # a feeding thread's last word

    def take(*, last: bool) -> tuple[str, str, Path, Path, Sequence[Any], str] | None:
        with lock:
            if not waiting:
                return None
            arg = waiting.pop() if last else waiting.popleft()
            fmt, name, root, library_root, items, variant = arg
            if waiting or fmt == "html" or len(items) < 2 * MIN_SPLIT:
                return arg
            # The last batch: the other process may soon have nothing to do while this
            # one renders it whole (the export's last seconds, on one core). Half of it
            # is left for whichever process is free first, halved again in turn.
            half = len(items) // 2
            mine, left = (items[half:], items[:half]) if last else (items[:half], items[half:])
            waiting.append((fmt, name, root, library_root, left, variant))
            return fmt, name, root, library_root, mine, variant

    def feed(future: Future[dict[str, list[tuple[str, bytes]]]]) -> None:
        # Waits on the worker (the GIL let go meanwhile); what comes back, or how it
        # failed, is handed to this process's main thread, which alone stores.
        try:
            while True:
                results.put(future.result())
                arg = take(last=False)
                if arg is None:
                    return
                future = pool.submit(_render_batch, arg)
        except BaseException as exc:  # a batch failed, or the pool was stopped
            results.put(exc)
        finally:
            results.put(finished)

    def handle(item: Any) -> int:
        if item is finished:
            return 1
        if isinstance(item, BaseException):
            raise item
        _store_all(store, item)
        return 0

    pool = ProcessPoolExecutor(
        max_workers=jobs - 1,
        mp_context=get_context("fork"),
        initializer=_worker_start,
        initargs=(os.getpid(),),
    )
    try:
        feeding = 0
        for _ in range(jobs - 1):
            arg = take(last=False)
            if arg is None:
                break
            # Submitted from this thread: the pool forks its workers here, never from a
            # feeding thread while this one is inside WeasyPrint.
            future = pool.submit(_render_batch, arg)
            threading.Thread(target=feed, args=(future,), daemon=True).start()
            feeding += 1
        meanwhile()  # the tables, while the workers start
        while True:
            with contextlib.suppress(queue.Empty):
                while True:
                    feeding -= handle(results.get_nowait())
            arg = take(last=True)
            if arg is not None:
                _store_all(store, _render_batch(arg))
            elif feeding:
                feeding -= handle(results.get())  # every batch left is being rendered
            else:
                break
    except BaseException:
        # Interrupted, or a batch failed: the other batches are not waited for.
        with lock:
            waiting.clear()
        _stop_workers(pool)
        raise
    pool.shutdown()


def _worker_start(parent: int) -> None:
    """In each rendering worker, first: die with the export that started it.

    A worker outliving its parent (kill -9 of the export) would sit blocked for ever,
    holding the files the parent had open. On Linux the kernel kills it when the parent
    dies (PR_SET_PDEATHSIG); elsewhere a thread watches the parent. The worker also lets
    go of the parent's locks and leaves Ctrl-C and `kill` to the parent, which stops it.
    """
    forget_locks()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    else:
        import threading

        def watch() -> None:
            import time

            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the watch was set
        os._exit(1)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Stop the pool's workers now, without waiting for their batches."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.kill()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(5)


def _batches(cards: list[Card], jobs: int) -> list[list[Card]]:
    """Batches of at most BATCH_SIZE cards, and at least one per worker when there are
    enough cards, so every core works."""
    if not cards:
        return []
    size = min(BATCH_SIZE, -(-len(cards) // jobs))
    return [cards[i : i + size] for i in range(0, len(cards), size)]


def _store_all(
    store: Callable[[str, list[tuple[str, bytes]]], None],
    result: dict[str, list[tuple[str, bytes]]],
) -> None:
    for kind, items in result.items():
        store(kind, items)


def _render_batch(
    args: tuple[str, str, Path, Path, Sequence[Any], str],
) -> dict[str, list[tuple[str, bytes]]]:
    """Render a batch of cards in one format, or the annex's own pages (in a worker).

    Returns the rendered items by kind: "pdf", "docx", "html" (annex pages), and "fit"
    (each PDF card's fit step, as ASCII digits) for the fit cache. The memory the batch
    left is given back after it (`_one_collection_after`)."""
    with _one_collection_after():
        return _render_items(args)


def _render_items(
    args: tuple[str, str, Path, Path, Sequence[Any], str],
) -> dict[str, list[tuple[str, bytes]]]:
    fmt, layout_name, layouts_root, library_root, items, variant = args
    layout = load_layout(layout_name, layouts_root)
    if fmt == "html":
        from refsheets.export.annex import render_html

        return {
            "html": [
                (key, render_html(layout, library_root, html, what, variant=page_variant))
                for key, what, html, page_variant in items
            ]
        }
    if fmt == "pdf":
        cards = [card for card, _ in items]
        rendered = _pdf_cards(
            cards, layout, library_root, [step for _, step in items], variant=variant
        )
        return {
            "pdf": [(card.id, data) for card, (data, _) in zip(cards, rendered, strict=True)],
            "fit": [
                (card.id, str(step).encode())
                for card, (_, step) in zip(cards, rendered, strict=True)
            ],
        }
    from refsheets.render.docx import build_card_docx

    return {"docx": [(card.id, build_card_docx(card, layout)) for card in items]}


def _pdf_cards(
    cards: Sequence[Card],
    layout: Layout,
    library_root: Path,
    steps: Sequence[int],
    *,
    variant: str,
) -> list[tuple[bytes, int]]:
    """One-page PDFs of `cards` and the step each was laid out at, laid out as one
    document, each card at its known step (0, the most comfortable, when unknown).

    The few cards that spill onto a second page are fitted and rendered alone, from the
    step after the one that spilled, instead of laying the whole batch out again: the
    batch is written once and split.
    """
    from refsheets.export.annex import split_pages
    from refsheets.render.images import check_photos
    from refsheets.render.pdf import _pages_per_card, renderer_for

    renderer = renderer_for(layout, library_root)
    check_photos(cards)
    what = f"a batch of {len(cards)} cards"
    document = renderer.render(renderer.html(cards, list(steps)), what)
    counts = _pages_per_card(document, cards)
    # Kept open (not written and read again): the split takes every part from it.
    whole = renderer.write_opened(document, what, variant=variant)
    starts = [sum(counts[:i]) for i in range(len(cards))]
    fitting = [i for i, n in enumerate(counts) if n == 1]
    parts = dict(
        zip(
            fitting,
            [
                (data, steps[i])
                for i, data in zip(
                    fitting,
                    split_pages(
                        whole,
                        [cards[i] for i in fitting],
                        [starts[i] for i in fitting],
                        variant=variant,
                    ),
                    strict=True,
                )
            ],
            strict=True,
        )
    )
    for i, count in enumerate(counts):
        if count != 1:
            card_what = f"the card of mission '{cards[i].id}'"
            # A card that spilled at step 0 starts its search at step 1; a card whose
            # known step spilled (it cannot, the key covers all it reads) starts afresh.
            spilled_first = steps[i] == 0 and count > 1
            result, alone = renderer.fit(cards[i], start=int(spilled_first), start_pages=count)
            if not result.fits or result.step is None:
                raise RenderError(result.message)
            parts[i] = (renderer.write(alone, card_what, variant=variant), result.step)
    return [parts[i] for i in range(len(cards))]


def build_manifest(plan: TenderPlan, folder: Path) -> dict[str, Any]:
    """What the export holds and why: the tender, each annex's choice (the references with
    their scores, hand choices and waivers; every mission not chosen, with its reasons),
    the warnings, the SHA-256 of every file."""
    tender = plan.tender
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        # Read in chunks: the zip alone is tens of MB for a few hundred cards.
        digest, size = hashlib.sha256(), 0
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        files.append(
            {
                "path": path.relative_to(folder).as_posix(),
                "bytes": size,
                "sha256": digest.hexdigest(),
            }
        )
    manifest: dict[str, Any] = {
        "tool": {"name": "refsheets", "version": __version__},
        "tender": {
            "file": plan.tender_path.name,
            "path": str(plan.tender_path.resolve()),  # which tender file owns the folder
            "name": tender.name,
            "buyer": tender.buyer,
            "reference": tender.reference,
            "deadline": tender.deadline.isoformat(),
            "entity": tender.entity,
            "layout": plan.annexes[0].layout.name,
            "language": tender.language,
            "formats": list(tender.formats),
            "rules": tender.rules.model_dump(mode="json"),
            "lots": [lot.number for lot in tender.lots],
        },
    }
    annexes = [_annex_manifest(annex, plan.target) for annex in plan.annexes]
    if plan.by_lot:
        manifest["lots"] = annexes
    else:
        manifest.update(annexes[0])
    manifest["warnings"] = plan.warnings
    manifest["files"] = files
    return manifest


def _annex_manifest(plan: ExportPlan, root: Path) -> dict[str, Any]:
    assert plan.choice is not None and plan.scope is not None  # set by _plan_annex
    choice = plan.choice.to_json()
    entry: dict[str, Any] = {}
    if plan.scope.lot is not None:
        entry = {
            "lot": plan.scope.number,
            "title": plan.scope.title,
            "folder": plan.target.relative_to(root).as_posix() if plan.target != root else ".",
            "deadline": plan.scope.deadline.isoformat(),
            "rules": plan.scope.rules.model_dump(mode="json"),
        }
    scored = {item["id"]: item for item in choice["selected"]}
    entry |= {
        "query": choice["query"],
        "counts": choice["counts"],
        "selection": [
            {
                "rank": ref.chosen.rank,
                "id": ref.id,
                "card": ref.public_id,  # the name of its files: a neutral one when anonymous
                "title": ref.mission.title,
                "score": scored[ref.id]["score"],
                "score_parts": scored[ref.id]["parts"],
                "why": scored[ref.id]["why"],
                "by_hand": ref.chosen.by_hand,
                "reason": scored[ref.id]["reason"],
                "waived": scored[ref.id]["waived"],
                "missing_facts": list(ref.missing),
                "entity": ref.mission.entity,
            }
            for ref in plan.references
        ],
        "excluded": choice["excluded"],
        "warnings": plan.warnings,
    }
    return entry
