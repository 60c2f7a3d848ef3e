"""One font subset per face for a whole annex (refsheets/export/fonts.py)."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import math
import subprocess
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from pypdf import PdfReader

from refsheets.export.fonts import (
    FontFacts,
    KnownFonts,
    _Group,
    facts_from_json,
    facts_to_json,
    merge_font_subsets,
    page_font_facts,
)
from refsheets.layouts import load_layout
from refsheets.library import load_library
from refsheets.render import render
from tests.conftest import DATA, ROOT

IDS = [
    "2021-cc-haute-somme-tiers-lieu-peronne",
    "2022-havelinghen-emergence-tiers-lieu",
    "anzin-mediation-numerique-qpv",
]


@pytest.fixture(scope="module")
def cards(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three PDF cards, each with its own font subsets."""
    out = tmp_path_factory.mktemp("cards")
    return render(load_library(DATA), IDS, layout="pop-up", out_dir=out)


def _assembled(cards: list[Path]) -> pikepdf.Pdf:
    pdf = pikepdf.new()
    for path in cards:
        pdf.pages.extend(pikepdf.open(path).pages)
    return pdf


def _saved(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(buffer, deterministic_id=True)
    return buffer.getvalue()


def _programs(data: bytes) -> list[str]:
    """The digests of the embedded font programs that are written in `data`."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        return [
            hashlib.sha256(obj.FontFile2.read_raw_bytes()).hexdigest()
            for obj in pdf.objects
            if isinstance(obj, pikepdf.Dictionary)
            and obj.get("/Type") == "/FontDescriptor"
            and "/FontFile2" in obj
        ]


def _pixels(data: bytes, folder: Path, name: str) -> list[bytes]:
    source = folder / f"{name}.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(source), str(folder / name)], check=True)
    return [p.read_bytes() for p in sorted(folder.glob(f"{name}-*.png"))]


def test_each_face_is_embedded_once_and_the_pages_look_the_same(
    cards: list[Path], tmp_path: Path
) -> None:
    layout = load_layout("pop-up", ROOT / "layouts")
    before = _saved(_assembled(cards))
    pdf = _assembled(cards)
    contents = [page.Contents.read_bytes() for page in pdf.pages]
    gone = merge_font_subsets(pdf, [face.path for face in layout.font_faces])
    after = _saved(pdf)

    faces_used = len(_programs(before)) // len(cards)
    assert len(_programs(before)) == faces_used * len(cards)  # one set per card
    assert len(_programs(after)) == faces_used  # one per face for the whole document
    assert gone == faces_used * (len(cards) - 1)
    assert len(after) < len(before)
    # The text is drawn as before: the same content streams, the same pixels.
    merged = pikepdf.open(io.BytesIO(after))
    assert [page.Contents.read_bytes() for page in merged.pages] == contents
    assert _pixels(after, tmp_path, "after") == _pixels(before, tmp_path, "before")


def test_the_text_layer_reads_each_card(cards: list[Path]) -> None:
    layout = load_layout("pop-up", ROOT / "layouts")
    pdf = _assembled(cards)
    merge_font_subsets(pdf, [face.path for face in layout.font_faces])
    reader = PdfReader(io.BytesIO(_saved(pdf)))
    for path, page in zip(cards, reader.pages, strict=True):
        alone = PdfReader(path).pages[0].extract_text()
        # The hyphen glyph may read as U+2010 in one card and "-" in another: one glyph,
        # one text for the whole annex.
        assert page.extract_text().replace("\u2010", "-") == alone.replace("\u2010", "-")


def test_fonts_it_cannot_match_to_a_file_are_left_alone(cards: list[Path]) -> None:
    pdf = _assembled(cards)
    before = _programs(_saved(pdf))
    assert merge_font_subsets(pdf, []) == 0  # no original files: nothing to merge from
    assert sorted(_programs(_saved(pdf))) == sorted(before)


def _structure(pdf: pikepdf.Pdf) -> list[tuple[str, str | None, int | None]]:
    """The structure elements in order: role, alternative text, marked-content id."""
    found: list[tuple[str, str | None, int | None]] = []
    stack: list[object] = [pdf.Root.StructTreeRoot.K]
    while stack:
        item = stack.pop()
        if isinstance(item, pikepdf.Array):
            stack.extend(reversed(list(item)))
        elif isinstance(item, pikepdf.Dictionary) and "/S" in item:
            alt = item.get("/Alt")
            found.append((str(item.S), str(alt) if alt is not None else None, None))
            stack.append(item.get("/K"))
        elif isinstance(item, int):
            found.append(("MCID", None, item))
    return found


def test_a_tagged_annex_keeps_its_structure_and_marked_content(cards: list[Path]) -> None:
    """The annex is assembled with its structure tree (render/pdf_tags): merging the
    fonts leaves the tree, the pages' StructParents and the marked content as they were."""
    from refsheets.render.pdf_tags import finish_tree, graft_page, new_tree

    layout = load_layout("pop-up", ROOT / "layouts")
    pdf = pikepdf.new()
    tree = new_tree(pdf)
    for number, path in enumerate(cards, 1):
        graft_page(tree, pdf, pikepdf.open(path), 0, prefix=f"card{number}-")
    finish_tree(tree, pdf)
    structure = _structure(pdf)
    parents = [int(page.obj.StructParents) for page in pdf.pages]
    contents = [page.Contents.read_bytes() for page in pdf.pages]
    assert any(b"BDC" in c for c in contents) and structure  # tagged indeed

    assert merge_font_subsets(pdf, [face.path for face in layout.font_faces]) > 0
    merged = pikepdf.open(io.BytesIO(_saved(pdf)))
    assert _structure(merged) == structure
    assert [int(page.obj.StructParents) for page in merged.pages] == parents
    assert [page.Contents.read_bytes() for page in merged.pages] == contents


def _grafted(cards: list[Path]) -> pikepdf.Pdf:
    from refsheets.render.pdf_tags import finish_tree, graft_page, new_tree

    pdf = pikepdf.new()
    tree = new_tree(pdf)
    for number, path in enumerate(cards, 1):
        graft_page(tree, pdf, pikepdf.open(path), 0, prefix=f"card{number}-")
    finish_tree(tree, pdf)
    return pdf


def _known(pdf: pikepdf.Pdf, facts: list[bytes]) -> KnownFonts:
    """The facts of each page's fonts, as an annex reads them from the cache."""
    known = KnownFonts()
    for page, data in zip(pdf.pages, facts, strict=True):
        by_key = facts_from_json(data)
        assert by_key is not None
        for key, font_facts in by_key.items():
            known.add(page.Resources.Font[key], font_facts)
    return known


def _cached_facts(cards: list[Path]) -> list[bytes]:
    found = []
    for path in cards:
        card = pikepdf.open(path)
        facts = page_font_facts(card.pages[0])
        assert facts
        found.append(facts_to_json(facts))
    return found


def test_facts_from_the_cache_merge_as_the_fonts_read(
    cards: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An annex takes its cards' font facts from the cache rather than reading 800
    fonts through pikepdf: the merged fonts are the same, byte for byte."""
    faces = [face.path for face in load_layout("pop-up", ROOT / "layouts").font_faces]
    read = _grafted(cards)
    gone = merge_font_subsets(read, faces)
    from_cache = _grafted(cards)
    known = _known(from_cache, _cached_facts(cards))
    reads = _count_reads(monkeypatch)
    assert merge_font_subsets(from_cache, faces, known=known) == gone
    assert reads == []  # not one font read through pikepdf
    assert _saved(from_cache) == _saved(read)


# Facts of the cache's shape, with a value no font holds: (face, readable, widths,
# texts, box, a glyph id of the subset) -> the forged entry.
_FORGERIES: dict[str, Any] = {
    "another face": lambda f, r, w, t, b, g: [f + "-Other", r, w, t, b],
    "a width no font has": lambda f, r, w, t, b, g: [f, r, {**w, g: 1e12}, t, b],
    "a width past any float": lambda f, r, w, t, b, g: [f, r, {**w, g: 10**400}, t, b],
    "a width that is not a number": lambda f, r, w, t, b, g: [f, r, {**w, g: math.nan}, t, b],
    "a width that is a string": lambda f, r, w, t, b, g: [f, r, {**w, g: "500"}, t, b],
    "a glyph id past 65535": lambda f, r, w, t, b, g: [f, r, {**w, "70000": 500}, t, b],
    "a glyph id written otherwise": lambda f, r, w, t, b, g: [f, r, {**w, "+3": 500}, t, b],
    "text that is not hex": lambda f, r, w, t, b, g: [f, r, w, {**t, g: "zz"}, b],
    "a box of three": lambda f, r, w, t, b, g: [f, r, w, t, [0, 0, 1]],
}


def _forged(entry: bytes, how: str) -> bytes:
    facts = json.loads(entry)
    key = next(iter(facts))
    face, readable, widths, texts, box = facts[key]
    forged = _FORGERIES[how](face, readable, widths, texts, box, next(iter(widths)))
    return json.dumps({**facts, key: forged}).encode()


@pytest.mark.parametrize("how", list(_FORGERIES))
def test_forged_facts_are_read_again_from_the_fonts(
    cards: list[Path], how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Facts of the shape the cache keeps but values no font holds: every font is read
    from the PDF instead, and the annex is the one the fonts give."""
    faces = [face.path for face in load_layout("pop-up", ROOT / "layouts").font_faces]
    read = _grafted(cards)
    merge_font_subsets(read, faces)
    facts = _cached_facts(cards)
    facts = [_forged(entry, how) for entry in facts]  # all (one could be outvoted)
    forged = _grafted(cards)
    known = _known(forged, facts)
    reads = _count_reads(monkeypatch)
    merge_font_subsets(forged, faces, known=known)
    assert reads and _saved(forged) == _saved(read)


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The faces of the fonts the merge reads from the PDF, from now on."""
    from refsheets.export import fonts

    faces: list[str] = []
    real = fonts.read_font_facts

    def counted(font: Any) -> fonts.FontFacts | None:
        facts = real(font)
        faces.append(facts.face if facts else "")
        return facts

    monkeypatch.setattr(fonts, "read_font_facts", counted)
    return faces


@pytest.mark.parametrize(
    "entry",
    [
        b"",
        b"\xff\xfe",
        b"[" * 100_000 + b"]" * 100_000,
        b"[]",
        b'{"/F1": "Lato"}',
        b'{"/F1": ["Lato", "yes", {}, {}, null]}',
        b'{"/F1": ["", true, {}, {}, null]}',
        b'{"/F1": ["Lato", true, [], {}, null]}',
        b'{"/F1": ["Lato", true, {}, {}, null, 1]}',
        b'{"/F1": ["Lato", true, {}, {"3": "0041"}, null]}' + b" " * (1 << 20),
    ],
)
def test_a_facts_entry_not_of_the_cache_shape_is_not_read(entry: bytes) -> None:
    assert facts_from_json(entry) is None


def test_a_glyph_gets_the_width_and_text_most_subsets_give_it_in_any_order() -> None:
    """The summary's subsets (drawn by us) round some widths otherwise than WeasyPrint's,
    and the hyphen reads "-" in one card and U+2010 in another: each glyph gets what
    most subsets give it, the lowest on a tie, so that the merged font is the same
    whether the facts came from the cache, in the annex's order, or from the fonts, in
    the order the pages are walked."""
    first = FontFacts("Lato", True, {"3": 500.0, "4": 600.5}, {"3": "0041", "4": "2010"}, None)
    second = FontFacts("Lato", True, {"4": 601.0}, {"4": "002d"}, [-10, -200, 1000, 900])
    third = FontFacts("Lato", True, {"4": 601.0}, {"4": "2010"}, [0, -250, 1100, 800])
    merged = set()
    for order in itertools.permutations([first, second, third]):
        group = _Group()
        for facts in order:
            group.add(facts)
        group.settle()
        merged.add(
            (tuple(sorted(group.widths.items())), tuple(sorted(group.text.items())), group.box)
        )
    assert merged == {
        (((3, 500.0), (4, 601.0)), ((3, b"0041"), (4, b"2010")), (-10.0, -250.0, 1100.0, 900.0))
    }
    for order in itertools.permutations([second, third]):  # one each: the lowest code
        group = _Group()
        for facts in order:
            group.add(facts)
        group.settle()
        assert group.text == {4: b"002d"}
