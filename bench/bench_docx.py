"""Word cards: milliseconds per .docx card, as separate files and in one many-card file.

    python bench/bench_docx.py [N]      # N synthetic missions, default 200

Prints the time per card for N cards written as N files (`write_card_docx`), for the
same cards in one document (`build_cards_docx`), the fit check alone, and file sizes.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synth import make_library
from refsheets.card import build_card
from refsheets.layouts import LAYOUTS_ROOT, load_layout
from refsheets.library import load_library
from refsheets.render.docx import build_cards_docx, write_card_docx
from refsheets.render.docx_fit import fit_card


def main() -> None:
    """Print the figures."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        library = load_library(make_library(Path(tmp) / "data", n))
        layout = load_layout("pop-up", LAYOUTS_ROOT)
        cards = [build_card(library, mission_id) for mission_id, _ in library]
        # Warm the caches a long run shares (template bytes, font metrics).
        write_card_docx(cards[0], layout, Path(tmp) / "warm.docx")

        start = time.perf_counter()
        fits = [fit_card(card, layout) for card in cards]
        fit_s = time.perf_counter() - start
        fitting = [card for card, fit in zip(cards, fits, strict=True) if fit.fits]

        out = Path(tmp) / "out"
        start = time.perf_counter()
        for card in fitting:
            write_card_docx(card, layout, out / f"{card.id}.docx")
        separate_s = time.perf_counter() - start
        size = sum(p.stat().st_size for p in out.iterdir()) / len(fitting)

        start = time.perf_counter()
        data = build_cards_docx(fitting, layout)
        one_s = time.perf_counter() - start

    count = len(fitting)
    print(
        f"{count} of {n} synthetic cards fit one page (fit steps used: "
        f"{sorted({f.step for f in fits if f.step is not None})})"
    )
    print(f"fit check alone:        {fit_s / n * 1000:6.1f} ms per card")
    print(
        f"separate .docx files:   {separate_s / count * 1000:6.1f} ms per card "
        f"({separate_s:.1f} s in all; {size / 1024:.0f} KB per file, fonts embedded)"
    )
    print(
        f"one {count}-card .docx:  {one_s / count * 1000:6.1f} ms per card "
        f"({one_s:.1f} s in all; {len(data) / 1024:.0f} KB)"
    )


if __name__ == "__main__":
    main()
