"""A 200-reference tender exported whole, against plain WeasyPrint card by card.

Issue 6's bars, measured in the same run on a synthetic library:
- the whole export (PDF annex, 200 PDF cards, 200 Word cards, tables, manifest, zip)
  takes at most 0.6 of rendering the same 200 cards' HTML one by one with plain
  WeasyPrint in one process;
- a re-export after changing one mission takes at most 10 % of the first export.

    python bench/bench_export.py [N]
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_speed import plain_html, write_tender
from bench.synth import make_library
from refsheets.library import load_library


def main() -> None:
    """Print the figures."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_library(root / "data", n)
        tender = root / "bench.yaml"
        write_tender(tender, n, name="Assistance à maîtrise d'ouvrage pour un tiers-lieu")
        library = load_library(root / "data")

        from refsheets.export import export_tender, plan_export

        plan = plan_export(tender, library, out_root=root / "out", today=date(2026, 6, 1))
        cards = [ref.card for ref in plan.references]
        print(f"references selected: {len(cards)} of {n} missions")

        # Baseline: plain WeasyPrint, one card at a time, same HTML, one process.
        import weasyprint

        # Plain WeasyPrint: each card a self-contained HTML document, rendered with
        # WeasyPrint's defaults, one by one; none of our batching, shared font
        # configuration, fitting, checks, cache or parallelism.
        htmls, base_url = plain_html(plan, library.root)
        from refsheets.render.pdf import renderer_for

        renderer = renderer_for(plan.layout, library.root)  # for the favourable variant

        def plain_one(html: str, **options: object) -> bytes:
            data: bytes = weasyprint.HTML(string=html, base_url=base_url).write_pdf(**options)
            return data

        from pypdf import PdfReader

        sample: Any = PdfReader(io.BytesIO(plain_one(htmls[0]))).pages[0]["/Resources"]
        fonts = sorted({str(f["/BaseFont"]).split("+")[-1] for f in sample["/Font"].values()})
        print(f"plain WeasyPrint embeds: {', '.join(fonts)}")
        start = time.perf_counter()
        for html in htmls:
            plain_one(html)
        plain = time.perf_counter() - start
        print(
            f"plain WeasyPrint, one by one: {plain:7.1f} s "
            f"({plain / len(cards) * 1000:.0f} ms/card)"
        )
        # For reference: the most favourable baseline, WeasyPrint given our stylesheets
        # and font configuration already parsed (issue 3's bench compares with this).
        start = time.perf_counter()
        for html in htmls[: len(htmls) // 4]:
            weasyprint.HTML(string=html, base_url=base_url).write_pdf(
                stylesheets=renderer.stylesheets, font_config=renderer.font_config
            )
        favourable = (time.perf_counter() - start) / (len(htmls) // 4) * len(htmls)
        print(
            f"(favourable baseline, pre-parsed CSS and fonts, estimated from a quarter: "
            f"{favourable:.1f} s)"
        )

        start = time.perf_counter()
        report = export_tender(tender, library, out_root=root / "out", today=date(2026, 6, 1))
        first = time.perf_counter() - start
        print(
            f"export (pdf+docx, annexes, tables, zip): {first:7.1f} s "
            f"({first / len(cards) * 1000:.0f} ms/reference; rendered {report.rendered})"
        )
        print(f"ratio export / plain: {first / plain:.2f} (target <= 0.60)")

        changed = root / "data" / "missions" / f"{plan.references[0].id}.yaml"
        changed.write_text(changed.read_text(encoding="utf-8") + "notes: changed\n", "utf-8")
        library = load_library(root / "data")
        start = time.perf_counter()
        report = export_tender(tender, library, out_root=root / "out", today=date(2026, 6, 1))
        again = time.perf_counter() - start
        print(f"re-export after changing one mission: {again:7.1f} s (rendered {report.rendered})")
        print(f"ratio re-export / first: {again / first:.2f} (target <= 0.10)")


if __name__ == "__main__":
    main()
