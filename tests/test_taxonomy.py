"""Tag matching: case, accents, hyphens, plurals; aliases fix typos."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from refsheets.library import load_library
from refsheets.taxonomy import Tag, Taxonomy, fold, tag_key
from tests.conftest import DATA


def test_tiers_lieu_variants_are_one_tag() -> None:
    keys = {
        tag_key(t)
        for t in ["tiers-lieu", "tiers lieux", "Tiers-Lieux", "#tiers-lieu", "TIERS LIEU"]
    }
    assert len(keys) == 1


def test_real_taxonomy_fixes_the_source() -> None:
    taxonomy = load_library(DATA).taxonomy
    assert taxonomy.resolve("méditation").key == "mediation"  # type: ignore[union-attr]
    assert taxonomy.resolve("codesign").key == "co-conception"  # type: ignore[union-attr]
    assert taxonomy.resolve("Co-Design").key == "co-conception"  # type: ignore[union-attr]
    assert taxonomy.resolve("tiers lieux").key == "tiers-lieu"  # type: ignore[union-attr]
    assert taxonomy.resolve("QPV").key == "quartier-prioritaire"  # type: ignore[union-attr]
    assert taxonomy.resolve("ruralités").key == "ruralite"  # type: ignore[union-attr]
    assert taxonomy.resolve("cuisine") is None
    assert "tiers-lieu" in taxonomy.nearest("tiers-lie")


def test_every_mission_tag_is_known() -> None:
    library = load_library(DATA)
    for _, mission in library:
        for tag in mission.tags:
            assert library.taxonomy.resolve(tag), tag


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèàçô", min_size=4, max_size=10)


@given(st.lists(words, min_size=1, max_size=3))
def test_key_ignores_case_accents_separators(parts: list[str]) -> None:
    base = "-".join(parts)
    assert tag_key(base) == tag_key(" ".join(p.upper() for p in parts))
    assert tag_key(base) == tag_key(fold(base))


@given(st.lists(words, min_size=1, max_size=3))
def test_key_ignores_plural_marks(parts: list[str]) -> None:
    singular = [p.rstrip("sx") for p in parts if len(p.rstrip("sx")) > 3]
    if singular:
        assert tag_key(" ".join(singular)) == tag_key(" ".join(w + "s" for w in singular))


def test_first_definition_wins_on_clash() -> None:
    taxonomy = Taxonomy([Tag("a", "Lieu", ()), Tag("b", "Lieux", ())])
    assert taxonomy.resolve("lieux").key == "a"  # type: ignore[union-attr]


def test_a_name_that_names_two_tags_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "missions").mkdir()
    (tmp_path / "tags.yaml").write_text(
        "tags:\n  a:\n    label: A\n    aliases: [lieux]\n  b:\n    label: B\n"
        "    aliases: [x, Lieu]\n"
    )
    (error,) = load_library(tmp_path).errors
    assert (error.line, error.column) == (7, 18)
    assert "'Lieu' also names the tag 'a'" in error.message
