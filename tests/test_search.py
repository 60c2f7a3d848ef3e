"""Free-text retrieval: French analysis (folding, stop words, stemming) and BM25F scoring."""

from __future__ import annotations

import itertools
import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refsheets.search import (
    K1,
    PAIR_WEIGHT,
    B,
    Document,
    DocumentTerms,
    Postings,
    PostingsSearch,
    QueryTerms,
    SearchIndex,
    add_postings,
    analyze,
    document_length,
    document_of,
    document_terms,
    document_words,
    fold_text,
    fold_word,
    index_terms,
    pair,
    query_names,
    score,
    words,
)
from refsheets.taxonomy import fold
from tests.conftest import FIXTURES


def test_words_fold_accents_and_drop_stop_words_and_elisions() -> None:
    assert words("L'accueil d'un Établissement de santé, et des usagers") == [
        "accueil",
        "etablissement",
        "sante",
        "usagers",
    ]


def test_words_drop_tender_boilerplate_and_numbers() -> None:
    assert words("Marché relatif à 3 ateliers : objet de la consultation") == ["ateliers"]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Médiation", "mediation"),
        ("tiers-lieux", "tiers lieu"),
        ("ateliers", "atelier"),
        ("programmation", "programmations"),
        ("économique", "ECONOMIQUES"),
        ("intercommunal", "intercommunale"),
        ("cœur", "coeur"),
    ],
)
def test_analysis_meets_variants_of_a_word(one: str, other: str) -> None:
    assert analyze(one) == analyze(other)
    assert analyze(one)


def test_distinct_words_stay_distinct() -> None:
    assert analyze("habitat") != analyze("habitants")
    assert analyze("usages") != analyze("usagers")


def test_pairs_follow_the_terms_of_one_text() -> None:
    terms = index_terms("modèle économique pérenne")
    assert terms == [
        *analyze("modèle économique pérenne"),
        pair("model", "econom"),
        pair("econom", "peren"),
    ]


def test_a_stop_word_parts_a_pair() -> None:
    assert index_terms("programmation et modèle") == analyze("programmation modèle")
    assert QueryTerms.parse("programmation et le modèle économique").pairs == (("model", "econom"),)


def test_the_separator_word_is_never_a_query_term() -> None:
    assert QueryTerms.parse("\u01c2 | \u01c2").terms == ()
    index = SearchIndex.build({"a": document_of(title="x", deliverables=["un", "deux"])})
    assert index.search("\u01c2") == {}


def test_query_keeps_words_as_typed_counts_repeats_once_and_weighs_pairs() -> None:
    query = QueryTerms.parse("Médiation numérique, médiation numérique !")
    assert list(query.terms) == analyze("médiation numérique")
    assert query.surface[query.terms[0]] == "médiation"
    names = [pair(*both) for both in query.pairs]
    assert [query.surface[name] for name in names] == [
        "médiation numérique",
        "numérique médiation",
    ]
    assert query.weights == {
        **dict.fromkeys(query.terms, 1.0),
        **dict.fromkeys(names, PAIR_WEIGHT),
    }


_BASES = (
    "différ heur nation gouvern program commun territor act product solid région capac "
    "particip soci économ numér intercommun médiat concert habit coopér stratég aménag "
    "innov nouv travail journ cré usag lieu atel anim cultur jeun emploi access"
).split()
_SUFFIXES = (
    "ence ences ent ance ants euse euses eux ique iques ement ements ation ations ateur "
    "atrices ité ités ive ifs ier ière ières aux al ales abilité icité logie usion ution "
    "issement amment emment ment er ez ons aient é ées ir irent es s x eau eaux elle "
    "ettes enne onnes eil eilles isme istes able ibles ise iser isations"
).split()


def test_every_word_is_found_by_a_query_of_itself() -> None:
    # The search compares terms, never beginnings of words: any word with a term is found,
    # alone and beside another word (its pair too).
    text = (FIXTURES / "portfolio.txt").read_text(encoding="utf-8")
    vocabulary = {word.casefold() for word in re.findall(r"[^\W_]+", text)}
    vocabulary |= {base + suffix for base in _BASES for suffix in _SUFFIXES}
    checked = 0
    for word in sorted(vocabulary):
        if len(analyze(word)) != 1:
            continue
        checked += 1
        hits = SearchIndex.build({"a": document_of(title=f"{word} {word} jardin")}).search(
            f"{word} {fold_word(word)}"
        )
        assert set(hits) == {"a"}, word
    assert checked > 2000


_LATIN = st.text(
    alphabet=st.sampled_from(list("aàâäbcçdeéèêëfgiîïjlmnoôöœpqrsßtuùûüvwxyÿzAÀÉÈÇŒÆæ -'’0")),
    max_size=40,
)


@given(_LATIN)
def test_fast_folding_agrees_with_the_taxonomy_folding(text: str) -> None:
    assert fold_text(text) == fold(text)


def _doc(title: str = "", context: str = "") -> Document:
    return document_of(title=title, context=context)


def test_a_mission_without_any_query_word_is_no_hit() -> None:
    index = SearchIndex.build(
        {"a": _doc("Médiation numérique en quartier"), "b": _doc("Village rural")}
    )
    hits = index.search("médiations numériques")
    assert set(hits) == {"a"}
    assert hits["a"].score > 0
    assert set(hits["a"].terms) >= set(analyze("médiation numérique"))


def test_a_query_of_stop_words_finds_nothing() -> None:
    index = SearchIndex.build({"a": _doc("Le tiers-lieu de la ville")})
    assert index.search("de la le les des") == {}
    assert SearchIndex.build({}).search("tiers-lieu") == {}


def test_a_rare_word_weighs_more_than_a_common_one() -> None:
    index = SearchIndex.build(
        {
            "a": _doc(context="atelier fablab"),
            "b": _doc(context="atelier village"),
            "c": _doc(context="atelier habitat"),
        }
    )
    assert index.idf(analyze("fablab")[0]) > index.idf(analyze("atelier")[0])
    hits = index.search("atelier fablab")
    assert max(hits, key=lambda d: hits[d].score) == "a"


def test_the_title_outweighs_the_context() -> None:
    index = SearchIndex.build(
        {
            "in-title": _doc(title="Fablab", context="ateliers communs"),
            "in-context": _doc(title="Ateliers", context="fablab communs"),
        }
    )
    hits = index.search("fablab")
    assert hits["in-title"].score > hits["in-context"].score


def test_two_deliverables_do_not_make_a_phrase() -> None:
    index = SearchIndex.build(
        {"a": document_of(title="x", deliverables=["stratégie numérique", "intercommunale"])}
    )
    assert set(index.search("numérique intercommunal")["a"].terms) == set(
        analyze("numérique intercommunal")
    )


def test_saying_the_words_together_beats_saying_them_apart() -> None:
    index = SearchIndex.build(
        {
            "together": _doc(context="stratégie numérique intercommunale et ateliers"),
            "apart": _doc(context="stratégie intercommunale et ateliers numérique"),
        }
    )
    hits = index.search("numérique intercommunal")
    assert hits["together"].score > hits["apart"].score


_WORDS = st.sampled_from(
    "tiers lieu numérique atelier habitants médiation fablab village gouvernance "
    "programmation modèle économique concertation usages de la le".split()
)
_TEXT = st.lists(_WORDS, min_size=0, max_size=12).map(" ".join)


@given(
    st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), _TEXT, max_size=8),
    _TEXT,
)
def test_scores_do_not_depend_on_the_order_documents_are_given(
    texts: dict[str, str], query: str
) -> None:
    forward = SearchIndex.build({k: _doc(context=v) for k, v in texts.items()})
    backward = SearchIndex.build({k: _doc(context=texts[k]) for k in reversed(list(texts))})
    one, two = forward.search(query), backward.search(query)
    assert {k: h.score for k, h in one.items()} == {k: h.score for k, h in two.items()}
    for doc_id, hit in one.items():
        assert hit.score > 0
        assert set(hit.terms) <= set(QueryTerms.parse(query).weights)
        assert set(hit.terms) & set(index_terms(texts[doc_id]))


_VOCABULARY = (
    "tiers lieu lieux Tiers-Lieu numérique numériques NUMÉRIQUE de la d'un médiation "
    "intercommunal programmation . , ; jardin"
).split()
_PHRASE = st.lists(st.sampled_from(_VOCABULARY), max_size=25).map(" ".join)


def _reference_search(documents: dict[str, Document], text: str) -> dict[str, float]:
    """BM25F as the module's notes state it, word by word: the scores `search` must give."""
    query = QueryTerms.parse(text)
    wanted, pairs = set(query.terms), set(query.pairs)
    frequencies: dict[str, dict[str, float]] = {}
    lengths: dict[str, float] = {}
    for doc_id, document in documents.items():
        tf: dict[str, float] = {}
        length = 0.0
        for weight, found in document_words(document):
            marks = []
            for word in found:
                terms = analyze(word)
                length += weight * (terms != ["|"])  # the break between two texts is no word
                marks.append(terms[0] if terms and terms[0] in wanted else None)
            for mark in filter(None, marks):
                tf[mark] = tf.get(mark, 0.0) + weight
            for first, second in itertools.pairwise(marks):
                if first and second and (first, second) in pairs:
                    tf[pair(first, second)] = tf.get(pair(first, second), 0.0) + weight
        lengths[doc_id] = length
        if tf:
            frequencies[doc_id] = tf
    count = len(documents)
    average = (sum(lengths.values()) / count or 1.0) if count else 1.0
    scores = {}
    for doc_id, tf in frequencies.items():
        parts = []
        for name, freq in tf.items():
            df = sum(name in other for other in frequencies.values())
            idf = math.log(1.0 + (count - df + 0.5) / (df + 0.5))
            norm = K1 * (1.0 - B + B * lengths[doc_id] / average)
            parts.append(query.weights[name] * idf * (K1 + 1.0) * freq / (freq + norm))
        scores[doc_id] = math.fsum(parts)
    return scores


@given(
    st.lists(st.tuples(_PHRASE, _PHRASE, st.lists(_PHRASE, max_size=3)), max_size=6),
    _PHRASE,
)
def test_the_search_scores_as_counting_word_by_word(
    texts: list[tuple[str, str, list[str]]], query: str
) -> None:
    # The index counts terms and pairs in strings; word by word must give the same scores.
    documents = {
        f"m{i}": document_of(title=title or "x", context=context, deliverables=deliverables)
        for i, (title, context, deliverables) in enumerate(texts)
    }
    hits = SearchIndex.build(documents).search(query)
    assert {doc_id: hit.score for doc_id, hit in hits.items()} == _reference_search(
        documents, query
    )


@given(
    st.lists(
        st.tuples(_PHRASE, _PHRASE, st.lists(_PHRASE, max_size=3), st.sampled_from("kfg")),
        max_size=8,
    ),
    _PHRASE,
)
def test_the_inverted_lists_find_what_counting_in_the_texts_finds(
    texts: list[tuple[str, str, list[str], str]], query: str
) -> None:
    # Each document kept in the inverted lists (k), read fresh from its text (f), or gone
    # from the library since the lists were written (g): the hits of the library (k and
    # f) are those of a plain index of its documents, to the last bit of every share.
    terms = {
        f"m{i}": mission_terms(title or "x", context, deliverables)
        for i, (title, context, deliverables, _) in enumerate(texts)
    }
    how = {f"m{i}": fate for i, (*_, fate) in enumerate(texts)}
    postings: Postings = {}
    ids: list[str | None] = []
    for doc_id in sorted(terms):
        if how[doc_id] != "f":
            add_postings(postings, len(ids), terms[doc_id])
            ids.append(doc_id if how[doc_id] == "k" else None)
    library = {doc_id: found for doc_id, found in terms.items() if how[doc_id] != "g"}
    inverted = PostingsSearch(
        postings,
        ids,
        {d: document_length(terms[d]) for d in library if how[d] == "k"},
        SearchIndex.from_terms({d: terms[d] for d in library if how[d] == "f"}),
        frozenset(query_names(QueryTerms.parse(query))),
    )
    parsed = QueryTerms.parse(query)
    assert inverted.search(parsed) == SearchIndex.from_terms(library).search(parsed)


def mission_terms(title: str, context: str, deliverables: list[str]) -> DocumentTerms:
    """A document's terms as the library's index keeps them."""
    words = document_words(document_of(title=title, context=context, deliverables=deliverables))
    return document_terms(words)


def test_a_document_both_in_the_lists_and_read_fresh_has_the_shares_of_both() -> None:
    # Not a library's case (a mission is either summarised or read again), but the
    # search's own: the lists' counts join the text's, as one document's frequencies.
    query = QueryTerms.parse("programmation tiers-lieu numérique")
    listed = mission_terms("Programmation d'un tiers-lieu", "", [])
    fresh = mission_terms("Un tiers-lieu numérique", "", [])
    other = mission_terms("Programmation culturelle", "", [])
    postings: Postings = {}
    add_postings(postings, 0, listed)
    add_postings(postings, 1, other)
    lengths = {"m0": document_length(listed), "m1": document_length(other)}
    fresh_index = SearchIndex.from_terms({"m0": fresh})
    inverted = PostingsSearch(
        postings, ["m0", "m1"], lengths, fresh_index, frozenset(query_names(query))
    )
    text_counts, df = fresh_index.frequencies(query)
    listed_counts, listed_df = SearchIndex.from_terms({"m0": listed, "m1": other}).frequencies(
        query
    )
    merged = {"m0": {**text_counts["m0"], **listed_counts["m0"]}, "m1": listed_counts["m1"]}
    expected = score(query, merged, df + listed_df, {**lengths, **fresh_index.lengths})
    assert inverted.search(query) == expected
    assert set(expected["m0"].terms) > set(text_counts["m0"])
