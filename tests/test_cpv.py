"""CPV 2008: codes and labels, a code covering its descendants, tags and missions with codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refsheets import cpv
from refsheets.cpv import cpv_codes, cpv_covers, cpv_label, cpv_stem, parse_cpv, search_cpv
from refsheets.library import load_library
from refsheets.taxonomy import Tag, Taxonomy
from tests.conftest import DATA, ROOT


def test_the_vendored_list_and_its_attribution() -> None:
    codes = cpv_codes()
    assert len(codes) == 9454
    assert cpv_label("79411000") == "Services de conseil en gestion générale"
    assert cpv_label("79411000", "en") == "General management consultancy services"
    notice = (ROOT / "refsheets" / "data" / "CPV-NOTICE.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in notice and "Publications Office of the European Union" in notice


@pytest.mark.parametrize(
    ("value", "code"),
    [("79411000", "79411000"), ("79411000-8", "79411000"), (" 79411000 - 8 ", "79411000"),
     (3000000, "03000000")],
)  # fmt: skip
def test_parse_cpv_forms(value: object, code: str) -> None:
    assert parse_cpv(value) == code


@pytest.mark.parametrize(
    ("value", "message"),
    [("7941100", "is not a CPV code"), ("tiers-lieu", "is not a CPV code"),
     ("79411999", "not in the CPV 2008 list; codes starting alike: 79411000, 79411100")],
)  # fmt: skip
def test_parse_cpv_rejects(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cpv(value)


def test_a_code_covers_its_descendants() -> None:
    assert cpv_covers("79400000", "79411000")
    assert cpv_covers("79400000", "79400000")
    assert not cpv_covers("79400000", "79310000")
    assert not cpv_covers("79411000", "79400000")  # a narrow code does not cover its parent
    assert cpv_stem("03000000") == "03"
    assert cpv_covers("03000000", "03111000")


@given(st.sampled_from(sorted(cpv_codes())), st.sampled_from(sorted(cpv_codes())))
def test_covering_is_the_prefix_of_significant_digits(broad: str, narrow: str) -> None:
    assert cpv_covers(broad, narrow) == narrow.startswith(cpv_stem(broad))
    if cpv_covers(broad, narrow) and cpv_covers(narrow, broad):
        assert cpv_stem(broad) == cpv_stem(narrow)


def test_search_by_french_or_english_label_or_prefix() -> None:
    french = [entry.code for entry in search_cpv("conseil en gestion")]
    assert french[0] == "79400000"  # the broadest first
    assert "79411000" in french
    assert [e.code for e in search_cpv("GENERAL MANAGEMENT consultancy")] == ["79411000"]
    assert [e.code for e in search_cpv("creches")] == ["85312110"]  # accents ignored
    assert [e.code for e in search_cpv("79411")] == ["79411000", "79411100"]
    assert [e.code for e in search_cpv("79411000-8")] == ["79411000"]
    assert search_cpv("zzzz") == []


def test_tags_mapped_to_codes_give_a_tenders_themes() -> None:
    taxonomy = Taxonomy(
        [
            Tag("conseil", "Conseil", (), ("79400000",)),
            Tag("creche", "Crèche", (), ("85312110",)),
            Tag("atelier", "Atelier", ()),
        ]
    )
    assert taxonomy.tags_for_cpv(["79411000"]) == ["conseil"]
    assert taxonomy.tags_for_cpv(["85312110", "79411100"]) == ["conseil", "creche"]
    assert taxonomy.tags_for_cpv(["71336000"]) == []


def copy_library(tmp_path: Path) -> Path:
    library = tmp_path / "data"
    shutil.copytree(DATA, library)
    return library


def test_tags_yaml_and_missions_carry_validated_codes(tmp_path: Path) -> None:
    library = copy_library(tmp_path)
    tags = library / "tags.yaml"
    tags.write_text(
        tags.read_text(encoding="utf-8").replace(
            "  fablab:\n    label: Fablab\n",
            "  fablab:\n    label: Fablab\n    cpv: [73200000-4]\n",
        ),
        encoding="utf-8",
    )
    mission = next((library / "missions").glob("*.yaml"))
    mission.write_text(
        mission.read_text(encoding="utf-8") + "cpv: [79411000-8, 71410000]\n", encoding="utf-8"
    )
    loaded = load_library(library)
    assert loaded.errors == []
    assert loaded.taxonomy.tags_for_cpv(["73210000"]) == ["fablab"]  # a descendant
    assert loaded.missions[mission.stem].cpv == ["79411000", "71410000"]


def test_a_bad_code_in_a_mission_is_reported_at_its_line(tmp_path: Path) -> None:
    library = copy_library(tmp_path)
    mission = next((library / "missions").glob("*.yaml"))
    text = mission.read_text(encoding="utf-8")
    mission.write_text(text + "cpv: [79411999]\n", encoding="utf-8")
    (error,) = load_library(library).errors
    assert error.path == mission
    assert error.line == text.count("\n") + 1
    assert "'79411999' is not in the CPV 2008 list" in error.message


def test_the_known_codes_are_the_lists() -> None:
    assert cpv._known_codes() == frozenset(cpv.cpv_codes())  # what parse_cpv checks against
