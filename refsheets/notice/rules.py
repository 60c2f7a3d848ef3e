"""The buyer's rules on references, read from French text (selection criteria, RC).

Only what a sentence states is kept, each rule with the sentence it came from and where
(a file and its line or page, or a notice field and its lot): the bid manager checks the
quote, never a guess. Matching ignores case and accents; numbers are read in digits or
in words ("trois", "quarante mille"), amounts in every form French texts use (40 000 €,
40.000,00 EUR HTVA, 40 k€, 1,5 M€).

A sentence gives a rule only when it is about references (références, prestations
similaires, services fournis…): a turnover over "les trois derniers exercices" or a page
limit of the mémoire technique are other requirements.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from refsheets.taxonomy import fold

RuleKey = str
"""years, min_amount, client_kind, min_references, max_references, required_facts,
page_limit, other_facts; `vague` marks a sentence that needs a human reading."""


@dataclass(frozen=True)
class Sentence:
    """One sentence of a source, with where it starts and the paragraph it belongs to."""

    text: str
    where: str
    paragraph: int = 0


@dataclass(frozen=True)
class Rule:
    """One rule on references, with the sentence that states it."""

    key: RuleKey
    value: int | str | tuple[str, ...]
    quote: str
    where: str
    note: str | None = None  # how the value was derived, when it is not written as is


@dataclass
class Findings:
    """The rules found in some sentences, and the sentences that need a human reading."""

    rules: list[Rule] = field(default_factory=list)
    vague: list[Rule] = field(default_factory=list)

    def extend(self, other: Findings) -> None:
        """Add another source's findings."""
        self.rules += other.rules
        self.vague += other.vague


# --- sentences -------------------------------------------------------------------------

_MARKDOWN = re.compile(r"\*{1,3}|`|(?<!\w)_{1,3}|_{1,3}(?!\w)")
_LINE_HYPHEN = "\u00ad"  # marks a hyphen at a line's end: quoted as printed, matched as cut
_BULLET = re.compile(r"^\s*(?:[—–•*▪◦-]|\d+(?:\.\d+)*[).]|[a-z][).])\s+")
_END = re.compile(r"(?<=[.;!?])\s+(?=[«\"(—–A-ZÀ-Ý0-9])")


def split_sentences(lines: Sequence[tuple[str, str]]) -> list[Sentence]:
    """Sentences from lines of text, each line with where it is.

    A blank line ends a paragraph; a line that starts with a bullet or a list number starts
    a new sentence; inside a paragraph a line break is a space (a hyphen at the end of a
    line joins the two halves of a word), so a sentence may span lines and pages.
    """
    sentences: list[Sentence] = []
    paragraph = 0
    pieces: list[tuple[str, str]] = []  # (text, where of its first character)

    def flush() -> None:
        text = ""
        starts: list[tuple[int, str]] = []
        for piece, where in pieces:
            if text.endswith("-") and piece[:1].islower():
                text += _LINE_HYPHEN  # "réfé-" + "rences": one word, cut by the line's end
            elif text:
                text += " "
            starts.append((len(text), where))
            text += piece
        pieces.clear()
        position = 0
        for chunk in _END.split(text):
            start = text.find(chunk, position)
            position = start + len(chunk)
            chunk = chunk.strip()
            if chunk:
                where = [w for offset, w in starts if offset <= start][-1] if starts else ""
                sentences.append(Sentence(chunk, where, paragraph))

    for raw, where in lines:
        text = " ".join(raw.split())
        if not text:
            if pieces:
                flush()
                paragraph += 1
            continue
        # A bullet or list number starts a sentence after one that ended (". ; :"); after
        # a line cut mid-sentence, "3) porteront…" is the sentence going on.
        if _BULLET.match(text) and pieces and pieces[-1][0][-1:] in ".;:!?":
            flush()
        pieces.append((text, where))
    if pieces:
        flush()
    return sentences


# --- numbers and amounts ---------------------------------------------------------------

_UNITS = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20, "vingts": 20, "trente": 30,
    "quarante": 40, "cinquante": 50, "soixante": 60, "septante": 70, "octante": 80,
    "huitante": 80, "nonante": 90,
}  # fmt: skip
_SCALES = {"cent": 100, "cents": 100, "mille": 1000, "million": 10**6, "millions": 10**6}
_NUMBER_WORD = "|".join(sorted([*_UNITS, *_SCALES], key=len, reverse=True))
# A number in words: "trois", "vingt-cinq", "deux cent cinquante mille", "quatre-vingts".
_WORDS = rf"(?:(?:{_NUMBER_WORD})(?:[\s-]+(?:et[\s-]+)?(?:{_NUMBER_WORD}))*)"
_DIGITS = r"\d{1,3}(?:[ .]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?"
NUMBER = rf"(?:{_DIGITS}|\b{_WORDS}\b)(?:\s*\(\s*\d+\s*\))?"
"""A number in digits or in French words, optionally followed by its digits: "trois (3)"."""


def parse_number(text: str) -> float | None:
    """The value of a number written in digits ("250.000,00", "1,5") or French words."""
    text = re.sub(r"\(\s*\d+\s*\)", "", fold(text)).strip()
    if re.fullmatch(_DIGITS, text):
        if re.fullmatch(r"\d{1,3}(?:[ .]\d{3})+(?:,\d+)?", text):
            text = re.sub(r"[ .]", "", text)  # "250.000,00": dots and spaces group digits
        return float(text.replace(",", "."))
    words = re.split(r"[\s-]+", text)
    total = current = 0
    seen = False
    for word in words:
        if word == "et":
            continue
        if word in ("vingt", "vingts") and current % 100 == 4:
            current += 76  # quatre-vingts: four twenties
        elif word in _UNITS:
            current += _UNITS[word]
        elif word in ("cent", "cents"):
            current = (current or 1) * 100
        elif word == "mille":
            total += (current or 1) * 1000
            current = 0
        elif word in ("million", "millions"):
            total += (current or 1) * 10**6
            current = 0
        else:
            return None
        seen = True
    return float(total + current) if seen else None


def parse_count(text: str) -> int | None:
    """A whole count ("trois", "3", "trois (3)"), or None."""
    value = parse_number(text)
    return int(value) if value is not None and value == int(value) else None


_CURRENCY = r"(?:€|euros?\b|eur\b)"
_SCALE = r"(?:k|m|millions?(?:\s+d')?|mille)"
AMOUNT = re.compile(
    rf"(?P<number>{_DIGITS}|\b{_WORDS}\b)\s*(?P<scale>{_SCALE})?\s*{_CURRENCY}"
    r"(?:\s*(?P<basis>htva|ht|h\.t\.|hors taxes?|ttc))?"
)


def parse_amount(match: re.Match[str]) -> int | None:
    """Whole euros of an AMOUNT match."""
    value = parse_number(match.group("number"))
    if value is None:
        return None
    scale = (match.group("scale") or "").strip()
    if scale == "k":
        value *= 1000
    elif scale.startswith(("m", "million")) and scale != "mille":
        value *= 10**6
    elif scale == "mille":
        value *= 1000
    return round(value)


# --- what a sentence is about ----------------------------------------------------------

_ABOUT_REFERENCES = re.compile(
    r"\breferences?\b(?! (?:du|de la|des) (?:client|consultation|marche|dossier|avis))"
    r"|\b(?:prestations?|missions?|marches|projets?|operations?|services|etudes|experiences?"
    r"|interventions?)\s+(?:\w+\s+)?(?:similaires?|analogues?|comparables?|equivalente?s?"
    r"|de meme nature|de nature (?:similaire|comparable))"
    r"|services? fournis|livraisons? effectuees?|travaux executes|principales? realisations?"
)
_NOT_REFERENCES = re.compile(r"chiffre d'affaires|\bexercices?\b|\bbilans?\b|memoire technique")


def _folded(text: str) -> str:
    text = text.replace("-" + _LINE_HYPHEN, "")
    text = _MARKDOWN.sub("", text)  # an RC in Markdown: "au moins **trois** références"
    return fold(text).replace("’", "'").replace("‘", "'")


def is_about_references(text: str) -> bool:
    """True for a sentence that speaks of the candidate's references."""
    folded = _folded(text)
    return bool(_ABOUT_REFERENCES.search(folded)) and not _NOT_REFERENCES.search(folded)


# --- the rules -------------------------------------------------------------------------

_REF_NOUN = (
    r"(?:references?|prestations?|missions?|projets?|operations?|marches|contrats|realisations?"
    r"|experiences?|attestations?)"
)
_ADJ = r"(?:(?!et\b|a\b|au\b|ou\b)[a-z']+\s+){0,2}?"
_AT_LEAST = (
    r"(?:au moins|au minimum|a minima|un minimum de|minimum de|minimum|pas moins de"
    r"|un nombre minimum de|un nombre minimal de)"
)
_AT_MOST = (
    r"(?:au plus|au maximum|un maximum de|maximum de|maximum|jusqu'a|dans la limite de"
    r"|limitee?s? a|pas plus de|ne depassant pas|n'excedant pas|ne pouvant exceder"
    r"|ne pouvant depasser|un nombre maximum de|un nombre maximal de)"
)
_RANGE = re.compile(
    rf"(?:entre\s+|de\s+|{_AT_LEAST}\s+)?(?P<low>{NUMBER})\s+(?:et|a)\s+(?:{_AT_MOST}\s+)?"
    rf"(?P<high>{NUMBER})\s+{_ADJ}{_REF_NOUN}\b"
)
_MIN_BEFORE = re.compile(rf"{_AT_LEAST}\s+(?:de\s+)?(?P<n>{NUMBER})\s+{_ADJ}{_REF_NOUN}\b")
_MAX_BEFORE = re.compile(rf"{_AT_MOST}\s+(?:de\s+)?(?P<n>{NUMBER})\s+{_ADJ}{_REF_NOUN}\b")
_COUNT_AFTER = re.compile(
    rf"(?P<n>{NUMBER})\s+{_ADJ}{_REF_NOUN}\b(?:\s+{_ADJ})?\s*(?:\(\s*)?(?P<bound>{_AT_LEAST}|{_AT_MOST})?"
)
# "les références présentées (au plus 3)", "références (3 minimum)"
_COUNT_PAREN = re.compile(
    rf"{_REF_NOUN}\b\s+{_ADJ}\(\s*(?:(?P<before>{_AT_LEAST}|{_AT_MOST})\s+)?(?P<n>{NUMBER})"
    rf"\s*(?P<after>{_AT_LEAST}|{_AT_MOST})?\s*\)"
)
_BARE_COUNT_VERB = re.compile(
    rf"\b(?:presente[rz]?|presentera|fournir|fournira|fournit|joindre|joindra|produire"
    rf"|produira|transmettre|transmettra|remettre|remettra)\s+(?P<n>{NUMBER})\s+{_ADJ}{_REF_NOUN}\b"
)

_YEARS_PATTERNS = (
    re.compile(
        rf"\b(?:au cours|au titre|lors|durant|pendant|sur|dans|dans le courant|depuis)"
        rf"\s+(?:des|les)\s+(?P<n>{NUMBER})\s+(?:dernier(?:e)?s\s+)?(?:annees|ans)\b"
        r"(?:\s+(?:ecoulees|precedentes))?"
    ),
    re.compile(
        rf"\b(?:au cours|au titre|lors|durant|pendant|sur|dans)\s+(?:des|les)\s+"
        rf"(?:dernier(?:e)?s\s+)(?P<n>{NUMBER})\s+(?:annees|ans)\b"
    ),
    re.compile(rf"\bmoins de (?P<n>{NUMBER})\s+ans\b"),
    re.compile(rf"\b(?:de|depuis) (?:plus de )?(?P<n>{NUMBER})\s+ans au plus\b"),
)
_SINCE_YEAR = re.compile(
    r"\b(?:depuis|a partir de|a compter de|posterieures? a|apres)\s+(?:le\s+)?"
    r"(?:(?:1er|premier)\s+janvier\s+|janvier\s+|l'annee\s+)?(?P<year>(?:19|20)\d\d)\b"
)
_BETWEEN_YEARS = re.compile(r"\bentre (?P<year>(?:19|20)\d\d) et (?:19|20)\d\d\b")

_AMOUNT_CUE_BEFORE = re.compile(
    r"(?:minimum|minimal|minimale|au moins|d'au moins|superieure? (?:ou egale? )?a"
    r"|egale? ou superieure? a|plancher|>=?|≥|de plus de|excedant|depassant|plus de"
    r"|a partir de|seuil de)\s*(?:de\s+|d'un montant de\s+|a\s+)?$"
)
_AMOUNT_CUE_AFTER = re.compile(r"^\s*(?:\(\w+\)\s*)?(?:minimum|au minimum|au moins|et plus)\b")

_FACTS_CUE = re.compile(
    r"\b(?:indiquant|precisant|mentionnant|comportant|comporter|preciser|indiquer|mentionner"
    r"|precise(?:nt|ra|ront)?|indique(?:nt|ra|ront)?|mentionne(?:nt|ra|ront)?|comporte(?:nt|ra|ront)?"
    r"|faisant (?:apparaitre|figurer)|faire (?:apparaitre|figurer)|avec|notamment)\b"
    r"|\bprecise(?:e|s|es)?\s*:|\bdevront (?:notamment )?etre precises"
)
_FACTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("amount", re.compile(r"\bmontants?\b")),
    ("dates", re.compile(r"\bdates?\b|\bepoques?\b|\bannees? de realisation|\bperiodes?\b")),
    ("client_kind", re.compile(r"\bpublic ou prive|\bpublics? ou prives?|\bpublique ou privee")),
)
_OTHER_FACTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("lieu", re.compile(r"\blieux?\b")),
    ("client", re.compile(r"\bidentite du client|\bnom du client|\bdestinataire\b(?! public)")),
    (
        "coordonnées du client",
        re.compile(r"\bcoordonnees|\btelephon|\bpostales?\b|\bcontact|\bpersonne (?:a|en)"),
    ),
)
_PROOF = re.compile(
    r"\b(?:attestations?|certificats?)\s+(?:de\s+)?(?:bonne\s+execution|capacites?"
    r"|du\s+(?:destinataire|maitre d'ouvrage|client|beneficiaire)"
    r"|de\s+l'acheteur|de\s+la\s+personne\s+publique)"
)
_PROOF_OPTIONAL = re.compile(r"\ba defaut\b|\bou par (?:une|toute) declaration|\ble cas echeant\b")
_PAGE_LIMIT = (
    re.compile(
        rf"\b(?P<n>{NUMBER})\s+(?:\(\d+\)\s+)?(?:pages?|feuillets?)\b(?:\s+(?:de\s+)?(?:format\s+)?"
        r"a[345](?:\s+ou\s+a[345])?)?(?:\s+recto(?:[\s-]verso)?)?\s+(?:maximum|au maximum|max\b)"
    ),
    re.compile(
        rf"\b(?:maximum|au plus|pas plus de|limitee?s? a|ne depassant pas|n'excedant pas)\s+"
        rf"(?:de\s+)?(?P<n>{NUMBER})\s+(?:pages?|feuillets?)\b"
    ),
    re.compile(
        rf"\b(?P<n>{NUMBER})\s+(?:pages?|feuillets?)\s+(?:de\s+)?(?:format\s+)?a[345]"
        r"(?:\s+ou\s+a[345])?\s+maximum"
    ),
)
_PUBLIC_CLIENT = re.compile(
    r"(?:\b(?:pour|aupres)\s+(?:le compte\s+)?(?:d'|de |des )?(?:acheteurs?|clients?|maitres?"
    r" d'ouvrages?|personnes?|organismes?|entites?|donneurs? d'ordres?)\s+publi(?:c|cs|que|ques)\b"
    r"|\b(?:acheteurs?|personnes?|maitres? d'ouvrages?) publi(?:c|cs|que|ques)\b"
    r"|\bpour des collectivites\b)(?!\s+ou\s+priv)"
)


def extract_rules(sentences: Iterable[Sentence], *, deadline: dt.date | None = None) -> Findings:
    """The rules on references that `sentences` state, each with its quote and place.

    `deadline` turns a "depuis 2021" into a window of years counted back from it; without
    it such a sentence is left for a human (in `vague`).
    """
    findings = Findings()
    sentences = list(sentences)
    context = {s.paragraph for s in sentences if is_about_references(s.text)}
    for sentence in sentences:
        folded = _folded(sentence.text)
        about = is_about_references(sentence.text)
        in_context = sentence.paragraph in context and not _NOT_REFERENCES.search(folded)
        if about:
            _years(sentence, folded, deadline, findings)
            _min_amount(sentence, folded, findings)
            _counts(sentence, folded, findings)
            _client_kind(sentence, folded, findings)
        if about or in_context:
            _facts(sentence, folded, findings)
            _page_limit(sentence, folded, findings)
        # Certificates of good performance are about references wherever they are asked.
        _proofs(sentence, folded, findings)
    return findings


def _rule(
    sentence: Sentence, key: str, value: int | str | tuple[str, ...], note: str | None = None
) -> Rule:
    quote = " ".join(sentence.text.replace(_LINE_HYPHEN, "").split())
    return Rule(key, value, quote, sentence.where, note)


def _years(sentence: Sentence, folded: str, deadline: dt.date | None, out: Findings) -> None:
    for pattern in _YEARS_PATTERNS:
        match = pattern.search(folded)
        if match:
            years = parse_count(match.group("n"))
            if years is not None:
                out.rules.append(_rule(sentence, "years", years))
                return
    match = _SINCE_YEAR.search(folded) or _BETWEEN_YEARS.search(folded)
    if match:
        year = int(match.group("year"))
        if deadline is None:
            out.vague.append(
                _rule(sentence, "years", f"since {year}", "no deadline to count the window from")
            )
            return
        note = f"since {year}: counted back from the deadline's year, {deadline.year} - {year}"
        out.rules.append(_rule(sentence, "years", max(deadline.year - year, 0), note))


def _min_amount(sentence: Sentence, folded: str, out: Findings) -> None:
    for match in AMOUNT.finditer(folded):
        before = folded[max(0, match.start() - 40) : match.start()]
        after = folded[match.end() : match.end() + 20]
        if not (_AMOUNT_CUE_BEFORE.search(before) or _AMOUNT_CUE_AFTER.search(after)):
            continue
        amount = parse_amount(match)
        if amount is None:
            continue
        basis = match.group("basis")
        note = None
        if basis and basis.startswith("ttc"):
            note = "TTC (tax included): compare with the missions' basis"
        out.rules.append(_rule(sentence, "min_amount", amount, note))
        return


def _counts(sentence: Sentence, folded: str, out: Findings) -> None:
    found: dict[str, int] = {}
    match = _RANGE.search(folded)
    if match:
        low, high = parse_count(match.group("low")), parse_count(match.group("high"))
        if low is not None and high is not None and low <= high:
            found = {"min_references": low, "max_references": high}
    for pattern, key in ((_MIN_BEFORE, "min_references"), (_MAX_BEFORE, "max_references")):
        match = pattern.search(folded)
        if match and key not in found:
            count = parse_count(match.group("n"))
            if count is not None:
                found[key] = count
    for match in _COUNT_AFTER.finditer(folded):
        bound = match.group("bound")
        if not bound:
            continue
        key = "min_references" if re.fullmatch(_AT_LEAST, bound) else "max_references"
        count = parse_count(match.group("n"))
        if count is not None and key not in found:
            found[key] = count
    for match in _COUNT_PAREN.finditer(folded):
        bound = match.group("before") or match.group("after")
        count = parse_count(match.group("n"))
        if bound and count is not None:
            key = "min_references" if re.fullmatch(_AT_LEAST, bound) else "max_references"
            found.setdefault(key, count)
    for key, count in found.items():
        if count > 0:
            out.rules.append(_rule(sentence, key, count))
    if not found:
        match = _BARE_COUNT_VERB.search(folded)
        count = parse_count(match.group("n")) if match else None
        if count:
            out.vague.append(
                _rule(
                    sentence,
                    "min_references",
                    count,
                    "a number of references without 'au moins' nor 'au plus': "
                    "set min_references and/or max_references yourself",
                )
            )


def _client_kind(sentence: Sentence, folded: str, out: Findings) -> None:
    if _PUBLIC_CLIENT.search(folded):
        out.rules.append(_rule(sentence, "client_kind", "public"))


def _facts(sentence: Sentence, folded: str, out: Findings) -> None:
    cue = _FACTS_CUE.search(folded)
    if not cue:
        return
    listing = folded[cue.start() :]
    facts = tuple(name for name, pattern in _FACTS if pattern.search(listing))
    others = tuple(name for name, pattern in _OTHER_FACTS if pattern.search(listing))
    if facts:
        out.rules.append(_rule(sentence, "required_facts", facts))
    if others:
        out.rules.append(_rule(sentence, "other_facts", others))


def _proofs(sentence: Sentence, folded: str, out: Findings) -> None:
    if not _PROOF.search(folded):
        return
    if _PROOF_OPTIONAL.search(folded):
        out.vague.append(
            _rule(
                sentence,
                "required_facts",
                ("attestation",),
                "attestations asked with an alternative ('à défaut', a declaration): "
                "add attestation to required_facts if the bid will carry them",
            )
        )
        return
    out.rules.append(_rule(sentence, "required_facts", ("attestation",)))


def _page_limit(sentence: Sentence, folded: str, out: Findings) -> None:
    if not re.search(r"\bpages?\b|\bfeuillets?\b", folded):
        return
    for pattern in _PAGE_LIMIT:
        match = pattern.search(folded)
        if match:
            pages = parse_count(match.group("n"))
            if pages:
                out.rules.append(_rule(sentence, "page_limit", pages))
                return
