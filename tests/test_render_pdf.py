"""PDF cards, read back as a buyer gets them: pages, text, fonts, metadata, bytes."""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

from refsheets.card import Block, Card, CardPhoto, build_card
from refsheets.errors import RenderError
from refsheets.layouts import LAYOUTS_ROOT, Layout, load_layout
from refsheets.library import Library, load_library
from refsheets.render import check_fits, render
from refsheets.render.fit import FIT_STEPS, step_css
from refsheets.render.pdf import (
    CardRenderer,
    card_html,
    check_fit,
    render_card_pdf,
    render_cards_pdf,
    renderer_for,
)
from tests.conftest import DATA, ROOT, run_cli

BRANDS = ("pop-up", "pop-cafe")


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(DATA)


@pytest.fixture(scope="module")
def layouts() -> dict[str, Layout]:
    return {name: load_layout(name, LAYOUTS_ROOT) for name in (*BRANDS, "base")}


def normalise(text: str) -> str:
    """Text made comparable with what a PDF gives back.

    Spaces of every kind, line breaks and hyphens are dropped: a line may break at any
    space or hyphen (and hyphenation adds hyphens), and Lato's hyphen glyph reads back
    as U+2010. The words and their order are what is compared.
    """
    return re.sub(r"[\s\u00a0\u202f\u00ad\u2010\u2011-]+", "", text)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return normalise(" ".join(page.extract_text() for page in reader.pages))


def page_count(data: bytes) -> int:
    return len(PdfReader(io.BytesIO(data)).pages)


def embedded_fonts(data: bytes) -> set[str]:
    """The BaseFont names of every font in the PDF."""
    names: set[str] = set()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font":
                names.add(str(obj.get("/BaseFont")))
    return names


def long_card(card: Card, words: int) -> Card:
    text = " ".join(f"mot{i % 97}" for i in range(words))
    return dataclasses.replace(card, context=(Block("paragraph", (text,)),))


# --------------------------------------------------------------------------- every card


@pytest.mark.slow
@pytest.mark.parametrize("brand", BRANDS)
def test_every_mission_renders_to_one_page_with_its_facts(
    library: Library, layouts: dict[str, Layout], brand: str
) -> None:
    for mission_id in library.missions:
        card = build_card(library, mission_id)
        data = render_card_pdf(card, layouts[brand], library_root=library.root)
        assert page_count(data) == 1, mission_id
        text = pdf_text(data)
        for fact in (card.title, card.client, card.period, card.amount, *card.deliverables):
            if fact:
                assert normalise(fact) in text, (mission_id, fact)
        assert normalise(card.labels.context).upper() in text.upper()  # set in capitals


def test_the_budget_prints_in_french_form(library: Library, layouts: dict[str, Layout]) -> None:
    card = build_card(library, "2021-cc-haute-somme-tiers-lieu-peronne")
    assert card.amount == "213\u202f000\u00a0€\u00a0HT"
    assert card.amount in card_html(card, layouts["pop-up"])
    data = render_card_pdf(card, layouts["pop-up"])
    raw = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    # The narrow no-break space has its own glyph and survives into the PDF's text (the
    # no-break space shares the space's glyph and reads back as a space).
    assert re.search("213\u202f000[ \u00a0]€ HT", raw)


def test_the_pdf_embeds_only_our_fonts_as_subsets(
    library: Library, layouts: dict[str, Layout]
) -> None:
    for brand in BRANDS:
        card = build_card(library, "2019-epsm-lille-metropole-co-design-usagers")
        fonts = embedded_fonts(render_card_pdf(card, layouts[brand]))
        assert fonts, "no font found"
        for name in fonts:
            # "/ABCDEF+Lato-Bold": a subset (the tag) of one of the vendored Lato faces.
            assert re.fullmatch(r"/[A-Z]{6}\+Lato(-[A-Za-z-]+)?", name), name


def test_french_characters_come_from_lato_too(library: Library, layouts: dict[str, Layout]) -> None:
    card = build_card(library, "2019-epsm-lille-metropole-co-design-usagers")
    odd = "Œuvre « cité » : 1\u202f250\u202f€ — déjà ÉTÉ ; vrai ? oui ! l’été…"
    card = dataclasses.replace(card, context=(Block("paragraph", (odd,)),))
    data = render_card_pdf(card, layouts["pop-up"])
    assert all("Lato" in name for name in embedded_fonts(data))
    assert normalise(odd) in pdf_text(data)


def test_metadata_title_author_subject_keywords_language(
    library: Library, layouts: dict[str, Layout]
) -> None:
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    data = render_card_pdf(card, layouts["pop-up"])
    with pikepdf.open(io.BytesIO(data)) as pdf:
        info = pdf.docinfo
        assert str(info["/Title"]) == card.title
        assert str(info["/Author"]) == card.brand.name == "POP Up"
        assert card.client in str(info["/Subject"])
        assert str(info["/Keywords"]) == ", ".join(card.tags)
        assert str(pdf.Root["/Lang"]) == "fr"
        assert "/CreationDate" not in info and "/ModDate" not in info


def test_english_labels_keep_the_text_as_written(
    library: Library, layouts: dict[str, Layout]
) -> None:
    card = build_card(library, "anzin-mediation-numerique-qpv", lang="en")
    text = pdf_text(render_card_pdf(card, layouts["pop-cafe"]))
    for label in ("Context", "Approach", "Deliverables", "Amount"):
        assert label.upper() in text.upper()
    assert "Réalisations".upper() not in text.upper()
    assert normalise(card.deliverables[0]) in text


def test_the_footer_speaks_for_the_layouts_brand_and_the_facts_name_who_carried_it(
    library: Library, layouts: dict[str, Layout]
) -> None:
    # A POP Café mission in POP Up's layout: POP Up's logo, so POP Up's footer (a logo
    # of one brand over the e-mail of another was the flaw); "Mission portée par" still
    # says POP Café carried it.
    mission_id = next(m for m, mission in library if mission.entity == "pop-cafe")
    card = build_card(library, mission_id)
    pdf = render_card_pdf(card, layouts["pop-up"])
    footer = subprocess.run(  # the bottom 22 mm of the page: the footer
        ["pdftotext", "-x", "0", "-y", "780", "-W", "595", "-H", "62", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert "popupequipe@pop.eu.com" in footer
    assert "POP Up" in footer
    assert "contact@pop.cafe" not in pdf_text(pdf)
    assert "POPCafé" in pdf_text(pdf)  # the facts band's "Mission portée par"


def test_private_fields_never_reach_the_card(library_copy: Path) -> None:
    path = library_copy / "missions" / "anzin-mediation-numerique-qpv.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "notes: NOTE-SECRETE-42\ncontact:\n  name: Jeanne Referente\n  email: j@x.fr\n",
        encoding="utf-8",
    )
    library = load_library(library_copy)
    card = build_card(library, "anzin-mediation-numerique-qpv")
    data = render_card_pdf(card, load_layout("pop-up", LAYOUTS_ROOT))
    text = pdf_text(data)
    assert "NOTE-SECRETE-42" not in text and "Referente" not in text and "j@x.fr" not in text


# --------------------------------------------------------------------------- fitting


def test_a_longer_card_is_tightened_but_stays_readable(
    library: Library, layouts: dict[str, Layout]
) -> None:
    card = long_card(build_card(library, "anzin-mediation-numerique-qpv"), 400)
    result = check_fit(card, layouts["pop-up"])
    assert result.fits and result.step is not None and result.step > 0
    assert result.body_pt is not None and result.body_pt >= 8.5
    data = render_card_pdf(card, layouts["pop-up"])
    assert page_count(data) == 1
    assert "mot96" in pdf_text(data)  # the end of the text is there: no silent cut


def test_a_card_that_spills_in_a_batch_is_refitted_past_step_0(
    library: Library, layouts: dict[str, Layout], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card the batch saw spill at the first step is not laid out at that step again:
    its search for a step starts past it (issue 15: each layout of a card is ~50 ms)."""
    short = build_card(library, "2021-valenciennes-passage-de-la-paix")
    longer = long_card(build_card(library, "anzin-mediation-numerique-qpv"), 400)
    renderer = CardRenderer(layouts["pop-up"], library.root)
    laid_out: list[tuple[list[str], list[int]]] = []
    html = renderer.html

    def spy(cards: Any, steps: Any, **kwargs: Any) -> str:
        laid_out.append(([c.id for c in cards], list(steps)))
        return html(cards, steps, **kwargs)

    monkeypatch.setattr(renderer, "html", spy)
    assert page_count(renderer.cards_pdf([short, longer])) == 2
    alone = [steps for ids, steps in laid_out if ids == [longer.id]]
    assert laid_out[0] == ([short.id, longer.id], [0, 0])
    assert alone and all(step > 0 for [step] in alone)  # never step 0 again
    assert laid_out[-1][1][0] == 0 and laid_out[-1][1][1] > 0


def test_the_floor_is_8_5_pt() -> None:
    assert min(step.body_pt for step in FIT_STEPS) == 8.5
    sizes = [step.body_pt for step in FIT_STEPS]
    assert sizes == sorted(sizes, reverse=True)
    for index, step in enumerate(FIT_STEPS):
        css = step_css(step, index)
        # Running text (paragraphs, lists, deliverables) uses --fs-body or --fs-small.
        for variable in ("--fs-body", "--fs-small"):
            match = re.search(rf"{variable}: ([\d.]+)pt", css)
            assert match and float(match.group(1)) >= 8.5, (index, variable)


@pytest.mark.slow
def test_a_3000_word_context_fails_naming_mission_section_and_amount(
    library: Library, layouts: dict[str, Layout], tmp_path: Path
) -> None:
    card = long_card(build_card(library, "anzin-mediation-numerique-qpv"), 3000)
    with pytest.raises(RenderError) as caught:
        render_card_pdf(card, layouts["pop-up"])
    message = caught.value.message
    assert "anzin-mediation-numerique-qpv" in message
    assert "« Contexte »" in message
    overflow = re.search(r"overflows by about (\d+) mm", message)
    assert overflow and int(overflow.group(1)) > 200  # about 3 extra pages of text
    result = check_fit(card, layouts["pop-up"])
    assert not result.fits and result.pages > 1


@pytest.mark.slow
def test_a_card_that_cannot_fit_leaves_no_file_and_keeps_the_older_one(
    library_copy: Path, tmp_path: Path
) -> None:
    path = library_copy / "missions" / "anzin-mediation-numerique-qpv.yaml"
    words = " ".join(f"mot{i % 97}" for i in range(3000))
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?ms)^context: .*?(?=^\w)", "", text)
    path.write_text(text + f"context: {words}\n", encoding="utf-8")
    library = load_library(library_copy)
    fresh = tmp_path / "fresh"
    with pytest.raises(RenderError, match="Contexte"):
        render(library, ["anzin-mediation-numerique-qpv"], out_dir=fresh)
    assert not fresh.exists() or not any(fresh.iterdir())
    out = tmp_path / "out"
    out.mkdir()
    older = out / "anzin-mediation-numerique-qpv.pdf"
    older.write_bytes(b"the older card")
    with pytest.raises(RenderError, match="anzin-mediation-numerique-qpv"):
        render(library, ["anzin-mediation-numerique-qpv"], out_dir=out)
    assert older.read_bytes() == b"the older card"
    assert [p.name for p in out.iterdir()] == [older.name]  # no temporary file left


@pytest.mark.slow
def test_check_fits_flags_only_the_card_that_overflows(library_copy: Path) -> None:
    path = library_copy / "missions" / "vilogia-lieu-innovation-habitat.yaml"
    words = " ".join(f"mot{i % 97}" for i in range(3000))
    text = re.sub(r"(?ms)^context: .*?(?=^\w)", "", path.read_text(encoding="utf-8"))
    path.write_text(text + f"context: {words}\n", encoding="utf-8")
    results = check_fits(load_library(library_copy))
    assert len(results) == 8
    assert [r.mission_id for r in results if not r.fits] == ["vilogia-lieu-innovation-habitat"]


# --------------------------------------------------------------------------- safety


def test_markup_in_the_text_prints_literally_and_reads_no_file(
    library: Library, layouts: dict[str, Layout]
) -> None:
    evil = '<img src="file:///etc/hostname"> <script>alert(1)</script> <b>gras</b>'
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    card = dataclasses.replace(
        card,
        title=f"Titre {evil}",
        context=(Block("paragraph", (evil,)),),
        deliverables=(evil,),
    )
    html = card_html(card, layouts["pop-up"])
    assert "<script>" not in html and '<img src="file:///etc/hostname">' not in html
    data = render_card_pdf(card, layouts["pop-up"])
    text = pdf_text(data)
    assert normalise("<script>alert(1)</script>") in text
    assert normalise('<img src="file:///etc/hostname">') in text
    fetcher = renderer_for(layouts["pop-up"]).last_fetcher
    assert fetcher is not None and fetcher.requests
    urls = [r.url for r in fetcher.requests]
    assert not any("hostname" in url or "/etc/" in url for url in urls)
    assert all(r.served for r in fetcher.requests)
    assert [Path(r.path or "").name for r in fetcher.requests] == ["logo.svg"]


def test_any_error_weasyprint_logs_fails_the_render(library: Library, tmp_path: Path) -> None:
    # A brand is a new folder, no Python; this one's CSS points at an image that is not
    # there, which WeasyPrint only logs: the render must fail instead.
    root = tmp_path / "layouts"
    shutil.copytree(LAYOUTS_ROOT / "base", root / "base")
    brand = root / "broken"
    brand.mkdir()
    (brand / "brand.yaml").write_text("extends: base\nname: Cassé\nlogo: logo.svg\n")
    (brand / "card.css").write_text(".masthead { background: url(missing.png); }\n")
    layout = load_layout("broken", root, fonts_root=ROOT / "fonts")
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    with pytest.raises(RenderError, match=r"missing\.png"):
        render_card_pdf(card, layout)


def test_a_new_brand_is_a_folder(library: Library, tmp_path: Path) -> None:
    root = tmp_path / "layouts"
    shutil.copytree(LAYOUTS_ROOT / "base", root / "base")
    brand = root / "atelier"
    brand.mkdir()
    (brand / "brand.yaml").write_text(
        'extends: base\nname: Atelier\nlogo: logo.svg\ncolors: {primary: "#aa0000"}\n'
    )
    (brand / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
        '<rect width="10" height="10" fill="#aa0000"/></svg>'
    )
    (brand / "card.html.j2").write_text(
        '{% extends "base/card.html.j2" %}'
        '{% block masthead %}<p class="kicker">ATELIER-MASTHEAD</p>{% endblock %}'
    )
    layout = load_layout("atelier", root, fonts_root=ROOT / "fonts")
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    html = card_html(card, layout)
    assert "--primary: #aa0000" not in html  # colours go in CSS, not in the HTML
    data = render_card_pdf(card, layout)
    text = pdf_text(data)
    assert normalise("ATELIER-MASTHEAD") in text and normalise(card.title) in text


# --------------------------------------------------------------------------- photos


def _with_photo(library_copy: Path, size: tuple[int, int]) -> Library:
    photos = library_copy / "photos"
    photos.mkdir()
    Image.new("RGB", size, (40, 120, 160)).save(photos / "atelier.jpg", quality=90)
    path = library_copy / "missions" / "vilogia-lieu-innovation-habitat.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "photos:\n  - path: photos/atelier.jpg\n    caption: 'Atelier n°2 : immersion'\n",
        encoding="utf-8",
    )
    return load_library(library_copy)


def test_a_photo_prints_downscaled_with_its_caption(library_copy: Path) -> None:
    library = _with_photo(library_copy, (4000, 3000))
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    data = render_card_pdf(card, load_layout("pop-up", LAYOUTS_ROOT), library_root=library.root)
    assert page_count(data) == 1
    assert normalise("Atelier n°2 : immersion") in pdf_text(data)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        images = [
            obj
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image"
        ]
        assert len(images) == 1
        # Printed to cover 62 x 52 mm (732 x 614 px at 300 dpi), cropped on one side:
        # the side that fits the box exactly prints at 300 dpi at most.
        width, height = int(images[0].Width), int(images[0].Height)
        assert min(width / 732, height / 614) <= 1.01
        # The JPEG embedded is the downscaled one, not the original read again from disk.
        with Image.open(io.BytesIO(images[0].read_raw_bytes())) as embedded:
            assert embedded.size == (width, height)
    assert len(data) < 400_000


def test_a_photo_outside_the_library_is_refused(library: Library, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.png"
    Image.new("RGB", (10, 10)).save(outside)
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    card = dataclasses.replace(card, photos=(CardPhoto(outside, None, alt="Photo"),))
    with pytest.raises(RenderError, match=r"may not read|refused"):
        render_card_pdf(card, load_layout("pop-up", LAYOUTS_ROOT), library_root=library.root)


# --------------------------------------------------------------------------- batch


def test_many_cards_in_one_document_one_page_each_with_anchors(
    library: Library, layouts: dict[str, Layout]
) -> None:
    ids = list(library.missions)[:3]
    cards = [build_card(library, i) for i in ids]
    cards[1] = long_card(cards[1], 400)  # needs tightening: must still take one page
    data = render_cards_pdf(cards, layouts["pop-cafe"], title="Annexe")
    assert page_count(data) == 3
    with pikepdf.open(io.BytesIO(data)) as pdf:
        names = pdf.Root.Names.Dests.Names
        anchors = {str(names[i]): names[i + 1][0] for i in range(0, len(names), 2)}
        assert set(anchors) == set(ids)
        page_of = {str(k): pdf.pages.index(pikepdf.Page(v)) for k, v in anchors.items()}
        assert [page_of[i] for i in ids] == [0, 1, 2]
        outlines = [str(item.title) for item in pdf.open_outline().root]
        assert outlines == [c.title for c in cards]
        assert str(pdf.docinfo["/Title"]) == "Annexe"


# --------------------------------------------------------------------------- bytes


def test_two_renders_in_two_processes_give_identical_bytes(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from refsheets.library import load_library
        from refsheets.render import render
        render(load_library(sys.argv[1]), ["2021-valenciennes-passage-de-la-paix"],
               out_dir=Path(sys.argv[2]))
        """
    )
    outputs = []
    for run in ("a", "b"):
        target = tmp_path / run
        subprocess.run(
            [sys.executable, "-c", script, str(DATA), str(target)], check=True, cwd=tmp_path
        )
        outputs.append((target / "2021-valenciennes-passage-de-la-paix.pdf").read_bytes())
    assert outputs[0] == outputs[1]
    assert page_count(outputs[0]) == 1


# --------------------------------------------------------------------------- CLI


def test_cli_renders_ids_to_the_out_folder(tmp_path: Path) -> None:
    result = run_cli(
        [
            "render",
            "vilogia-lieu-innovation-habitat",
            "anzin-mediation-numerique-qpv",
            "--out",
            str(tmp_path),
        ]
    )
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["anzin-mediation-numerique-qpv.pdf", "vilogia-lieu-innovation-habitat.pdf"]
    assert "vilogia-lieu-innovation-habitat.pdf" in result.stdout


def test_cli_reads_ids_from_stdin_and_honours_layout_and_lang(tmp_path: Path) -> None:
    result = run_cli(
        ["render", "-", "--layout", "pop-cafe", "--lang", "en", "--out", str(tmp_path)],
        input="2019-epsm-lille-metropole-co-design-usagers\n\n2022-havelinghen-emergence-tiers-lieu\n",
    )
    assert result.returncode == 0, result.stderr
    data = (tmp_path / "2019-epsm-lille-metropole-co-design-usagers.pdf").read_bytes()
    assert "DELIVERABLES" in pdf_text(data).upper()
    assert (tmp_path / "2022-havelinghen-emergence-tiers-lieu.pdf").is_file()


def test_cli_unknown_id_exits_3_with_a_message_and_writes_nothing(tmp_path: Path) -> None:
    result = run_cli(
        [
            "render",
            "vilogia-lieu-innovation-habitat",
            "vilogia-lieu-inovation",
            "--out",
            str(tmp_path),
        ]
    )
    assert result.returncode == 3
    assert "no mission 'vilogia-lieu-inovation'" in result.stderr
    assert "did you mean vilogia-lieu-innovation-habitat" in result.stderr
    assert "Traceback" not in result.stderr
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_cli_unknown_layout_and_format_are_user_errors(tmp_path: Path) -> None:
    result = run_cli(
        ["render", "vilogia-lieu-innovation-habitat", "--layout", "pop-upp", "--out", str(tmp_path)]
    )
    assert result.returncode == 3 and "did you mean 'pop-up'" in result.stderr
    result = run_cli(
        ["render", "vilogia-lieu-innovation-habitat", "--format", "odt", "--out", str(tmp_path)]
    )
    assert (
        result.returncode == 2
        and "'odt' is not one of 'pdf', 'docx', 'png', 'all'" in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_cli_check_warns_about_a_card_that_will_not_fit(library_copy: Path) -> None:
    path = library_copy / "missions" / "vilogia-lieu-innovation-habitat.yaml"
    words = " ".join(f"mot{i % 97}" for i in range(3000))
    text = re.sub(r"(?ms)^context: .*?(?=^\w)", "", path.read_text(encoding="utf-8"))
    path.write_text(text + f"context: {words}\n", encoding="utf-8")
    result = run_cli(["--library", str(library_copy), "check"])
    assert result.returncode == 0, result.stderr
    assert "vilogia-lieu-innovation-habitat.yaml: warning: the card of mission" in result.stderr
    assert "« Contexte » overflows by about" in result.stderr
    strict = run_cli(["--library", str(library_copy), "check", "--strict"])
    assert strict.returncode == 1
    skipped = run_cli(["--library", str(library_copy), "check", "--no-fit"])
    assert "does not fit" not in skipped.stderr


def test_a_character_our_fonts_lack_fails_instead_of_falling_back(
    library: Library, layouts: dict[str, Layout]
) -> None:
    card = build_card(library, "vilogia-lieu-innovation-habitat")
    card = dataclasses.replace(card, title="Lieu 🙂 numérique")  # Lato has no emoji
    with pytest.raises(RenderError, match=r"'🙂' \(U\+1F642\)"):
        render_card_pdf(card, layouts["pop-up"])


def test_the_last_words_stay_together_and_stay_escaped(
    library: Library, layouts: dict[str, Layout]
) -> None:
    card = build_card(library, "2021-valenciennes-passage-de-la-paix")
    html = card_html(card, layouts["pop-up"])
    assert '<span class="keep"> en\u00a0tiers-\u2060lieu</span></h1>' in html
    evil = dataclasses.replace(card, title="Titre <b>a-b</b> x <b>\u00a0<i>")
    html = card_html(evil, layouts["pop-up"])
    assert '<span class="keep"> &lt;b&gt;\u00a0&lt;i&gt;</span>' in html
    assert "&lt;b&gt;a-\u2060b&lt;/b&gt;" in html  # joined, still escaped


def _hyphenated(data: bytes) -> set[str]:
    """Words the layout cut at a line end (the fragments joined again)."""
    lines = [
        line.strip()
        for page in PdfReader(io.BytesIO(data)).pages
        for line in page.extract_text().splitlines()
    ]
    return {
        a.split()[-1][:-1] + b.split()[0]
        for a, b in itertools.pairwise(lines)
        if a.endswith(("-", "\u2010")) and b
    }


def test_french_cards_are_hyphenated_english_ones_are_not(
    library: Library, layouts: dict[str, Layout]
) -> None:
    mission_id = "2021-cc-haute-somme-tiers-lieu-peronne"
    card = build_card(library, mission_id)
    prose = " ".join(item for block in card.context + card.approach for item in block.items)
    cut = {w for w in _hyphenated(render_card_pdf(card, layouts["pop-cafe"])) if w in prose}
    assert cut, "no word was hyphenated"  # e.g. "transition", cut by French patterns
    english = build_card(library, mission_id, lang="en")
    cut_en = _hyphenated(render_card_pdf(english, layouts["pop-cafe"]))
    assert not {w for w in cut_en if w in prose}


def test_a_missing_harfbuzz_subset_is_said_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import ctypes.util

    from refsheets.render import pdf

    monkeypatch.setattr(pdf, "_harfbuzz_warned", False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    assert pdf.warn_if_no_harfbuzz_subset() is False
    assert pdf.warn_if_no_harfbuzz_subset() is False
    err = capsys.readouterr().err
    assert err.count("libharfbuzz-subset is not installed") == 1
    assert "apt install libharfbuzz-subset0" in err


def test_cli_check_lays_out_only_the_cards_it_cannot_prove(
    tmp_path: Path, library_copy: Path
) -> None:
    imports = {"PYTHONPROFILEIMPORTTIME": "1"}
    result = run_cli(["check", "--no-fit"], env=imports)
    assert result.returncode == 0, result.stderr
    assert "refsheets.cli" in result.stderr  # the import log is there…
    assert "weasyprint" not in result.stderr  # …and WeasyPrint is not in it
    # In an empty folder (no cached fit answers in ./out/.cache): the fit bound proves
    # every shipped card fits, and nothing is laid out…
    cold = tmp_path / "cold"
    cold.mkdir()
    with_fit = run_cli(["--library", str(DATA), "check"], cwd=cold, env=imports)
    assert with_fit.returncode == 0 and "weasyprint" not in with_fit.stderr
    assert "seems very low" not in with_fit.stderr  # fontTools' notes on Lato kept quiet
    # …but a long card is laid out, to know its step.
    path = library_copy / "missions" / "vilogia-lieu-innovation-habitat.yaml"
    text = re.sub(r"(?ms)^context: .*?(?=^\w)", "", path.read_text(encoding="utf-8"))
    path.write_text(text + "context: " + "Un long contexte qui prend sa place. " * 70 + "\n")
    long = run_cli(["--library", str(library_copy), "check"], cwd=cold, env=imports)
    assert long.returncode == 0 and "weasyprint" in long.stderr


def test_cli_format_all_writes_pdf_and_word(tmp_path: Path) -> None:
    result = run_cli(
        ["render", "vilogia-lieu-innovation-habitat", "--format", "all", "--out", str(tmp_path)]
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".docx", ".pdf"]


def test_cli_an_output_that_cannot_be_written_is_a_user_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli(["render", "vilogia-lieu-innovation-habitat", "--out", str(blocker)])
    assert result.returncode == 4
    assert f"cannot write {blocker}/vilogia-lieu-innovation-habitat.pdf" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_each_mission_defaults_to_its_entitys_layout(library: Library) -> None:
    from refsheets.render import default_layout_name

    for mission_id, mission in library:
        assert default_layout_name(library, mission_id, LAYOUTS_ROOT) == mission.entity
    assert {m.entity for _, m in library} == set(BRANDS)


def test_a_batch_with_a_card_that_cannot_fit_fails_naming_it(
    library: Library, layouts: dict[str, Layout]
) -> None:
    cards = [build_card(library, i) for i in list(library.missions)[:2]]
    cards[1] = long_card(cards[1], 3000)
    with pytest.raises(RenderError, match=f"mission '{cards[1].id}' does not fit"):
        render_cards_pdf(cards, layouts["pop-up"])
