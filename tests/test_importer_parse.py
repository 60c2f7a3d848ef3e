"""Cutting portfolio text into mission drafts: every layout variant, and no guessing."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refsheets.errors import RefsheetsError
from refsheets.importer.extract import Line, clean_text, extract_lines
from refsheets.importer.parse import Draft, parse_portfolio
from refsheets.library import load_library
from refsheets.model import Budget, Entity, Period
from tests.conftest import DATA, FIXTURES

LIBRARY = load_library(DATA)
ENTITIES = LIBRARY.entities
IMPORT = FIXTURES / "import"


def parse(text: str, entities: dict[str, Entity] | None = ENTITIES) -> list[Draft]:
    """Drafts from portfolio text given inline."""
    lines = [Line(clean_text(row), number) for number, row in enumerate(text.split("\n"), 1)]
    return parse_portfolio(lines, source=Path("inline.txt"), entities=entities)


def parse_file(path: Path) -> list[Draft]:
    return parse_portfolio(extract_lines(path), source=path, entities=ENTITIES)


PAGE = """Ville de Lens

{years}

Un titre

Contexte

Un contexte.

Réalisations

- Un atelier

{amount}
de budget

POP Up

popupequipe@pop.eu.com
"""


def page(years: str = "2021", amount: str = "1 000 € HT") -> Draft:
    (draft,) = parse(PAGE.format(years=years, amount=amount))
    return draft


# --------------------------------------------------------------------------- the variants


def test_variants_txt_years_amounts_bullets_and_headers() -> None:
    lille, mel, nord, no_header = parse_file(IMPORT / "variants.txt")
    # Years: en dash, slash, single year; each written as the portfolio writes it.
    assert (lille.period, mel.period, nord.period) == ("2019 – 2020", "2020/2021", 2023)
    # Amounts: no thousands space + TTC; "€HT" glued and "de budget" on the same line;
    # no HT/TTC at all, which is reported, not assumed.
    assert (lille.budget, mel.budget, nord.budget) == ("12400 € TTC", "12 400€ HT", "8 000 €")
    assert "budget basis" in nord.missing and "budget basis" not in lille.missing
    # Bullets: •, numbers, hyphens.
    assert lille.deliverables == ["3 ateliers de conception", "1 plan des jardins"]
    assert mel.deliverables == ["Enquête auprès de 200 usagers", "Note de synthèse"]
    assert nord.deliverables == ["Cartographie des acteurs", "Atelier de lancement"]
    # A header in one block: client, then a title the layout wrapped over two lines.
    assert (mel.client, mel.title) == (
        "Métropole Européenne de Lille",
        "Étude des usages de la halle gourmande du centre-ville",
    )
    # Tags as written, mixed case included; a mission without tags says so.
    assert lille.tags == ["Tiers-Lieux", "CoDesign", "Habitants"]
    assert mel.tags == [] and "tags" in mel.missing
    # No header at all: nothing made up.
    assert (no_header.title, no_header.client, no_header.period) == (None, None, None)
    assert {"title", "client", "period", "budget", "tags"} <= set(no_header.missing)
    assert no_header.context == "Une association de quartier souhaite créer un café associatif."
    assert no_header.entity == "pop-up"  # from its own footer


def test_mixed_case_tags_resolve_through_the_taxonomy() -> None:
    lille = parse_file(IMPORT / "variants.txt")[0]
    resolved = [LIBRARY.taxonomy.resolve(tag) for tag in lille.tags]
    assert [tag.key if tag else None for tag in resolved] == [
        "tiers-lieu",
        "co-conception",
        "habitants",
    ]


def test_variants_txt_brands_partners_and_client_kinds() -> None:
    lille, mel, nord, _ = parse_file(IMPORT / "variants.txt")
    assert (lille.entity, mel.entity, nord.entity) == ("pop-up", "pop-cafe", "pop-up")
    # "En groupement avec l'Atelier des Possibles" in the text: a co-contractor.
    assert nord.partners == [("Atelier des Possibles", "co-contractor")]
    assert lille.partners == [] and mel.partners == []
    # The kind is set only when the client's name says it (Ville, Métropole, Département).
    assert (lille.client_kind, mel.client_kind, nord.client_kind) == ("public",) * 3
    assert lille.client_location == "Lille" and mel.client_location is None


def test_variants_md_markdown_is_read_as_plain_text() -> None:
    place, centre = parse_file(IMPORT / "variants.md")
    assert (place.client, place.period, place.title) == (
        "Commune de Saint-Amand",
        "2018 - 2019",
        "Refaire la place du marché",
    )
    assert place.context == "La commune veut repenser sa place du marché avec ses habitants."
    assert place.approach == "Une démarche en trois temps :\n\n1. écouter\n2. proposer\n3. tester"
    assert place.deliverables == ["Diagnostic en marchant", "Atelier de co-conception"]
    assert place.budget == "25 000 € HT"
    # "POP Up — e-mail" on one line; a Markdown link whose name starts with "La".
    assert place.entity == "pop-up"
    assert place.partners == [("La Fabrique des Communs", None)]
    # After the `---` page break: the next page's header, not a caption of the first.
    assert (centre.client, centre.period, centre.title) == (
        "Centre social Les Oliviers",
        2024,
        "Un tiers-lieu dans le centre social",
    )
    assert centre.client_kind is None and "client kind" in centre.missing
    assert place.captions == [] and centre.captions == []


def test_the_portfolio_pages_header_orders_footers_and_captions() -> None:
    drafts = parse_file(FIXTURES / "portfolio.txt")
    assert len(drafts) == 8
    by_title = {d.title: d for d in drafts}
    epsm = by_title["Co-design avec les usagers"]  # title before the years
    assert (epsm.client, epsm.period) == ("EPSM Lille Métropole", 2019)
    assert epsm.captions == [
        "Atelier n°2 : immersion, identification des irritants et documentation"
    ]
    peronne = by_title["Animation et développement du tiers lieu numérique de Péronne"]
    # Its footer shows both brands; the text says "POP Café a été retenu".
    assert peronne.entity == "pop-cafe"
    bourgogne = by_title["Village du futur – Réinventer les ruralités !"]
    assert bourgogne.partners == [("Stratéact Dialogue", "co-contractor")]  # a Markdown link
    havelinghen = by_title["Accompagner l'émergence d'un tiers-lieu"]
    # Bold Markdown, the name wrapped onto the next line, the article dropped.
    assert havelinghen.partners == [("Compagnie des Tiers-lieux Hauts de France", None)]
    anzin = by_title["Médiation numérique et solidarité post-COVID en QPV"]
    assert anzin.client is None and anzin.period is None
    assert anzin.tags == ["méditation", "numérique", "solidarité", "quartier prioritaire"]
    (vilogia,) = [d for d in drafts if d.title is None]
    assert vilogia.client is None and vilogia.budget == "28 250€ HT"
    assert vilogia.captions == []  # the caption above its page belongs to the EPSM page


# --------------------------------------------------------------------------- page breaks
# `---` is a page break; these pages do not hold one mission each: the text runs on.

FIRST_MISSION = """Ville de Lens

2021

Un premier titre

Contexte

Un contexte.

Réalisations

- Un atelier

1 000 € HT
de budget

POP Up

popupequipe@pop.eu.com
"""

SECOND_BODY = """
Contexte

La commune veut un tiers-lieu.

Réalisations

- Un diagnostic
"""


def test_a_header_above_a_page_break_opens_the_next_mission_not_captions() -> None:
    first, second = parse(
        FIRST_MISSION + "\nVille de Douai\n\n2022\n\nUn second titre\n---\n" + SECOND_BODY
    )
    assert first.captions == []
    assert (second.client, second.period, second.title) == (
        "Ville de Douai",
        2022,
        "Un second titre",
    )


def test_a_caption_above_a_page_break_stays_with_its_page() -> None:
    first, second = parse(
        FIRST_MISSION
        + "\nAtelier n°1 : les habitants dessinent le lieu\n---\n"
        + "Ville de Douai\n\n2022\n\nUn second titre\n"
        + SECOND_BODY
    )
    assert first.captions == ["Atelier n°1 : les habitants dessinent le lieu"]
    assert (second.client, second.title) == ("Ville de Douai", "Un second titre")


def test_a_header_cut_by_a_page_break_before_its_years() -> None:
    first, second = parse(
        FIRST_MISSION + "\nVille de Douai\n---\n2022\n\nUn second titre\n" + SECOND_BODY
    )
    assert first.captions == []
    assert (second.client, second.period, second.title) == (
        "Ville de Douai",
        2022,
        "Un second titre",
    )


def test_a_partner_name_cut_by_a_page_break() -> None:
    first, second = parse(
        FIRST_MISSION
        + "\navec la Compagnie des Tiers-lieux\n---\nHauts de France\n\n"
        + "Ville de Douai\n\n2022\n\nUn second titre\n"
        + SECOND_BODY
    )
    assert first.partners == [("Compagnie des Tiers-lieux Hauts de France", None)]
    assert (second.client, second.title) == ("Ville de Douai", "Un second titre")
    assert second.remarks == ["client kind public: 'ville' in the client's name"]


def test_a_paragraph_a_list_and_tags_cut_by_page_breaks() -> None:
    (draft,) = parse(
        "Ville de Lens\n\n2021\n\nUn titre\n\nContexte\n\nLa ville veut\n---\n"
        "rouvrir sa halle.\n\nRéalisations\n\n- Un atelier\n---\n- Un plan\n\n"
        "Expertises et thématiques\n---\n#tiers-lieu #co-\nconception\n\n1 000 € HT\n"
        "de budget\n\nPOP Up\n\npopupequipe@pop.eu.com\n"
    )
    assert draft.context == "La ville veut rouvrir sa halle."
    assert draft.deliverables == ["Un atelier", "Un plan"]
    assert draft.tags == ["tiers-lieu", "co-conception"]
    assert draft.budget == "1 000 € HT" and draft.captions == []


def test_a_title_the_layout_wrapped_after_a_preposition() -> None:
    (draft,) = parse(
        PAGE.format(years="2021", amount="1 000 € HT").replace(
            "Un titre", "Animation du tiers-lieu de\nPéronne"
        )
    )
    assert (draft.client, draft.title) == ("Ville de Lens", "Animation du tiers-lieu de Péronne")


# --------------------------------------------------------------------------- facts, not guesses


@pytest.mark.parametrize(
    ("years", "period"),
    [
        ("2019 - 2020", "2019 - 2020"),
        ("2019-2020", "2019-2020"),
        ("2019 – 2020", "2019 – 2020"),
        ("2021/2022", "2021/2022"),
        ("2022", 2022),
        ("de 2019 à 2020", "de 2019 à 2020"),  # the library reads it as written
        ("mars 2019 – juin 2020", "2019-03 - 2020-06"),
        ("De janv. 2021 à déc. 2021", "2021-01 - 2021-12"),
        ("03/2019 - 06/2020", "2019-03 - 2020-06"),
        ("Septembre 2023", "2023-09"),
    ],
)
def test_years_forms(years: str, period: str | int) -> None:
    draft = page(years=years)
    assert draft.period == period
    Period.model_validate(draft.period)


def test_reversed_years_are_reported_not_written() -> None:
    draft = page(years="2022 - 2019")
    assert draft.period is None
    assert "end comes before the start" in draft.missing["period"]


@pytest.mark.parametrize(
    ("amount", "budget"),
    [
        ("20 000 € HT", "20 000 € HT"),
        ("20000€ HT", "20000€ HT"),
        ("20.000 € TTC", "20.000 € TTC"),
        ("20 000 euros HT", "20 000 euros HT"),
        ("20 k€ HT", "20 000 € HT"),
        ("20 000 € H.T.", "20 000 € H.T."),  # read as written too
        ("Budget : 20 000 € HT", "20 000 € HT"),
        ("Montant : 20 000 € HT", "20 000 € HT"),
    ],
)
def test_amount_forms(amount: str, budget: str) -> None:
    draft = page(amount=amount)
    assert draft.budget == budget
    assert Budget.model_validate(draft.budget).amount == 20000


def test_an_amount_with_cents_is_reported_not_rounded() -> None:
    draft = page(amount="1 250,50 € HT")
    assert draft.budget is None
    assert "has cents" in draft.missing["budget"]


@given(
    amount=st.integers(min_value=0, max_value=9_999_999),
    spaced=st.booleans(),
    glued=st.booleans(),
    basis=st.sampled_from(["HT", "TTC"]),
)
def test_any_whole_amount_reads_back_the_same(
    amount: int, spaced: bool, glued: bool, basis: str
) -> None:
    number = f"{amount:,}".replace(",", " ") if spaced else str(amount)
    text = f"{number}{'' if glued else ' '}€ {basis}"
    budget = Budget.model_validate(page(amount=text).budget)
    assert (budget.amount, budget.basis) == (amount, basis)


@given(
    start=st.integers(1990, 2030),
    length=st.integers(0, 5),
    sep=st.sampled_from([" - ", "-", " – ", "/", "–"]),
)
def test_any_year_range_reads_back_the_same(start: int, length: int, sep: str) -> None:
    period = Period.model_validate(page(years=f"{start}{sep}{start + length}").period)
    assert (period.start and period.start.year, period.end and period.end.year) == (
        start,
        start + length,
    )


def test_without_entities_a_brand_becomes_its_slug() -> None:
    (draft,) = parse(PAGE.format(years="2020", amount="1 € HT"), entities=None)
    assert draft.entity == "pop-up"


def test_an_unknown_brand_is_reported() -> None:
    text = PAGE.format(years="2020", amount="1 € HT").replace(
        "POP Up\n\npopupequipe@pop.eu.com", "POP Lab\n\nbonjour@poplab.fr"
    )
    (draft,) = parse(text)
    assert draft.entity is None
    assert "'POP Lab' is not in entities.yaml" in draft.missing["entity"]


def test_several_brands_and_a_silent_text_leave_the_entity_missing() -> None:
    text = PAGE.format(years="2020", amount="1 € HT") + "\nPOP Café\n\ncontact@pop.cafe\n"
    (draft,) = parse(text)
    assert draft.entity is None
    assert "several brands (POP Up, POP Café)" in draft.missing["entity"]


def test_a_title_starting_with_avec_is_not_a_partner() -> None:
    text = PAGE.format(years="2020", amount="1 € HT")
    text += "\nVille de Douai\n\n2021\n\nAvec les habitants, réinventer la place\n\nContexte\n\nx\n"
    first, second = parse(text)
    assert first.partners == []
    assert (second.client, second.title) == (
        "Ville de Douai",
        "Avec les habitants, réinventer la place",
    )


def test_a_client_name_that_does_not_say_public_leaves_the_kind_missing() -> None:
    (draft,) = parse(PAGE.format(years="2020", amount="1 € HT").replace("Ville de Lens", "Vilogia"))
    assert draft.client == "Vilogia" and draft.client_kind is None
    assert "public or private" in draft.missing["client kind"]


def test_text_without_headings_is_not_a_portfolio() -> None:
    with pytest.raises(RefsheetsError, match=r"found no mission in .*no-mission\.txt"):
        parse_file(IMPORT / "no-mission.txt")


def test_a_heading_with_nothing_around_it_is_refused() -> None:
    with pytest.raises(RefsheetsError, match="does not read as a portfolio") as caught:
        parse("Notes de la réunion\n\nContexte\n")
    assert "mission 1 (line 3) has the heading 'Contexte'" in caught.value.diagnostics[0].message


_PIECES = [
    "",
    "",
    "Contexte",
    "Partis pris",
    "Réalisations",
    "Expertises et thématiques",
    "- un atelier",
    "• une étude",
    "2. un plan",
    "#tiers-lieu #Co-Design",
    "20 000 € HT",
    "de budget",
    "2019 - 2020",
    "2022",
    "POP Up",
    "popupequipe@pop.eu.com",
    "EXPLOREZ !",
    "avec la Compagnie des Tiers-lieux",
    "Hauts de France",
    "Ville de Lens",
    "Un texte qui raconte la mission : avec des deux-points.",
    "---",
    "\f",
]


@given(st.lists(st.sampled_from(_PIECES), max_size=60))
def test_any_arrangement_of_portfolio_lines_parses_or_is_refused(rows: list[str]) -> None:
    from refsheets.importer import _validate
    from refsheets.importer.write import render_mission

    lines = [Line(row if row == "\f" else clean_text(row), n) for n, row in enumerate(rows, 1)]
    try:
        drafts = parse_portfolio(lines, source=Path("fuzz.txt"), entities=ENTITIES)
    except RefsheetsError:
        return
    _validate(drafts, Path("fuzz.txt"))
    for draft in drafts:
        assert draft.context or draft.approach or draft.deliverables
        render_mission(draft)  # checks that the file reads back as the draft


def test_a_place_and_a_year_is_not_a_date() -> None:
    text = PAGE.format(years="2021", amount="1 € HT").replace("Un titre", "Lille 2004")
    (draft,) = parse(text)
    assert (draft.title, draft.period) == ("Lille 2004", 2021)


def test_tags_without_hashes_are_split_on_commas() -> None:
    text = PAGE.format(years="2021", amount="1 € HT").replace(
        "- Un atelier\n",
        "- Un atelier\n\nExpertises et thématiques\n\nTiers-lieu, Ruralité ; QPV\n",
    )
    (draft,) = parse(text)
    assert draft.tags == ["Tiers-lieu", "Ruralité", "QPV"]
    assert draft.budget == "1 € HT"


def test_a_page_without_amount_or_footer_does_not_swallow_the_next_header() -> None:
    text = (
        "Ville de Lens\n\n2020\n\nPremier titre\n\nContexte\n\nUn contexte.\n\n"
        "Partis pris\n\nUne approche.\n\n"
        "Ville de Douai\n\n2021\n\nSecond titre\n\nContexte\n\nAutre contexte.\n"
    )
    first, second = parse(text)
    assert first.approach == "Une approche."
    assert (second.client, second.period, second.title) == ("Ville de Douai", 2021, "Second titre")
