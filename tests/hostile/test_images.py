"""Threat: a photo that is a decompression bomb in its metadata, or a file cut short.

A PNG whose zTXt or iCCP chunk inflates past Pillow's limit made Pillow raise a
ValueError nobody caught (exit 70 for every command). A truncated JPEG was accepted:
WeasyPrint turns on Pillow's global LOAD_TRUNCATED_IMAGES when imported, so the PDF
shipped a half-grey photo, and the Word render blamed the output folder. Both are
refused at load, at the photo's line, and decoding is strict whatever the global says.
"""

from __future__ import annotations

import contextlib
import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageFile

from refsheets import load_library
from refsheets.errors import RenderError
from refsheets.render.images import downscale, inspect_photo, open_photo

GOOD = {"good-a", "good-b"}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(extra: bytes = b"") -> bytes:
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\xff\x00" * 2)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + extra
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def _jpeg(size: tuple[int, int] = (400, 300)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


# 8 MiB of zeros deflate to 8 KB: past Pillow's 1 MiB limit for a text or profile chunk.
BOMB = zlib.compress(b"\x00" * (8 * 1024 * 1024), 9)


def _photo_error(library: Path, name: str, data: bytes) -> str:
    (library / "photos").mkdir(exist_ok=True)
    (library / "photos" / name).write_bytes(data)
    (library / "missions" / "x.yaml").write_text(
        f"title: X\nclient:\n  name: Y\nphotos:\n  - path: photos/{name}\n", encoding="utf-8"
    )
    loaded = load_library(library)
    assert set(loaded.missions) == GOOD
    (error,) = [d for d in loaded.errors if d.path.name == "x.yaml"]
    assert (error.line, error.field) == (5, "photos.path")
    return error.message


def test_an_honest_png_loads(library: Path) -> None:
    (library / "photos").mkdir()
    (library / "photos" / "ok.png").write_bytes(_png())
    (library / "missions" / "x.yaml").write_text(
        "title: X\nclient:\n  name: Y\nphotos:\n  - path: photos/ok.png\n", encoding="utf-8"
    )
    assert "x" in load_library(library).missions


@contextlib.contextmanager
def _pillow_tolerance(tolerant: bool = True) -> Iterator[None]:
    """Pillow's global LOAD_TRUNCATED_IMAGES as `import weasyprint` leaves it (on)."""
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = tolerant
    try:
        yield
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before


@pytest.mark.parametrize("tolerant", [False, True], ids=["pillow-default", "weasyprint-loaded"])
@pytest.mark.parametrize("chunk", [b"zTXt", b"iCCP"])
def test_a_png_metadata_bomb_is_refused_at_its_line(
    library: Path, chunk: bytes, tolerant: bool
) -> None:
    with _pillow_tolerance(tolerant):
        message = _photo_error(library, "bomb.png", _png(_chunk(chunk, b"k\x00\x00" + BOMB)))
    assert "bomb.png is not an image Pillow can read" in message


def test_a_truncated_png_is_refused_at_load(library: Path) -> None:
    data = _png()
    message = _photo_error(library, "cut.png", data[: len(data) - 20])
    assert "cut.png is cut short" in message


def test_a_truncated_jpeg_is_refused_at_load(library: Path) -> None:
    data = _jpeg()
    message = _photo_error(library, "cut.jpg", data[: len(data) // 2])
    assert "cut.jpg is cut short (a truncated file)" in message


def test_an_exif_thumbnail_does_not_hide_a_truncated_jpeg(tmp_path: Path) -> None:
    # An APP1 segment holding a whole small JPEG (with its own end marker) comes first.
    thumbnail = _jpeg((16, 16))
    data = _jpeg()
    app1 = b"\xff\xe1" + (len(thumbnail) + 2).to_bytes(2, "big") + thumbnail
    cut = data[:2] + app1 + data[2 : len(data) // 2]
    path = tmp_path / "thumb.jpg"
    path.write_bytes(cut)
    with pytest.raises(RenderError, match="cut short"):
        inspect_photo(path)
    path.write_bytes(data[:2] + app1 + data[2:])
    assert inspect_photo(path).format == "JPEG"


def _png_with_cut_pixels(path: Path) -> None:
    """A PNG whose chunks are whole (IEND and every CRC in place) but whose compressed
    pixels stop halfway: only a full decode sees it."""
    width = height = 64
    rows = b"".join(b"\x00" + bytes((x * y) % 256 for x in range(width * 3)) for y in range(height))
    pixels = zlib.compress(rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels[: len(pixels) // 2])
        + _chunk(b"IEND", b"")
    )


def test_decoding_is_strict_even_when_weasyprint_turned_tolerance_on(tmp_path: Path) -> None:
    path = tmp_path / "damaged.png"
    _png_with_cut_pixels(path)
    with _pillow_tolerance():
        with pytest.raises(RenderError, match=r"damaged\.png cannot be decoded"), open_photo(path):
            pass
        with pytest.raises(RenderError, match=r"damaged\.png cannot be decoded"):
            downscale(path)
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored for WeasyPrint


def test_the_word_card_blames_the_photo_not_the_folder(tmp_path: Path) -> None:
    from refsheets.render.docx import cover_photo

    path = tmp_path / "damaged.png"
    _png_with_cut_pixels(path)
    with _pillow_tolerance(), pytest.raises(RenderError) as caught:
        cover_photo(path, 170, 140)
    assert "the photo damaged.png cannot be decoded" in caught.value.message
    assert "--out" not in caught.value.message
