"""Issue 15 item 3 and issue 14 item 6: every speed, size and memory figure with its
baseline, measured in the same run, on synthetic libraries (bench/synth.py).

    python bench/bench_speed.py [--cards N] [--front N] [--memory N] [--library N]
                                [--only SECTION,…] [--profile]

Sections (all by default):
  export   cold export of N cards (PDF + Word, annexes, tables, zip) against plain
           WeasyPrint one card at a time (same HTML); re-export after one change against
           the cold export; a warm export (another tender, every card cached) per card
           against Typst's in-process compile of a comparable card; whether a warm export
           of an unchanged tender imports WeasyPrint
  check    `check` with fit checks: the way main did it (one card at a time, one core,
           nothing cached) against `check_fits` cold, then again (cached)
  front    the annex's cover and summary for N references (target <= 2 s)
  size     the annex PDF, a card, a card without photo, the upload zip, font programs
  memory   peak memory of an N-card export, summed over its processes (target <= 400 MB)
  library  `list`, `pick --query`, `pick --tag` with N missions (targets <= 1.5 s at
           10,000, <= 5 s and <= 500 MB at 50,000), once the library has been read once,
           and the terminal table against the JSON

With --profile, the timed calls run under cProfile and print where the time went: their
figures then include the profiler's overhead, so profile in a run of its own.

Sizes default small, so the bench can run on a shared machine; the issue's sizes are
`--cards 200 --front 500 --memory 500 --library 10000` (and 50000). Timings are wall
clock, single runs unless said; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synth import make_library  # noqa: E402

TODAY = date(2026, 6, 1)
TENDER = """\
name: {name}
buyer: Commune de Synthèse
reference: {reference}
deadline: 2026-06-30
query: accompagnement territoire habitants atelier usages programmation tiers-lieu
rules:
  max_references: {n}
entity: pop-up
layout: pop-up
formats: [pdf, docx]
language: fr
"""
QUERY = "programmation d'un tiers-lieu numérique, concertation des habitants, gouvernance"


def load() -> str:
    """The load average, to say how busy the machine was."""
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one call, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def profiled(label: str, fn: Callable[[], Any], enabled: bool) -> Any:
    """Run `fn`, printing where the time went (cumulative, top 15) when `enabled`."""
    if not enabled:
        return fn()
    profile = cProfile.Profile()
    result = profile.runcall(fn)
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("cumulative").print_stats(18)
    print(f"--- profile: {label} (this process only; workers not shown)")
    print("\n".join(line for line in text.getvalue().splitlines()[6:] if line.strip()))
    return result


def write_tender(path: Path, n: int, name: str = "Tiers-lieu", reference: str = "B-1") -> Path:
    """A tender asking for `n` references."""
    path.write_text(TENDER.format(n=n, name=name, reference=reference), encoding="utf-8")
    return path


def export(tender: Path, data: Path, out: Path, jobs: int | None = None) -> Any:
    """One export, in this process, as `refsheets export` does it."""
    from refsheets.export import export_tender
    from refsheets.library import load_library

    library = load_library(data)
    return export_tender(tender, library, out_root=out, today=TODAY, jobs=jobs)


# ---------------------------------------------------------------- export


def plain_html(plan: Any, library_root: Path) -> tuple[list[str], str]:
    """Each of `plan`'s cards as a self-contained HTML document (its CSS and @font-face
    rules inline), as a caller of WeasyPrint alone would write it: the same HTML and CSS
    as our cards, at the first fit step; and the base URL to lay them out with."""
    from refsheets.render.fit import FIT_STEPS, step_css
    from refsheets.render.pdf import STYLESHEET, _brand_css, _font_faces_css, renderer_for

    layout = plan.layout
    renderer = renderer_for(layout, library_root)
    css = "\n".join(
        [_font_faces_css(layout), _brand_css(layout)]
        + [step_css(step, i) for i, step in enumerate(FIT_STEPS)]
        + [path.read_text(encoding="utf-8") for path in layout.files(STYLESHEET)]
    )
    htmls = [
        renderer.html([r.card], [0]).replace("</head>", f"<style>{css}</style></head>", 1)
        for r in plan.references
    ]
    return htmls, layout.path.as_uri() + "/"


def plain_weasyprint(tender: Path, data: Path, out: Path) -> tuple[float, int]:
    """Plain WeasyPrint, one card at a time (see `plain_html`), WeasyPrint's defaults,
    one process; no batching, shared fonts, fitting, cache or parallelism."""
    import weasyprint

    from refsheets.export import plan_export
    from refsheets.library import load_library

    library = load_library(data)
    plan = plan_export(tender, library, out_root=out, today=TODAY)
    htmls, base_url = plain_html(plan, library.root)
    start = time.perf_counter()
    for html in htmls:
        weasyprint.HTML(string=html, base_url=base_url).write_pdf()
    return time.perf_counter() - start, len(htmls)


def typst_card(fonts: Path, reused: bool, n: int) -> float:
    """Seconds per card for Typst compiling a card-like page in process (Lato, a title
    band, facts, two text columns, deliverables, tags)."""
    import typst

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "card.typ"
        words = "accompagnement territoire habitants atelier usages programmation " * 30
        source.write_text(
            '#set page(paper: "a4", margin: 14mm)\n'
            '#set text(font: "Lato", size: 9.5pt, lang: "fr")\n'
            '#block(fill: rgb("#1f4e79"), inset: 6mm, width: 100%)['
            '#text(fill: white, size: 18pt, weight: "bold")[Programmation d\'un tiers-lieu]]\n'
            "#grid(columns: (1fr, 1fr, 1fr), [*Client* \\ Ville d'Amiens], "
            "[*Période* \\ 2021 – 2022], [*Montant* \\ 25 000 € HT])\n"
            "#grid(columns: (2fr, 1fr), gutter: 6mm,\n"
            f"[== Contexte\n{words}\n\n== Démarche\n{words}],\n"
            "[== Livrables\n- Diagnostic\n- Ateliers\n- Synthèse\n"
            '#box(fill: rgb("#eee"), inset: 2pt)[tiers-lieu] '
            '#box(fill: rgb("#eee"), inset: 2pt)[usages]])\n',
            encoding="utf-8",
        )
        if reused:
            compiler = typst.Compiler(str(source), font_paths=[str(fonts)])
            compiler.compile()
            start = time.perf_counter()
            for _ in range(n):
                compiler.compile()
        else:
            typst.compile(str(source), font_paths=[str(fonts)])
            start = time.perf_counter()
            for _ in range(n):
                typst.compile(str(source), font_paths=[str(fonts)])
        return (time.perf_counter() - start) / n


_IMPORTS = """
import sys
from datetime import date
from pathlib import Path
from refsheets.export import export_tender
from refsheets.library import load_library
export_tender(Path(sys.argv[1]), load_library(Path(sys.argv[2])), out_root=Path(sys.argv[3]),
              today=date(2026, 6, 1))
print("weasyprint" in sys.modules, "docx" in sys.modules)
"""


def section_export(args: argparse.Namespace, work: Path) -> None:
    """Cold export against plain WeasyPrint; re-export; warm export against Typst."""
    n = args.cards
    data = make_library(work / "data", n)
    tender = write_tender(work / "bench.yaml", n)
    out = work / "out"
    print(f"== export: {n} cards, pdf + docx ({load()})")
    plain, count = plain_weasyprint(tender, data, out)
    print(f"  baseline: plain WeasyPrint, one card at a time  {plain:7.1f} s ({count} cards)")
    cold, report = timed(
        lambda: profiled("cold export", lambda: export(tender, data, out), args.profile)
    )
    print(f"  cold export, {report.rendered}                 {cold:7.1f} s")
    print(f"  ratio cold export / plain WeasyPrint          {cold / plain:7.2f}  (target <= 0.50)")

    # Re-export after one mission changed, five times (another change each time): a
    # change the card prints (its context), so that its PDF and Word card are made again.
    changed = next((data / "missions").glob("*.yaml"))
    text = changed.read_text(encoding="utf-8")
    agains = []
    for run in range(5):
        changed.write_text(
            text.replace("context: |\n  ", f"context: |\n  Modifié ({run + 1}). ", 1), "utf-8"
        )
        again, report = timed(lambda: export(tender, data, out))
        agains.append(again)
    again = sorted(agains)[len(agains) // 2]
    runs = " ".join(f"{a:.2f}" for a in agains)
    print(f"  re-export after one change ({report.rendered}), 5 runs: {runs} s")
    print(f"  ratio re-export (median {again:.2f} s) / cold {again / cold:7.3f}  (target <= 0.10)")

    # Warm: another tender, same references, every card cached.
    other = write_tender(work / "other.yaml", n, name="Un autre marché", reference="B-2")
    warm, report = timed(
        lambda: profiled("warm export", lambda: export(other, data, out), args.profile)
    )
    per_card = warm / count * 1000
    typst_ms = typst_card(ROOT / "fonts", False, 20)
    typst_reused = typst_card(ROOT / "fonts", True, 20)
    print(f"  warm export, another tender ({report.cached} cached) {warm:7.2f} s")
    print(f"  warm export per card                          {per_card:7.1f} ms")
    print(f"  baseline: Typst in-process compile per card   {typst_ms * 1000:7.1f} ms")
    print(f"  (Typst with a reused compiler                 {typst_reused * 1000:7.1f} ms)")
    print(
        f"  ratio warm per card / Typst                   {per_card / typst_ms / 1000:7.2f}"
        "  (target <= 1.00)"
    )
    # The same tender again, nothing changed: is WeasyPrint (or python-docx) imported?
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTS, str(other), str(data), str(out)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    weasy, docx = result.stdout.split()
    print(
        f"  unchanged re-export imports WeasyPrint: {weasy}, python-docx: {docx}  (target: False)"
    )


# ---------------------------------------------------------------- check


def section_check(args: argparse.Namespace, work: Path) -> None:
    """check with fit checks: main's way against check_fits cold and cached."""
    from refsheets.card import build_card
    from refsheets.layouts import load_layout, resolve_layouts_root
    from refsheets.library import load_library
    from refsheets.render import check_fits, default_layout_name
    from refsheets.render.pdf import CardRenderer

    n = args.cards
    data = make_library(work / "check-data", n)
    library = load_library(data)
    print(f"== check with fit checks: {n} missions ({load()})")

    def main_way() -> None:
        # What main did: every card laid out alone, in its own renderer, in this process.
        root = resolve_layouts_root(library.root)
        renderers: dict[str, CardRenderer] = {}
        for mission_id, _ in library:
            name = default_layout_name(library, mission_id, root)
            if name not in renderers:
                renderers[name] = CardRenderer(load_layout(name, root))
                renderers[name].allow(library.root)
            renderers[name].fit(build_card(library, mission_id))

    baseline, _ = timed(main_way)
    print(f"  baseline: main's fit checks, one at a time    {baseline:7.1f} s")
    in_process, _ = timed(
        lambda: profiled(
            "check_fits, 2 jobs",
            lambda: check_fits(load_library(data), jobs=os.cpu_count() or 1),
            args.profile,
        )
    )
    print(f"  check_fits in process, batches, all cores     {in_process:7.1f} s")
    from refsheets.render.fit_bound import fits_first_step

    root = resolve_layouts_root(library.root)
    layouts = {name: load_layout(name, root) for name in ("pop-up", "pop-cafe", "base")}
    proven = sum(
        fits_first_step(build_card(library, m), layouts[default_layout_name(library, m, root)])
        is True
        for m, _ in library
    )
    print(f"  cards the fit bound proves (not laid out)     {proven:7d} of {n}")
    # The command as a user runs it: its cache lands in ./out/.cache (empty at first).
    command = [sys.executable, "-m", "refsheets", "-L", str(data), "check"]
    # As installed (pip compiles the bytecode): a shell with PYTHONDONTWRITEBYTECODE set
    # would compile refsheets' own modules from source at every start (~0.2 s of it).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    first, _ = timed(lambda: subprocess.run(command, capture_output=True, check=False, env=env))
    print(f"  `refsheets check`, nothing cached             {first:7.1f} s")
    ratio = first / baseline
    print(f"  ratio cold / baseline                         {ratio:7.2f}  (target <= 0.20)")
    second, _ = timed(lambda: subprocess.run(command, capture_output=True, check=False, env=env))
    print(f"  `refsheets check` again, unchanged library    {second:7.2f} s  (target < 1 s)")
    no_fit, _ = timed(
        lambda: subprocess.run([*command, "--no-fit"], capture_output=True, check=False, env=env)
    )
    print(f"  (`refsheets check --no-fit`, for scale         {no_fit:7.2f} s)")


# ---------------------------------------------------------------- front


def section_front(args: argparse.Namespace, work: Path) -> None:
    """The annex's cover and summary for N references."""
    from refsheets.export import plan_export
    from refsheets.export.annex import front_html, front_pdf, render_html
    from refsheets.library import load_library

    n = args.front
    data = make_library(work / "front-data", n)
    tender = write_tender(work / "front.yaml", n)
    library = load_library(data)
    plan = plan_export(tender, library, out_root=work / "front-out", today=TODAY)
    render_html(plan.layout, data, "<p>warm-up</p>", "warm-up", variant=None)  # fonts, CSS
    print(f"== annex cover + summary: {len(plan.references)} references ({load()})")

    def cover_and_summary() -> bytes:
        # The cover and the summary's heading laid out by WeasyPrint, the table drawn.
        cover = render_html(plan.layout, data, front_html(plan), "the cover")
        return front_pdf(plan, cover, TODAY)

    cpu = time.process_time()
    seconds, pdf = timed(lambda: profiled("cover + summary", cover_and_summary, args.profile))
    cpu = time.process_time() - cpu  # one process: its CPU time says less of the load
    import pikepdf

    pages = len(pikepdf.open(io.BytesIO(pdf)).pages)
    print(f"  cover + summary ({pages} pages)                 {seconds:7.2f} s  (target <= 2 s)")
    print(f"  (its CPU time                                 {cpu:7.2f} s)")


# ---------------------------------------------------------------- size


def _font_programs(pdf_path: Path) -> tuple[int, int]:
    """(embedded font programs, distinct by bytes) in a PDF."""
    import hashlib

    import pikepdf

    seen: list[str] = []
    with pikepdf.open(pdf_path) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor":
                for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                    if key in obj:
                        seen.append(hashlib.sha256(obj[key].read_raw_bytes()).hexdigest())
    return len(seen), len(set(seen))


def section_size(args: argparse.Namespace, work: Path) -> None:
    """Sizes of an N-card export: annex, cards, zip, font programs."""
    n = args.cards
    data = make_library(work / "size-data", n)
    # One mission with a photo, as real libraries have.
    tender = write_tender(work / "size.yaml", n)
    out = work / "size-out"
    if n > 1:
        from PIL import Image

        (data / "photos").mkdir(exist_ok=True)
        noise = Image.effect_noise((2400, 1800), 60).convert("RGB")
        noise.save(data / "photos" / "photo.jpg", quality=90)
        first = sorted((data / "missions").glob("*.yaml"))[0]
        first.write_text(
            first.read_text(encoding="utf-8")
            + "photos:\n  - path: photos/photo.jpg\n    caption: Atelier\n",
            "utf-8",
        )
    report = export(tender, data, out)
    folder = report.plan.target
    annex = folder / "annexe-references.pdf"
    cards = sorted((folder / "cards").glob("*.pdf"))
    words = sorted((folder / "cards").glob("*.docx"))
    zips = list(folder.glob("*.zip"))
    print(f"== sizes: {len(cards)} cards ({load()})")
    programs, distinct = _font_programs(annex)
    mb = 1024 * 1024
    print(
        f"  annex PDF                                     {annex.stat().st_size / mb:7.2f} MB"
        "  (target <= 3 MB at 200 cards)"
    )
    print(
        f"  annex PDF per card                            "
        f"{annex.stat().st_size / len(cards) / 1024:7.1f} KB"
    )
    print(f"  font programs in the annex: {programs}, distinct {distinct}")
    sizes = [p.stat().st_size for p in cards]
    print(
        f"  PDF card: median {sorted(sizes)[len(sizes) // 2] / 1024:.1f} KB, "
        f"largest {max(sizes) / 1024:.1f} KB (a card without photo: target < 100 KB)"
    )
    dsizes = [p.stat().st_size for p in words]
    print(f"  Word card: median {sorted(dsizes)[len(dsizes) // 2] / 1024:.1f} KB")
    annex_docx = folder / "annexe-references.docx"
    if annex_docx.exists():
        print(
            f"  Word annex                                    "
            f"{annex_docx.stat().st_size / mb:7.2f} MB"
        )
    for path in zips:
        with zipfile.ZipFile(path) as archive:
            members = len(archive.infolist())
        print(
            f"  upload zip ({members} members)                    "
            f"{path.stat().st_size / mb:7.2f} MB  (target <= 20 MB at 200 cards)"
        )


# ---------------------------------------------------------------- memory


def _tree_rss(pid: int) -> int:
    """The resident memory of `pid` and all its descendants, in bytes."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            for line in (Path("/proc") / str(current) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def peak_memory(command: list[str], cwd: Path) -> tuple[float, int]:
    """Run `command`; return (seconds, peak summed RSS of its process tree)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(process.pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    stop.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed with {process.returncode}")
    return time.perf_counter() - start, peak


def section_memory(args: argparse.Namespace, work: Path) -> None:
    """Peak memory of an N-card export, summed over its processes."""
    n = args.memory
    data = make_library(work / "memory-data", n)
    tender = write_tender(work / "memory.yaml", n)
    print(f"== memory: {n}-card export, 2 jobs ({load()})")
    command = [
        sys.executable,
        "-m",
        "refsheets",
        "-L",
        str(data),
        "export",
        str(tender),
        "--out",
        str(work / "memory-out"),
        "--jobs",
        "2",
    ]
    seconds, peak = peak_memory(command, work)
    print(
        f"  export {n} cards: {seconds:.1f} s, peak summed RSS "
        f"{peak / 1024 / 1024:7.0f} MB  (target <= 400 MB at 500 cards)"
    )
    # The same after one mission changed: the annexes of a smaller export are made beside
    # a forked child, whose copy of the heap counts again (FORK_AT_MOST).
    changed = next((data / "missions").glob("*.yaml"))
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("context: |\n  ", "context: |\n  Modifié. ", 1), "utf-8")
    seconds, peak = peak_memory(command, work)
    print(
        f"  re-export after one change: {seconds:.1f} s, peak summed RSS "
        f"{peak / 1024 / 1024:7.0f} MB  (target <= 400 MB at 500 cards)"
    )


# ---------------------------------------------------------------- library


def section_library(args: argparse.Namespace, work: Path) -> None:
    """list / pick --query / pick --tag on a large library, new process each."""
    n = args.library
    data = make_library(work / "big-data", n)
    print(f"== large library: {n} missions ({load()})")

    def run(*cli: str) -> tuple[float, float, int]:
        # These commands are one process each: wait4 gives its CPU time and peak RSS
        # exactly, with no sampler thread taking a core from it (the machine has two).
        command = [sys.executable, "-m", "refsheets", "-L", str(data), *cli]
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise SystemExit(f"{' '.join(command)} failed with {process.returncode}")
        cpu = usage.ru_utime + usage.ru_stime
        return time.perf_counter() - start, cpu, usage.ru_maxrss * 1024

    first, _, peak = run("list", "--json")
    print(f"  first read (list --json, nothing indexed)   {first:7.2f} s, {peak / 2**20:5.0f} MB")
    for label, cli in (
        ("list", ("list",)),
        ("list --json", ("list", "--json")),
        ("pick --query", ("pick", "--query", QUERY)),
        ("pick --query --json", ("pick", "--query", QUERY, "--json")),
        ("pick --tag tiers-lieu", ("pick", "--tag", "tiers-lieu")),
        ("show one", ("show", "synth-00007")),
    ):
        best = min((run(*cli) for _ in range(2)), key=lambda r: r[0])
        print(
            f"  {label:<40}  {best[0]:7.2f} s (CPU {best[1]:5.2f} s), {best[2] / 2**20:5.0f} MB"
            f"  ({load()})"
        )
    print("  targets: <= 1.5 s at 10,000; <= 5 s and <= 500 MB at 50,000; table < 3 x JSON")


SECTIONS: dict[str, Callable[[argparse.Namespace, Path], None]] = {
    "export": section_export,
    "check": section_check,
    "front": section_front,
    "size": section_size,
    "memory": section_memory,
    "library": section_library,
}


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--cards", type=int, default=40, help="cards of the export (200)")
    parser.add_argument("--front", type=int, default=200, help="references of the cover (500)")
    parser.add_argument("--memory", type=int, default=60, help="cards of the memory run (500)")
    parser.add_argument("--library", type=int, default=2000, help="missions (10000, 50000)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="sections, comma-separated")
    parser.add_argument("--profile", action="store_true", help="print cProfile summaries")
    args = parser.parse_args()
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1577836800")
    print(f"cores: {os.cpu_count()}; {load()}")
    for name in args.only.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            os.chdir(tmp)  # the CLI's default out/ lands in the scratch folder
            SECTIONS[name](args, Path(tmp))
    print(f"done; {load()}")


if __name__ == "__main__":
    main()
