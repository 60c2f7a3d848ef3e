"""Tagged PDFs (PDF/UA-1 by default, PDF/A on request), read back with pikepdf.

The structure tree is read as an assistive technology would: roles in reading order,
the document's language, every figure's alternative text, table header cells, and the
PDF/UA identification. The `pdfua` checker (PyPI) runs too; its findings are expected to
be empty, except for the one rule it cannot evaluate on pikepdf 10 (UA-14-001, empty
headings: it raises on an array), which `test_headings_are_not_empty_and_in_order` checks.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from PIL import Image

from refsheets.card import build_card
from refsheets.errors import RenderError, UsageError
from refsheets.layouts import LAYOUTS_ROOT, Layout, load_layout
from refsheets.library import Library, load_library
from refsheets.render import pdf_tags, render
from refsheets.render.pdf import render_card_pdf, render_cards_pdf
from refsheets.render.pdf_tags import (
    add_id_tree,
    finish_tree,
    fold_plain_spans,
    graft_page,
    mark_orphans_as_artifacts,
    mend_weasyprint_tags,
    new_tree,
)
from tests.conftest import DATA, run_cli

MISSION = "2021-valenciennes-passage-de-la-paix"


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(DATA)


@pytest.fixture(scope="module")
def pop_up() -> Layout:
    return load_layout("pop-up", LAYOUTS_ROOT)


def elements(node: object) -> Iterator[pikepdf.Dictionary]:
    """The structure elements under `node`, in reading order (depth first)."""
    if isinstance(node, pikepdf.Array):
        for kid in node:
            yield from elements(kid)
    elif isinstance(node, pikepdf.Dictionary) and "/S" in node:
        yield node
        yield from elements(node.get("/K", pikepdf.Array()))


def roles(pdf: pikepdf.Pdf) -> list[str]:
    return [str(e.S) for e in elements(pdf.Root.StructTreeRoot.K)]


def xmp(pdf: pikepdf.Pdf) -> str:
    return bytes(pdf.Root.Metadata.read_bytes()).decode("utf-8")


def assert_every_mark_is_in_the_tree(pdf: pikepdf.Pdf) -> None:
    """Each marked-content id on a page belongs to an element reachable from the root;
    what is not in the tree is an artifact (the page footers)."""
    attached = {e.objgen for e in elements(pdf.Root.StructTreeRoot.K)}
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    parents = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
    for number, page in enumerate(pdf.pages, start=1):
        entry = parents[int(page.obj.StructParents)]
        for instruction in pikepdf.parse_content_stream(page):
            if str(instruction.operator) != "BDC":
                continue
            tag, properties = instruction.operands
            if str(tag) == "/Artifact":
                continue
            mcid = int(properties.MCID)
            assert entry[mcid].objgen in attached, f"page {number}: MCID {mcid} is orphaned"


def assert_headings_in_order(pdf: pikepdf.Pdf) -> None:
    levels = [int(str(r)[2]) for r in roles(pdf) if r in {f"/H{n}" for n in range(1, 7)}]
    assert levels and levels[0] == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, f"heading level jumps from {before} to {after}"


def pdfua_findings(data: bytes, tmp_path: Path) -> list[str]:
    from pdfua import validate

    path = tmp_path / "checked.pdf"
    path.write_bytes(data)
    report = validate(str(path))
    skipped = {o.rule_id for o in report.outcomes if o.skipped_reason}
    # UA-14-001 raises inside the checker on pikepdf 10 (its own bug): headings are
    # checked by assert_headings_in_order and test_headings_are_not_empty_and_in_order.
    assert skipped <= {"UA-14-001"}, skipped
    return [f"{f.rule_id}: {f.message}" for f in report.findings]


def test_a_card_is_a_tagged_pdf_ua_document(library: Library, pop_up: Layout) -> None:
    card = build_card(library, MISSION)
    with pikepdf.open(io.BytesIO(render_card_pdf(card, pop_up))) as pdf:
        assert bool(pdf.Root.MarkInfo.Marked) is True
        assert str(pdf.Root.Lang) == "fr"
        assert bool(pdf.Root.ViewerPreferences.DisplayDocTitle) is True
        assert str(pdf.docinfo.Title) == card.title
        assert 'pdfuaid:part="1"' in xmp(pdf)
        found = roles(pdf)
        assert found.count("/H1") == 1 and found.count("/H2") == 4
        assert {"/Table", "/TH", "/TD", "/L", "/LI", "/Figure"} <= set(found)
        figures = [e for e in elements(pdf.Root.StructTreeRoot.K) if e.S == "/Figure"]
        assert [str(f.Alt) for f in figures] == ["POP Up"]  # the logo, by its brand's name
        assert_every_mark_is_in_the_tree(pdf)
        assert_headings_in_order(pdf)


def test_the_facts_band_is_a_table_with_header_cells(library: Library, pop_up: Layout) -> None:
    card = build_card(library, MISSION)
    with pikepdf.open(io.BytesIO(render_card_pdf(card, pop_up))) as pdf:
        tree = list(elements(pdf.Root.StructTreeRoot.K))
        headers = [e for e in tree if e.S == "/TH"]
        cells = [e for e in tree if e.S == "/TD"]
        assert len(headers) == 4 and len(cells) == 4
        assert all(str(h.A.Scope) == "/Column" for h in headers)
        ids = pdf.Root.StructTreeRoot.IDTree.Names
        known = {str(ids[i]) for i in range(0, len(ids), 2)}
        for cell in cells:  # each value names its label's header cell, which resolves
            assert len(cell.A.Headers) == 1 and str(cell.A.Headers[0]) in known


def assert_ids_unique_and_resolved(pdf: pikepdf.Pdf) -> None:
    """Each element is on a page of `pdf`; each id is listed once in the /IDTree, and
    each table cell's /Headers names ids listed there."""
    pages = {page.obj.objgen for page in pdf.pages}
    tree = list(elements(pdf.Root.StructTreeRoot.K))
    assert all(e.Pg.objgen in pages for e in tree if "/Pg" in e)
    names = pdf.Root.StructTreeRoot.IDTree.Names
    listed = [str(names[i]) for i in range(0, len(names), 2)]
    assert len(listed) == len(set(listed))
    assert sorted(listed) == sorted(str(e.ID) for e in tree if "/ID" in e)
    headers = [str(h) for e in tree if "/A" in e and "/Headers" in e.A for h in e.A.Headers]
    assert headers and set(headers) <= set(listed)


def _grafted(cards: list[bytes], walk_all: bool, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """`cards` grafted into one document, with every element walked (`walk_all`) or
    by their tables alone, which each card must then take (asserted)."""
    with monkeypatch.context() as patch:
        found: list[object] = []
        if walk_all:
            patch.setattr(pdf_tags, "_ids_by_table", lambda *args: None)
        else:
            real = pdf_tags._ids_by_table

            def spy(*args: Any) -> Any:
                found.append(real(*args))
                return found[-1]

            patch.setattr(pdf_tags, "_ids_by_table", spy)
        target = pikepdf.new()
        tree = new_tree(target)
        for number, card in enumerate(cards, start=1):
            graft_page(tree, target, pikepdf.open(io.BytesIO(card)), 0, prefix=f"card{number}-")
        finish_tree(tree, target)
        assert walk_all or (len(found) == len(cards) and None not in found)
        buffer = io.BytesIO()
        target.save(buffer, deterministic_id=True)
        return buffer.getvalue()


def _tagged(html: str) -> bytes:
    """`html` laid out by WeasyPrint as a tagged PDF, its tags mended as a card's are."""
    import weasyprint

    pdf = pikepdf.open(io.BytesIO(weasyprint.HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")))
    mend_weasyprint_tags(pdf)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_a_card_grafted_by_its_tables_alone_is_grafted_whole(
    library: Library, pop_up: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Grafting a one-page card (as an annex does 200 times) walks only the tables its
    /IDTree points into, not every element: the document is the same, byte for byte,
    as when every element is walked; its ids are unique and its headers resolve."""
    card = render_card_pdf(build_card(library, MISSION), pop_up)
    other = render_card_pdf(build_card(library, "2022-havelinghen-emergence-tiers-lieu"), pop_up)
    cards = [card, other, card]  # the same card twice: its ids told apart by the prefix
    fast = _grafted(cards, False, monkeypatch)
    assert fast == _grafted(cards, True, monkeypatch)
    with pikepdf.open(io.BytesIO(fast)) as pdf:
        assert len(pdf.pages) == 3
        assert_ids_unique_and_resolved(pdf)
        assert_every_mark_is_in_the_tree(pdf)
        listed = pdf.Root.StructTreeRoot.IDTree.Names
        assert {str(listed[i]).split("-")[0] for i in range(0, len(listed), 2)} == {
            "card1",
            "card2",
            "card3",
        }


def test_a_table_in_a_table_is_grafted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A brand's own template may put a table in a table: its ids are prefixed once,
    as the full walk does (they were twice, the inner table walked again with the
    outer)."""
    page = _tagged(
        '<html lang="fr"><body><table><thead><tr><th>A</th><th>B</th></tr></thead>'
        "<tbody><tr><td>x</td><td><table><thead><tr><th>C</th></tr></thead>"
        "<tbody><tr><td>y</td></tr></tbody></table></td></tr></tbody></table></body></html>"
    )
    cards = [page, page]
    fast = _grafted(cards, False, monkeypatch)
    assert fast == _grafted(cards, True, monkeypatch)
    with pikepdf.open(io.BytesIO(fast)) as pdf:
        assert_ids_unique_and_resolved(pdf)
        listed = pdf.Root.StructTreeRoot.IDTree.Names
        assert all(str(listed[i]).count("card") == 1 for i in range(0, len(listed), 2))


def test_an_id_tree_naming_a_node_again_is_not_walked_again() -> None:
    """A forged card's /IDTree whose /Kids name one node ten times, six levels deep: a
    million paths through 5 KB, which took 18 s to walk. It is refused at the second
    visit of a node, and the card is grafted by the full walk, its id listed once."""
    data = _tagged(
        '<html lang="fr"><body><table><thead><tr><th>A</th></tr></thead>'
        "<tbody><tr><td>x</td></tr></tbody></table></body></html>"
    )
    pdf = pikepdf.open(io.BytesIO(data))
    root = pdf.Root.StructTreeRoot
    [ident] = [str(e.ID) for e in elements(root.K) if "/ID" in e]
    node = root.IDTree
    for _ in range(6):
        node = pdf.make_indirect(pikepdf.Dictionary(Kids=pikepdf.Array([node] * 10)))
    root.IDTree = node
    assert pdf_tags._tree_pairs(root.IDTree, "/Names", 10_000) is None
    buffer = io.BytesIO()
    pdf.save(buffer)
    target = pikepdf.new()
    tree = new_tree(target)
    graft_page(tree, target, pikepdf.open(io.BytesIO(buffer.getvalue())), 0, prefix="card1-")
    assert list(tree.ids) == [f"card1-{ident}"]


@pytest.mark.parametrize("shape", ["a node of its own kids", "a node named again"])
def test_a_parent_tree_that_is_no_tree_is_a_render_error(shape: str) -> None:
    """The parent tree is walked by the same bounded walk as the /IDTree: a forged
    card's parent tree naming itself ended in a RecursionError (an internal error),
    one naming a node ten times six levels deep took 4.5 s; both are now refused."""
    data = _tagged(
        '<html lang="fr"><body><table><thead><tr><th>A</th></tr></thead>'
        "<tbody><tr><td>x</td></tr></tbody></table></body></html>"
    )
    pdf = pikepdf.open(io.BytesIO(data))
    root = pdf.Root.StructTreeRoot
    node = root.ParentTree
    if shape == "a node of its own kids":
        node.Kids = pikepdf.Array([node])
    else:
        for _ in range(6):
            node = pdf.make_indirect(pikepdf.Dictionary(Kids=pikepdf.Array([node] * 10)))
        root.ParentTree = node
    buffer = io.BytesIO()
    pdf.save(buffer)
    target = pikepdf.new()
    with pytest.raises(RenderError, match="parent tree names a node twice"):
        graft_page(
            new_tree(target), target, pikepdf.open(io.BytesIO(buffer.getvalue())), 0, prefix=""
        )


def test_headings_are_not_empty_and_in_order(library: Library, pop_up: Layout) -> None:
    cards = [build_card(library, m) for m in (MISSION, "2022-havelinghen-emergence-tiers-lieu")]
    with pikepdf.open(io.BytesIO(render_cards_pdf(cards, pop_up))) as pdf:
        assert_headings_in_order(pdf)
        for element in elements(pdf.Root.StructTreeRoot.K):
            if str(element.S) in ("/H1", "/H2"):
                assert any(
                    isinstance(e.get("/K"), pikepdf.Array) and any(isinstance(k, int) for k in e.K)
                    for e in elements(element)
                ), "an empty heading"


def test_the_pdfua_checker_finds_nothing(library: Library, pop_up: Layout, tmp_path: Path) -> None:
    card = build_card(library, MISSION)
    assert pdfua_findings(render_card_pdf(card, pop_up), tmp_path) == []


def _with_photo(tmp_path: Path, **photo: str) -> Library:
    root = tmp_path / "data"
    shutil.copytree(DATA, root)
    (root / "photos").mkdir()
    Image.new("RGB", (400, 600), "#8899aa").save(root / "photos" / "atelier.jpg")  # portrait
    path = root / "missions" / f"{MISSION}.yaml"
    lines = "".join(f"    {key}: {value}\n" for key, value in photo.items())
    path.write_text(
        path.read_text(encoding="utf-8") + f"photos:\n  - path: photos/atelier.jpg\n{lines}",
        encoding="utf-8",
    )
    return load_library(root)


@pytest.mark.parametrize(
    ("photo", "alt"),
    [
        ({"caption": "Atelier n°2 en gare"}, "Atelier n°2 en gare"),
        ({"caption": "Atelier", "alt": "Des habitants autour d'une maquette"}, None),
        ({}, "Photo de la mission : Reconversion"),
    ],
)
def test_a_photo_is_a_figure_with_its_alt_or_its_caption(
    tmp_path: Path, pop_up: Layout, photo: dict[str, str], alt: str | None
) -> None:
    library = _with_photo(tmp_path, **photo)
    card = build_card(library, MISSION)
    data = render_card_pdf(card, pop_up, library_root=library.root)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        figures = [e for e in elements(pdf.Root.StructTreeRoot.K) if e.S == "/Figure"]
        alts = [str(f.Alt).replace("\u00a0", " ").replace("\u202f", " ") for f in figures]
    expected = alt or "Des habitants autour d’une maquette"
    assert alts[0] == "POP Up" and alts[1].startswith(expected)


def test_a_photo_is_shown_whole_unless_the_mission_asks_to_crop(
    tmp_path: Path, pop_up: Layout
) -> None:
    """A portrait photo keeps its proportions (2:3), the caption right under it."""

    def image_box(data: bytes) -> tuple[float, float]:
        """Width and height of the photo's flat colour on the rendered page."""
        (tmp_path / "card.pdf").write_bytes(data)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-singlefile",
                tmp_path / "card.pdf",
                tmp_path / "card",
            ],
            check=True,
        )
        page = Image.open(tmp_path / "card.png").convert("RGB")
        mask = Image.new("L", page.size)
        raw = page.tobytes()
        target = (0x88, 0x99, 0xAA)
        mask.putdata(
            [
                255 if sum(abs(raw[i + c] - target[c]) for c in range(3)) < 12 else 0
                for i in range(0, len(raw), 3)
            ]
        )
        box = mask.getbbox()
        assert box is not None, "no photo drawn"
        return box[2] - box[0], box[3] - box[1]

    whole = _with_photo(tmp_path / "a", caption="Atelier")
    width, height = image_box(
        render_card_pdf(build_card(whole, MISSION), pop_up, library_root=whole.root)
    )
    assert abs(height / width - 1.5) < 0.05  # not cropped to the box
    cropped = _with_photo(tmp_path / "b", caption="Atelier", crop="true")
    card = build_card(cropped, MISSION)
    width, height = image_box(render_card_pdf(card, pop_up, library_root=cropped.root))
    assert abs(height / width - 1.5) > 0.2  # filled the box, edges cut


def test_pdf_a_on_request_is_tagged_too(library: Library, pop_up: Layout) -> None:
    card = build_card(library, MISSION)
    data = render_card_pdf(card, pop_up, variant="pdf/a-3u")
    with pikepdf.open(io.BytesIO(data)) as pdf:
        metadata = xmp(pdf)
        assert 'pdfaid:part="3"' in metadata or "<pdfaid:part>3</pdfaid:part>" in metadata
        assert "U" in metadata.split("pdfaid:conformance")[1][:5]
        assert 'pdfuaid:part="1"' in metadata
        assert "/OutputIntents" in pdf.Root
        assert "/H1" in roles(pdf)
        assert_every_mark_is_in_the_tree(pdf)


def test_an_unknown_variant_is_a_usage_error(library: Library, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="pdf/a-3u"):
        render(library, [MISSION], out_dir=tmp_path, pdf_variant="pdf/a-9")
    result = run_cli(["render", MISSION, "--pdf-variant", "pdf/x", "--out", str(tmp_path)])
    assert result.returncode == 2 and "is not a PDF variant" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_render_writes_pdf_a(tmp_path: Path) -> None:
    result = run_cli(["render", MISSION, "--pdf-variant", "pdf/a-3u", "--out", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    with pikepdf.open(tmp_path / f"{MISSION}.pdf") as pdf:
        assert "pdfaid" in xmp(pdf) and "/StructTreeRoot" in pdf.Root


def test_english_cards_say_so(library: Library, pop_up: Layout) -> None:
    card = dataclasses.replace(build_card(library, MISSION, lang="en"))
    with pikepdf.open(io.BytesIO(render_card_pdf(card, pop_up))) as pdf:
        assert str(pdf.Root.Lang) == "en"


def _element(
    pdf: pikepdf.Pdf, role: str, kids: list[object], page: pikepdf.Page, **extra: Any
) -> pikepdf.Dictionary:
    return pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.StructElem,
            S=pikepdf.Name(role),
            Pg=page.obj,
            K=pikepdf.Array(kids),
            **extra,
        )
    )


def test_spans_that_say_nothing_give_their_marks_to_their_parent() -> None:
    pdf = pikepdf.new()
    for _ in range(2):
        pdf.add_blank_page()
    first, second = pdf.pages
    plain = _element(pdf, "/Span", [0], first)
    english = _element(pdf, "/Span", [1], first, Lang=pikepdf.String("en"))
    inner = _element(pdf, "/Span", [2], first)
    outer = _element(pdf, "/Span", [inner], first)  # folded once its own Span is
    overleaf = _element(pdf, "/Span", [0], second)  # a paragraph running onto page 2
    paragraph = _element(pdf, "/P", [plain, english, outer, overleaf], first)
    document = _element(pdf, "/Document", [paragraph], first)
    entries = [pikepdf.Array([plain, english, inner]), pikepdf.Array([overleaf])]
    pdf.Root.StructTreeRoot = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.StructTreeRoot,
            K=document,
            ParentTree=pikepdf.Dictionary(
                Nums=pikepdf.Array(
                    [0, pdf.make_indirect(entries[0]), 1, pdf.make_indirect(entries[1])]
                )
            ),
        )
    )
    assert fold_plain_spans(pdf) == 4
    kids = list(paragraph.K)
    assert kids[0] == 0 and kids[1].objgen == english.objgen and kids[2] == 2
    assert kids[3].Type == pikepdf.Name.MCR and kids[3].MCID == 0
    assert kids[3].Pg.objgen == second.obj.objgen
    nums = pdf.Root.StructTreeRoot.ParentTree.Nums
    assert [e.objgen for e in nums[1]] == [paragraph.objgen, english.objgen, paragraph.objgen]
    assert [e.objgen for e in nums[3]] == [paragraph.objgen]
    assert fold_plain_spans(pdf) == 0  # nothing left to fold


def test_a_card_holds_no_span_that_says_nothing(library: Library, pop_up: Layout) -> None:
    card = build_card(library, MISSION)
    with pikepdf.open(io.BytesIO(render_card_pdf(card, pop_up))) as pdf:
        spans = [e for e in elements(pdf.Root.StructTreeRoot.K) if str(e.S) == "/Span"]
        assert all(set(e.keys()) - {"/Type", "/S", "/K", "/P", "/Pg"} for e in spans)
        assert roles(pdf).count("/P") > 3  # the paragraphs hold their text themselves
        assert_every_mark_is_in_the_tree(pdf)


def _weasyprint_tagged(library: Library, layout: Layout) -> bytes:
    """A card as WeasyPrint writes it, tagged, before any of our repairs."""
    from refsheets.render.pdf import renderer_for

    renderer = renderer_for(layout, library.root)
    card = build_card(library, MISSION)
    document = renderer.render(renderer.html([card], [0]), "a card")
    data: bytes = document.write_pdf(pdf_tags=True, pdf_variant="pdf/ua-1")
    return data


def _instructions(pdf: pikepdf.Pdf) -> list[tuple[str, str]]:
    return [
        (str(i.operator), repr(list(i.operands)))
        for page in pdf.pages
        for i in pikepdf.parse_content_stream(page)
    ]


def test_footers_are_re_marked_as_artifacts_however_the_stream_is_written(
    library: Library, pop_up: Layout
) -> None:
    """The footer's marks are found in WeasyPrint's bytes; a stream written otherwise
    (here each operator on one line with its operands, as pikepdf writes it) is parsed
    instead: both give the
    same operators, the footer's text opened as a pagination artifact."""
    data = _weasyprint_tagged(library, pop_up)
    as_written = pikepdf.open(io.BytesIO(data))
    rewritten = pikepdf.open(io.BytesIO(data))
    for page in rewritten.pages:
        page.obj.Contents = rewritten.make_stream(
            pikepdf.unparse_content_stream(pikepdf.parse_content_stream(page))
        )
    assert _instructions(as_written) == _instructions(rewritten)
    before = _instructions(as_written)
    for pdf in (as_written, rewritten):
        mark_orphans_as_artifacts(pdf)
    after = _instructions(as_written)
    assert after == _instructions(rewritten)
    pagination = pikepdf.Dictionary(Type=pikepdf.Name.Pagination)
    artifact = ("BDC", repr([pikepdf.Name.Artifact, pagination]))
    assert after.count(artifact) == 2  # the footer's brand and contact (margin boxes)
    assert len(after) == len(before) and before.count(artifact) == 0
    assert_every_mark_is_in_the_tree(as_written)


def test_the_repairs_in_one_walk_give_what_they_give_one_after_another(
    library: Library, pop_up: Layout
) -> None:
    data = _weasyprint_tagged(library, pop_up)
    apart = pikepdf.open(io.BytesIO(data))
    mark_orphans_as_artifacts(apart)
    add_id_tree(apart)
    assert fold_plain_spans(apart) > 0
    together = pikepdf.open(io.BytesIO(data))
    mend_weasyprint_tags(together)
    saved = []
    for pdf in (apart, together):
        buffer = io.BytesIO()
        pdf.save(buffer, deterministic_id=True)
        saved.append(buffer.getvalue())
    assert saved[0] == saved[1]
    assert_every_mark_is_in_the_tree(together)
    headers = [e for e in elements(together.Root.StructTreeRoot.K) if e.S == "/TH"]
    assert headers and all(h.A.Scope == pikepdf.Name.Column for h in headers)
    assert len(together.Root.StructTreeRoot.IDTree.Names) == 2 * len(headers)
