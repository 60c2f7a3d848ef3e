"""The annex's summary table drawn into the PDF (export/summary.py), read back.

A 60-reference annex of synthetic missions: its summary spans several pages; every
reference has its row once, in order, above the footer; the pages say "k / n"; the table
is tagged (one Table, a header row of column headers, one row of six cells a reference,
every mark in the tree) and the PDF/UA checker finds nothing; the drawn text reads back
as written (ligatures map back to their letters).
"""

from __future__ import annotations

import io
import re
import subprocess
from datetime import date
from pathlib import Path

import pikepdf
import pytest

from bench.synth import make_library
from refsheets.errors import RenderError
from refsheets.export import ExportPlan, plan_export
from refsheets.export.annex import front_html, front_pdf, render_html
from refsheets.export.summary import BOTTOM, LEFT, MM, load_face, wrap
from refsheets.layouts import LAYOUTS_ROOT
from refsheets.library import load_library
from tests.conftest import ROOT
from tests.test_pdf_tags import assert_every_mark_is_in_the_tree, elements, pdfua_findings

TENDER = """\
name: Tiers-lieu
buyer: Commune de Synthèse
reference: B-1
deadline: 2026-06-30
query: accompagnement territoire habitants atelier usages programmation tiers-lieu
rules:
  max_references: 60
entity: pop-up
layout: pop-up
formats: [pdf]
language: fr
"""


@pytest.fixture(scope="module")
def sixty(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExportPlan, Path]:
    root = tmp_path_factory.mktemp("summary")
    data = make_library(root / "data", 60)
    tender = root / "tender.yaml"
    tender.write_text(TENDER, encoding="utf-8")
    plan = plan_export(tender, load_library(data), out_root=root / "out", today=date(2026, 6, 1))
    assert len(plan.references) == 60
    cover = render_html(plan.layout, data, front_html(plan), "cover")
    path = root / "front.pdf"
    path.write_bytes(front_pdf(plan, cover, date(2026, 6, 1)))
    return plan, path


def _words(path: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """(text, xMin, yMin, xMax, yMax) of each word of a page, in points."""
    out = subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-bbox", path, "-"],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    found = re.findall(
        r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', out
    )
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in found]


def test_every_reference_has_its_row_once_in_order_above_the_footer(
    sixty: tuple[ExportPlan, Path],
) -> None:
    plan, path = sixty
    pages = len(pikepdf.open(path).pages)
    assert pages >= 4  # the cover, then a summary too long for one page
    numbers: list[str] = []
    clients = " ".join(ref.card.client for ref in plan.references)
    for page in range(2, pages + 1):
        words = _words(path, page)
        body = [w for w in words if w[4] < BOTTOM]
        assert body and all(w[4] <= BOTTOM for w in body)  # no row runs into the footer
        header = next(w for w in words if w[0] == "CLIENT")  # the header row, on every page
        # the N° column: what starts at the table's left edge, under the header
        numbers += [w[0] for w in body if abs(w[1] - LEFT) < 0.5 and w[2] > header[4]]
        for word in (w[0] for w in body if 73 < w[1] < 169 and w[2] > header[4]):
            assert word in clients or word in {"Public", "Privé"}, word  # the client column
    assert numbers == [str(k) for k in range(1, 61)]


def test_the_summary_pages_are_numbered_k_of_n(sixty: tuple[ExportPlan, Path]) -> None:
    _, path = sixty
    pages = len(pikepdf.open(path).pages)
    for page in range(2, pages + 1):
        footer = " ".join(w[0] for w in _words(path, page) if w[2] > 276 * MM)
        assert footer.endswith(f"{page} / {pages}"), footer
        assert footer.startswith("POP Up") and "popupequipe@pop.eu.com" in footer


def test_the_table_is_tagged_row_by_row(sixty: tuple[ExportPlan, Path], tmp_path: Path) -> None:
    _, path = sixty
    data = path.read_bytes()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        tables = [e for e in elements(pdf.Root.StructTreeRoot.K) if e.S == "/Table"]
        assert len(tables) == 1
        rows = [e for e in elements(tables[0]) if e.S == "/TR"]
        assert len(rows) == 61  # the header row, then one a reference
        headers = [e for e in elements(rows[0]) if e.S == "/TH"]
        assert len(headers) == 6 and all(str(h.A.Scope) == "/Column" for h in headers)
        ids = {str(h.ID) for h in headers}
        for row in rows[1:]:
            cells = [e for e in elements(row) if e.S == "/TD"]
            assert len(cells) == 6
            assert all({str(h) for h in cell.A.Headers} <= ids for cell in cells)
        assert_every_mark_is_in_the_tree(pdf)
    assert pdfua_findings(data, tmp_path) == []


def test_drawn_text_reads_back_as_written(sixty: tuple[ExportPlan, Path]) -> None:
    plan, path = sixty
    text = subprocess.run(
        ["pdftotext", "-f", "2", "-l", "2", path, "-"], capture_output=True, check=True, text=True
    ).stdout
    first = plan.references[0].card
    # "ti", "fi"… are drawn as ligatures: their text is still the letters
    for word in first.title.split()[:3]:
        assert word in text
    assert first.client.split()[0] in text


FONT = ROOT / "fonts" / "lato" / "Lato-Regular.ttf"


def test_wrapping_keeps_lines_in_the_column_and_compounds_whole() -> None:
    face = load_face(FONT)
    text = "programmation d'un tiers-lieu numérique avec les habitants " * 4
    lines = wrap(text.strip(), face, 8.5, 48 * MM)
    assert len(lines) > 3
    assert all(face.width(line, 8.5) <= 48 * MM for line in lines)
    assert " ".join(lines).split() == text.split()
    assert not any(line.endswith("tiers-") for line in lines)
    # a word wider than the column stays whole on its own line
    assert wrap("a " + "x" * 60 + " b", face, 8.5, 20 * MM) == ["a", "x" * 60, "b"]


def test_a_character_the_font_lacks_is_a_render_error() -> None:
    face = load_face(FONT)
    with pytest.raises(RenderError, match="U\\+4E2D"):
        face.width("Client 中", 8.5)


def test_the_layouts_body_faces_are_found() -> None:
    from refsheets.export.summary import pick_face
    from refsheets.layouts import load_layout

    layout = load_layout("pop-up", LAYOUTS_ROOT)
    assert pick_face(layout, 400).name == "Lato-Regular"
    assert pick_face(layout, 600).name == "Lato-Semibold"
    assert pick_face(layout, 700).name == "Lato-Bold"


def test_an_archival_annex_embeds_every_drawn_font_and_stays_tagged(tmp_path: Path) -> None:
    import shutil

    from refsheets.export import ANNEX_PDF, export_tender
    from tests.conftest import SEED
    from tests.test_pdf_tags import xmp

    shutil.copytree(SEED, tmp_path, dirs_exist_ok=True)
    for name in ("layouts", "fonts"):
        shutil.copytree(ROOT / name, tmp_path / name)
    tender = tmp_path / "tenders" / "example.yaml"
    tender.write_text(
        tender.read_text(encoding="utf-8") + "pdf_variant: pdf/a-3u\n", encoding="utf-8"
    )
    report = export_tender(
        tender, load_library(tmp_path / "data"), out_root=tmp_path / "out", today=date(2026, 3, 1)
    )
    data = (report.plan.target / ANNEX_PDF).read_bytes()
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert 'pdfaid:part="3"' in xmp(pdf) and 'pdfaid:conformance="U"' in xmp(pdf)
        assert "/OutputIntents" in pdf.Root
        for page in pdf.pages:
            for font in page.Resources.Font.values():
                descendant = font.DescendantFonts[0]
                assert "/FontFile2" in descendant.FontDescriptor and "/ToUnicode" in font
            for annotation in page.obj.get("/Annots", []):
                assert int(annotation.F) == 4  # printed, as PDF/A asks
        assert_every_mark_is_in_the_tree(pdf)
    assert pdfua_findings(data, tmp_path) == []
