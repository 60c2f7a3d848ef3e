"""PDF cards: our full pipeline against a plain WeasyPrint render of the same HTML.

    python bench/bench_render.py [N]      # N cards, default 200

The N cards are the 8 real missions cycled with distinct ids (every 8th one with a
2400 x 1800 JPEG photo, from a temporary copy of the library). For each card:

- "ours": `render_card_pdf`, i.e. template, photo checks and downscaling (cached),
  the fit check, the safe URL fetcher, the capture of WeasyPrint's log, the PDF;
- "plain": `weasyprint.HTML(string=same_html).write_pdf(...)` with WeasyPrint's default
  fetcher, given the same stylesheets and font configuration already parsed (the most
  favourable baseline: only our own additions are measured).

Both run in the same process, in alternating passes (best of two), after a warm-up.
The same comparison is then made for all N cards in one document (`render_cards_pdf`).
Prints ms per card and the overhead in %; the target is at most 25 %.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import weasyprint
from PIL import Image

from refsheets.card import Card, CardPhoto, build_card
from refsheets.layouts import LAYOUTS_ROOT, load_layout
from refsheets.library import load_library
from refsheets.render.images import PHOTO_CACHE
from refsheets.render.pdf import (
    CardRenderer,
    render_card_pdf,
    render_cards_pdf,
    renderer_for,
    warn_if_no_harfbuzz_subset,
)

ROOT = Path(__file__).resolve().parent.parent


def make_cards(library_root: Path, n: int) -> list[Card]:
    """N cards: the real missions cycled, with distinct ids; every 8th with a photo."""
    library = load_library(library_root)
    photo = library_root / "photos" / "atelier.jpg"
    photo.parent.mkdir(exist_ok=True)
    Image.new("RGB", (2400, 1800), (90, 130, 150)).save(photo, quality=85)
    base = [build_card(library, mission_id) for mission_id in library.missions]
    cards = []
    for i in range(n):
        card = base[i % len(base)]
        photos = (
            (CardPhoto(photo, "Atelier de co-conception", alt="Atelier"),) if i % 8 == 7 else ()
        )
        cards.append(dataclasses.replace(card, id=f"{card.id}-{i:03d}", photos=photos))
    return cards


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def plain_pdf(renderer: CardRenderer, html: str) -> bytes:
    """What a caller of WeasyPrint alone would do with the same HTML and CSS."""
    data: bytes = weasyprint.HTML(string=html, base_url=str(renderer.layout.path) + "/").write_pdf(
        stylesheets=renderer.stylesheets, font_config=renderer.font_config
    )
    return data


def main() -> None:
    """Print the figures."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(f"libharfbuzz-subset: {'yes' if warn_if_no_harfbuzz_subset() else 'NO'}")
    with tempfile.TemporaryDirectory() as tmp:
        library_root = Path(tmp) / "data"
        shutil.copytree(ROOT / "data", library_root)
        cards = make_cards(library_root, n)
        layout = load_layout("pop-up", LAYOUTS_ROOT)
        renderer = renderer_for(layout, library_root)

        # Warm-up: the first card of a process pays for imports and caches.
        render_card_pdf(cards[0], layout, library_root=library_root)
        steps = {}
        for card in cards:
            result, _ = renderer.fit(card)
            steps[card.id] = result.step or 0
        htmls = [renderer.html([card], [steps[card.id]]) for card in cards]
        plain_pdf(renderer, htmls[0])

        def ours_separate() -> None:
            PHOTO_CACHE._items.clear()  # each pass downscales its photo once, as a run would
            for card in cards:
                render_card_pdf(card, layout, library_root=library_root)

        def plain_separate() -> None:
            for html in htmls:
                plain_pdf(renderer, html)

        ours_s, plain_s = [], []
        for _ in range(2):
            ours_s.append(timed(ours_separate))
            plain_s.append(timed(plain_separate))
        ours, plain = min(ours_s) / n * 1000, min(plain_s) / n * 1000
        print(f"{n} cards, pop-up layout, one PDF per card")
        print(f"  ours (fit, fetcher, photo checks, log capture): {ours:7.1f} ms/card")
        print(f"  plain WeasyPrint, same HTML and CSS:            {plain:7.1f} ms/card")
        print(f"  overhead: {(ours / plain - 1) * 100:+.1f} %")

        batch_html = renderer.html(cards, [steps[c.id] for c in cards], title="bench")

        def ours_batch() -> None:
            PHOTO_CACHE._items.clear()
            render_cards_pdf(cards, layout, title="bench", library_root=library_root)

        def plain_batch() -> None:
            plain_pdf(renderer, batch_html)

        ours_b, plain_b = [], []
        for _ in range(2):
            ours_b.append(timed(ours_batch))
            plain_b.append(timed(plain_batch))
        ours, plain = min(ours_b) / n * 1000, min(plain_b) / n * 1000
        print(f"{n} cards in one document")
        print(f"  ours:  {ours:7.1f} ms/card")
        print(f"  plain: {plain:7.1f} ms/card")
        print(f"  overhead: {(ours / plain - 1) * 100:+.1f} %")


if __name__ == "__main__":
    main()
