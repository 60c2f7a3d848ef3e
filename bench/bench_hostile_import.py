"""What a hostile portfolio costs `refsheets import`: seconds and peak memory per input.

Issue 10, item 10: an import must bound the work its input can cause. This script builds
each hostile input at run time in a temporary folder, runs the real command on it in a
child process (`python -m refsheets import FILE --out TMP --dry-run`), and prints, per
input, the wall time, the child's peak RSS, its exit code and the first line it printed
on stderr. A child is killed past `--timeout` seconds or when its address space passes
`--memory` MiB, so that the figures of an unbounded importer stay measurable on a shared
machine; such a row says "killed".

    python bench/bench_hostile_import.py [--only NAME…] [--timeout S] [--memory MIB]
        [--project DIR]

`--project DIR` runs the importer of another checkout (to measure main before a change);
the inputs are the same.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One mission of the shape the importer reads (cut from the test fixture's style).
MISSION = """\
CC Haute-Somme

2019 - 2020

Feuille de route d'un tiers-lieu numérique

Contexte

{context}

Réalisations

- Ateliers de co-conception des usages
- Stratégie de territoire

20 000 € HT
de budget

POP Up

popupequipe@pop.eu.com

"""
CONTEXT = "La communauté de communes prépare son tiers-lieu numérique avec ses habitants."


def _docx_with_body(path: Path, paragraphs: Callable[[], object], *, total: int) -> None:
    """A .docx (python-docx's default package) whose document.xml is streamed from
    `paragraphs`, a generator of XML chunks; `total` is only a label for the caller."""
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for item in source.infolist():
            if item.filename == "word/document.xml":
                with target.open(item.filename, "w", force_zip64=True) as handle:
                    handle.write(
                        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                        b"<w:document xmlns:w="
                        b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                        b"<w:body>"
                    )
                    for chunk in paragraphs():  # type: ignore[attr-defined]
                        handle.write(chunk)
                    handle.write(b"</w:body></w:document>")
            else:
                target.writestr(item, source.read(item.filename))


def build_docx_bomb(folder: Path, inflated_mib: int = 2048) -> Path:
    """A .docx of a few MB whose document.xml inflates to `inflated_mib` MiB."""
    path = folder / "bomb.docx"
    paragraph = b"<w:p><w:r><w:t>Atelier de co-conception</w:t></w:r></w:p>"
    block = paragraph * (1024 * 1024 // len(paragraph))

    def chunks() -> object:
        for _ in range(inflated_mib):
            yield block

    _docx_with_body(path, chunks, total=inflated_mib)
    return path


def build_docx_paragraphs(folder: Path, count: int = 300_000, *, empty: bool = False) -> Path:
    """A .docx of `count` short (or empty) paragraphs: small on disk, long to walk."""
    path = folder / "paragraphs.docx"
    paragraph = (
        b"<w:p/>"
        if empty
        else b"<w:p><w:r><w:t>Atelier de co-conception des usages</w:t></w:r></w:p>"
    )

    def chunks() -> object:
        for _ in range(count // 1000):
            yield paragraph * 1000

    _docx_with_body(path, chunks, total=count)
    return path


def build_pdf_pages(folder: Path, pages: int = 3000) -> Path:
    """A PDF of `pages` pages, each with the text of a mission."""
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    # Each page is a mission page as a portfolio lays it out: 40 lines of text.
    rows = [line for line in MISSION.format(context=CONTEXT).splitlines() if line.strip()]
    rows = (rows * 3)[:40]
    for number in range(pages):
        text = " ".join(
            f"1 0 0 1 60 {800 - 18 * i} Tm ({row.encode('latin-1', 'replace').decode('latin-1')})"
            " Tj"
            for i, row in enumerate([f"Page {number + 1}", *rows])
        )
        content = f"BT /F1 10 Tf {text} ET".encode("latin-1")
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, 595, 842],
                Resources=resources,
                Contents=pdf.make_stream(content),
            )
        )
        pdf.pages.append(page)
    path = folder / "pages.pdf"
    pdf.save(path)
    return path


def build_aes_pdf(folder: Path) -> Path:
    """A one-page PDF encrypted with AES-256 (an empty user password, as often sent)."""
    import pikepdf

    source = build_pdf_pages(folder, 1)
    path = folder / "aes256.pdf"
    with pikepdf.open(source) as pdf:
        pdf.save(path, encryption=pikepdf.Encryption(owner="owner", user="", R=6))
    return path


def build_text_portfolio(folder: Path, mib: float = 49) -> Path:
    """A text portfolio of `mib` MiB: one mission repeated (every file name the same)."""
    path = folder / "big.txt"
    block = MISSION.format(context=CONTEXT).encode()
    with path.open("wb") as handle:
        for _ in range(int(mib * 1024 * 1024) // len(block)):
            handle.write(block)
    return path


def build_bold_line(folder: Path, kib: float = 200) -> Path:
    """One mission whose context is a `kib` KiB line of `**a ` (no bold ever closes)."""
    path = folder / "bold.txt"
    path.write_text(MISSION.format(context="**a " * int(kib * 1024 // 4)), encoding="utf-8")
    return path


def build_link_line(folder: Path, kib: int = 200) -> Path:
    """One mission whose context is a `kib` KiB line of `[a](` (no link ever closes)."""
    path = folder / "link.txt"
    path.write_text(MISSION.format(context="[a](" * (kib * 1024 // 4)), encoding="utf-8")
    return path


def build_separators(folder: Path) -> Path:
    """One mission whose context holds U+0085 (NEL) and U+2029 (paragraph separator)."""
    path = folder / "separators.txt"
    context = f"Première phase\u0085deuxième phase.\u2029Troisième phase. {CONTEXT}"
    path.write_text(MISSION.format(context=context), encoding="utf-8")
    return path


BUILDERS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "docx-bomb": ("5 MB .docx, document.xml inflates to 2 GiB", build_docx_bomb),
    "docx-paragraphs": (".docx of 300,000 paragraphs", build_docx_paragraphs),
    "docx-empty-paras": (
        ".docx of 300,000 empty paragraphs",
        lambda folder: build_docx_paragraphs(folder, empty=True),
    ),
    "pdf-pages": ("PDF of 3,000 pages", build_pdf_pages),
    "pdf-aes256": ("AES-256 encrypted PDF", build_aes_pdf),
    "text-49mib": ("49 MiB text portfolio, one mission repeated", build_text_portfolio),
    "bold-line": ("200 KiB line of '**a '", build_bold_line),
    "link-line": ("200 KiB line of '[a]('", build_link_line),
    "separators": ("U+0085 and U+2029 in a portfolio", build_separators),
    # Just inside the bounds: the most an accepted input costs.
    "docx-10k-paras": (
        "at the bound: .docx of 10,000 paragraphs",
        lambda folder: build_docx_paragraphs(folder, 10_000),
    ),
    "pdf-300-pages": ("at the bound: PDF of 300 pages", lambda f: build_pdf_pages(f, 300)),
    "text-500-missions": (
        "at the bound: a text portfolio of 500 missions",
        lambda folder: build_text_portfolio(folder, 500 * 306 / 1024 / 1024),
    ),
    "bold-20k-line": (
        "at the bound: 20,000-character line of '**a '",
        lambda f: build_bold_line(f, 19.5),
    ),
}


def run(
    project: Path, file: Path, out: Path, timeout: float, memory_mib: int
) -> tuple[float, float, str, str]:
    """Run the import in a child; (seconds, peak RSS MiB, outcome, first stderr line)."""
    limit = memory_mib * 1024 * 1024

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    env = dict(os.environ, PYTHONPATH=str(project))
    command = [
        sys.executable,
        "-m",
        "refsheets",
        "--library",
        str(out / "no-library"),
        "import",
        str(file),
        "--out",
        str(out / "missions"),
        "--dry-run",
    ]
    start = time.perf_counter()
    child = subprocess.Popen(
        command,
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=limit_memory,
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        child.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    timer.cancel()
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss / 1024  # KiB on Linux
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    first = next((line for line in lines if line.startswith(("error", "internal"))), "")
    first = first or (lines[-1] if lines else "")
    if killed.is_set():
        outcome = f"killed at {timeout:.0f} s"
    elif b"MemoryError" in stderr:
        outcome = f"exit {child.returncode} (MemoryError at {memory_mib} MiB)"
    else:
        outcome = f"exit {child.returncode}"
    return seconds, peak, outcome, first[:150]


def main() -> None:
    """Build the inputs, run each, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=list(BUILDERS), default=list(BUILDERS))
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--memory", type=int, default=4096, help="address-space cap, MiB")
    parser.add_argument("--project", type=Path, default=ROOT)
    args = parser.parse_args()
    print(f"project: {args.project}  timeout: {args.timeout:.0f} s  memory cap: {args.memory} MiB")
    print(f"{'input':<17} {'build s':>7} {'size':>9} {'import s':>8} {'peak MiB':>8}  outcome")
    with tempfile.TemporaryDirectory(prefix="refsheets-hostile-") as tmp:
        for name in args.only:
            label, builder = BUILDERS[name]
            folder = Path(tmp) / name
            folder.mkdir()
            start = time.perf_counter()
            file = builder(folder)
            built = time.perf_counter() - start
            size = file.stat().st_size
            shown = f"{size / 1024 / 1024:.1f}M" if size > 1024 * 1024 else f"{size // 1024}K"
            seconds, peak, outcome, first = run(
                args.project, file, folder, args.timeout, args.memory
            )
            print(f"{name:<17} {built:7.1f} {shown:>9} {seconds:8.2f} {peak:8.0f}  {outcome}")
            print(f"  ({label}) {first}")
            file.unlink()


if __name__ == "__main__":
    main()
