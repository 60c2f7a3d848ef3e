"""The preview's figures: reload latency after a save, and PNG time per card.

    python bench/bench_preview.py [N]      # N saves and cards, default 5

- reload: `refsheets preview` runs on a temporary copy of the library (a subprocess, on
  a free port); the bench saves the mission with a new amount and asks the page's state
  URL, as the page's script does, until the new amount is on the card. Prints the
  median and range of save -> new card, and the part spent rendering (server side).
- PNG: each real mission's card rendered once to PDF in process, then rasterised with
  `pdf_to_pngs` at 96, 150 (the default) and 300 dpi; ms per card, median, against the
  PDF render of the same card.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from refsheets.card import build_card
from refsheets.layouts import LAYOUTS_ROOT, load_layout
from refsheets.library import load_library
from refsheets.render import default_layout_name
from refsheets.render.pdf import render_card_pdf
from refsheets.render.png import pdf_to_pngs

ROOT = Path(__file__).resolve().parent.parent
MISSION = "2021-cc-haute-somme-tiers-lieu-peronne"


def state(url: str, after: int = -1) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}state?after={after}", timeout=120) as answer:
        result: dict[str, Any] = json.load(answer)
        return result


def bench_reload(saves: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        library = Path(folder) / "data"
        shutil.copytree(ROOT / "data", library)
        mission = library / "missions" / f"{MISSION}.yaml"
        env = {**os.environ, "NO_COLOR": "1"}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "refsheets",
                "--library",
                str(library),
                "preview",
                MISSION,
                "--port",
                "0",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert process.stdout is not None
            url = process.stdout.readline().strip()
            started = time.perf_counter()
            current = state(url)
            while current["pages"] == 0:
                current = state(url, current["version"])
            print(f"first card on the page: {time.perf_counter() - started:.2f} s after start")
            latencies: list[float] = []
            renders: list[float] = []
            text = mission.read_text(encoding="utf-8")
            for i in range(saves):
                amount = f"{300 + i} 000"
                time.sleep(0.3)  # a pause between saves, as when typing
                t0 = time.perf_counter()
                mission.write_text(
                    re.sub(r"(?m)^budget:.*$", f"budget: {amount} € HT", text), encoding="utf-8"
                )
                while True:
                    current = state(url, current["version"])
                    if amount.replace(" ", "\u202f") in current["texts"][0]:
                        break
                latencies.append(time.perf_counter() - t0)
                renders.append(current["seconds"])
            print(
                f"save -> new card on the page: median {statistics.median(latencies):.2f} s "
                f"(min {min(latencies):.2f}, max {max(latencies):.2f}, {saves} saves); "
                f"of which rendering (PDF + PNG + text) median {statistics.median(renders):.2f} s"
            )
        finally:
            process.terminate()
            process.wait()


def bench_png(repeat: int) -> None:
    library = load_library(ROOT / "data")
    pdfs = []
    pdf_times = []
    for mission_id in library.missions:
        layout = load_layout(default_layout_name(library, mission_id, LAYOUTS_ROOT), LAYOUTS_ROOT)
        card = build_card(library, mission_id)
        render_card_pdf(card, layout, library_root=library.root)  # warm
        t0 = time.perf_counter()
        pdfs.append(render_card_pdf(card, layout, library_root=library.root))
        pdf_times.append(time.perf_counter() - t0)
    print(f"PDF card (for comparison): median {statistics.median(pdf_times) * 1000:.0f} ms")
    for dpi in (96, 150, 300):
        pdf_to_pngs(pdfs[0], dpi=dpi)  # warm
        times = []
        size = 0
        for _ in range(repeat):
            for pdf in pdfs:
                t0 = time.perf_counter()
                [png] = pdf_to_pngs(pdf, dpi=dpi)
                times.append(time.perf_counter() - t0)
                size += len(png)
        print(
            f"PNG at {dpi} dpi: median {statistics.median(times) * 1000:.0f} ms per card, "
            f"{size / len(times) / 1024:.0f} KB on average ({len(times)} rasterisations)"
        )


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    bench_png(max(1, n // 3))
    bench_reload(n)
