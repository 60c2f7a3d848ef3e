"""Drafts as mission files: the library's format, values that read back, file names."""

from __future__ import annotations

import re

import yaml
from hypothesis import given
from hypothesis import strategies as st

from refsheets.importer.extract import Line
from refsheets.importer.parse import Draft
from refsheets.importer.write import SCHEMA_LINE, file_stem, file_stems, render_mission, slug
from refsheets.model import Mission
from tests.conftest import DATA


def draft(**facts: object) -> Draft:
    """A complete draft, with `facts` replacing its values."""
    values: dict[str, object] = {
        "title": "Reconversion du Passage de la Paix",
        "client": "Ville de Valenciennes",
        "client_kind": "public",
        "client_location": "Valenciennes",
        "period": "2019 - 2020",
        "entity": "pop-up",
        "partners": [("Stratéact Dialogue", "co-contractor"), ("Compagnie des Tiers-lieux", None)],
        "context": "Premier paragraphe.\n\nSecond : avec deux-points.",
        "approach": "Ce qui implique :\n\n1. écouter\n2. proposer",
        "deliverables": ["1 immersion sur le terrain : visite", "3 scénarii"],
        "tags": ["tiers lieux", "Co-Design"],
        "budget": "12 400€ HT",
    }
    values.update(facts)
    return Draft(1, Line("Contexte", 5), **values)  # type: ignore[arg-type]


def test_a_complete_mission_is_written_like_the_hand_checked_files() -> None:
    text = render_mission(draft())
    assert text == (
        SCHEMA_LINE + "\n"
        "title: Reconversion du Passage de la Paix\n"
        "client:\n"
        "  name: Ville de Valenciennes\n"
        "  kind: public\n"
        "  location: Valenciennes\n"
        "period: 2019 - 2020\n"
        "entity: pop-up\n"
        "partners:\n"
        "  - name: Stratéact Dialogue\n"
        "    role: co-contractor\n"
        "  - name: Compagnie des Tiers-lieux\n"
        "context: |\n"
        "  Premier paragraphe.\n"
        "\n"
        "  Second : avec deux-points.\n"
        "approach: |\n"
        "  Ce qui implique :\n"
        "\n"
        "  1. écouter\n"
        "  2. proposer\n"
        "deliverables:\n"
        '  - "1 immersion sur le terrain : visite"\n'
        "  - 3 scénarii\n"
        "tags: [tiers lieux, Co-Design]\n"
        "budget: 12 400€ HT\n"
    )
    Mission.model_validate(yaml.safe_load(text))


def test_the_format_matches_a_hand_checked_file_byte_for_byte() -> None:
    hand = (DATA / "missions" / "2021-valenciennes-passage-de-la-paix.yaml").read_text("utf-8")
    data = Mission.model_validate(yaml.safe_load(hand))
    written = render_mission(
        draft(
            title=data.title,
            period=2021,
            partners=[(p.name, p.role) for p in data.partners],
            context=data.context,
            approach=data.approach,
            deliverables=data.deliverables,
            tags=data.tags,
        )
    )
    assert written == hand


def test_a_single_year_is_written_bare() -> None:
    assert "\nperiod: 2022\n" in render_mission(draft(period=2022))


def test_gaps_are_left_empty_with_a_todo_so_the_file_cannot_load_unnoticed() -> None:
    text = render_mission(
        draft(
            title=None,
            client=None,
            client_kind=None,
            client_location=None,
            period=None,
            missing={"period": "x", "title": "x", "client": "x"},
        )
    )
    lines = text.splitlines()
    assert lines[0] == SCHEMA_LINE
    assert lines[1] == "# Imported by refsheets; the portfolio does not give the period."
    assert lines[2].startswith("# TODO: the portfolio gives this mission no title")
    assert lines[3] == "title:"
    assert lines[5:7] == [
        "  # TODO: the portfolio names no client on this page; write its name.",
        "  name:",
    ]
    assert "period:" not in text
    data = yaml.safe_load(text)
    assert data["title"] is None and data["client"] == {"name": None}


def test_an_amount_without_basis_gets_a_todo() -> None:
    text = render_mission(draft(budget="8 000 €", missing={"budget basis": "x"}))
    assert (
        "# TODO: the portfolio does not say HT or TTC; refsheets reads HT.\nbudget: 8 000 €\n"
        in text
    )


def test_caption_notes_are_written_quoted() -> None:
    note = "The portfolio shows a photo captioned « A : b ». Add it under photos: later."
    text = render_mission(draft(notes=note))
    assert yaml.safe_load(text)["notes"] == note


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc", "Zl", "Zp"]), min_size=1, max_size=40
).map(lambda s: " ".join(s.split()))


@given(title=_TEXT, item=_TEXT, tag=_TEXT, client=_TEXT)
def test_any_text_reads_back_as_itself(title: str, item: str, tag: str, client: str) -> None:
    facts = draft(
        title=title or "x", client=client or "x", deliverables=[item or "x"], tags=[tag or "x"]
    )
    data = yaml.safe_load(render_mission(facts))
    assert data["title"] == (title or "x")
    assert data["client"]["name"] == (client or "x")
    assert data["deliverables"] == [item or "x"]
    assert data["tags"] == [tag or "x"]


@given(text=_TEXT)
def test_texts_with_any_content_read_back_from_their_block(text: str) -> None:
    body = f"{text or 'x'}\n\n- {text or 'x'}"
    assert yaml.safe_load(render_mission(draft(context=body)))["context"] == body + "\n"


def test_file_stems_are_ascii_from_year_client_and_title() -> None:
    stem = file_stem(
        draft(
            title="Village du futur – Réinventer les ruralités !",
            client="Région Bourgogne",
            period="2021/2022",
        )
    )
    assert stem == "2021-region-bourgogne-village-futur-reinventer"
    assert re.fullmatch(r"[a-z0-9-]+", stem)


def test_file_stems_without_year_or_client() -> None:
    assert file_stem(draft(period=None, client=None, title="Médiation numérique en QPV")) == (
        "mediation-numerique-qpv"
    )
    # no title nor client: named from the page's text, marked TODO, never "mission-01"
    text_only = draft(period=None, client=None, title=None)
    assert file_stem(text_only) == "todo-premier-paragraphe-second"
    assert file_stem(draft(period=2020, client=None, title=None)) == (
        "todo-2020-premier-paragraphe-second"
    )
    nothing = draft(period=None, client=None, title=None, context=None, approach=None)
    assert file_stem(nothing) == "todo-01"


def test_file_stems_are_short_and_unique() -> None:
    long_title = "Un titre " + " ".join(f"mot{i}" for i in range(40))
    assert len(file_stem(draft(title=long_title))) <= 60
    same = [draft(), draft(), draft()]
    assert file_stems(same) == [
        "2019-valenciennes-reconversion-passage-paix",
        "2019-valenciennes-reconversion-passage-paix-2",
        "2019-valenciennes-reconversion-passage-paix-3",
    ]


def test_slug_folds_accents_and_ligatures() -> None:
    assert slug("Œuvre d'Été à l'Île") == "oeuvre-ete-ile"


def test_file_stems_follow_the_librarys_scheme() -> None:
    # year, the client as said in short, three words of the title: the demo's own ids
    assert file_stem(
        draft(
            title="Feuille de route tiers-lieu numérique",
            client="Communauté de communes de la Haute-Somme",
            period="2019",
        )
    ) == ("2019-cc-haute-somme-feuille-route-tiers-lieu")
    assert file_stem(
        draft(title="Co-design avec les usagers", client="EPSM Lille Métropole", period="2019")
    ) == ("2019-epsm-lille-metropole-co-design-usagers")
    assert file_stem(draft(client="Ville de Valenciennes", period="2021")) == (
        "2021-valenciennes-reconversion-passage-paix"
    )
    assert file_stem(draft(client="Commune d'Ennevelin", period="2022")).startswith(
        "2022-ennevelin-"
    )


def test_file_stems_are_capped_at_a_word() -> None:
    stem = file_stem(
        draft(
            client="Établissement public territorial Grand-Orly Seine-Bièvre-Val-de-Marne",
            title="Anticonstitutionnellement-interminable-programmation-participative",
        )
    )
    assert len(stem) <= 60 and not stem.endswith("-") and re.fullmatch(r"[a-z0-9-]+", stem)
    assert stem.startswith("2019-ept-grand-orly")
