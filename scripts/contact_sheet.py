"""Regenerate the contact sheet of the example annex: every page, PDF above, Word below.

    python scripts/contact_sheet.py [TENDER] [--out docs/annex-contact-sheet.png] [--cards]

Exports the tender (default `tenders/example.yaml`) into a temporary folder, converts
the Word annex to PDF with LibreOffice (a private profile, so that a running LibreOffice
is not disturbed), rasterises both with pdftoppm and lays the pages out side by side:
one row for the PDF annex, one for the Word annex as LibreOffice prints it. With
`--cards`, also refreshes the README's card pictures (`docs/cards/*.png`). Needs
poppler-utils and LibreOffice Writer (`scripts/setup.sh --dev`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
DPI = 45
GAP = 14
MARGIN = 24
LABEL_W = 120


def _pages(pdf: Path, folder: Path, prefix: str) -> list[Image.Image]:
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), str(pdf), str(folder / prefix)], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(folder.glob(f"{prefix}-*.png"))]


def _word_to_pdf(soffice: str, work: Path, docx: Path, out_dir: Path) -> None:
    """Print a .docx to PDF with LibreOffice, in a private profile under `work`."""
    profile = f"-env:UserInstallation={(work / 'lo-profile').as_uri()}"
    subprocess.run(
        [
            soffice,
            profile,
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(docx),
        ],
        check=True,
        capture_output=True,
    )


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    face = ROOT / "fonts" / "lato" / ("Lato-Bold.ttf" if bold else "Lato-Regular.ttf")
    try:
        return ImageFont.truetype(str(face), size)
    except OSError:  # pragma: no cover - the fonts are vendored
        return ImageFont.load_default()


def build_sheet(pdf_pages: list[Image.Image], word_pages: list[Image.Image]) -> Image.Image:
    """One image: a row of PDF pages over a row of Word pages, labelled."""
    width, height = pdf_pages[0].size
    columns = max(len(pdf_pages), len(word_pages))
    sheet = Image.new(
        "RGB",
        (MARGIN * 2 + LABEL_W + columns * (width + GAP), MARGIN * 2 + 2 * (height + 28) + GAP),
        "#e7e9ec",
    )
    draw = ImageDraw.Draw(sheet)
    rows = [
        (f"PDF\n{len(pdf_pages)} pages", pdf_pages),
        (f"Word\n(LibreOffice)\n{len(word_pages)} pages", word_pages),
    ]
    for r, (label, pages) in enumerate(rows):
        top = MARGIN + r * (height + 28 + GAP)
        draw.multiline_text((MARGIN, top + 24), label, fill="#1d232a", font=_font(15, True))
        for c, page in enumerate(pages):
            left = MARGIN + LABEL_W + c * (width + GAP)
            draw.text((left, top), f"p. {c + 1}", fill="#5f6b76", font=_font(12))
            sheet.paste(page, (left, top + 20))
            draw.rectangle(
                (left - 1, top + 19, left + page.width, top + 20 + page.height), outline="#b8bec5"
            )
    return sheet


# The README's cards: one mission of each brand, in its own layout.
CARDS = {
    "pop-up": "2021-valenciennes-passage-de-la-paix",
    "pop-cafe": "2021-cc-haute-somme-tiers-lieu-peronne",
}


def refresh_cards(work: Path, soffice: str) -> list[Path]:
    """docs/cards/<brand>.png (PDF, 100 dpi) and <brand>-docx.png (Word, 80 dpi)."""
    from refsheets import load_library
    from refsheets.render import render

    library = load_library(ROOT / "data")
    written = []
    for brand, mission_id in CARDS.items():
        folder = work / "cards" / brand
        render(library, [mission_id], formats=("pdf", "docx"), layout=brand, out_dir=folder)
        _word_to_pdf(soffice, work, folder / f"{mission_id}.docx", folder / "lo")
        for pdf, dpi, name in (
            (folder / f"{mission_id}.pdf", 100, f"{brand}.png"),
            (folder / "lo" / f"{mission_id}.pdf", 80, f"{brand}-docx.png"),
        ):
            target = ROOT / "docs" / "cards" / name
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    str(dpi),
                    "-singlefile",
                    str(pdf),
                    str(target.with_suffix("")),
                ],
                check=True,
            )
            written.append(target)
    return written


def main(argv: list[str]) -> int:
    """Export, convert, rasterise, assemble; print where the sheet is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tender", nargs="?", default=str(ROOT / "tenders" / "example.yaml"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "annex-contact-sheet.png"))
    parser.add_argument("--cards", action="store_true", help="also refresh docs/cards/*.png")
    args = parser.parse_args(argv)
    soffice = shutil.which("soffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        print("error: needs LibreOffice and pdftoppm: run scripts/setup.sh --dev", file=sys.stderr)
        return 4
    from refsheets import load_library
    from refsheets.export import ANNEX_DOCX, ANNEX_PDF, export_tender

    tender = Path(args.tender)
    with tempfile.TemporaryDirectory(prefix="refsheets-sheet-") as tmp:
        work = Path(tmp)
        library = load_library(ROOT / "data")
        report = export_tender(
            tender, library, out_root=work / "out", today=date(2026, 4, 1), jobs=1
        )
        folder = report.plan.target
        _word_to_pdf(soffice, work, folder / ANNEX_DOCX, work / "word")
        pdf_pages = _pages(folder / ANNEX_PDF, work, "pdf")
        word_pdf = work / "word" / (Path(ANNEX_DOCX).stem + ".pdf")
        word_pages = _pages(word_pdf, work, "word")
        sheet = build_sheet(pdf_pages, word_pages)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(out, optimize=True)
        print(f"wrote {out}: PDF {len(pdf_pages)} pages, Word {len(word_pages)} pages")
        if args.cards:
            for path in refresh_cards(work, soffice):
                print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
