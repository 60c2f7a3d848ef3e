"""The example annex as the buyer sees it: PDF and Word, page by page (issue 14).

One export of the example tender (French) and one of the same tender answered in English
are read back: the PDF's structure tree, its text layer and its pixels; the Word annex's
XML and its pages once LibreOffice has printed it.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from PIL import Image
from pypdf import PdfReader

from refsheets import load_library
from refsheets.export import ANNEX_DOCX, ANNEX_PDF, export_tender
from refsheets.export.tables import rows_for, to_csv
from tests.conftest import DATA, ROOT, SEED, convert_with_libreoffice
from tests.test_pdf_tags import (
    assert_every_mark_is_in_the_tree,
    assert_headings_in_order,
    assert_ids_unique_and_resolved,
    elements,
    pdfua_findings,
    roles,
    xmp,
)

pytestmark = pytest.mark.slow
MM = 72 / 25.4


@dataclass
class Annex:
    folder: Path
    word_pdf: Path  # the Word annex as LibreOffice prints it
    texts: list[str]  # of the Word annex printed by LibreOffice, per page
    source: str  # every text of the selected missions, as written


def _normal(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ").replace("\u2011", "-")


def _export(tmp: Path, language: str) -> Annex:
    project = tmp / language
    shutil.copytree(SEED, project)
    for name in ("layouts", "fonts"):
        shutil.copytree(ROOT / name, project / name)
    tender = project / "tenders" / "example.yaml"
    tender.write_text(
        tender.read_text(encoding="utf-8").replace("language: fr", f"language: {language}"),
        encoding="utf-8",
    )
    library = load_library(project / "data")
    report = export_tender(
        tender, library, out_root=project / "out", today=date(2026, 3, 1), jobs=1
    )
    folder = report.plan.target
    convert_with_libreoffice([folder / ANNEX_DOCX], project / "lo", project / "lo-profile")
    word_pdf = project / "lo" / "annexe-references.pdf"
    texts = [_normal(p.extract_text() or "") for p in PdfReader(word_pdf).pages]
    source = []
    for ref in report.plan.references:
        mission = ref.mission
        source += [mission.title, mission.context or "", mission.approach or ""]
        source += mission.deliverables
    return Annex(folder, word_pdf, texts, _normal(" ".join(source)))


@pytest.fixture(scope="module")
def french(tmp_path_factory: pytest.TempPathFactory) -> Annex:
    return _export(tmp_path_factory.mktemp("annex"), "fr")


@pytest.fixture(scope="module")
def english(tmp_path_factory: pytest.TempPathFactory) -> Annex:
    return _export(tmp_path_factory.mktemp("annex"), "en")


def _pdf_texts(path: Path) -> list[str]:
    return [_normal(page.extract_text() or "") for page in PdfReader(path).pages]


def _region(path: Path, page: int, top_mm: float, height_mm: float) -> str:
    """The text of a horizontal band of one page (pdftotext's crop)."""
    crop = ["-x", "0", "-y", str(round(top_mm * MM)), "-W", "600", "-H", str(round(height_mm * MM))]
    result = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), *crop, path, "-"],
        capture_output=True,
        check=True,
        text=True,
    )
    return _normal(result.stdout)


# --------------------------------------------------------------------------- the PDF


def test_the_pdf_annex_is_one_tagged_document(french: Annex, tmp_path: Path) -> None:
    data = (french.folder / ANNEX_PDF).read_bytes()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 5
        assert str(pdf.Root.Lang) == "fr" and bool(pdf.Root.MarkInfo.Marked)
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle)
        assert str(pdf.docinfo.Title).startswith("Références — Assistance")
        assert 'pdfuaid:part="1"' in xmp(pdf) and "Références — Assistance" in xmp(pdf)
        found = roles(pdf)
        assert found.count("/H1") == 1 + 3  # the cover's title, then each card's
        assert found.count("/Table") == 1 + 3  # the summary, each card's facts
        figures = [e for e in elements(pdf.Root.StructTreeRoot.K) if e.S == "/Figure"]
        assert len(figures) == 5 and {str(f.Alt) for f in figures} == {"POP Up"}
        summary = next(e for e in elements(pdf.Root.StructTreeRoot.K) if e.S == "/Table")
        headers = [e for e in elements(summary) if e.S == "/TH"]
        assert len(headers) == 6 and all(str(h.A.Scope) == "/Column" for h in headers)
        # every page has its own entry in the parent tree, in page order
        assert [int(p.obj.StructParents) for p in pdf.pages] == [0, 1, 2, 3, 4]
        assert_every_mark_is_in_the_tree(pdf)
        assert_ids_unique_and_resolved(pdf)
        assert_headings_in_order(pdf)
    assert pdfua_findings(data, tmp_path) == []


def test_no_leftover_rule_is_drawn_near_the_bottom_edge(french: Annex, tmp_path: Path) -> None:
    """The old footers' overlay drew a hairline at the page's edge (from 84 mm on the
    cards) and the cover and summary a stray one under their footer. A rule in the
    bottom 25 mm may only be the footer's, across the whole text width."""
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "100", french.folder / ANNEX_PDF, tmp_path / "p"], check=True
    )
    for number, path in enumerate(sorted(tmp_path.glob("p-*.pgm")), start=1):
        page = Image.open(path)
        width, height = page.size
        px_mm = height / 297
        pixels = page.load()
        assert pixels is not None
        for y in range(round(272 * px_mm), height):
            dark = [x for x in range(width) if pixels[x, y] < 245]
            if y > 290 * px_mm:
                assert not dark, f"page {number}: ink at {y / px_mm:.1f} mm"
            # a run of at least 60 mm of ink in one row is a rule: the footer's only
            runs = [len(list(g)) for k, g in itertools.groupby(pixels[x, y] < 245 for x in
                    range(width)) if k]  # fmt: skip
            if runs and max(runs) > 60 * px_mm:
                assert dark[0] < 20 * px_mm and dark[-1] > 190 * px_mm, (
                    f"page {number}: a partial rule at {y / px_mm:.1f} mm "
                    f"from {dark[0] / px_mm:.0f} to {dark[-1] / px_mm:.0f} mm"
                )
        if number == 1:  # the cover has no page footer at all
            assert not any(
                pixels[x, y] < 245
                for y in range(round(272 * px_mm), height)
                for x in range(0, width, 2)
            )


def _line_ends(texts: list[str]) -> list[tuple[str, str]]:
    """(line, next line) pairs of every page, stripped."""
    pairs = []
    for text in texts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        pairs += list(itertools.pairwise(lines))
    return pairs


def _assert_breaks_are_sound(texts: list[str], source: str) -> None:
    hyphenated_run = 0
    for line, following in _line_ends(texts):
        if not line.endswith("-"):
            hyphenated_run = 0
            continue
        hyphenated_run += 1
        before = line.split()[-1]
        after = following.split()[0]
        # a compound's own hyphen ("tiers-lieu", "post-COVID") is never a line end
        assert f"{before}{after}" not in source, f"'{before}|{after}' broken at its hyphen"
        # proper nouns are not hyphenated ("Havelin-ghen")
        assert not before[:1].isupper(), f"a capitalised word hyphenated: '{before}|{after}'"
        assert hyphenated_run <= 2, f"three hyphenated lines in a row, up to '{line}'"


def test_no_capitalised_word_hyphenated_no_compound_broken(french: Annex) -> None:
    _assert_breaks_are_sound(_pdf_texts(french.folder / ANNEX_PDF), french.source)
    _assert_breaks_are_sound(french.texts, french.source)


def test_the_summary_page_has_logo_footer_and_number(french: Annex) -> None:
    path = french.folder / ANNEX_PDF
    with pikepdf.open(path) as pdf:
        summary_page = pdf.pages[1].obj.objgen
        logos = [
            e
            for e in elements(pdf.Root.StructTreeRoot.K)
            if e.S == "/Figure" and e.Pg.objgen == summary_page
        ]
        assert [str(f.Alt) for f in logos] == ["POP Up"]
    footer = _region(path, 2, 276, 21)
    assert "POP Up" in footer and "popupequipe@pop.eu.com" in footer
    assert re.search(r"\b2\b", footer)
    for k in (1, 2, 3):
        assert f"Référence {k} / 3" in _region(path, 2 + k, 276, 21)


def test_the_cover_fills_its_upper_third(french: Annex) -> None:
    result = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", french.folder / ANNEX_PDF, "-"],
        capture_output=True,
        check=True,
        text=True,
    )
    word = re.search(r'yMin="([\d.]+)"[^>]*>Assistance<', result.stdout)
    assert word is not None
    assert float(word.group(1)) < 99 * MM  # the title starts in the upper third


def test_layout_and_footer_agree(french: Annex) -> None:
    """The POP Café mission in the POP Up annex: POP Up's logo and POP Up's footer;
    'Mission portée par' says POP Café carried it."""
    texts = _pdf_texts(french.folder / ANNEX_PDF)
    cafe = next(i for i, text in enumerate(texts) if "POP Café" in text)
    assert "contact@pop.cafe" not in texts[cafe]
    assert "popupequipe@pop.eu.com" in _region(french.folder / ANNEX_PDF, cafe + 1, 276, 21)
    assert "contact@pop.cafe" not in french.texts[cafe]


# --------------------------------------------------------------------------- the Word annex


def test_the_word_annex_has_the_pdfs_pages_in_the_pdfs_order(french: Annex) -> None:
    pdf_texts = _pdf_texts(french.folder / ANNEX_PDF)
    assert len(french.texts) == len(pdf_texts) == 5
    assert "annexe—références" in _squeeze(french.texts[0])
    assert "Assistance à maîtrise" in french.texts[0]
    assert "Synthèse des références" not in french.texts[0]  # cover and summary apart
    assert "Synthèse des références" in french.texts[1]
    assert "annexe—références" in _squeeze(french.texts[1])  # the summary's kicker
    clients = ["CC Haute-Somme", "Ville de Havelinghen", "Ville de Valenciennes"]
    for page, client in enumerate(clients, start=2):
        assert client in pdf_texts[page] and client in french.texts[page]
    # the same facts: every amount of the PDF's summary is on the Word summary
    for amount in re.findall(r"\d[\d ]* € HT", pdf_texts[1]):
        assert amount in french.texts[1]


def _squeeze(text: str) -> str:
    """Lower case without spaces: letter-spaced capitals come out as 'A N N E X E'."""
    return re.sub(r"\s+", "", text.lower())


def _docx(annex: Annex) -> zipfile.ZipFile:
    return zipfile.ZipFile(annex.folder / ANNEX_DOCX)


def test_word_cards_footers_say_reference_k_of_n(french: Annex) -> None:
    with _docx(french) as package:
        footers = sorted(n for n in package.namelist() if re.fullmatch(r"word/footer\d+\.xml", n))
        texts = [package.read(n).decode() for n in footers]
    assert len(texts) == 1 + 3  # the summary's, then each card's
    for k in (1, 2, 3):
        assert f"Référence\u00a0{k}\u00a0/\u00a03" in texts[k]
        assert f"Référence {k} / 3" in french.texts[1 + k]


def test_word_cover_and_summary_show_the_logo_and_kicker(french: Annex) -> None:
    with _docx(french) as package:
        document = package.read("word/document.xml").decode()
        header = package.read("word/header0.xml").decode()
    cover = document[: document.index("<w:sectPr")]
    assert "<w:drawing>" in cover and "Annexe — Références" in cover
    assert "<w:drawing>" in header and "Annexe — Références" in header


def test_the_word_cover_has_the_pdfs_tinted_band(french: Annex, tmp_path: Path) -> None:
    """As on the PDF cover: logo, kicker and title on the layout's tint from the page's top
    and side edges, the facts below it on white (checked on LibreOffice's print)."""
    from refsheets.layouts import load_layout

    colors = load_layout("pop-up", ROOT / "layouts", fonts_root=ROOT / "fonts").brand.colors
    with _docx(french) as package:
        document = package.read("word/document.xml").decode()
    cover = document[: document.index("<w:sectPr")]
    band = re.search(r"<w:tbl>.*?</w:tbl>", cover, re.S)
    assert band is not None
    assert f'w:fill="{colors.tint.lstrip("#").upper()}"' in band.group()
    assert "Annexe — Références" in band.group() and "<w:drawing>" in band.group()
    assert "Acheteur" not in band.group()
    subprocess.run(
        ["pdftoppm", "-r", "50", "-f", "1", "-l", "1", "-png", french.word_pdf, tmp_path / "c"],
        check=True,
    )
    (png,) = tmp_path.glob("c*.png")
    page = Image.open(png).convert("RGB")
    tint = tuple(int(colors.tint[i : i + 2], 16) for i in (1, 3, 5))

    def at(x_mm: float, y_mm: float) -> tuple[int, ...]:
        pixel = page.getpixel((round(x_mm * 50 / 25.4), round(y_mm * 50 / 25.4)))
        assert isinstance(pixel, tuple)
        return pixel

    def near(pixel: tuple[int, ...], color: tuple[int, ...]) -> bool:
        return all(abs(a - b) <= 6 for a, b in zip(pixel, color, strict=True))

    assert near(at(2, 2), tint) and near(at(207, 2), tint)  # from the corners
    assert near(at(203, 150), (255, 255, 255))  # the facts on white, margin included
    words = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", french.word_pdf, "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    title = re.search(r'yMin="([\d.]+)"[^>]*>Assistance<', words)
    assert title is not None and float(title.group(1)) < 99 * MM  # in the upper third


def test_word_summary_columns_like_the_pdf(french: Annex) -> None:
    with _docx(french) as package:
        document = package.read("word/document.xml").decode()
        styles = package.read("word/styles.xml").decode()
    # the summary's table, after the cover's section (the cover's band is a table too)
    table = re.search(r"<w:tbl>.*?</w:tbl>", document[document.index("<w:sectPr") :], re.S)
    assert table is not None
    first_row = re.search(r"<w:tr>.*?</w:tr>", table.group(), re.S)
    assert first_row is not None
    headers = re.findall(r"<w:t[^>]*>([^<]*)</w:t>", first_row.group())
    assert headers == ["N°", "Client", "Intitulé", "Période", "Montant", "Réalisé par"]
    assert '<w:top w:val="nil"/>' in table.group()  # no rule above the header
    amount = re.search(r'w:styleId="SummaryAmount".*?</w:style>', styles, re.S)
    assert amount is not None
    assert '<w:jc w:val="right"/>' in amount.group() and "<w:b/>" in amount.group()
    assert table.group().count('w:val="SummaryAmount"') == 3
    # the "Réalisé par" column is wide enough: no cell of it runs five lines
    summary_lines = french.texts[1].splitlines()
    assert not any(line.strip() == "Tiers-" for line in summary_lines)


def test_word_tags_and_compounds(french: Annex) -> None:
    with _docx(french) as package:
        document = package.read("word/document.xml").decode()
        styles = package.read("word/styles.xml").decode()
    assert "tiers</w:t><w:noBreakHyphen/>" in document
    tag = re.search(r'w:styleId="CardTag".*?</w:style>', styles, re.S)
    assert tag is not None and "<w:shd " in tag.group() and "<w:bdr " not in tag.group()


# --------------------------------------------------------------------------- English


FRENCH_LABELS = [
    "Annexe",
    "Acheteur",
    "Synthèse",
    "Candidat",
    "Réalisé par",
    "Expertises et thématiques",
    "Mission portée par",
    "Partis pris",
    "Réalisations",
    "€ HT",
    "Référence 1",
    "Client public",
    "Date limite",
]


def test_english_all_the_way(english: Annex) -> None:
    pdf_texts = _pdf_texts(english.folder / ANNEX_PDF)
    for where, texts in (("PDF", pdf_texts), ("Word", english.texts)):
        whole = "\n".join(texts)
        squeezed = _squeeze(whole)
        for label in FRENCH_LABELS:
            assert not re.search(rf"(?<!\w){re.escape(_squeeze(label))}(?!\w)", squeezed), (
                f"{where}: '{label}' in English"
            )
        for label in ("Buyer", "Summary of references", "excl. VAT", "Reference 1 / 3"):
            assert _squeeze(label) in squeezed, f"{where}: no '{label}'"
        assert "Third place" in whole  # the taxonomy's English label of tiers-lieu
        assert "Ville de Valenciennes" in whole  # the text stays as written
    with pikepdf.open(english.folder / ANNEX_PDF) as pdf:
        assert str(pdf.Root.Lang) == "en"
    rows = list(
        csv.reader(
            io.StringIO((english.folder / "references.csv").read_text("utf-8-sig")),
            delimiter=";",
        )
    )
    assert rows[0][:3] == ["Reference", "Description of the services", "Amount"]
    cells = " ".join(" ".join(row) for row in rows[1:])
    assert "excl. VAT" in cells and "Privé" not in cells and "HT" not in cells.split()


def test_the_dc2_tables_say_the_roles_in_the_tenders_language() -> None:
    library = load_library(DATA)
    mission_id = "2021-region-bourgogne-village-du-futur"  # a co-contractor partner
    selection = [(mission_id, library.missions[mission_id])]
    french = to_csv(rows_for(selection, "fr"), "fr").decode("utf-8-sig")
    assert "(cotraitant)" in french and "(co-contractor)" not in french
    english = to_csv(rows_for(selection, "en"), "en").decode("utf-8-sig")
    assert "(co-contractor)" in english and "Membre du groupement" not in english
    assert english.startswith("Reference;Description of the services;")


def test_each_summary_row_links_to_its_card(french: Annex) -> None:
    with pikepdf.open(french.folder / ANNEX_PDF) as pdf:
        summary = pdf.pages[1]
        links = [a for a in summary.obj.Annots if a.Subtype == "/Link"]
        assert len(links) == 3 and str(summary.obj.Tabs) == "/S"
        pages = [p.obj.objgen for p in pdf.pages]
        assert [pages.index(a.Dest[0].objgen) for a in links] == [2, 3, 4]
        assert [str(a.Contents).split(" — ")[0] for a in links] == [
            f"Référence {k}" for k in (1, 2, 3)
        ]
        # each link annotation is the object of a Link element of its row
        elements_of = {
            e.K[-1].Obj.objgen: e for e in elements(pdf.Root.StructTreeRoot.K) if e.S == "/Link"
        }
        assert sorted(elements_of) == sorted(a.objgen for a in links)
        tops = [float(a.Rect[3]) for a in links]
        assert tops == sorted(tops, reverse=True)  # rows in order down the page


def test_each_page_of_the_annex_holds_the_fonts_it_draws_with_and_no_other(
    french: Annex,
) -> None:
    with pikepdf.open(french.folder / ANNEX_PDF) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            named = {
                str(instruction.operands[0])
                for instruction in pikepdf.parse_content_stream(page)
                if str(instruction.operator) == "Tf"
            }
            fonts = {str(key) for key in (page.Resources.get("/Font") or {})}
            assert fonts == named, f"page {number}"
            for key in fonts:  # each a whole font: its program and its text map
                font = page.Resources.Font[key]
                assert "/ToUnicode" in font
                assert "/FontFile2" in font.DescendantFonts[0].FontDescriptor
