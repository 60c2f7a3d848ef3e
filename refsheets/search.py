"""Free-text retrieval over the missions: a BM25F index with French analysis.

A tender's object ("Assistance à maîtrise d'ouvrage pour la programmation d'un
tiers-lieu numérique") is matched against each mission's title, tag labels,
deliverables, context and approach. Words go through one analysis, the same for the
query and the missions:

1. fold: lower case, accents removed, œ -> oe (so "Médiation" and "mediation" meet);
2. split on anything that is not a letter or a digit (elisions "d'un", "l'habitat"
   and hyphens "tiers-lieu" included);
3. drop French (and a few English) stop words, tender boilerplate ("marché", "objet"),
   numbers and one-letter tokens;
4. drop the plural "x" ("lieux" -> "lieu"), which the Snowball stemmer keeps;
5. stem with the Snowball French stemmer ("programmation" -> "programm").

Scoring is BM25F in its simple form: a term's frequency in a mission is the weighted
sum of its frequencies in each field (title counts three times, tag labels twice,
deliverables one and a half), the mission's length is weighted the same way, and the
usual BM25 saturation (k1 = 1.2) and length normalisation (b = 0.75) apply to that sum.

Word pairs count too: each pair of consecutive terms within a line ("numérique
intercommunale" -> `numer intercommunal`) is indexed as one more term, and a query's
pairs score like its words at half weight (`PAIR_WEIGHT`). Two missions that share the
query's words are then told apart by the one that says them together, as the tender does.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

from refsheets.taxonomy import fold

K1 = 1.2
"""BM25 term-frequency saturation."""

B = 0.75
"""BM25 length normalisation."""

PAIR_WEIGHT = 0.5
"""How much a matched pair of consecutive query words counts, next to one word."""

FIELD_WEIGHTS: Mapping[str, float] = {
    "title": 3.0,
    "tags": 2.0,
    "deliverables": 1.5,
    "context": 1.0,
    "approach": 1.0,
}
"""How much a word counts in each field of a mission (BM25F field weights)."""

# Folded forms: the analysis folds before it filters.
_FRENCH_STOP_WORDS = frozenset(
    """
    a ai aie aient aies ait afin ainsi alors apres au aucun aucune aupres aussi autre autres
    aux avait avaient avant avec avoir ayant c ca car ce ceci cela celle celles celui cependant
    ces cet cette ceux chacun chacune chaque chez comme comment d dans de des deux devant
    doit donc dont du elle elles en encore entre est et etaient etait etant ete etre eu eux
    fait faire fois font hors il ils j je jusqu l la le les leur leurs lors lorsqu lorsque lui
    m ma mais me meme memes mes moi mon n ne ni nos notre nous on ont or ou par parce parmi
    pas peu peut peuvent plus plusieurs pour pourquoi puis qu quand que quel quelle quelles
    quels qui quoi s sa sans se selon ses si sien soi soit son sont sous suis sur t ta tant
    te tel telle telles tels tes toi ton tous tout toute toutes tres tu un une unes uns vers
    via voici voila vos votre vous y
    """.split()
)

_ENGLISH_STOP_WORDS = frozenset(
    "an and are as at be by for from has have in is it its of or that the this to was were "
    "which with".split()
)

# Words every tender object carries and that say nothing about the subject.
_TENDER_BOILERPLATE = frozenset(
    "cadre consultation lot lots marche marches objet relatif relatifs relative relatives "
    "prestation prestations".split()
)

STOP_WORDS: frozenset[str] = _FRENCH_STOP_WORDS | _ENGLISH_STOP_WORDS | _TENDER_BOILERPLATE
"""Folded words left out of the index and of queries."""

_TOKEN = re.compile(r"[a-z0-9]+")

_stemmer = snowballstemmer.stemmer("french")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The index term of one folded word (memoised: the stemmer costs ~35 µs a word)."""
    if len(word) > 3 and word.endswith("x"):
        word = word[:-1]
    result: str = _stemmer.stemWord(word)
    return result


def words(text: str) -> list[str]:
    """The folded words of `text` that carry meaning, in order (stop words left out)."""
    return [
        word
        for word in _TOKEN.findall(fold(text))
        if len(word) > 1 and not word.isdigit() and word not in STOP_WORDS
    ]


_TYPED_WORD = re.compile(r"[^\W_]+")


def typed_words(text: str) -> list[tuple[str, str]]:
    """Like `words`, each folded word with the word as typed ("économique")."""
    found = []
    for typed in _TYPED_WORD.findall(text):
        for word in _TOKEN.findall(fold(typed)):
            if len(word) > 1 and not word.isdigit() and word not in STOP_WORDS:
                found.append((word, typed.lower() if word == fold(typed) else word))
    return found


def analyze(text: str) -> list[str]:
    """The index terms of `text`: folded, filtered and stemmed words, in order."""
    return [stem(word) for word in words(text)]


def pair(first: str, second: str) -> str:
    """The index term of two consecutive terms (a space never occurs inside a term)."""
    return f"{first} {second}"


def index_terms(text: str) -> list[str]:
    """Every index term of `text`: its terms, then the pairs of consecutive terms.

    Pairs never straddle a line break: deliverables are one a line and do not run on.
    """
    terms: list[str] = []
    pairs: list[str] = []
    for line in text.splitlines():
        line_terms = analyze(line)
        terms.extend(line_terms)
        pairs.extend(pair(a, b) for a, b in itertools.pairwise(line_terms))
    return terms + pairs


@dataclass(frozen=True)
class Document:
    """The searchable text of one mission, by field (a key of FIELD_WEIGHTS)."""

    fields: Mapping[str, str]


@dataclass(frozen=True)
class Hit:
    """How one mission matched a query."""

    score: float
    terms: Mapping[str, float]
    """Each matched query term (stem) with its share of the score."""


@dataclass(frozen=True)
class QueryTerms:
    """An analysed query: its distinct terms and pairs, and the words they came from."""

    terms: tuple[str, ...]
    """Single terms, then pairs of consecutive terms."""
    surface: Mapping[str, str]
    """For each term, the query's own word(s) that produced it, as typed."""
    weights: Mapping[str, float]
    """1 for a term, PAIR_WEIGHT for a pair."""

    @classmethod
    def parse(cls, text: str) -> QueryTerms:
        """Analyse a query; repeated words count once (tender objects repeat themselves)."""
        surface: dict[str, str] = {}
        weights: dict[str, float] = {}
        pairs: dict[str, str] = {}
        for line in text.splitlines():
            previous: tuple[str, str] | None = None
            for word, typed in typed_words(line):
                term = stem(word)
                surface.setdefault(term, typed)
                weights.setdefault(term, 1.0)
                if previous is not None:
                    pairs.setdefault(pair(previous[0], term), f"{previous[1]} {typed}")
                previous = (term, typed)
        for term, typed in pairs.items():
            surface.setdefault(term, typed)
            weights.setdefault(term, PAIR_WEIGHT)
        return cls(tuple(surface), surface, weights)


@dataclass
class SearchIndex:
    """A BM25F index over documents keyed by id."""

    term_frequencies: dict[str, dict[str, float]] = field(default_factory=dict)
    lengths: dict[str, float] = field(default_factory=dict)
    postings: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, documents: Mapping[str, Document]) -> SearchIndex:
        """Index every document: weighted term frequencies, lengths and postings."""
        index = cls()
        for doc_id in sorted(documents):
            weighted: dict[str, float] = {}
            length = 0.0
            for name, text in documents[doc_id].fields.items():
                weight = FIELD_WEIGHTS[name]
                terms = index_terms(text)
                length += weight * len(terms)
                for term, count in Counter(terms).items():
                    weighted[term] = weighted.get(term, 0.0) + weight * count
            index.term_frequencies[doc_id] = dict(weighted)
            index.lengths[doc_id] = length
            for term in weighted:
                index.postings.setdefault(term, []).append(doc_id)
        return index

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def average_length(self) -> float:
        """The mean weighted length of the documents (1.0 for an empty index)."""
        if not self.lengths:
            return 1.0
        return sum(self.lengths.values()) / len(self.lengths) or 1.0

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency, in the form that is never negative."""
        n = len(self.lengths)
        df = len(self.postings.get(term, ()))
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: QueryTerms | str) -> dict[str, Hit]:
        """Score every document that holds at least one query term."""
        if isinstance(query, str):
            query = QueryTerms.parse(query)
        if not self.lengths:
            return {}
        average = self.average_length
        scores: dict[str, dict[str, float]] = {}
        for term in query.terms:
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf(term)
            for doc_id in postings:
                tf = self.term_frequencies[doc_id][term]
                norm = K1 * (1.0 - B + B * self.lengths[doc_id] / average)
                scores.setdefault(doc_id, {})[term] = (
                    query.weights[term] * idf * tf * (K1 + 1.0) / (tf + norm)
                )
        # Summing in the query's term order keeps the float result independent of the
        # order the documents were given in.
        return {
            doc_id: Hit(sum(parts[t] for t in query.terms if t in parts), parts)
            for doc_id, parts in scores.items()
        }


def document_of(
    *,
    title: str,
    tags: Iterable[str] = (),
    deliverables: Sequence[str] = (),
    context: str | None = None,
    approach: str | None = None,
) -> Document:
    """A mission's searchable text, field by field."""
    return Document(
        {
            "title": title,
            "tags": " ; ".join(tags),
            "deliverables": "\n".join(deliverables),
            "context": context or "",
            "approach": approach or "",
        }
    )
