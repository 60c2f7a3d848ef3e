"""The card object: what every output prints, formatted, and nothing private."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from refsheets.card import LABELS, Block, build_card, split_blocks
from refsheets.library import Library, load_library
from refsheets.typography import NBSP, NNBSP
from tests.conftest import DATA


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(DATA)


def append(library_root: Path, mission_id: str, text: str) -> Library:
    path = library_root / "missions" / f"{mission_id}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")
    library = load_library(library_root)
    assert mission_id in library.missions, [d.format() for d in library.errors]
    return library


def test_every_mission_gives_a_card_with_its_facts(library: Library) -> None:
    for mission_id, mission in library:
        card = build_card(library, mission_id)
        assert card.id == mission_id and card.lang == "fr"
        assert card.title and card.client
        assert card.brand.key == mission.entity
        assert card.brand.name == library.entities[mission.entity or ""].name
        assert len(card.deliverables) == len(mission.deliverables)
        if mission.budget:
            assert card.amount and card.amount.endswith(f"€{NBSP}HT")


def test_the_amount_is_grouped_with_narrow_no_break_spaces(library: Library) -> None:
    card = build_card(library, "2021-cc-haute-somme-tiers-lieu-peronne")
    assert card.amount == f"213{NNBSP}000{NBSP}€{NBSP}HT"


def test_partners_say_groupement_only_when_a_role_says_so(library: Library) -> None:
    grouped = build_card(library, "2021-region-bourgogne-village-du-futur")
    assert grouped.partners == "En groupement avec Stratéact Dialogue (cotraitant)"
    plain = build_card(library, "2021-valenciennes-passage-de-la-paix")
    assert plain.partners == "Avec Compagnie des Tiers-lieux Hauts de France"
    english = build_card(library, "2021-region-bourgogne-village-du-futur", lang="en")
    assert english.partners == "In a consortium with Stratéact Dialogue (co-contractor)"


def test_english_changes_the_labels_not_the_text(library: Library) -> None:
    fr = build_card(library, "vilogia-lieu-innovation-habitat")
    en = build_card(library, "vilogia-lieu-innovation-habitat", lang="en")
    assert en.labels is LABELS["en"] and en.labels.context == "Context"
    assert en.title.replace("’", "'") == fr.title.replace("’", "'")
    assert en.context[0].items[0].split()[:5] == fr.context[0].items[0].split()[:5]


def test_tags_are_the_taxonomy_labels_without_duplicates(library: Library) -> None:
    for mission_id, _ in library:
        card = build_card(library, mission_id)
        assert len(set(card.tags)) == len(card.tags)


def test_private_fields_never_reach_the_card(library_copy: Path) -> None:
    import pikepdf

    with pikepdf.new() as pdf:  # a real PDF: the library checks attestations when it loads
        pdf.add_blank_page()
        pdf.save(library_copy / "attestation-anzin.pdf")
    library = append(
        library_copy,
        "anzin-mediation-numerique-qpv",
        "notes: NOTE-SECRETE\ncontact:\n  name: Jeanne Referente\n  phone: '0600000000'\n"
        "attestation: attestation-anzin.pdf\n",
    )
    card = build_card(library, "anzin-mediation-numerique-qpv")
    printed = repr(dataclasses.asdict(card))
    for secret in ("NOTE-SECRETE", "Referente", "0600000000", "attestation"):
        assert secret not in printed


def test_an_anonymous_client_shows_its_label_and_no_location(library_copy: Path) -> None:
    path = library_copy / "missions" / "2021-cc-haute-somme-tiers-lieu-peronne.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "  kind: public\n", "  kind: public\n  anonymous_label: Communauté de communes (80)\n", 1
    )
    path.write_text(text + "disclosure: anonymous\n", encoding="utf-8")
    library = load_library(library_copy)
    card = build_card(library, "2021-cc-haute-somme-tiers-lieu-peronne")
    assert card.client == "Communauté de communes (80)"
    assert card.location is None
    assert "CC Haute-Somme" not in card.client


def test_paragraphs_and_numbered_lists_are_kept() -> None:
    text = "Premier paragraphe\nsur deux lignes.\n\n1. un\n2. deux\n\n- a\n- b"
    blocks = split_blocks(text, lambda s: s)  # type: ignore[arg-type]
    assert blocks == (
        Block("paragraph", ("Premier paragraphe sur deux lignes.",)),
        Block("ordered", ("un", "deux")),
        Block("bullets", ("a", "b")),
    )


def test_french_typography_is_applied_to_the_text(library: Library) -> None:
    card = build_card(library, "2019-epsm-lille-metropole-co-design-usagers")
    context = card.context[0].items[0]
    assert f"«{NNBSP}Proof of Concept{NNBSP}»" in context
    assert f"l’accueil{NNBSP}?" in context or f"l’EPSM{NNBSP}?" in context
    assert "'" not in context
    assert card.deliverables[0].startswith(f"2{NBSP}ateliers")
