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

Word pairs count too: two meaningful words side by side in one text ("numérique
intercommunale" -> `numer intercommunal`; a stop word between them, or the end of a
deliverable, parts them) make one more term, and a query's pairs score like its words at
half weight (`PAIR_WEIGHT`). Two missions that share the query's words are then told apart
by the one that says them together, as the tender does.

A mission's length, for BM25, is its weighted number of words (stop words included).
The index keeps each mission's terms in order, one string a field weight
(`DocumentTerms`), and a query counts its terms and pairs in them with `str.count`: the
words are analysed once (the library's index keeps the result), and a search of 10,000
missions does no work per word in Python.
"""

from __future__ import annotations

import collections
import itertools
import math
import operator
import re
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeAlias, cast

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

_FIELDS_BY_WEIGHT: dict[float, tuple[str, ...]] = {
    weight: tuple(name for name, w in FIELD_WEIGHTS.items() if w == weight)
    for weight in dict.fromkeys(FIELD_WEIGHTS.values())
}

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
_COMBINING_MARKS = re.compile("[\u0300-\u036f]")


@lru_cache(maxsize=1)
def _french_stemmer() -> Any:
    # Imported on first use: snowballstemmer loads all its ~30 languages (about 10 ms),
    # which `pick --tag` alone never needs.
    import snowballstemmer

    return snowballstemmer.stemmer("french")


def fold_text(text: str) -> str:
    """`taxonomy.fold` for long texts: the same result on the letters the index keeps.

    The accents of Latin letters are the combining marks U+0300-U+036F once decomposed;
    removing them with one regular expression is about ten times faster than testing
    each character, which matters on a library of thousands of missions.
    """
    text = text.casefold()
    if text.isascii():
        return text
    text = text.replace("œ", "oe").replace("æ", "ae")
    return _COMBINING_MARKS.sub("", unicodedata.normalize("NFKD", text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The index term of one folded word (memoised: the stemmer costs ~35 µs a word)."""
    if len(word) > 3 and word.endswith("x"):
        word = word[:-1]
    result: str = _french_stemmer().stemWord(word)
    return result


def _term_of_word(word: str) -> str:
    if len(word) < 2 or word.isdigit() or word in STOP_WORDS:
        return ""
    return stem(word)


def fold_word(word: str) -> str:
    """One word as the index sees it: folded, reduced to the letters a-z and digits."""
    folded = fold_text(word)
    return folded if folded.isalnum() and folded.isascii() else "".join(_TOKEN.findall(folded))


class _TermCache(dict[str, str]):
    """Word (case-folded, accents kept) -> its term, or "" for a word left out.

    Filled on first sight, it grows with the vocabulary of the libraries searched in
    this process (a few thousand words). A dict subclass with __missing__ keeps
    `cache[word]` a C call on a hit, so folding and stemming cost once per distinct word.
    """

    def __missing__(self, word: str) -> str:
        self[word] = term = _term_of_word(fold_word(word))
        return term


_WORD = re.compile(r"[^\W_]+")  # a run of letters and digits: apostrophes, hyphens split
_SEPARATOR = "|"  # the term between two texts of a field: never a query term, so pairs stop
# A letter (the click ǂ) no French or English text uses: a word of its own between two texts.
_SEPARATOR_WORD = "\u01c2"
_SEPARATOR_TEXT = f" {_SEPARATOR_WORD} "
_TERMS = _TermCache({_SEPARATOR_WORD: _SEPARATOR})
_UNIT = "\x1f"  # joins a document's texts to case-fold them in one call


def clear_caches() -> None:
    """Forget every analysed word (for benchmarks that time a cold analysis)."""
    _TERMS.clear()
    _TERMS[_SEPARATOR_WORD] = _SEPARATOR
    stem.cache_clear()


def words(text: str) -> list[str]:
    """The folded words of `text` that carry meaning, in order (stop words left out)."""
    return [word for word, _ in typed_words(text)]


def analyze(text: str) -> list[str]:
    """The index terms of `text`: folded, filtered and stemmed words, in order."""
    return [term for term in map(_TERMS.__getitem__, _WORD.findall(text.casefold())) if term]


def pair(first: str, second: str) -> str:
    """How a pair of consecutive terms is named in scores and explanations."""
    return f"{first} {second}"


def _pairs(terms: Iterable[str]) -> list[tuple[str, str]]:
    # `terms` has "" for each word left out: a pair is two meaningful words side by side.
    return [(a, b) for a, b in itertools.pairwise(terms) if a and b]


def index_terms(text: str) -> list[str]:
    """Every index term of one text: its terms, then its pairs of side-by-side terms."""
    marks = list(map(_TERMS.__getitem__, _WORD.findall(text.casefold())))
    return [term for term in marks if term] + [pair(a, b) for a, b in _pairs(marks)]


def typed_words(text: str) -> list[tuple[str, str]]:
    """The meaningful words of `text`, each folded and as typed ("economique", "économique")."""
    return [
        (fold_word(word), word.lower())
        for word in _WORD.findall(text)
        if _TERMS[word.casefold()] not in ("", _SEPARATOR)
    ]


@dataclass(frozen=True)
class Document:
    """The searchable text of one mission: for each field (a key of FIELD_WEIGHTS), its
    texts. Pairs of words are taken within one text, never across two (two deliverables
    do not make a phrase)."""

    fields: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Hit:
    """How one mission matched a query."""

    score: float
    terms: Mapping[str, float]
    """Each matched query term (a stem, or two joined by a space) with its share."""


@dataclass(frozen=True)
class QueryTerms:
    """An analysed query: its distinct terms and pairs, and the words they came from."""

    terms: tuple[str, ...]
    """The distinct terms, in the query's order."""
    pairs: tuple[tuple[str, str], ...]
    """The distinct pairs of consecutive terms."""
    surface: Mapping[str, str]
    """For each term, and each pair (named by `pair`), the query's words as typed."""

    @classmethod
    def parse(cls, text: str) -> QueryTerms:
        """Analyse a query; repeated words count once (tender objects repeat themselves)."""
        surface: dict[str, str] = {}
        pairs: dict[tuple[str, str], str] = {}
        previous: tuple[str, str] | None = None
        for typed in _WORD.findall(text):
            term = _TERMS[typed.casefold()]
            if not term or term == _SEPARATOR:
                previous = None  # a stop word parts the words around it
                continue
            typed = typed.lower()
            surface.setdefault(term, typed)
            if previous is not None:
                pairs.setdefault((previous[0], term), f"{previous[1]} {typed}")
            previous = (term, typed)
        terms = tuple(surface)
        for (first, second), typed_pair in pairs.items():
            surface.setdefault(pair(first, second), typed_pair)
        return cls(terms, tuple(pairs), surface)

    @property
    def weights(self) -> dict[str, float]:
        """Each term and pair (named by `pair`) with its weight: 1, or PAIR_WEIGHT."""
        weights = dict.fromkeys(self.terms, 1.0)
        for first, second in self.pairs:
            weights.setdefault(pair(first, second), PAIR_WEIGHT)
        return weights


DocumentWords = list[tuple[float, list[str]]]
"""A document as the index keeps it: for each field weight with words, its case-folded
words in order, texts parted by a separator word."""


def document_words(document: Document) -> DocumentWords:
    """Split a document into its case-folded words, one list per field weight."""
    fields = document.fields
    if not fields.keys() <= FIELD_WEIGHTS.keys():
        unknown = sorted(set(fields) - set(FIELD_WEIGHTS))
        raise ValueError(f"unknown field(s) {unknown}; see FIELD_WEIGHTS")
    # Fields of equal weight are one field for BM25F (their counts add with the same
    # factor): keep them together. One case-folding call per document and one
    # tokenising call per weight; texts are parted by a word no pair can cross.
    groups = [
        _SEPARATOR_TEXT.join([text for name in names for text in fields.get(name, ())])
        for names in _FIELDS_BY_WEIGHT.values()
    ]
    folded = _UNIT.join(groups).casefold().split(_UNIT)
    if len(folded) != len(groups):  # a text held the joining character itself
        folded = [group.casefold() for group in groups]
    entries = []
    for weight, text in zip(_FIELDS_BY_WEIGHT, folded, strict=True):
        found = _WORD.findall(text)
        if found:
            entries.append((weight, found))
    return entries


DocumentTerms = list[tuple[float, str]]
"""A document as it is searched: for each field weight with words, its words' terms in
order, each between two spaces of its own (" a  b  .  | ") so that `str.count` finds a
term, or a pair of side-by-side terms, in C; `.` stands for a word left out (a stop word),
`|` for the break between two texts."""

_LEFT_OUT = "."
_NOT_TERMS = frozenset((_LEFT_OUT, _SEPARATOR))


def document_terms(words: DocumentWords) -> DocumentTerms:
    """The terms of a document split by `document_words` (each distinct word is folded
    and stemmed once per process)."""
    term = _TERMS.__getitem__
    return [
        (weight, " " + "  ".join([t or _LEFT_OUT for t in map(term, found)]) + " ")
        for weight, found in words
    ]


@dataclass
class SearchIndex:
    """A BM25F index over documents keyed by id.

    Each document keeps, for each field weight, its words' terms in order
    (`DocumentTerms`) and its weighted length. A search counts each query term and pair
    in each field with `str.count`: no per-word work at query time, so that searching
    10,000 missions is a few hundred thousand C calls.
    """

    fields: dict[str, DocumentTerms] = field(default_factory=dict)
    lengths: dict[str, float] = field(default_factory=dict)

    @classmethod
    def build(cls, documents: Mapping[str, Document]) -> SearchIndex:
        """Split every document into words, field by field, and weigh its length."""
        return cls.from_words({doc_id: document_words(doc) for doc_id, doc in documents.items()})

    @classmethod
    def from_words(cls, words: Mapping[str, DocumentWords]) -> SearchIndex:
        """The index of documents already split by `document_words`."""
        return cls.from_terms({doc_id: document_terms(found) for doc_id, found in words.items()})

    @classmethod
    def from_terms(cls, terms: Mapping[str, DocumentTerms]) -> SearchIndex:
        """The index of documents already turned into terms by `document_terms` (the
        library's index keeps them, so that a search does not analyse 10,000 texts again)."""
        index = cls()
        for doc_id in sorted(terms):
            entries = terms[doc_id]
            index.fields[doc_id] = entries
            index.lengths[doc_id] = document_length(entries)
        return index

    def __len__(self) -> int:
        return len(self.lengths)

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a term, in the form never negative."""
        needle = f" {term} "
        df = sum(any(needle in text for _, text in fields) for fields in self.fields.values())
        return _idf(len(self.lengths), df)

    def search(self, query: QueryTerms | str) -> dict[str, Hit]:
        """Score every document that holds at least one query term."""
        if isinstance(query, str):
            query = QueryTerms.parse(query)
        if not self.lengths or not query.terms:
            return {}
        frequencies, df = self.frequencies(query)
        return score(query, frequencies, df, self.lengths)

    def frequencies(self, query: QueryTerms) -> tuple[dict[str, dict[str, float]], Counter[str]]:
        """Each document's weighted frequency of each query term and pair it holds (the
        documents that hold none left out), and how many documents hold each."""
        # A pair is two side-by-side words whose terms are the query's, in its order.
        # `str.count` counts matches that do not overlap: only a pair of one term twice
        # ("a a a" holds "a a" twice) can overlap itself, and is counted position by position.
        names = query_names(query)
        strings = [f" {term} " for term in query.terms]
        strings += [f" {first}  {second} " for first, second in query.pairs]
        overlapping = [
            (len(query.terms) + i, strings[len(query.terms) + i])
            for i, (first, second) in enumerate(query.pairs)
            if first == second
        ]
        single = len(query.terms)
        frequencies: dict[str, dict[str, float]] = {}
        df: Counter[str] = Counter()
        for doc_id, fields in self.fields.items():
            totals: list[float] | None = None
            for weight, text in fields:
                # In C, the search's inner loop: each term and pair counted in the field.
                counts = list(map(text.count, strings))
                if not any(counts[:single]):
                    continue
                for at, needle in overlapping:
                    counts[at] = _overlapping_count(text, needle)
                scaled = list(map(operator.mul, counts, itertools.repeat(weight)))
                totals = scaled if totals is None else list(map(operator.add, totals, scaled))
            if totals is not None:
                # Weights are multiples of 1/2: these sums are exact in any order.
                tf = {name: total for name, total in zip(names, totals, strict=True) if total}
                if tf:
                    frequencies[doc_id] = tf
                    df.update(tf.keys())
        return frequencies, df


def query_names(query: QueryTerms) -> list[str]:
    """The query's terms, then its pairs (named by `pair`): what a search counts."""
    return [*query.terms, *(pair(first, second) for first, second in query.pairs)]


def score(
    query: QueryTerms,
    frequencies: Mapping[str, Mapping[str, float]],
    df: Mapping[str, int],
    lengths: Mapping[str, float],
) -> dict[str, Hit]:
    """BM25F scores of the documents with `frequencies` (`SearchIndex.frequencies`), in a
    collection of the documents of `lengths` (each one's weighted length)."""
    factor = _factors(query, df, len(lengths))
    average = _average(lengths)
    hits = {}
    for doc_id, tf in frequencies.items():
        norm = K1 * (1.0 - B + B * lengths[doc_id] / average)
        parts = {name: factor[name] * freq / (freq + norm) for name, freq in tf.items()}
        # fsum is exactly rounded: the score does not depend on the order of the terms.
        hits[doc_id] = Hit(math.fsum(parts.values()), parts)
    return hits


def _factors(query: QueryTerms, df: Mapping[str, int], n: int) -> dict[str, float]:
    """Each term's and pair's weight x idf x (k1 + 1): its share of a score is this
    times freq / (freq + the document's norm)."""
    weights = query.weights
    return {name: weights[name] * _idf(n, count) * (K1 + 1.0) for name, count in df.items()}


def _average(lengths: Mapping[str, float]) -> float:
    """The average weighted length of a collection (1 for an empty or wordless one)."""
    n = len(lengths)
    return (sum(lengths.values()) / n or 1.0) if n else 1.0


def _idf(n: int, df: int) -> float:
    """BM25's inverse document frequency of a term `df` of `n` documents hold, in the form
    never negative."""
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def document_length(terms: DocumentTerms) -> float:
    """A document's weighted length for BM25: every word, stop words included, counts;
    the breaks between texts do not."""
    length = 0.0
    for weight, text in terms:
        length += weight * (text.count(" ") // 2 - text.count(_BREAK))
    return length


Postings: TypeAlias = "dict[str, tuple[array[int], array[int]]]"
"""Inverted lists: for a term or a pair (named by `pair`), the numbers of the documents
that hold it, ascending, and for each twice its weighted frequency there (weights are
multiples of 1/2: a whole number)."""


def add_postings(postings: Postings, number: int, terms: DocumentTerms) -> None:
    """Add document `number` (above every number added before) to `postings`: each of its
    terms and pairs, with twice its weighted frequency."""
    names: list[str] = []
    for weight, text in terms:
        tokens = text.split()
        # A stop word (.) or a break (|) is no term, and parts the pairs around it.
        left_out = list(map(_NOT_TERMS.__contains__, tokens))
        kept = itertools.compress(tokens, map(operator.not_, left_out))
        pairs = itertools.compress(
            map(" ".join, itertools.pairwise(tokens)),  # `pair`, in C
            map(operator.not_, map(operator.or_, left_out, left_out[1:])),
        )
        # Each name as many times as its field weighs (twice the weight: a whole number),
        # so that one count in C gives the weighted frequencies.
        names += [*kept, *pairs] * round(weight * 2)
    for name, twice_tf in Counter(names).items():
        lists = postings.get(name)
        if lists is None:
            postings[name] = lists = (array("I"), array("I"))
        lists[0].append(number)
        lists[1].append(twice_tf)


@dataclass
class PostingsSearch:
    """A search of a library from the inverted lists of its index (`Postings`, read for
    the query's terms only), plus the documents the index does not hold (`fresh`,
    counted in their terms): the same hits as a `SearchIndex` of every document."""

    postings: Postings
    """The inverted list of each query term and pair (absent: no document holds it)."""
    ids: Sequence[str | None]
    """Document number -> id; None for a number no longer in the library."""
    lengths: Mapping[str, float]
    """The weighted length of each document the lists cover, by id."""
    fresh: SearchIndex = field(default_factory=lambda: SearchIndex())
    """The documents the lists do not cover."""
    wanted: frozenset[str] = frozenset()
    """The terms and pairs whose lists were read."""

    def search(self, query: QueryTerms) -> dict[str, Hit]:
        """Score every document that holds at least one query term; ValueError for a
        query whose lists were not read."""
        names = query_names(query)
        if not self.wanted.issuperset(names):
            raise ValueError("the inverted lists were read for another query")
        lengths = {**self.lengths, **self.fresh.lengths}
        if not lengths or not query.terms:
            return {}
        frequencies, df = self.fresh.frequencies(query)
        ids = self.ids
        held: list[tuple[str, array[int], array[int]]] = []
        for name in names:
            found = self.postings.get(name)
            if found is None:
                continue
            # The documents of the list still in the library (a number may be no more).
            count = sum(map(operator.is_not, map(ids.__getitem__, found[0]), _NONES))
            if count:
                df[name] += count
                held.append((name, *found))
        hits = score(query, frequencies, df, lengths)  # the documents not in the lists
        if not held:
            return hits
        factor = _factors(query, df, len(lengths))
        average = _average(lengths)
        # Each document number's norm, K1 * (1.0 - B + B * length / average), then each
        # list's shares, factor * freq / (freq + norm): the operations of `score`, in its
        # order (the same bits), but in C, a list at a time, into a column of shares by
        # document number (None: the document does not hold the term).
        norms = list(
            map(
                operator.mul,
                itertools.repeat(K1),
                map(
                    operator.add,
                    itertools.repeat(1.0 - B),
                    map(
                        operator.truediv,
                        map(
                            operator.mul,
                            itertools.repeat(B),
                            [0.0 if doc_id is None else lengths[doc_id] for doc_id in ids],
                        ),
                        itertools.repeat(average),
                    ),
                ),
            )
        )
        columns = []
        for name, numbers, twice in held:
            tfs = list(map(operator.truediv, twice, itertools.repeat(2)))
            shares = map(
                operator.truediv,
                map(operator.mul, itertools.repeat(factor[name]), tfs),
                map(operator.add, tfs, map(norms.__getitem__, numbers)),
            )
            column: list[float | None] = [None] * len(ids)
            collections.deque(map(column.__setitem__, numbers, shares), maxlen=0)
            columns.append(column)
        # Each document's shares (the lists' names it holds, in the query's order), then
        # its hit: the documents of no list, or no longer in the library, left out.
        rows = list(zip(*columns, strict=True))
        held_names = [name for name, _, _ in held]
        terms = list(
            map(
                dict,
                map(
                    itertools.compress,
                    map(zip, itertools.repeat(held_names), rows),
                    map(map, itertools.repeat(operator.is_not), rows, itertools.repeat(_NONES)),
                ),
            )
        )
        kept = list(map(operator.truth, terms))
        if None in ids:
            kept = list(map(operator.and_, kept, map(operator.is_not, ids, _NONES)))
        kept_ids = cast("list[str]", list(itertools.compress(ids, kept)))  # no None left
        kept_terms = list(itertools.compress(terms, kept))
        if not hits.keys().isdisjoint(kept_ids):  # counted in its text too: merged
            for at, doc_id in enumerate(kept_ids):
                before = hits.pop(doc_id, None)
                if before is not None:
                    kept_terms[at] = {**before.terms, **kept_terms[at]}
        # fsum is exactly rounded: the score does not depend on the order of shares.
        scores = map(math.fsum, map(dict.values, kept_terms))
        hits.update(zip(kept_ids, map(Hit, scores, kept_terms), strict=True))
        return hits


_NONES = itertools.repeat(None)
"""None, again and again (endless, so shared)."""


_BREAK = f" {_SEPARATOR} "


def _overlapping_count(text: str, needle: str) -> int:
    # A pair of one term twice: "  a  a  a  " holds " a  a " twice, sharing the middle word.
    step = len(needle) // 2
    count, at = 0, text.find(needle)
    while at >= 0:
        count += 1
        at = text.find(needle, at + step)
    return count


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
            "title": (title,),
            "tags": tuple(tags),
            "deliverables": tuple(deliverables),
            "context": (context,) if context else (),
            "approach": (approach,) if approach else (),
        }
    )
