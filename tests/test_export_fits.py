"""Fit results cached like cards (refsheets/export/fits.py): hits, misses, staleness."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from refsheets.card import Lang
from refsheets.export.cache import CardCache
from refsheets.export.fits import FIT_FORMAT, KEYS_FORMAT, check_fits_cached, library_state
from refsheets.library import load_library
from refsheets.render import check_fits
from tests.conftest import ROOT

KEEP = ("2021-cc-haute-somme-tiers-lieu-peronne", "anzin-mediation-numerique-qpv")


@pytest.fixture
def small_library(library_copy: Path) -> Path:
    """The project's library cut to two missions (each fit costs a layout)."""
    for path in (library_copy / "missions").glob("*.yaml"):
        if path.stem not in KEEP:
            path.unlink()
    return library_copy


def _lengthen(path: Path, paragraphs: int) -> None:
    """Append a long `approach` so that the card cannot fit at step 0."""
    text = " ".join(["Ateliers de concertation avec les habitants du quartier."] * 12)
    body = "\n\n  ".join([text] * paragraphs)
    path.write_text(
        path.read_text(encoding="utf-8").split("\napproach:")[0] + f"\napproach: |\n  {body}\n",
        encoding="utf-8",
    )


def test_a_second_check_lays_out_nothing_and_answers_the_same(
    small_library: Path, tmp_path: Path
) -> None:
    cache = CardCache(tmp_path / "cache")
    library = load_library(small_library)
    first, laid_out = check_fits_cached(library, cache, jobs=1)
    assert laid_out == 2
    assert [r.mission_id for r in first] == [mission_id for mission_id, _ in library]
    again, laid_out_again = check_fits_cached(load_library(small_library), cache, jobs=1)
    assert laid_out_again == 0
    assert again == first
    entries = list(cache.folder.rglob(f"*.{FIT_FORMAT}"))
    assert len(entries) == 2
    # The card cache's own entries: a header with the key, the length and the SHA-256.
    assert all(entry.read_bytes().startswith(b"refsheets-cache/1 ") for entry in entries)


def test_a_changed_mission_or_layout_file_is_laid_out_again(
    small_library: Path, tmp_path: Path
) -> None:
    layouts = tmp_path / "layouts"
    shutil.copytree(ROOT / "layouts", layouts)
    shutil.copytree(ROOT / "fonts", tmp_path / "fonts")
    cache = CardCache(tmp_path / "cache")
    check_fits_cached(load_library(small_library), cache, layouts_root=layouts, jobs=1)

    # One mission grows past one page at step 0: only it is laid out again, and its
    # answer is the one check_fits gives from scratch (a tighter step).
    _lengthen(small_library / "missions" / f"{KEEP[1]}.yaml", 2)
    library = load_library(small_library)
    results, laid_out = check_fits_cached(library, cache, layouts_root=layouts, jobs=1)
    assert laid_out == 1
    fresh = check_fits(library, layouts_root=layouts)
    assert results == fresh
    changed = next(r for r in results if r.mission_id == KEEP[1])
    assert changed.fits and changed.step is not None and changed.step > 0

    # Any file of the layout chain shapes every card: all are laid out again.
    css = layouts / "base" / "card.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n/* changed */\n", encoding="utf-8")
    _, laid_out = check_fits_cached(load_library(small_library), cache, layouts_root=layouts)
    assert laid_out == 2


def test_a_damaged_entry_is_a_miss_not_an_answer(small_library: Path, tmp_path: Path) -> None:
    cache = CardCache(tmp_path / "cache")
    library = load_library(small_library)
    first, _ = check_fits_cached(library, cache, jobs=1)
    for entry in cache.folder.rglob(f"*.{FIT_FORMAT}"):
        entry.write_bytes(b'{"fits": tru')
    again, laid_out = check_fits_cached(library, cache, jobs=1)
    assert laid_out == 2 and again == first
    assert len(cache.warnings) == 2 and "dropped" in cache.warnings[0]


def test_a_card_that_cannot_fit_is_cached_with_its_overflow(
    small_library: Path, tmp_path: Path
) -> None:
    _lengthen(small_library / "missions" / f"{KEEP[0]}.yaml", 12)
    cache = CardCache(tmp_path / "cache")
    library = load_library(small_library)
    first, _ = check_fits_cached(library, cache, jobs=2)  # forked workers too
    misfit = next(r for r in first if r.mission_id == KEEP[0])
    assert not misfit.fits and misfit.overflow_mm > 0
    again, laid_out = check_fits_cached(library, cache, jobs=1)
    assert laid_out == 0 and again == first


def test_check_with_every_answer_cached_does_not_import_weasyprint(
    small_library: Path, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "refsheets", "--library", str(small_library), "check"]
    first = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    assert list((tmp_path / "out" / ".cache").rglob(f"*.{FIT_FORMAT}"))
    second = subprocess.run(
        [sys.executable, "-X", "importtime", *command[1:]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert second.returncode == 0, second.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in second.stderr.splitlines()}
    assert "refsheets.export.fits" in imported
    assert not {name for name in imported if name.split(".")[0] in ("weasyprint", "docx")}
    # Nor the tender and choice modules: only planning an export needs them.
    assert not imported & {"refsheets.tender", "refsheets.choice"}
    assert first.stderr.splitlines()[-1] in second.stderr  # the same summary


def test_an_unchanged_library_reads_its_keys_in_one_entry(
    small_library: Path, tmp_path: Path
) -> None:
    cache = CardCache(tmp_path / "cache")
    first, _ = check_fits_cached(load_library(small_library), cache, jobs=1)
    kept = list(cache.folder.rglob(f"*.{KEYS_FORMAT}"))
    assert len(kept) == 1
    # Each answer is still read from its own entry, checked: a damaged one is laid out.
    entries = sorted(cache.folder.rglob(f"*.{FIT_FORMAT}"))
    entries[0].write_bytes(b"refsheets-cache/1 damaged\n")
    again, laid_out = check_fits_cached(load_library(small_library), cache, jobs=1)
    assert laid_out == 1 and again == first
    # A damaged keys entry is dropped: every card is built and keyed again, nothing laid out.
    kept[0].write_bytes(kept[0].read_bytes()[:-3])
    third, laid_out = check_fits_cached(load_library(small_library), cache, jobs=1)
    assert laid_out == 0 and third == first
    assert any("dropped" in warning for warning in cache.warnings)


@pytest.mark.parametrize("change", ["mission", "tags", "photo", "language"])
def test_the_library_state_follows_every_file_a_card_is_built_from(
    small_library: Path, change: str
) -> None:
    if change == "photo":
        from PIL import Image

        (small_library / "photos").mkdir(exist_ok=True)
        Image.new("RGB", (40, 30), "#336699").save(small_library / "photos" / "p.png")
        path = small_library / "missions" / f"{KEEP[0]}.yaml"
        path.write_text(
            path.read_text(encoding="utf-8") + "photos:\n  - path: photos/p.png\n",
            encoding="utf-8",
        )
    library = load_library(small_library)
    assert not library.errors
    layouts = {mission_id: "base" for mission_id, _ in library}
    before = library_state(library, "fr", layouts, {"base": "e"})
    assert before == library_state(load_library(small_library), "fr", layouts, {"base": "e"})
    lang: Lang = "fr"
    if change == "mission":
        path = small_library / "missions" / f"{KEEP[1]}.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    elif change == "tags":
        path = small_library / "tags.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    elif change == "photo":
        photo = small_library / "photos" / "p.png"
        photo.write_bytes(photo.read_bytes())  # the same bytes: a new file all the same
    else:
        lang = "en"
    after = library_state(load_library(small_library), lang, layouts, {"base": "e"})
    assert after != before
    # and the layout's environment is in it too
    assert library_state(library, "fr", layouts, {"base": "other"}) != before
