"""French rule extraction: the many ways RCs and notices word their reference rules."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refsheets.notice.rules import (
    Findings,
    extract_rules,
    parse_number,
    split_sentences,
)

DEADLINE = dt.date(2026, 4, 17)


def rules_of(text: str, where: str = "rc.txt, line 1") -> Findings:
    return extract_rules(split_sentences([(text, where)]), deadline=DEADLINE)


def values(findings: Findings) -> dict[str, object]:
    found: dict[str, object] = {}
    for rule in findings.rules:
        if isinstance(rule.value, tuple):
            previous = found.get(rule.key, ())
            assert isinstance(previous, tuple)
            found[rule.key] = tuple(dict.fromkeys((*previous, *rule.value)))
        else:
            found[rule.key] = rule.value
    return found


# (sentence, the rules it states) — wordings from French RCs and notices.
SENTENCES: list[tuple[str, dict[str, object]]] = [
    (
        "Le candidat présente au moins trois références de prestations similaires exécutées "
        "au cours des trois dernières années.",
        {"min_references": 3, "years": 3},
    ),
    (
        "Les références devront être d'un montant minimum de 40 000 € HT.",
        {"min_amount": 40000},
    ),
    (
        "Références de moins de 5 ans, d'au moins 250.000,00 € HTVA.",
        {"years": 5, "min_amount": 250000},
    ),
    (
        "Trois références maximum seront présentées, réalisées depuis 2021.",
        {"max_references": 3, "years": 5},
    ),
    (
        "Liste des principales livraisons effectuées ou des principaux services fournis au "
        "cours des trois dernières années, indiquant le montant, la date et le destinataire "
        "public ou privé.",
        {"years": 3, "required_facts": ("amount", "dates", "client_kind")},
    ),
    (
        "Les références doivent être contrôlables, c'est à dire comporter au moins la date de "
        "réalisation, le montant du marché, l'identité du client ainsi que ses références "
        "postales et téléphoniques.",
        {"required_facts": ("amount", "dates"), "other_facts": ("client", "coordonnées du client")},
    ),
    (
        "Références exécutées dans les 5 dernières années, avec attestations de bonne "
        "exécution (montant, époque, lieu…).",
        {
            "years": 5,
            "required_facts": ("amount", "dates", "attestation"),
            "other_facts": ("lieu",),
        },
    ),
    (
        "Les références les plus significatives et les plus récentes, sous forme d'une page "
        "de format A4 ou A3 maximum.",
        {"page_limit": 1},
    ),
    (
        "Pour un montant d'au moins 250.000,00 € HTVA sur les 6 dernières années, les "
        "références de services similaires.",
        {"min_amount": 250000, "years": 6},
    ),
    (
        "Le candidat fournira entre 3 et 5 références de missions similaires pour des "
        "acheteurs publics.",
        {"min_references": 3, "max_references": 5, "client_kind": "public"},
    ),
    ("Une page A4 maximum par référence.", {"page_limit": 1}),
    (
        "Le candidat joindra deux à quatre références d'un montant supérieur ou égal à "
        "quarante mille euros hors taxes.",
        {"min_references": 2, "max_references": 4, "min_amount": 40000},
    ),
    (
        "Références de prestations analogues datant de moins de trois ans, accompagnées de "
        "certificats de capacité.",
        {"years": 3, "required_facts": ("attestation",)},
    ),
    (
        "Au minimum 2 références de missions comparables d'un montant de 15 k€ HT minimum.",
        {"min_references": 2, "min_amount": 15000},
    ),
    ("Le nombre de références est limité à cinq références.", {"max_references": 5}),
    (
        "REFERENCES POUR DES PROJETS SIMILAIRES AU COURS DES 3 DERNIERES ANNEES, D'UN MONTANT "
        "SUPERIEUR A 1,5 M€.",
        {"years": 3, "min_amount": 1500000},
    ),
    (
        "Le candidat produira un maximum de quatre (4) références de moins de cinq ans.",
        {"max_references": 4, "years": 5},
    ),
    (
        "Les références présentées (au plus 3) porteront sur des missions similaires "
        "réalisées pour des maîtres d'ouvrage publics depuis le 1er janvier 2022.",
        {"max_references": 3, "client_kind": "public", "years": 4},
    ),
    (
        "Références d'un montant supérieur à 20 000 euros, au nombre minimum de deux "
        "références, en indiquant pour chacune le montant, l'année de réalisation et le "
        "client.",
        {"min_amount": 20000, "min_references": 2, "required_facts": ("amount", "dates")},
    ),
    (
        "Chaque référence tient sur deux pages maximum et précise le montant et la date.",
        {"page_limit": 2, "required_facts": ("amount", "dates")},
    ),
    (
        "Une liste d'au moins 2 et au plus 4 références de moins de 3 ans d'un montant "
        "minimal de deux cent cinquante mille euros.",
        {"min_references": 2, "max_references": 4, "years": 3, "min_amount": 250000},
    ),
    (
        "Le candidat présente des références de prestations de même nature réalisées durant "
        "les cinq dernières années pour un montant minimum de 100.000 € TTC.",
        {"years": 5, "min_amount": 100000},
    ),
    # What is not about references gives nothing.
    ("Chiffre d'affaires des trois derniers exercices d'au moins 100 000 €.", {}),
    ("Le mémoire technique ne dépassera pas 20 pages maximum.", {}),
    ("Le marché est conclu pour une durée de trois ans à compter de sa notification.", {}),
]


@pytest.mark.parametrize(("sentence", "expected"), SENTENCES)
def test_rules_of_a_sentence(sentence: str, expected: dict[str, object]) -> None:
    findings = rules_of(sentence)
    assert values(findings) == expected
    for rule in findings.rules:
        assert rule.quote == " ".join(sentence.split())
        assert rule.where == "rc.txt, line 1"


def test_at_least_twenty_reference_wordings() -> None:
    assert sum(1 for _, expected in SENTENCES if expected) >= 20


def test_a_bare_count_is_left_for_a_human() -> None:
    findings = rules_of("Le candidat présentera trois références.")
    assert findings.rules == []
    assert [(rule.key, rule.value) for rule in findings.vague] == [("min_references", 3)]
    assert "au moins" in (findings.vague[0].note or "")


def test_attestations_with_an_alternative_are_not_required() -> None:
    findings = rules_of(
        "Les références seront accompagnées d'attestations du destinataire ou, à défaut, "
        "d'une déclaration de l'opérateur économique."
    )
    assert "required_facts" not in values(findings)
    assert [rule.value for rule in findings.vague] == [("attestation",)]


def test_since_a_year_without_a_deadline_is_left_for_a_human() -> None:
    sentences = split_sentences([("Références de missions similaires depuis 2021.", "rc, l. 1")])
    findings = extract_rules(sentences, deadline=None)
    assert findings.rules == []
    assert findings.vague[0].value == "since 2021"


def test_since_a_year_says_how_the_window_was_counted() -> None:
    findings = rules_of("Références de missions similaires réalisées depuis 2021.")
    (rule,) = findings.rules
    assert rule.value == 5
    assert rule.note is not None and "2026 - 2021" in rule.note


def test_a_sentence_across_lines_and_its_first_line() -> None:
    lines = [
        ("Article 5 – Références", "rc.txt, line 3"),
        ("", "rc.txt, line 4"),
        ("Le candidat présente au moins trois réfé-", "rc.txt, line 5"),
        ("rences de prestations similaires exécutées au cours", "rc.txt, line 6"),
        ("des cinq dernières années. Une page A4 maximum", "rc.txt, line 7"),
        ("par référence.", "rc.txt, line 8"),
    ]
    findings = extract_rules(split_sentences(lines))
    assert {(r.key, r.value, r.where) for r in findings.rules} == {
        ("min_references", 3, "rc.txt, line 5"),
        ("years", 5, "rc.txt, line 5"),
        ("page_limit", 1, "rc.txt, line 7"),
    }
    assert findings.rules[0].quote.startswith("Le candidat présente au moins trois réfé-rences")


def test_facts_listed_in_a_later_sentence_of_the_same_paragraph() -> None:
    lines = [
        ("1) Un dossier de références exécutées dans les cinq dernières années.", "avis, BT-750"),
        ("Devront notamment être précisés: la date, le montant et le lieu.", "avis, BT-750"),
    ]
    found = values(extract_rules(split_sentences(lines)))
    assert found == {"years": 5, "required_facts": ("amount", "dates"), "other_facts": ("lieu",)}


def test_a_financial_paragraph_gives_no_rule() -> None:
    lines = [
        ("Le chiffre d'affaires global réalisé au cours des trois derniers exercices.", "x"),
        ("Devront être précisés: la date et le montant.", "x"),
    ]
    assert extract_rules(split_sentences(lines)).rules == []


WORDS = {
    1: "une", 2: "deux", 3: "trois", 4: "quatre", 5: "cinq", 6: "six", 7: "sept", 8: "huit",
    9: "neuf", 10: "dix", 12: "douze", 15: "quinze", 20: "vingt",
}  # fmt: skip


@given(
    n=st.sampled_from(sorted(WORDS)),
    written=st.sampled_from(["digits", "words", "both"]),
    accents=st.booleans(),
)
def test_years_in_words_or_digits_with_or_without_accents(
    n: int, written: str, accents: bool
) -> None:
    number = {"digits": str(n), "words": WORDS[n], "both": f"{WORDS[n]} ({n})"}[written]
    sentence = f"Références exécutées au cours des {number} dernières années."
    if not accents:
        sentence = sentence.replace("é", "e").replace("è", "e")
    assert values(rules_of(sentence)) == {"years": n}


@given(
    amount=st.integers(min_value=1, max_value=999).map(lambda k: k * 1000),
    form=st.sampled_from(["space", "nbsp", "dot", "plain", "cents", "k"]),
    currency=st.sampled_from(["€", "euros", "EUR", "€ HT", "€ HTVA", "euros hors taxes"]),
    cue=st.sampled_from(
        ["d'un montant minimum de", "d'au moins", "d'un montant supérieur ou égal à"]
    ),
)
def test_minimum_amounts_in_every_written_form(
    amount: int, form: str, currency: str, cue: str
) -> None:
    thousands = amount // 1000
    written = {
        "space": f"{thousands} 000",
        "nbsp": f"{thousands}\u202f000",
        "dot": f"{thousands}.000",
        "plain": str(amount),
        "cents": f"{thousands}.000,00",
        "k": f"{thousands} k",
    }[form]
    if form == "k" and not currency.startswith("€"):
        currency = "€"
    sentence = f"Références de prestations similaires {cue} {written} {currency}."
    assert values(rules_of(sentence)) == {"min_amount": amount}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("trois", 3),
        ("vingt-cinq", 25),
        ("quatre-vingts", 80),
        ("deux cent cinquante mille", 250000),
        ("un million", 1000000),
        ("250.000,00", 250000),
        ("1,5", 1.5),
        ("cinq (5)", 5),
        ("40 000", 40000),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert parse_number(text) == value


@given(
    case=st.sampled_from([case for case in SENTENCES if case[1]]),
    breaks=st.lists(st.integers(min_value=1, max_value=60), max_size=6),
)
def test_line_breaks_inside_a_sentence_change_nothing(
    case: tuple[str, dict[str, object]], breaks: list[int]
) -> None:
    sentence, expected = case
    words = sentence.split()
    cuts = sorted({b for b in breaks if b < len(words)})
    lines, start = [], 0
    for number, cut in enumerate([*cuts, len(words)], start=1):
        lines.append((" ".join(words[start:cut]), f"rc.txt, line {number}"))
        start = cut
    findings = extract_rules(split_sentences(lines), deadline=DEADLINE)
    assert values(findings) == expected
    assert {rule.where for rule in findings.rules} == {"rc.txt, line 1"}
    assert {rule.quote for rule in findings.rules} == {" ".join(words)}
