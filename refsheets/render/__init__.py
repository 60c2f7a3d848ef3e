"""Rendering cards to files: `render(library, ids, …)` writes `out_dir/<id>.<format>`.

The PDF writer is `refsheets.render.pdf`, the Word writer `refsheets.render.docx`; both
receive the same `Card`. PNG images (`refsheets.render.png`) are the PDF's pages,
rasterised: `<id>.png`, or `<id>-<n>.png` for each page of a card of several. Every
file is written atomically: a card that fails leaves no partial file and keeps an older
one intact. All cards are built and checked before the
first file is written, so a bad id stops the run before anything changes on disk.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from refsheets.card import Card, Lang, build_card
from refsheets.errors import RenderError, UsageError
from refsheets.layouts import BASE_LAYOUT, Layout, list_layouts, load_layout, resolve_layouts_root
from refsheets.library import Library
from refsheets.output import write_atomic

if TYPE_CHECKING:
    from refsheets.render.fit import FitResult

Format = Literal["pdf", "docx", "png"]
FORMATS: tuple[Format, ...] = ("pdf", "docx", "png")


def default_layout_name(library: Library, mission_id: str, layouts_root: Path) -> str:
    """A mission's default layout: the one named after its entity, else `base`."""
    entity = library.get(mission_id).entity
    if entity and entity in list_layouts(layouts_root):
        return entity
    return BASE_LAYOUT


def _docx_writer() -> Any:
    try:
        module = importlib.import_module("refsheets.render.docx")
    except ModuleNotFoundError as exc:
        if exc.name == "refsheets.render.docx":
            raise RenderError(
                "Word output is not available in this version of refsheets; use --format pdf"
            ) from None
        raise
    return module.write_card_docx


def render(
    library: Library,
    ids: Iterable[str],
    *,
    formats: Sequence[str] = ("pdf",),
    layout: str | None = None,
    lang: Lang = "fr",
    out_dir: Path,
    layouts_root: Path | None = None,
    dpi: int | None = None,
    pdf_variant: str = "pdf/ua-1",
    notices: list[str] | None = None,
) -> list[Path]:
    """Render the cards of `ids` into `out_dir`; return the files written, in order.

    PDF cards are tagged PDF/UA-1; `pdf_variant` asks for PDF/A (e.g. 'pdf/a-3u', also
    tagged) instead.

    `layout` forces one layout for every card; by default each mission uses the layout
    of its entity. `dpi` is the resolution of PNG pages (default 150). Each PDF card that
    had to be tightened to fit one page adds a sentence to `notices` (which fit step, at
    what size). Raises NotFoundError for an unknown id or layout, RenderError for a card
    that cannot be produced (too long, bad photo, …).
    """
    from refsheets.render.pdf_tags import PDF_VARIANTS

    if pdf_variant not in PDF_VARIANTS:
        raise UsageError(
            f"'{pdf_variant}' is not a PDF variant refsheets writes; use one of "
            + ", ".join(PDF_VARIANTS)
        )
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise RenderError(f"unknown format '{unknown[0]}'; use pdf, docx or png")
    if "png" in formats:
        from refsheets.render.png import DEFAULT_DPI, check_dpi

        dpi = check_dpi(DEFAULT_DPI if dpi is None else dpi)
    root = layouts_root or resolve_layouts_root(library.root)
    ids = list(dict.fromkeys(ids))  # the same id twice is one card
    if not ids:
        raise UsageError("no mission ids given; name them, or pass - to read them from stdin")
    layouts: dict[str, Layout] = {}
    jobs: list[tuple[Card, Layout]] = []
    for mission_id in ids:
        library.get(mission_id)  # NotFoundError with close matches, before any work
    for mission_id in ids:
        name = layout or default_layout_name(library, mission_id, root)
        if name not in layouts:
            layouts[name] = load_layout(name, root)
        jobs.append((build_card(library, mission_id, lang=lang), layouts[name]))
    write_docx = _docx_writer() if "docx" in formats else None
    written: list[Path] = []
    for card, card_layout in jobs:
        pdf: bytes | None = None
        for fmt in formats:
            target = Path(out_dir) / f"{card.id}.{fmt}"
            try:
                if fmt in ("pdf", "png") and pdf is None:
                    from refsheets.render.pdf import renderer_for

                    # Laid out once: the PNG pages are this very PDF, rasterised.
                    renderer = renderer_for(card_layout, library.root)
                    pdf, fit = renderer.fitted_card_pdf(card, variant=pdf_variant)
                    if fit.tightened and notices is not None:
                        notices.append(fit.tightened)
                if fmt == "pdf":
                    assert pdf is not None
                    write_atomic(target, pdf)
                elif fmt == "png":
                    assert pdf is not None and dpi is not None
                    written += _write_pngs(pdf, card.id, Path(out_dir), dpi)
                    continue
                else:
                    assert write_docx is not None
                    write_docx(card, card_layout, target)  # atomic itself
            except OSError as exc:
                raise RenderError(
                    f"cannot write {target}: {exc.strerror or exc}; check the --out folder"
                ) from None
            written.append(target)
    return written


def _write_pngs(pdf: bytes, card_id: str, out_dir: Path, dpi: int) -> list[Path]:
    from refsheets.render.png import pdf_to_pngs, png_paths

    pages = pdf_to_pngs(pdf, dpi=dpi, what=f"the card of '{card_id}'")
    targets = png_paths(out_dir, card_id, len(pages))
    for target, image in zip(targets, pages, strict=True):
        write_atomic(target, image)
    return targets


def check_fits(
    library: Library,
    *,
    lang: Lang = "fr",
    layouts_root: Path | None = None,
    ids: Iterable[str] | None = None,
    jobs: int = 1,
) -> list[FitResult]:
    """Lay out every valid mission (or those of `ids`) in its default layout; one
    FitResult per mission, in the library's order.

    For `refsheets check`: the missions whose card will not fit on one page are those
    with `fits` False, and their `message` says what overflows and by how much. The
    cards are laid out in batches (one document each, see `fit_cards`), spread over
    `jobs` forked processes.
    """
    from refsheets.render.fit import FIT_STEPS, FitResult
    from refsheets.render.fit_bound import CardBound

    root = layouts_root or resolve_layouts_root(library.root)
    wanted = set(ids) if ids is not None else None
    groups: dict[str, list[Card]] = {}
    bounds: dict[str, CardBound | None] = {}
    proven: dict[str, FitResult] = {}
    for mission_id, _ in library:
        if wanted is not None and mission_id not in wanted:
            continue
        name = default_layout_name(library, mission_id, root)
        if name not in bounds:
            bounds[name] = CardBound.of(load_layout(name, root))
        bound = bounds[name]
        card = build_card(library, mission_id, lang=lang)
        # Most cards are far from full: a bound of their height proves it without
        # laying them out (fit_bound.py); the others are laid out, as ever.
        if bound is not None and bound.fits(card) and _photos_readable(card):
            proven[mission_id] = FitResult(card.id, True, 0, FIT_STEPS[0].body_pt)
        else:
            groups.setdefault(name, []).append(card)
    size = max(1, min(FIT_BATCH, -(-sum(map(len, groups.values())) // max(1, jobs))))
    work = [
        (name, root, library.root, cards[i : i + size])
        for name, cards in groups.items()
        for i in range(0, len(cards), size)
    ]
    if jobs <= 1 or len(work) <= 1:
        batches = [_fit_batch(item) for item in work]
    else:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
            batches = list(pool.map(_fit_batch, work))
    by_id = {result.mission_id: result for batch in batches for result in batch}
    by_id.update(proven)
    return [by_id[mission_id] for mission_id, _ in library if mission_id in by_id]


def _photos_readable(card: Card) -> bool:
    """Whether every photo of `card` opens (and is downscaled, once): a card with a bad
    photo is laid out, for its FitResult to say what is wrong in the usual words."""
    from refsheets.render.images import check_photos

    try:
        check_photos([card])
    except (RenderError, OSError):
        return False
    return True


FIT_BATCH = 25  # cards per layout document when checking fits


def _fit_batch(item: tuple[str, Path, Path, Sequence[Card]]) -> list[FitResult]:
    """Fit results of one batch of cards (in a worker, or in this process)."""
    from refsheets.render.pdf import fit_cards

    name, root, library_root, cards = item
    return fit_cards(cards, load_layout(name, root), library_root=library_root)
