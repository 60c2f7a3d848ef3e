"""Threat: the card cache ships a stale or a wrong card.

Items 4 and 5 of issue 10. A cache key that forgets an input (entities.yaml, a tag's label)
ships the old e-mail while a fresh render shows the new one; so the key is derived from the
card object the renderers receive, and each input is changed in turn here. An entry that
was truncated, emptied, swapped for another card's, or replaced by a link or a folder must
never be used: it is dropped with a warning and the card rendered again. `--clear-cache`
must not pull the cache from under a running export.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from refsheets import load_library
from refsheets.card import Card, build_card
from refsheets.export import key_format, plan_export
from refsheets.export.cache import CardCache, card_key, card_keys, environment_digest
from refsheets.layouts import load_layout
from tests.hostile.exporting import (
    add_mission,
    export,
    make_project,
    mission_yaml,
    write_tender,
)

TODAY = date(2026, 3, 1)


def _text(path: Path) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(path).pages)


# ----------------------------------------------------------------- the key, input by input


def _mutations(value: Any, spare: Path) -> Iterator[Any]:
    """Values that differ from `value` in one place each, down to every leaf."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            for changed in _mutations(getattr(value, f.name), spare):
                yield dataclasses.replace(value, **{f.name: changed})
    elif isinstance(value, tuple):
        yield value[:-1] if value else ("x",)
        for i, item in enumerate(value):
            for changed in _mutations(item, spare):
                yield (*value[:i], changed, *value[i + 1 :])
    elif isinstance(value, dict):
        yield {**value, "extra": "x"}
        for key, item in value.items():
            for changed in _mutations(item, spare):
                yield {**value, key: changed}
    elif isinstance(value, bool):
        yield not value
    elif isinstance(value, int | float):
        yield value + 1
    elif isinstance(value, str):
        yield value + "x"
    elif isinstance(value, Path):
        yield spare  # another file, other bytes
    elif value is None:
        yield "x"
    else:
        raise AssertionError(f"a card field of a new type: {type(value).__name__}")


def _card_with_photo(tmp_path: Path) -> tuple[Card, str]:
    project = make_project(tmp_path / "p", 0)
    from PIL import Image

    photos = project / "data" / "photos"
    photos.mkdir()
    Image.new("RGB", (40, 30), "red").save(photos / "a.png")
    add_mission(
        project,
        "2022-m",
        mission_yaml("Titre", "Client", partner="Partenaire")
        + "deliverables: [Un livrable]\n"
        + "photos:\n  - path: photos/a.png\n    caption: Une photo\n",
    )
    library = load_library(project / "data")
    layout = load_layout("pop-up", project / "layouts")
    return build_card(library, "2022-m"), environment_digest(layout)


def test_every_field_of_the_card_is_in_the_key(tmp_path: Path) -> None:
    card, environment = _card_with_photo(tmp_path)
    spare = tmp_path / "spare.png"
    spare.write_bytes(b"other bytes")
    key = card_key(card, environment=environment, fmt="pdf")
    assert key == card_key(card, environment=environment, fmt="pdf")  # stable
    changed = list(_mutations(card, spare))
    # every field, recursively (brand, labels, photos, blocks…): a field added to Card
    # later is changed here too, without this test being touched
    assert len(changed) > len(dataclasses.fields(Card))
    for other in changed:
        assert card_key(other, environment=environment, fmt="pdf") != key, other
    assert card_key(card, environment=environment, fmt="docx") != key
    assert card_key(card, environment=environment + "x", fmt="pdf") != key
    # the photo's bytes, at the same path
    photo = card.photos[0].path
    photo.write_bytes(photo.read_bytes() + b"\0")
    assert card_key(card, environment=environment, fmt="pdf") != key


def test_the_keys_of_several_formats_at_once_are_each_formats_key(tmp_path: Path) -> None:
    card, environment = _card_with_photo(tmp_path)
    fmts = ["pdf pdf/ua-1", "docx", "fit", "pdf pdf/a-3u"]
    keys = card_keys(card, environment=environment, fmts=fmts)
    assert keys == {fmt: card_key(card, environment=environment, fmt=fmt) for fmt in fmts}
    assert len(set(keys.values())) == len(fmts)


def test_every_file_of_the_layout_and_fonts_is_in_the_environment(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 0)
    layout = load_layout("pop-up", project / "layouts")
    before = environment_digest(layout)
    files = [p for folder in layout.chain for p in folder.rglob("*") if p.is_file()]
    files += [face.path for face in layout.font_faces]
    assert any(p.suffix == ".css" for p in files) and any(p.suffix == ".ttf" for p in files)
    for path in files:
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert environment_digest(load_layout("pop-up", project / "layouts")) != before, path
        path.write_bytes(original)
    assert environment_digest(load_layout("pop-up", project / "layouts")) == before


def test_the_version_and_code_are_in_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import refsheets.export.cache as cache_module

    project = make_project(tmp_path / "p", 0)
    layout = load_layout("pop-up", project / "layouts")
    before = environment_digest(layout)
    monkeypatch.setattr(cache_module, "__version__", "99.0")
    assert environment_digest(layout) != before


@pytest.mark.slow
def test_entities_and_tag_labels_reach_a_cached_card(tmp_path: Path) -> None:
    """The bug as seen: a brand's name or a tag's label changed, the cache shipped the old.

    The brand's name is what the facts band's "Mission portée par" prints (the footer speaks for
    the layout's brand, so its e-mail is not the field to change here).
    """
    project = make_project(tmp_path / "p", 0)
    add_mission(project, "2022-m", mission_yaml("Titre du marché", "Ville de Test"))
    tender = write_tender(project, references=1)
    card = project / "out" / "t" / "cards" / "2022-m.pdf"
    assert export(project, tender).returncode == 0
    assert "Atelier Renommé" not in _text(card)
    entities = project / "data" / "entities.yaml"
    entities.write_text(
        entities.read_text(encoding="utf-8").replace("name: POP Up\n", "name: Atelier Renommé\n"),
        encoding="utf-8",
    )
    result = export(project, tender)
    assert result.returncode == 0, result.stderr
    assert "Atelier Renommé" in _text(card)
    tags = project / "data" / "tags.yaml"
    tags.write_text(
        tags.read_text(encoding="utf-8").replace("label: Tiers-lieu\n", "label: Lieu partagé\n"),
        encoding="utf-8",
    )
    assert "Lieu partagé" not in _text(card)
    assert export(project, tender).returncode == 0
    assert "Lieu partagé" in _text(card)
    assert "pdf: 1 card(s) rendered" in export(project, tender, "--clear-cache").stderr


# ----------------------------------------------------------------- entries are checked


@pytest.mark.slow
def test_bad_entries_are_dropped_and_rendered_again(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 0)
    titles = {f"2022-m{i}": f"Mission numéro {i}" for i in range(5)}
    for mission_id, title in titles.items():
        add_mission(project, mission_id, mission_yaml(title, f"Client {mission_id}"))
    tender = write_tender(project, references=5)
    assert export(project, tender).returncode == 0
    plan = plan_export(
        tender, load_library(project / "data"), out_root=project / "out", today=TODAY
    )
    cache = CardCache(project / "out" / ".cache")
    entries = [
        cache.folder / key[:2] / f"{key}.pdf"
        for key in (
            card_key(r.card, environment=plan.environment, fmt=key_format(plan, "pdf"))
            for r in plan.references
        )
    ]
    ids = [r.id for r in plan.references]
    assert all(e.is_file() for e in entries)
    truncated, emptied, swapped, linked, folder = entries
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    emptied.write_bytes(b"")
    swapped.write_bytes(linked.read_bytes())  # a valid entry, of another card
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(linked.read_bytes())
    linked.unlink()
    linked.symlink_to(outside)
    folder.unlink()
    folder.mkdir()
    (folder / "x").write_text("x")

    result = export(project, tender)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("dropped, the card is rendered again") == 5, result.stderr
    assert "pdf: 5 card(s) rendered, 0 from the cache" in result.stderr
    for mission_id in ids:
        text = _text(project / "out" / "t" / "cards" / f"{mission_id}.pdf")
        assert titles[mission_id] in text
        assert [t for t in titles.values() if t in text] == [titles[mission_id]]
    assert outside.read_bytes()[:17] == b"refsheets-cache/1"  # the link's target untouched
    for entry in entries:
        assert entry.is_file() and not entry.is_symlink()
    again = export(project, tender)
    assert "pdf: 0 card(s) rendered, 5 from the cache" in again.stderr
    assert "dropped" not in again.stderr


def test_forged_font_facts_in_the_cache_change_no_annex(tmp_path: Path) -> None:
    """The annex takes its cards' font facts (widths, text, box of each subset) from
    the cache: an entry that is damaged, swapped, nested to exhaust the parser, or
    forged with a valid header but values no font holds (a width past any float, which
    once ended the export in an internal error) is read again from the card, and the
    annex is the one the fonts give, byte for byte."""
    import json

    project = make_project(tmp_path / "p", 0)
    for i in range(5):
        add_mission(project, f"2022-m{i}", mission_yaml(f"Mission numéro {i}", f"Client {i}"))
    tender = write_tender(project, references=5)
    assert export(project, tender).returncode == 0
    annex = project / "out" / "t" / "annexe-references.pdf"
    clean = annex.read_bytes()
    cache = CardCache(project / "out" / ".cache")
    entries = sorted(cache.folder.rglob("*.fonts"))
    assert len(entries) == 5
    damaged, swapped, nested, wide, renamed = entries
    damaged.write_bytes(damaged.read_bytes()[:-10])
    swapped.write_bytes(nested.read_bytes())
    for path, forge in (
        (nested, lambda facts: b"[" * 200_000),
        (
            wide,
            lambda facts: {
                k: [v[0], v[1], {**v[2], "1": 10**400}, *v[3:]] for k, v in facts.items()
            },
        ),
        (renamed, lambda facts: {k: [v[0] + "-X", *v[1:]] for k, v in facts.items()}),
    ):
        key = path.stem
        facts = json.loads(path.read_bytes().split(b"\n", 1)[1])
        forged = forge(facts)
        cache.put(
            key, "fonts", forged if isinstance(forged, bytes) else json.dumps(forged).encode()
        )

    result = export(project, tender)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("the card's fonts are read again") == 2, result.stderr
    assert annex.read_bytes() == clean


@pytest.mark.slow
def test_clear_cache_refuses_while_an_export_uses_the_cache(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 40)
    write_tender(project, "long", references=40)
    short = write_tender(project, "short", references=1)
    assert export(project, short).returncode == 0
    entries = sorted((project / "out" / ".cache").rglob("*.pdf"))
    process = subprocess.Popen(
        [sys.executable, "-m", "refsheets", "export", "tenders/long.yaml", "--jobs", "1"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list((project / "out").glob(".long.*.tmp")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list((project / "out").glob(".long.*.tmp")), "the long export never started"
        result = export(project, short, "--clear-cache")
        assert result.returncode == 5, result.stderr
        assert "an export is using the card cache" in result.stderr
        assert entries and all(entry.is_file() for entry in entries)  # nothing cleared
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=120)
    assert not list((project / "out").glob(".long.*.tmp"))
    assert os.path.isdir(project / "out" / ".cache")
