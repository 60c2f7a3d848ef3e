"""Word cards: reopened with python-docx, converted by LibreOffice, compared byte for byte."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader

from refsheets.card import Block, Card, CardPhoto, build_card
from refsheets.errors import RenderError
from refsheets.layouts import LAYOUTS_ROOT, Layout, list_layouts, load_layout
from refsheets.library import Library, load_library
from refsheets.render.docx import build_card_docx, build_cards_docx, write_card_docx
from refsheets.render.docx_fit import fit_card
from refsheets.render.docx_package import obfuscate_font
from refsheets.render.docx_template import (
    TEMPLATE_FILE,
    template_inputs_digest,
    template_stamp,
)
from refsheets.render.fit import FIT_STEPS
from tests.conftest import DATA, convert_with_libreoffice, run_cli

LAYOUTS = ("pop-up", "pop-cafe")
CARD_STYLES = {
    "Card Client",
    "Card Title",
    "Card Spacer",
    "Card End",
    "Card Fact Label",
    "Card Fact",
    "Card Budget",
    "Card Fact Note",
    "Card Heading",
    "Card Body",
    "Card Bullet",
    "Card Numbered",
    "Card Deliverable",
    "Card Tags",
    "Card Photo",
    "Card Caption",
}


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(DATA)


@pytest.fixture(scope="module")
def layouts() -> dict[str, Layout]:
    return {name: load_layout(name, LAYOUTS_ROOT) for name in LAYOUTS}


def mission_ids() -> list[str]:
    return sorted(p.stem for p in (DATA / "missions").glob("*.yaml"))


def paragraphs(document: docx.document.Document) -> Iterator[tuple[str, str]]:
    """(style name, text) of every body paragraph, tables included, in reading order."""
    for block in document.element.body.iter(qn("w:p")):
        paragraph = Paragraph(block, document)
        yield (paragraph.style.name if paragraph.style else ""), paragraph.text


def all_runs(document: docx.document.Document) -> Iterator[object]:
    """The `w:r` elements of the body, headers and footers."""
    yield from document.element.body.iter(qn("w:r"))
    for section in document.sections:
        yield from section.header._element.iter(qn("w:r"))
        yield from section.footer._element.iter(qn("w:r"))


def reopen(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


# --------------------------------------------------------------------------- content


@pytest.mark.parametrize("layout_name", LAYOUTS)
@pytest.mark.parametrize("mission_id", mission_ids())
def test_card_content_is_in_the_templates_named_styles(
    library: Library, layouts: dict[str, Layout], mission_id: str, layout_name: str
) -> None:
    card = build_card(library, mission_id)
    document = reopen(build_card_docx(card, layouts[layout_name]))
    found = list(paragraphs(document))
    by_style: dict[str, list[str]] = {}
    for style, text in found:
        by_style.setdefault(style, []).append(text)
    assert by_style["Card Title"] == [card.title]
    assert by_style["Card Client"] == [card.client]
    facts = by_style["Card Fact"]
    assert (card.period or "—") in facts
    assert by_style["Card Budget"] == [card.amount or "—"]
    assert by_style["Card Deliverable"] == list(card.deliverables)
    assert card.amount and "€" in card.amount
    # Every paragraph of the body uses one of the card's styles (no "Normal" leftovers).
    assert {style for style, _ in found} <= CARD_STYLES
    # Same order and labels as the PDF card.
    headings = by_style["Card Heading"]
    expected = [
        label
        for label, present in (
            (card.labels.context, card.context),
            (card.labels.approach, card.approach),
            (card.labels.deliverables, card.deliverables),
            (card.labels.tags, card.tags),
        )
        if present
    ]
    assert headings == expected
    labels = by_style["Card Fact Label"]
    assert labels == [
        card.labels.period,
        card.labels.budget,
        card.labels.location,
        card.labels.carried_by,
    ]
    tags = [
        run.text.strip("\u00a0").replace("\u00a0", " ")
        for paragraph in document.element.body.iter(qn("w:p"))
        for run in Paragraph(paragraph, document).runs
        if run.style is not None and run.style.name == "Card Tag"
    ]
    assert tags == [tag.replace("\u00a0", " ") for tag in card.tags]
    # the header: the logo left, the kicker right, in a borderless table (so the kicker
    # is centred on the logo's height, as on the PDF)
    logo_cell, kicker_cell = document.sections[0].header.tables[0].rows[0].cells
    assert logo_cell.paragraphs[0].style.name == "Card Header"
    assert logo_cell._element.find(f".//{qn('w:drawing')}") is not None
    assert kicker_cell.paragraphs[0].style.name == "Card Header Kicker"
    assert card.labels.reference in kicker_cell.text
    # the footer speaks for the layout's brand, whoever carried the mission
    footer = document.sections[0].footer.paragraphs[0].text
    brand = layouts[layout_name].brand
    assert brand.name in footer
    assert brand.email and brand.email in footer


def test_no_run_has_direct_formatting(library: Library, layouts: dict[str, Layout]) -> None:
    for layout in layouts.values():
        for mission_id in mission_ids():
            document = reopen(build_card_docx(build_card(library, mission_id), layout))
            for run in all_runs(document):
                rpr = run.find(qn("w:rPr"))  # type: ignore[attr-defined]
                tags = [child.tag for child in rpr] if rpr is not None else []
                assert tags in ([], [qn("w:rStyle")]), (mission_id, tags)
            for paragraph in document.paragraphs:
                for run in paragraph.runs:
                    font = run.font
                    assert font.name is None and font.size is None and font.bold is None
                    assert font.italic is None and font.color.rgb is None


def test_numbered_lists_restart_at_one(library: Library, layouts: dict[str, Layout]) -> None:
    card = build_card(library, "2021-region-bourgogne-village-du-futur")
    assert any(block.kind == "ordered" for block in card.approach)
    twice = dataclasses.replace(card, context=(*card.context, *card.approach[1:]))
    document = reopen(build_card_docx(twice, layouts["pop-up"]))
    numbering = document.part.numbering_part.element
    num_ids = []
    for style, p in zip(
        (s for s, _ in paragraphs(document)), document.element.body.iter(qn("w:p")), strict=True
    ):
        if style == "Card Numbered":
            num_ids.append(
                int(p.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}").get(qn("w:val")))
            )
    assert len(num_ids) == 6 and len(set(num_ids)) == 2
    for num_id in set(num_ids):
        num = numbering.num_having_numId(num_id)
        start = num.find(f"{qn('w:lvlOverride')}/{qn('w:startOverride')}")
        assert start is not None and start.get(qn("w:val")) == "1"


def test_english_card_uses_english_labels_and_language(
    library: Library, layouts: dict[str, Layout]
) -> None:
    card = build_card(library, "vilogia-lieu-innovation-habitat", lang="en")
    document = reopen(build_card_docx(card, layouts["pop-up"]))
    headings = [text for style, text in paragraphs(document) if style == "Card Heading"]
    assert headings[0] == "Context"
    assert document.core_properties.language == "en-GB"
    lang = document.styles.element.find(
        f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}"
    )
    assert lang.get(qn("w:val")) == "en-GB"


# --------------------------------------------------------------------------- package


def test_two_renders_give_identical_bytes(
    library: Library, layouts: dict[str, Layout], tmp_path: Path
) -> None:
    card = build_card(library, "2021-valenciennes-passage-de-la-paix")
    first, second = tmp_path / "a.docx", tmp_path / "b.docx"
    write_card_docx(card, layouts["pop-up"], first)
    write_card_docx(card, layouts["pop-up"], second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as package:
        assert {info.date_time for info in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert package.namelist()[0] == "[Content_Types].xml"
    props = reopen(first.read_bytes()).core_properties
    assert props.title == card.title
    assert props.created == props.modified
    assert props.created is not None and props.created.year == 2020


def test_fonts_are_embedded_obfuscated_per_ecma_376(layouts: dict[str, Layout]) -> None:
    path = layouts["pop-up"].path / TEMPLATE_FILE
    with zipfile.ZipFile(path) as package:
        table = package.read("word/fontTable.xml").decode()
        rels = package.read("word/_rels/fontTable.xml.rels").decode()
        fonts = {n: package.read(n) for n in package.namelist() if n.endswith(".odttf")}
    assert 'w:name="Lato"' in table and "<w:embedRegular " in table and "<w:embedBold " in table
    assert fonts
    for name, data in fonts.items():
        rel_id = rels.split(f'Target="{name.removeprefix("word/")}"')[0].rsplit('Id="', 1)[1]
        rel_id = rel_id.split('"')[0]
        key = table.split(f'r:id="{rel_id}" w:fontKey="')[1].split('"')[0]
        assert data[:4] not in (b"\x00\x01\x00\x00", b"OTTO", b"true")  # really obfuscated
        font = TTFont(io.BytesIO(obfuscate_font(data, key)))
        assert font["name"].getDebugName(1).startswith("Lato")
        assert 0x202F in font.getBestCmap()  # the narrow no-break space of French text


@pytest.mark.parametrize("name", list_layouts(LAYOUTS_ROOT))
def test_committed_templates_are_up_to_date(name: str) -> None:
    layout = load_layout(name, LAYOUTS_ROOT)
    stamp = template_stamp(layout.path / TEMPLATE_FILE)
    assert stamp == template_inputs_digest(layout), (
        f"layouts/{name}/{TEMPLATE_FILE} is older than its brand.yaml, logo, fonts or "
        f"generator: run `python scripts/make_reference_docx.py {name}`"
    )


def test_template_styles_are_named_and_branded(layouts: dict[str, Layout]) -> None:
    layout = layouts["pop-cafe"]
    document = docx.Document(str(layout.path / TEMPLATE_FILE))
    names = {style.name for style in document.styles}
    assert CARD_STYLES | {"Card Tag", "Card Kicker", "Card Footer", "Card Header"} <= names
    title = document.styles["Card Title"]
    assert title.font.name == "Lato Heavy"
    client = document.styles["Card Client"]
    assert str(client.font.color.rgb).lower() == layout.brand.colors.primary.lstrip("#")
    header_xml = document.sections[0].header._element.xml
    assert "<w:drawing>" in header_xml  # the logo
    assert (
        layout.brand.email and layout.brand.email in document.sections[0].footer.paragraphs[0].text
    )


# --------------------------------------------------------------------------- errors


def test_overlong_context_fails_naming_the_section_and_writes_nothing(
    library: Library, layouts: dict[str, Layout], tmp_path: Path
) -> None:
    card = build_card(library, "2019-epsm-lille-metropole-co-design-usagers")
    text = " ".join(["Une phrase de contexte assez longue pour remplir la page."] * 120)
    long_card = dataclasses.replace(card, context=(Block("paragraph", (text,)),))
    target = tmp_path / "card.docx"
    with pytest.raises(RenderError) as caught:
        write_card_docx(long_card, layouts["pop-up"], target)
    message = caught.value.message
    assert "2019-epsm-lille-metropole-co-design-usagers" in message
    assert "« Contexte »" in message and "mm" in message and "lines" in message
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_control_character_is_a_clear_error(library: Library, layouts: dict[str, Layout]) -> None:
    card = build_card(library, "2019-epsm-lille-metropole-co-design-usagers")
    bad = dataclasses.replace(card, deliverables=("Atelier\x0b",))
    with pytest.raises(RenderError, match=r"deliverables contains the control character U\+000B"):
        build_card_docx(bad, layouts["pop-up"])


def test_a_long_card_gets_a_tighter_step(library: Library, layouts: dict[str, Layout]) -> None:
    card = build_card(library, "2021-cc-haute-somme-tiers-lieu-peronne")
    assert fit_card(card, layouts["pop-up"]).step == 0
    longer = dataclasses.replace(card, context=card.context * 3)
    step = fit_card(longer, layouts["pop-up"]).step
    assert step is not None and step > 0
    document = reopen(build_card_docx(longer, layouts["pop-up"]))
    size = document.styles["Card Body"].font.size
    assert size is not None and size.pt == FIT_STEPS[step].body_pt


# --------------------------------------------------------------------------- photos


def _card_with_photo(library: Library, photo: Path, caption: str | None) -> Card:
    card = build_card(library, "2022-havelinghen-emergence-tiers-lieu")
    return dataclasses.replace(card, photos=(CardPhoto(photo, caption, alt=caption or "Photo"),))


def test_photo_goes_in_at_the_set_width(
    library: Library, layouts: dict[str, Layout], tmp_path: Path
) -> None:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (1600, 900), (200, 120, 40)).save(photo)
    card = _card_with_photo(library, photo, "Atelier avec les habitants")
    document = reopen(build_card_docx(card, layouts["pop-up"]))
    shapes = document.inline_shapes
    assert len(shapes) == 1
    assert round(shapes[0].width.mm) == 62
    captions = [text for style, text in paragraphs(document) if style == "Card Caption"]
    assert captions == ["Atelier avec les habitants"]


def test_photo_that_is_not_png_or_jpeg_is_refused(
    library: Library, layouts: dict[str, Layout], tmp_path: Path
) -> None:
    photo = tmp_path / "photo.gif"
    Image.new("RGB", (40, 30)).save(photo, "GIF")
    with pytest.raises(RenderError, match="PNG or JPEG"):
        build_card_docx(_card_with_photo(library, photo, None), layouts["pop-up"])


# --------------------------------------------------------------------------- many cards


def test_build_cards_docx_puts_each_card_in_its_own_section(
    library: Library, layouts: dict[str, Layout]
) -> None:
    cards = [build_card(library, mission_id) for mission_id in mission_ids()]
    document = reopen(build_cards_docx(cards, layouts["pop-up"]))
    assert len(document.sections) == len(cards)
    titles = [text for style, text in paragraphs(document) if style == "Card Title"]
    assert titles == [card.title for card in cards]
    for section, card in zip(document.sections, cards, strict=True):
        kicker = section.header.tables[0].rows[0].cells[1].text
        assert card.labels.reference in kicker
        if card.client_kind:
            assert card.client_kind in kicker
        assert "POP Up" in section.footer.paragraphs[0].text  # the layout's brand
        assert section.header._element.find(f".//{qn('w:drawing')}") is not None


def test_build_cards_docx_needs_cards(layouts: dict[str, Layout]) -> None:
    with pytest.raises(RenderError):
        build_cards_docx([], layouts["pop-up"])


# --------------------------------------------------------------------------- LibreOffice


@pytest.mark.slow
def test_libreoffice_prints_every_card_on_exactly_one_page(
    library: Library, layouts: dict[str, Layout], tmp_path: Path
) -> None:
    files = []
    for layout_name, layout in layouts.items():
        for mission_id in mission_ids():
            target = tmp_path / f"{layout_name}--{mission_id}.docx"
            write_card_docx(build_card(library, mission_id), layout, target)
            files.append(target)
    # Cards at the floor step, as long as the budget allows, in either column: the
    # estimate must hold where it matters most.
    base = build_card(library, "2021-cc-haute-somme-tiers-lieu-peronne")
    items = base.deliverables * 20

    def longer_context(n: int) -> Card:
        return dataclasses.replace(base, context=base.context * n)

    def more_deliverables(n: int) -> Card:
        return dataclasses.replace(base, deliverables=items[:n])

    for name, grow in (("longest-main", longer_context), ("longest-side", more_deliverables)):
        longest = base
        for copies in range(2, 60):
            candidate = grow(copies)
            if not fit_card(candidate, layouts["pop-up"]).fits:
                break
            longest = candidate
        step = fit_card(longest, layouts["pop-up"]).step
        assert step is not None and step >= len(FIT_STEPS) - 2  # at or next to the floor
        files.append(tmp_path / f"{name}.docx")
        write_card_docx(longest, layouts["pop-up"], files[-1])
    many = tmp_path / "many.docx"
    cards = [build_card(library, mission_id) for mission_id in mission_ids()]
    many.write_bytes(build_cards_docx(cards, layouts["pop-cafe"]))
    out = tmp_path / "pdf"
    convert_with_libreoffice([*files, many], out, tmp_path / "profile")
    for file in files:
        pdf = PdfReader(out / f"{file.stem}.pdf")
        assert len(pdf.pages) == 1, file.name
    reader = PdfReader(out / "many.pdf")
    assert len(reader.pages) == len(cards)
    for page, card in zip(reader.pages, cards, strict=True):
        assert card.client.split()[0] in page.extract_text()


@pytest.mark.slow
def test_libreoffice_uses_the_embedded_fonts(
    library: Library, layouts: dict[str, Layout], tmp_path: Path
) -> None:
    target = tmp_path / "card.docx"
    write_card_docx(build_card(library, "anzin-mediation-numerique-qpv"), layouts["pop-up"], target)
    convert_with_libreoffice([target], tmp_path, tmp_path / "profile")
    page = PdfReader(tmp_path / "card.pdf").pages[0]
    resources: Any = page["/Resources"]
    fonts = {
        str(font.get_object()["/BaseFont"]).split("+")[-1]
        for font in resources["/Font"].get_object().values()
    }
    assert {"Lato-Regular", "Lato-Heavy", "Lato-Bold"} <= fonts, fonts


# --------------------------------------------------------------------------- CLI


def test_cli_renders_docx_and_all(tmp_path: Path) -> None:
    result = run_cli(
        ["render", "anzin-mediation-numerique-qpv", "--format", "docx", "--out", str(tmp_path)]
    )
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["anzin-mediation-numerique-qpv.docx"]
    reopen((tmp_path / "anzin-mediation-numerique-qpv.docx").read_bytes())
    both = tmp_path / "both"
    result = run_cli(
        ["render", "2019-epsm-lille-metropole-co-design-usagers", "--format", "all",
         "--out", str(both)]
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.suffix for p in both.iterdir()) == [".docx", ".pdf"]


def test_set_style_writes_what_python_docx_setters_write(layouts: dict[str, Layout]) -> None:
    """Paragraphs and runs, new and already styled, given a style and the default style
    (written as none): set_style gives the XML python-docx's own `style` setters give."""
    from refsheets.render.docx import set_style
    from refsheets.render.docx_template import template_path

    documents = [docx.Document(str(template_path(layouts["pop-up"]))) for _ in range(2)]
    for document, ours in zip(documents, (True, False), strict=True):
        styles = {style.name: style for style in document.styles}
        pairs = [("Card Title", "Card Tag"), ("Normal", "Default Paragraph Font")]
        for paragraph_style, run_style in pairs + pairs[::-1]:
            paragraph = document.add_paragraph("text")
            run = paragraph.add_run("more")
            for item, name in ((paragraph, paragraph_style), (run, run_style)):
                for _ in range(2):  # the second time, through python-docx's setter
                    if ours:
                        set_style(item, styles[name])
                    else:
                        item.style = styles[name]
    xml = ["".join(p._p.xml for p in document.paragraphs[-4:]) for document in documents]
    assert xml[0] == xml[1]
    assert xml[0].count("<w:pStyle ") == 2 and xml[0].count("<w:rStyle ") == 2
    assert documents[0].element.body.xml == documents[1].element.body.xml
