"""PNG cards: the rendered PDF's pages as images, checked by their pixels."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image
from pypdf import PdfReader

from refsheets.card import build_card
from refsheets.errors import RenderError, UsageError
from refsheets.layouts import LAYOUTS_ROOT, load_layout
from refsheets.library import Library, load_library
from refsheets.render import render
from refsheets.render.pdf import render_card_pdf, render_cards_pdf
from refsheets.render.png import pdf_page_texts, pdf_to_pngs, png_names
from tests.conftest import DATA, run_cli

MISSION = "2021-cc-haute-somme-tiers-lieu-peronne"  # entity pop-cafe


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(DATA)


def hex_rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


def text_box_px(pdf: bytes, text: str, dpi: int) -> tuple[int, int, int, int]:
    """Where `text` is printed on the first page, in pixels at `dpi` (left, top, right,
    bottom; y downwards), read from the PDF's own text layer."""
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    textpage = page.get_textpage()
    searcher = textpage.search(text)
    found = searcher.get_next()
    assert found is not None, f"{text!r} is not on the page"
    start, count = found
    boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
    height = page.get_height()
    scale = dpi / 72
    left = min(b[0] for b in boxes)
    bottom = min(b[1] for b in boxes)
    right = max(b[2] for b in boxes)
    top = max(b[3] for b in boxes)
    return (
        int(left * scale),
        int((height - top) * scale),
        int(right * scale),
        int((height - bottom) * scale),
    )


def has_colour_left_of(
    image: Image.Image, box: tuple[int, int, int, int], rgb: tuple[int, ...]
) -> bool:
    """Whether a pixel of `rgb` (±2 per channel) lies left of `box`, on its middle row."""
    left, top, _, bottom = box
    row = (top + bottom) // 2
    strip = image.convert("RGB").crop((0, row, left, row + 1)).tobytes()
    pixels = [tuple(strip[i : i + 3]) for i in range(0, len(strip), 3)]
    return any(all(abs(p - c) <= 2 for p, c in zip(pixel, rgb, strict=True)) for pixel in pixels)


def test_render_png_writes_one_image_per_page_sized_for_the_dpi(
    library: Library, tmp_path: Path
) -> None:
    written = render(library, [MISSION], formats=("pdf", "png"), out_dir=tmp_path, dpi=100)
    assert written == [tmp_path / f"{MISSION}.pdf", tmp_path / f"{MISSION}.png"]
    reader = PdfReader(tmp_path / f"{MISSION}.pdf")
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    with Image.open(tmp_path / f"{MISSION}.png") as image:
        assert image.format == "PNG" and image.mode == "RGB"
        # A4 (595.28 x 841.89 pt) at 100 px per inch (72 pt): 827 x 1170 pixels.
        assert image.size == (
            math.ceil(float(box.width) * 100 / 72),
            math.ceil(float(box.height) * 100 / 72),
        )
        assert image.size == (827, 1170)
        assert image.info["dpi"] == pytest.approx((100, 100), abs=0.01)


@pytest.mark.parametrize(("brand", "other"), [("pop-cafe", "pop-up"), ("pop-up", "pop-cafe")])
def test_the_title_bar_is_in_the_brand_colour(library: Library, brand: str, other: str) -> None:
    layout = load_layout(brand, LAYOUTS_ROOT)
    card = build_card(library, MISSION)
    pdf = render_card_pdf(card, layout, library_root=library.root)
    [png] = pdf_to_pngs(pdf, dpi=96)
    image = Image.open(io.BytesIO(png))
    client = text_box_px(pdf, card.client, 96)
    primary = hex_rgb(layout.brand.colors.primary)
    assert has_colour_left_of(image, client, primary)
    # And not the other brand's colour: the pixel test tells brands apart.
    assert not has_colour_left_of(
        image, client, hex_rgb(load_layout(other, LAYOUTS_ROOT).brand.colors.primary)
    )
    # The paper is white, not transparent.
    assert image.getpixel((2, 2)) == (255, 255, 255)


def test_every_page_of_a_document_becomes_an_image(library: Library) -> None:
    layout = load_layout("pop-up", LAYOUTS_ROOT)
    ids = list(library.missions)[:3]
    pdf = render_cards_pdf([build_card(library, i) for i in ids], layout)
    images = pdf_to_pngs(pdf, dpi=50)
    assert len(images) == len(PdfReader(io.BytesIO(pdf)).pages) == 3
    sizes = {Image.open(io.BytesIO(png)).size for png in images}
    assert sizes == {(414, 585)}
    texts = pdf_page_texts(pdf)
    assert len(texts) == 3
    for text, mission_id in zip(texts, ids, strict=True):
        assert build_card(library, mission_id).client in text


def test_page_image_names() -> None:
    assert png_names("a", 1) == ["a.png"]
    assert png_names("a", 3) == ["a-1.png", "a-2.png", "a-3.png"]


def test_the_page_text_joins_hyphenated_words(library: Library) -> None:
    pdf = render_card_pdf(build_card(library, MISSION), load_layout("pop-cafe", LAYOUTS_ROOT))
    [text] = pdf_page_texts(pdf)
    assert "\x02" not in text and "\r" not in text
    assert "transition économique" in text  # hyphenated across two lines on the card


@pytest.mark.parametrize("dpi", [0, 35, 601])
def test_a_resolution_out_of_range_is_refused(dpi: int) -> None:
    with pytest.raises(UsageError, match="out of range"):
        pdf_to_pngs(b"%PDF-1.7", dpi=dpi)


def test_a_damaged_pdf_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="could not be rasterised"):
        pdf_to_pngs(b"this is not a PDF", dpi=72)


def test_cli_render_png(tmp_path: Path) -> None:
    result = run_cli(["render", MISSION, "--format", "png", "--dpi", "72", "--out", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / f"{MISSION}.png")]
    with Image.open(tmp_path / f"{MISSION}.png") as image:
        assert image.size == (596, 842)
    assert not list(tmp_path.glob("*.pdf"))  # asked for images only


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "pdf", "--dpi", "100"], "add --format png"),
        (["--format", "png", "--dpi", "1000"], "--dpi 1000 is out of range"),
    ],
)
def test_cli_render_png_bad_dpi(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_cli(["render", MISSION, *args, "--out", str(tmp_path)])
    assert result.returncode == 2
    assert message in result.stderr
    assert not list(tmp_path.iterdir())
