"""Cards rendered in batches for an export (refsheets/export/__init__.py: `_pdf_cards`,
`_render_shared`) and Word cards built from a template parsed once (render/docx.py): the
same cards as rendered one by one, alone."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import threading
import time
import zipfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from bench.bench_speed import write_tender
from bench.synth import make_library
from refsheets import load_library
from refsheets.errors import RenderError
from refsheets.export import _pdf_cards, export_tender, plan_export
from refsheets.render.docx import build_card_docx
from refsheets.render.pdf import renderer_for
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
TODAY = date(2026, 6, 1)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Six synthetic missions, a tender asking for all of them, the project's layouts."""
    make_library(tmp_path / "data", 6)
    for name in ("layouts", "fonts"):
        shutil.copytree(ROOT / name, tmp_path / name)
    write_tender(tmp_path / "t.yaml", 6)  # the bench's tender: pop-up, pdf and docx
    return tmp_path


def _fonts(data: bytes) -> set[str]:
    """The names of the fonts embedded in a PDF (each with its program)."""
    names = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                assert "/FontFile2" in obj or "/FontFile3" in obj or "/FontFile" in obj
                names.add(str(obj.FontName).split("+", 1)[-1])
    return names


def _text(data: bytes) -> str:
    """A PDF's text; the hyphen glyph's text taken as "-": WeasyPrint's subset of a
    document names it after the first character it drew for (a hyphen or U+2010, a
    hyphenation's), and a batch is a document."""
    pages = PdfReader(io.BytesIO(data)).pages
    return "\n".join(page.extract_text() for page in pages).replace("\u2010", "-")


def _packing(data: bytes) -> tuple[set[str], bool]:
    """How a PDF is packed: the types of its streams stored without a filter (left
    uncompressed), and whether its other objects are packed in object streams."""
    unfiltered = set()
    packed = False
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream):
                packed = packed or obj.get("/Type") == "/ObjStm"
                if "/Filter" not in obj:
                    unfiltered.add(str(obj.get("/Type", "(untyped)")))
    return unfiltered, packed


def test_a_split_batch_gives_each_card_as_rendered_alone(project: Path) -> None:
    library = load_library(project / "data")
    plan = plan_export(project / "t.yaml", library, out_root=project / "out", today=TODAY)
    cards = [ref.card for ref in plan.references]
    batch = _pdf_cards(cards, plan.layout, library.root, [0] * len(cards), variant="pdf/ua-1")
    renderer = renderer_for(plan.layout, library.root)
    for card, (data, step) in zip(cards, batch, strict=True):
        alone, fit = renderer.fitted_card_pdf(card)
        assert step == fit.step
        assert len(PdfReader(io.BytesIO(data)).pages) == len(PdfReader(io.BytesIO(alone)).pages)
        assert len(PdfReader(io.BytesIO(data)).pages) == 1
        assert _text(data) == _text(alone)
        assert card.title.split()[0] in _text(data)
        assert _fonts(data) == _fonts(alone) and _fonts(data)
        # The batch is written uncompressed and deflated once before the split: each
        # part is packed as the card alone is, its XMP metadata left readable.
        assert _packing(data) == _packing(alone) == ({"/Metadata"}, True)
        with pikepdf.open(io.BytesIO(data)) as pdf:
            # still a tagged card of its own: a structure tree, its language, its title
            assert "/StructTreeRoot" in pdf.Root and str(pdf.Root.Lang) == card.lang
            assert str(pdf.docinfo.Title) == card.title


def test_word_cards_from_one_parsed_template_do_not_leak_into_each_other(
    project: Path,
) -> None:
    library = load_library(project / "data")
    plan = plan_export(project / "t.yaml", library, out_root=project / "out", today=TODAY)
    first, second = (ref.card for ref in plan.references[:2])
    a = build_card_docx(first, plan.layout)
    b = build_card_docx(second, plan.layout)
    assert build_card_docx(first, plan.layout) == a  # the shared template was not touched
    body = zipfile.ZipFile(io.BytesIO(b)).read("word/document.xml").decode()
    assert first.client not in body or first.client == second.client
    assert second.title.split()[0] in body


def test_two_jobs_give_the_files_one_job_gives(project: Path) -> None:
    outputs: dict[int, dict[str, tuple[str, set[str]] | bytes]] = {}
    for jobs in (1, 2):
        out = project / f"out-{jobs}"
        report = export_tender(
            project / "t.yaml",
            load_library(project / "data"),
            out_root=out,
            today=TODAY,
            jobs=jobs,
        )
        assert report.rendered == {"pdf": 6, "docx": 6}
        folder = report.plan.target
        # A PDF card's font subsets are cut for the batch it was laid out in, and the
        # batches differ with the number of jobs: its text and fonts are compared.
        outputs[jobs] = {
            p.name: (_text(p.read_bytes()), _fonts(p.read_bytes()))
            if p.suffix == ".pdf"
            else p.read_bytes()
            for p in sorted((folder / "cards").iterdir())
        }
        outputs[jobs]["annex.docx"] = (folder / "annexe-references.docx").read_bytes()
        annex = (folder / "annexe-references.pdf").read_bytes()
        outputs[jobs]["annex.pdf"] = (_text(annex), _fonts(annex))
    assert len(outputs[1]) == 6 * 2 + 2
    assert outputs[2] == outputs[1]


def test_a_photo_is_decoded_and_resized_once_for_both_formats(project: Path) -> None:
    from PIL import Image

    from refsheets.render.images import PHOTO_CACHE

    (project / "data" / "photos").mkdir()
    Image.effect_noise((2400, 1800), 40).convert("RGB").save(
        project / "data" / "photos" / "atelier.jpg", quality=90
    )
    first = sorted((project / "data" / "missions").glob("*.yaml"))[0]
    first.write_text(
        first.read_text(encoding="utf-8")
        + "photos:\n  - path: photos/atelier.jpg\n    caption: Atelier\n",
        encoding="utf-8",
    )
    library = load_library(project / "data")
    plan = plan_export(project / "t.yaml", library, out_root=project / "out", today=TODAY)
    card = next(ref.card for ref in plan.references if ref.card.photos)
    misses = PHOTO_CACHE.misses
    pdf = renderer_for(plan.layout, library.root).card_pdf(card)
    word = build_card_docx(card, plan.layout)
    assert PHOTO_CACHE.misses == misses + 1  # one decode and resize, for both
    with pikepdf.open(io.BytesIO(pdf)) as document:
        images = [
            obj
            for obj in document.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
        ]
        assert images and max(int(image.Width) for image in images) < 2400
    media = [n for n in zipfile.ZipFile(io.BytesIO(word)).namelist() if "media/" in n]
    photo = next(n for n in media if n.endswith((".jpeg", ".jpg")))
    width = Image.open(io.BytesIO(zipfile.ZipFile(io.BytesIO(word)).read(photo))).width
    # 62 mm at 300 dpi: the Word card's photo keeps the print resolution
    assert 700 <= width <= 733


def _export(project: Path, *, jobs: int) -> Any:
    """Export the project's tender into its out/, the library read afresh."""
    return export_tender(
        project / "t.yaml",
        load_library(project / "data"),
        out_root=project / "out",
        today=TODAY,
        jobs=jobs,
    )


def _change_one(project: Path, index: int) -> Path:
    """Change what the card of the `index`-th mission prints (its context)."""
    changed = sorted((project / "data" / "missions").glob("*.yaml"))[index]
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("context: |\n  ", "context: |\n  Zanzibar. ", 1), "utf-8")
    return changed


def test_a_re_export_after_one_change_lays_it_out_here_and_takes_the_rest(
    project: Path,
) -> None:
    from refsheets.render import pdf

    export_tender(
        project / "t.yaml", load_library(project / "data"), out_root=project / "out", today=TODAY
    )
    changed = _change_one(project, 2)
    pdf._renderers.clear()  # filled again only if this process lays a card out
    report = _export(project, jobs=2)
    assert report.rendered == {"pdf": 1, "docx": 1}
    assert report.cached == {"pdf": 5, "docx": 5}
    # The one card was laid out by the forked child, while this process made the PDF
    # annex (no pool, no worker: nothing laid out here either).
    assert not pdf._renderers
    folder = report.plan.target
    assert "Zanzibar" in _text((folder / "cards" / f"{changed.stem}.pdf").read_bytes())
    annex = _text((folder / "annexe-references.pdf").read_bytes())
    assert annex.count("Zanzibar") == 1
    word = zipfile.ZipFile(folder / "cards" / f"{changed.stem}.docx").read("word/document.xml")
    assert b"Zanzibar" in word
    # The other cards were put in the annex while the child rendered this one: the
    # annex is the one the same cards give when they are put in in order (an export
    # of the same, all cached, in one process).
    late = (folder / "annexe-references.pdf").read_bytes()
    again = _export(project, jobs=1)
    assert again.rendered == {"pdf": 0, "docx": 0}
    assert (again.plan.target / "annexe-references.pdf").read_bytes() == late


def test_past_fork_at_most_references_a_re_export_forks_no_child(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large annex is made in one process: a forked child's copy of the export's heap
    is counted again in the memory summed over processes (a 500-card re-export took
    419 MB forked, over the 400 MB budget, and 281 MB in one process)."""
    import refsheets.export as export

    export_tender(
        project / "t.yaml", load_library(project / "data"), out_root=project / "out", today=TODAY
    )
    forked: list[object] = []
    fork_call = export.fork_call

    def spy(work: Any) -> Any:
        forked.append(work)
        return fork_call(work)

    monkeypatch.setattr(export, "fork_call", spy)
    changed = _change_one(project, 1)
    monkeypatch.setattr(export, "FORK_AT_MOST", 5)  # the project's tender takes 6
    report = _export(project, jobs=2)
    assert report.rendered == {"pdf": 1, "docx": 1} and forked == []
    annex = _text((report.plan.target / "annexe-references.pdf").read_bytes())
    assert annex.count("Zanzibar") == 1
    assert "Zanzibar" in _text((report.plan.target / "cards" / f"{changed.stem}.pdf").read_bytes())
    monkeypatch.setattr(export, "FORK_AT_MOST", 6)
    _change_one(project, 2)
    assert _export(project, jobs=2).rendered == {"pdf": 1, "docx": 1} and len(forked) == 1


def test_a_warm_export_makes_the_word_annex_in_a_child_and_the_same_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import refsheets.export as export

    forked: list[int] = []
    fork_call = export.fork_call

    def spy(work: Any) -> Any:
        child = fork_call(work)
        forked.append(child.pid if child else 0)
        return child

    monkeypatch.setattr(export, "fork_call", spy)
    annexes = []
    for out, jobs in (("a", 2), ("a", 2), ("b", 1)):
        report = export_tender(
            project / "t.yaml",
            load_library(project / "data"),
            out_root=project / out,
            today=TODAY,
            jobs=jobs,
        )
        annexes.append((report.plan.target / "annexe-references.docx").read_bytes())
    # Cold (12 cards laid out): made here. Warm with two jobs: in a child. Warm with one
    # job: here. The same bytes each time.
    assert len(forked) == 1 and forked[0] > 0
    assert annexes[0] == annexes[1] == annexes[2]


def test_a_word_annex_failing_in_the_child_fails_the_export_here(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import refsheets.export.annex as annex

    out = project / "out"
    library = load_library(project / "data")
    export_tender(project / "t.yaml", library, out_root=out, today=TODAY, jobs=2)
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}

    def broken(*args: Any, **kwargs: Any) -> bytes:
        raise RenderError("a Word annex that cannot be made")

    monkeypatch.setattr(annex, "annex_docx", broken)
    with pytest.raises(RenderError, match="cannot be made"):
        export_tender(project / "t.yaml", library, out_root=out, today=TODAY, jobs=2)
    # The error is this process's (the child's is only its exit status), and the
    # earlier export is intact.
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_a_card_the_child_cannot_render_fails_the_export_here(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import refsheets.export as export

    out = project / "out"
    export_tender(project / "t.yaml", load_library(project / "data"), out_root=out, today=TODAY)
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    _change_one(project, 1)

    def broken(arg: Batch) -> dict[str, list[tuple[str, bytes]]]:
        raise RenderError("a card that cannot be rendered")

    monkeypatch.setattr(export, "_render_batch", broken)
    with pytest.raises(RenderError, match="cannot be rendered"):
        export_tender(
            project / "t.yaml", load_library(project / "data"), out_root=out, today=TODAY, jobs=2
        )
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_with_one_job_the_changed_card_is_laid_out_here(project: Path) -> None:
    from refsheets.render import pdf

    library = load_library(project / "data")
    export_tender(project / "t.yaml", library, out_root=project / "out", today=TODAY)
    _change_one(project, 3)
    pdf._renderers.clear()
    report = _export(project, jobs=1)
    assert report.rendered == {"pdf": 1, "docx": 1} and pdf._renderers
    annex = _text((report.plan.target / "annexe-references.pdf").read_bytes())
    assert annex.count("Zanzibar") == 1


Batch = tuple[str, str, Path, Path, Sequence[Any], str]


def _sleepy_batch(arg: Batch) -> dict[str, list[tuple[str, bytes]]]:
    # Stands for a batch of cards (the scheduling alone is under test): as long for the
    # export process as for its worker; says who rendered it.
    if arg[0] == "broken":
        raise RenderError("a batch that fails")
    time.sleep(0.4)
    return {"done": [(arg[0], str(os.getpid()).encode())]}


def test_the_export_process_takes_batches_from_the_back_while_its_worker_takes_the_front(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A pool handed every batch at once queues some to its worker ahead of time: the
    # export process then found nothing left to take and waited (at 200 cards, idle for
    # the last three PDF batches). Fed one batch at a time, the worker renders the front
    # of the list, this process the back, and six equal batches split about evenly.
    from refsheets import export

    outstanding: list[int] = []

    class CountingPool(ProcessPoolExecutor):
        """The pool, counting the batches handed to it and not yet back."""

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            future = super().submit(fn, *args, **kwargs)
            outstanding.append(sum(1 for f in handed if not f.done()) + 1)
            handed.append(future)
            return future

    handed: list[Any] = []
    monkeypatch.setattr(export, "ProcessPoolExecutor", CountingPool)
    monkeypatch.setattr(export, "_render_batch", _sleepy_batch)
    labels = [f"b{i}" for i in range(1, 7)]
    args: list[Batch] = [(label, "", Path(), Path(), [], "") for label in labels]
    done: list[tuple[str, int]] = []

    def store(kind: str, items: list[tuple[str, bytes]]) -> None:
        assert threading.current_thread() is threading.main_thread()  # stores stay here
        done.extend((label, int(pid)) for label, pid in items)

    export._render_shared(args, 2, store, lambda: None)
    assert sorted(label for label, _ in done) == labels  # each batch once
    assert max(outstanding) == 1  # the one worker never had a batch waiting for it
    here = [label for label, pid in done if pid == os.getpid()]
    there = [label for label, pid in done if pid != os.getpid()]
    assert len({pid for _, pid in done if pid != os.getpid()}) == 1  # one worker
    assert sorted(there) == labels[: len(there)]  # the worker: the front, in order
    assert sorted(here) == labels[len(there) :]  # this process: the back
    assert here and there


def _sleepy_cards(arg: Batch) -> dict[str, list[tuple[str, bytes]]]:
    # A batch of "cards" that take 50 ms each: says who rendered which.
    time.sleep(0.05 * len(arg[4]))
    return {"done": [(f"{arg[0]}:{item}", str(os.getpid()).encode()) for item in arg[4]]}


def test_the_last_batch_is_halved_so_both_processes_finish_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Taken whole, the last batch kept one process busy while the other had nothing left
    # (the export's last seconds on one core): it is halved for whoever is free first,
    # down to batches of MIN_SPLIT cards.
    from refsheets import export

    monkeypatch.setattr(export, "_render_batch", _sleepy_cards)
    args: list[Batch] = [("pdf", "", Path(), Path(), list(range(16)), "")]
    done: list[tuple[str, int]] = []
    export._render_shared(
        args,
        2,
        lambda kind, items: done.extend((label, int(pid)) for label, pid in items),
        lambda: None,
    )
    assert sorted(label for label, _ in done) == sorted(f"pdf:{i}" for i in range(16))
    here = [label for label, pid in done if pid == os.getpid()]
    assert 4 <= len(here) <= 12  # both processes rendered a share of the one batch


def test_a_batch_failing_in_the_worker_stops_the_export(monkeypatch: pytest.MonkeyPatch) -> None:
    from refsheets import export

    monkeypatch.setattr(export, "_render_batch", _sleepy_batch)
    labels = ("broken", "b2", "b3", "b4")
    args: list[Batch] = [(label, "", Path(), Path(), [], "") for label in labels]
    with pytest.raises(RenderError, match="a batch that fails"):
        export._render_shared(args, 2, lambda kind, items: None, lambda: None)
    assert not _live_children()  # no worker left behind


def _live_children() -> list[int]:
    """This process's children still there (running or not yet reaped), from /proc.

    Not `multiprocessing.active_children()`: in 1 run in 12 it listed the killed
    worker as alive (exit code None) while `ps --ppid` showed no such child any more:
    multiprocessing's bookkeeping of a process another wait had reaped, not a process."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc here")
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == os.getpid():
                found.append(int(stat.parent.name))
    return found


def test_a_batch_makes_one_full_collection_and_the_export_leaves_the_collector_as_it_was(
    project: Path,
) -> None:
    """The collector's own full collections, triggered as a batch's layout grows, are
    held off while it renders: the batch makes one when it ends, which frees its
    layout. The export leaves the collector's thresholds and frozen objects as they
    were (a caller's program goes on with the collector it had)."""
    import gc

    from refsheets import export

    library = load_library(project / "data")
    plan = plan_export(project / "t.yaml", library, out_root=project / "out", today=TODAY)
    cards = [ref.card for ref in plan.references]
    full: list[str] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append("collection")

    before = (gc.get_threshold(), gc.get_freeze_count())
    gc.set_threshold(1, 1, 1)  # left alone, a full collection every second young one
    gc.callbacks.append(count)
    try:
        for fmt, items in (("pdf", [(card, 0) for card in cards]), ("docx", cards)):
            full.clear()
            arg = (fmt, plan.layout.name, plan.layout.root, library.root, items, "pdf/ua-1")
            result = export._render_batch(arg)
            assert len(result[fmt]) == len(cards)
            assert full == ["collection"], fmt
            assert gc.get_threshold() == (1, 1, 1)
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*before[0])
    report = export_tender(project / "t.yaml", library, out_root=project / "out2", today=TODAY)
    assert report.rendered == {"pdf": 6, "docx": 6}
    assert (gc.get_threshold(), gc.get_freeze_count()) == before
