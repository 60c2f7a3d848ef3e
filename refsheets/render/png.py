"""Card pages as PNG images: the rendered PDF rasterised with PDFium (pypdfium2).

The image is the PDF itself, drawn page by page, never a second rendering of the HTML:
what a card looks like pasted in a mail or shown by `refsheets preview` is what the
buyer gets. Each image carries its resolution (pHYs), so an image viewer or a word
processor shows it at the page's real size.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

from refsheets.errors import RenderError, UsageError

DEFAULT_DPI = 150  # an A4 page at 1240 x 1754: sharp on a screen, light in a mail
MIN_DPI = 36
MAX_DPI = 600  # an A4 page at 600 dpi is 35 Mpx, about 100 MB in memory: the sane top

# PDFium is not thread-safe: one document at a time in a process (the preview server
# rasterises from its watcher thread while its request threads only read bytes).
_PDFIUM_LOCK = threading.Lock()


def check_dpi(dpi: int) -> int:
    """`dpi` if it is a resolution we render at; else a UsageError saying which are."""
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise UsageError(f"--dpi {dpi} is out of range; use {MIN_DPI} to {MAX_DPI} (e.g. 150)")
    return dpi


def pdf_to_pngs(pdf: bytes, *, dpi: int = DEFAULT_DPI, what: str = "the card") -> list[bytes]:
    """One PNG per page of `pdf`, at `dpi` pixels per inch, in page order."""
    import pypdfium2

    check_dpi(dpi)
    scale = dpi / 72  # PDF units are points, 72 to the inch
    images: list[bytes] = []
    with _PDFIUM_LOCK:
        try:
            document = pypdfium2.PdfDocument(pdf)
        except pypdfium2.PdfiumError as exc:
            raise RenderError(f"{what} could not be rasterised: {exc}") from None
        try:
            for index in range(len(document)):
                page = document[index]
                try:
                    # No alpha: the card's paper is white; an RGB PNG is smaller and every
                    # viewer shows it the same. PDFium draws BGR unless asked for RGB.
                    bitmap = page.render(
                        scale=scale, fill_color=(255, 255, 255, 255), rev_byteorder=True
                    )
                    image = bitmap.to_pil()
                finally:
                    page.close()
                buffer = io.BytesIO()
                # Light compression: a card's page compresses nearly as well at level 1 as
                # at 6 (2 % larger), in half the time, and the preview waits for it.
                image.convert("RGB").save(buffer, "PNG", dpi=(dpi, dpi), compress_level=1)
                images.append(buffer.getvalue())
        finally:
            document.close()
    return images


def png_names(stem: str, count: int) -> list[str]:
    """File names for `count` page images: `<stem>.png` for one page, else `<stem>-<n>.png`."""
    if count == 1:
        return [f"{stem}.png"]
    return [f"{stem}-{n}.png" for n in range(1, count + 1)]


def png_paths(out_dir: Path, stem: str, count: int) -> list[Path]:
    """Where the page images of `stem` go in `out_dir`."""
    return [Path(out_dir) / name for name in png_names(stem, count)]


def pdf_page_texts(pdf: bytes) -> list[str]:
    """The text of each page of `pdf`, as a reader's copy and paste would give it."""
    import pypdfium2

    texts: list[str] = []
    with _PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(pdf)
        try:
            for index in range(len(document)):
                page = document[index]
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_bounded()
                    # PDFium marks a line broken by hyphenation with \x02: join the word.
                    texts.append(text.replace("\x02", "").replace("\r\n", "\n"))
                finally:
                    textpage.close()
                    page.close()
        finally:
            document.close()
    return texts
