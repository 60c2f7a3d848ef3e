"""Photos: checked with Pillow, downscaled to the resolution they print at, cached.

A photo from a phone is 12 Mpx and several megabytes; printed 70 mm wide it needs about
830 px. Downscaling once here (rather than asking WeasyPrint to optimise every render)
keeps cards small and renders fast. Only PNG and JPEG are accepted, and the pixel count
is checked from the header before anything is decoded, against decompression bombs.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageFile, UnidentifiedImageError

from refsheets.errors import RenderError, shorten
from refsheets.files import UnreadableFile, read_limited

if TYPE_CHECKING:
    from collections.abc import Sequence

    from refsheets.card import Card

MAX_PIXELS = 40_000_000  # a 40 Mpx photo is already more than any camera phone gives
MAX_DPI = 300
MAX_PHOTO_BYTES = 64 * 1024 * 1024
ALLOWED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}

# Where a card prints its photo (the aside column); the template uses the same figures.
PHOTO_WIDTH_MM = 62.0
PHOTO_HEIGHT_MM = 52.0


@dataclass(frozen=True)
class PhotoInfo:
    """What Pillow found in a photo file."""

    format: str
    width: int
    height: int


def inspect_photo(path: Path, *, max_pixels: int = MAX_PIXELS) -> PhotoInfo:
    """Check that `path` is a PNG or JPEG within the pixel cap; RenderError otherwise."""
    try:
        # Opening reads the header only: the size is known before any pixel is decoded.
        with _strict_decoding(), Image.open(path) as image:
            fmt = image.format or "?"
            width, height = image.size
    except FileNotFoundError:
        raise RenderError(f"the photo {path} does not exist; check its path") from None
    except Image.DecompressionBombError:
        # Pillow's own guard, for sizes far past ours: the same answer as ours.
        raise RenderError(
            f"the photo {path.name} has too many pixels (over the "
            f"{max_pixels // 1_000_000} Mpx limit); resize it"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        # ValueError: a PNG text or colour-profile chunk that inflates past Pillow's
        # limit (a decompression bomb in the metadata); SyntaxError, EOFError: damaged.
        raise RenderError(
            f"the photo {path.name} is not an image Pillow can read "
            f"({shorten(str(exc), 80)}); save it as PNG or JPEG"
        ) from None
    if fmt not in ALLOWED_FORMATS:
        raise RenderError(f"the photo {path.name} is a {fmt} image; save it as PNG or JPEG")
    if width * height > max_pixels:
        raise RenderError(
            f"the photo {path.name} is {width}×{height} px ({width * height // 1_000_000} Mpx), "
            f"over the {max_pixels // 1_000_000} Mpx limit; resize it"
        )
    _check_complete(path, fmt)
    return PhotoInfo(fmt, width, height)


def _check_complete(path: Path, fmt: str) -> None:
    """RenderError when the file is cut short: checked from its structure, cheaply (no
    pixel decoded), so that loading a library stays fast; `open_photo` decodes it all."""
    try:
        data = read_limited(path, MAX_PHOTO_BYTES)
    except UnreadableFile as exc:
        raise RenderError(f"the photo {path.name} {exc.reason}") from None
    complete = _png_complete(data) if fmt == "PNG" else _jpeg_complete(data)
    if not complete:
        raise RenderError(
            f"the photo {path.name} is cut short (a truncated file); copy or export it again"
        )


def _png_complete(data: bytes) -> bool:
    """True when the PNG's chunks run whole up to IEND."""
    position = 8
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        position += 12 + length
        if kind == b"IEND":
            return position <= len(data)
    return False


def _jpeg_complete(data: bytes) -> bool:
    """True when the JPEG's image data ends with its end-of-image marker.

    The segments before the image data are skipped by their lengths (an EXIF thumbnail
    holds an end marker of its own); a camera may append data after the end marker.
    """
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return False
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        position += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            return data.find(b"\xff\xd9", position) != -1
    return False


_DECODING = threading.RLock()


@contextlib.contextmanager
def _strict_decoding() -> Iterator[None]:
    """Pillow's global LOAD_TRUNCATED_IMAGES off for the block, then as it was.

    WeasyPrint turns it on when it is imported: a cut file then decodes half grey and an
    oversized colour profile is dropped, silently. A photo is judged the same whether
    WeasyPrint is loaded in the process or not.
    """
    with _DECODING:
        tolerant = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = tolerant


@contextlib.contextmanager
def open_photo(path: Path) -> Iterator[Image.Image]:
    """The photo, decoded whole and strictly; RenderError when it is truncated or damaged."""
    inspect_photo(path)
    with _strict_decoding():
        try:
            image = Image.open(path)
            image.load()
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise RenderError(
                f"the photo {path.name} cannot be decoded ({shorten(str(exc), 80)}); "
                "copy or export it again"
            ) from None
    try:
        yield image
    finally:
        image.close()


def max_pixels_for(width_mm: float, height_mm: float, dpi: int = MAX_DPI) -> tuple[int, int]:
    """The pixel box that prints `width_mm` × `height_mm` at `dpi`."""
    return round(width_mm / 25.4 * dpi), round(height_mm / 25.4 * dpi)


def downscale(
    path: Path,
    *,
    width_mm: float = PHOTO_WIDTH_MM,
    height_mm: float = PHOTO_HEIGHT_MM,
    max_pixels: int = MAX_PIXELS,
) -> bytes:
    """The photo's bytes, downscaled to at most `MAX_DPI` at its printed size.

    A photo already small enough is returned as it is, byte for byte.
    """
    info = inspect_photo(path, max_pixels=max_pixels)
    box_w, box_h = max_pixels_for(width_mm, height_mm)
    # The photo is printed to cover its box (object-fit: cover): its shorter side decides.
    scale = max(box_w / info.width, box_h / info.height)
    if scale >= 1:
        with open_photo(path):  # decoded once here, strictly, before WeasyPrint does
            return path.read_bytes()
    size = (max(1, round(info.width * scale)), max(1, round(info.height * scale)))
    with open_photo(path) as image:
        resized = image.resize(size, Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        if info.format == "JPEG":
            if resized.mode not in ("RGB", "L", "CMYK"):
                resized = resized.convert("RGB")
            # No EXIF, no timestamps: the same photo gives the same bytes.
            resized.save(buffer, "JPEG", quality=88, optimize=True)
        else:
            resized.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


class PhotoCache:
    """Downscaled photos by file, size and modification time (shared by every render)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, int, int], bytes] = {}
        self._lock = threading.Lock()
        self.misses = 0

    def get(self, path: Path) -> bytes:
        """The downscaled bytes of `path`, computed once per version of the file."""
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._items.get(key)
        if cached is not None:
            return cached
        data = downscale(path)
        with self._lock:
            self._items[key] = data
            self.misses += 1
        return data


PHOTO_CACHE = PhotoCache()


def check_photos(cards: Sequence[Card]) -> None:
    """Check (and downscale, once) every photo before laying out: a bad photo gets a
    clear RenderError here instead of a logged error deep inside WeasyPrint."""
    for card in cards:
        for photo in card.photos:
            try:
                PHOTO_CACHE.get(photo.path)
            except RenderError as exc:
                raise RenderError(f"mission '{card.id}': {exc.message}") from None
            except FileNotFoundError:
                raise RenderError(
                    f"mission '{card.id}': the photo {photo.path} does not exist; check its path"
                ) from None
