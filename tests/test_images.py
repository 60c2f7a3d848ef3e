"""Photos: Pillow checks (PNG/JPEG, pixel cap) and downscaling to 300 dpi, cached."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from refsheets.errors import RenderError
from refsheets.render.images import (
    PHOTO_HEIGHT_MM,
    PHOTO_WIDTH_MM,
    PhotoCache,
    downscale,
    inspect_photo,
    max_pixels_for,
)


def save(path: Path, size: tuple[int, int], fmt: str, mode: str = "RGB") -> Path:
    Image.new(mode, size, 128).save(path, fmt)
    return path


def test_the_box_at_300_dpi() -> None:
    assert max_pixels_for(25.4, 50.8) == (300, 600)


def test_a_small_photo_is_served_as_it_is(tmp_path: Path) -> None:
    path = save(tmp_path / "small.png", (200, 150), "PNG")
    assert downscale(path) == path.read_bytes()


@pytest.mark.parametrize("fmt,suffix", [("JPEG", "jpg"), ("PNG", "png")])
def test_a_large_photo_is_downscaled_to_300_dpi_at_its_printed_size(
    tmp_path: Path, fmt: str, suffix: str
) -> None:
    path = save(tmp_path / f"big.{suffix}", (4000, 3000), fmt)
    data = downscale(path)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == fmt
        width, height = image.size
    box_w, box_h = max_pixels_for(PHOTO_WIDTH_MM, PHOTO_HEIGHT_MM)
    # It still covers its box, and one side matches it: 300 dpi, no more.
    assert width >= box_w - 1 and height >= box_h - 1
    assert min(width - box_w, height - box_h) <= 1
    assert downscale(path) == data  # reproducible


def test_other_formats_are_refused(tmp_path: Path) -> None:
    gif = save(tmp_path / "anim.gif", (10, 10), "GIF", "P")
    with pytest.raises(RenderError, match="GIF image; save it as PNG or JPEG"):
        inspect_photo(gif)
    text = tmp_path / "fake.png"
    text.write_text("not an image")
    with pytest.raises(RenderError, match="not an image"):
        inspect_photo(text)
    with pytest.raises(RenderError, match="does not exist"):
        inspect_photo(tmp_path / "missing.jpg")


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    # 20 000 x 20 000 one-bit pixels: a small file, 400 Mpx once decoded.
    path = save(tmp_path / "bomb.png", (20_000, 20_000), "PNG", "1")
    assert path.stat().st_size < 1_000_000
    with pytest.raises(RenderError, match="40 Mpx limit"):
        downscale(path)


def test_the_cache_downscales_each_version_of_a_file_once(tmp_path: Path) -> None:
    cache = PhotoCache()
    path = save(tmp_path / "big.jpg", (3000, 2000), "JPEG")
    first = cache.get(path)
    assert cache.get(path) == first and cache.misses == 1
    save(path, (2400, 2000), "JPEG")  # a new version: new size or time
    cache.get(path)
    assert cache.misses == 2


def test_a_photo_just_over_the_cap_is_refused_by_our_check(tmp_path: Path) -> None:
    path = save(tmp_path / "wide.png", (9000, 5000), "PNG", "1")  # 45 Mpx
    with pytest.raises(RenderError, match="9000×5000 px"):
        inspect_photo(path)
