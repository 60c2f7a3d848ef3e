"""Assembling the annex: cover and summary, the cards, bookmarks, "Référence k / n".

The cards come as one-page PDFs (rendered or cached); the cover and summary are one
small WeasyPrint document in the same fonts and colours; the pages are put together with
pikepdf, which also stamps each card's "Référence k / n" and writes the bookmarks. The
Word annex is the Word cards' document with the cover and summary table put in front.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pikepdf

from refsheets.card import Card
from refsheets.export.cache import CardCache, derived_key
from refsheets.export.fonts import (
    FontFacts,
    KnownFonts,
    Subsetter,
    _subset,
    facts_from_json,
    facts_to_json,
    merge_font_subsets,
    page_font_facts,
    page_fonts,
)
from refsheets.export.summary import (
    Canvas,
    CoverText,
    Fonts,
    RowLink,
    SummaryStyle,
    add_content,
    draw_cover,
    draw_footer,
    draw_reference_number,
    draw_summary,
    font_names,
    link_fonts,
    link_rows,
    title_lines,
)
from refsheets.layouts import Layout
from refsheets.render.pdf_tags import (
    PDF_UA,
    DocumentFacts,
    declare_accessible,
    finish_tree,
    graft_page,
    new_tree,
)
from refsheets.text import NBSP, format_date
from refsheets.typography import english, french

if TYPE_CHECKING:
    from refsheets.export import ExportPlan

FRONT_TEMPLATE = "annex.html.j2"


def split_pages(
    document: bytes | pikepdf.Pdf,
    cards: Sequence[Card],
    pages: Sequence[int],
    *,
    variant: str = PDF_UA,
) -> list[bytes]:
    """One PDF per card, taking page `pages[i]` of `document` for `cards[i]`; each part
    keeps only its own resources (a naive split would carry every page's images) and
    its own part of the structure tree (so each card stays a tagged PDF).

    `document` is opened once for all parts: grafting a page edits only the elements
    that mark that page's content (with an empty prefix, only their parent link, which
    the copy must not follow), never another page's. `document` may also be an opened
    PDF (`CardRenderer.write_opened`), which saves writing and reading it once more."""
    source = pikepdf.open(io.BytesIO(document)) if isinstance(document, bytes) else document
    parts = []
    for index, card in zip(pages, cards, strict=True):
        single = pikepdf.new()
        tree = new_tree(single)
        graft_page(tree, single, source, index, prefix="")
        finish_tree(tree, single)
        single.remove_unreferenced_resources()
        facts = DocumentFacts(
            title=card.title,
            lang=card.lang,
            author=card.brand.name,
            subject=f"{card.labels.reference} : {card.client}",
            keywords=", ".join(card.tags),
        )
        declare_accessible(single, facts, variant=variant, intents=_intents(source))
        parts.append(_save(single))
    return parts


def _intents(source: pikepdf.Pdf) -> tuple[pikepdf.Pdf, pikepdf.Object] | None:
    """The output intents of a PDF/A part, to give the assembled file the same."""
    value = source.Root.get("/OutputIntents")
    return (source, value) if value is not None else None


def _save(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(
        buffer,
        deterministic_id=True,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    return buffer.getvalue()


# The annex's own words, in the tender's language (the cards have theirs in card.LABELS).
FRONT_LABELS: dict[str, dict[str, str]] = {
    "fr": {
        "kicker": "Annexe — Références",
        "title_prefix": "Références",
        "buyer": "Acheteur",
        "reference": "Référence de la consultation",
        "candidate": "Candidat",
        "deadline": "Date limite de remise des offres",
        "count": "Références présentées",
        "stamp": "Document établi le",
        "summary": "Synthèse des références",
        "intro": "Montants hors taxes sauf mention contraire. "
        "Chaque référence est détaillée sur la fiche qui suit.",
        "number": "N°",
        "client": "Client",
        "mission": "Intitulé",
        "period": "Période",
        "amount": "Montant",
        "carried_by": "Réalisé par",
        "kind": "Public / privé",
        "public": "Public",
        "private": "Privé",
        "cover": "Couverture",
        "page": "page",
    },
    "en": {
        "kicker": "Annex — References",
        "title_prefix": "References",
        "buyer": "Buyer",
        "reference": "Tender reference",
        "candidate": "Candidate",
        "deadline": "Submission deadline",
        "count": "References presented",
        "stamp": "Document issued on",
        "summary": "Summary of references",
        "intro": "Amounts excluding VAT unless stated otherwise. "
        "Each reference is detailed on the sheet that follows.",
        "number": "No.",
        "client": "Client",
        "mission": "Assignment",
        "period": "Period",
        "amount": "Amount",
        "carried_by": "Carried out by",
        "kind": "Public / private",
        "public": "Public",
        "private": "Private",
        "cover": "Cover",
        "page": "page",
    },
}


def front_labels(plan: ExportPlan) -> dict[str, str]:
    """The annex's own labels in the tender's language."""
    return FRONT_LABELS[plan.tender.language]


def _summary_rows(plan: ExportPlan) -> list[dict[str, Any]]:
    labels = front_labels(plan)
    rows = []
    for index, ref in enumerate(plan.references, start=1):
        card, mission = ref.card, ref.mission
        partners = card.partners or ""
        rows.append(
            {
                "number": index,
                "client": card.client,
                "kind": {"public": labels["public"], "private": labels["private"]}.get(
                    mission.client.kind or "", "—"
                ),
                "title": card.title,
                "period": card.period or "—",
                "amount": card.amount or "—",
                "carried_by": card.brand.name or "",
                "partners": partners,
                "role": " · ".join(x for x in (card.brand.name or "", partners) if x),
            }
        )
    return rows


def _plain(plan: ExportPlan, text: str) -> str:
    return french(text) if plan.tender.language == "fr" else english(text)


def front_html(plan: ExportPlan) -> str:
    """The HTML of the cover and the summary's heading (autoescaped): the layout's
    logo, kicker and headings, room for the title's lines; the tender's own words are
    drawn over it (`cover_text`), so that another tender's annex reuses it."""
    # Not from render.pdf: templating the front pages of a warm export, whose pages are
    # all cached, must not import WeasyPrint.
    from refsheets.render.sandbox import layout_environment, render_layout_template
    from refsheets.render.words import protect_words

    env = layout_environment([str(p) for p in plan.layout.chain])
    env.filters["words"] = protect_words
    tender = plan.tender
    return render_layout_template(
        env,
        FRONT_TEMPLATE,
        "the annex's cover",
        lang=tender.language,
        labels=front_labels(plan),
        brand=plan.layout.brand,
        logo_url=plan.layout.logo_path.resolve().as_uri(),
        title_lines=len(title_lines(_plain(plan, plan.title), plan.layout)),
    )


def cover_text(plan: ExportPlan, today: date) -> CoverText:
    """The tender's words on the cover: title, buyer, reference, candidate, deadline,
    the number of references, the stamp."""
    tender = plan.tender
    lang = tender.language
    labels = front_labels(plan)
    lines = [
        (labels["buyer"], _plain(plan, tender.buyer)),
        *([(labels["reference"], tender.reference)] if tender.reference else []),
        (labels["candidate"], plan.layout.brand.name),
        (labels["deadline"], format_date(plan.deadline, lang)),
        (labels["count"], str(len(plan.references))),
    ]
    stamp = f"{labels['stamp']} {format_date(today, lang)} · {plan.layout.brand.name}"
    return CoverText(_plain(plan, plan.title), lines, stamp)


def html_key(plan: ExportPlan, html: str, variant: str | None = PDF_UA) -> str:
    """The cache key of an annex page's PDF: its HTML, the layout's files, the variant."""
    payload = f"{plan.environment}\0{variant}\0{html}"
    return hashlib.sha256(payload.encode()).hexdigest()


def front_pages(plan: ExportPlan) -> list[tuple[str, str, str | None]]:
    """The annex's own pages laid out as HTML, as (what, HTML, PDF variant): the cover
    and the summary's heading (tagged). The summary's table and every page's footer are
    drawn when the annex is put together (export/summary.py)."""
    return [("the annex's cover", front_html(plan), plan.tender.pdf_variant)]


def render_html(
    layout: Layout, library_root: Path, html: str, what: str, *, variant: str | None = PDF_UA
) -> bytes:
    """Render one of the annex's own pages in the layout's fonts and colours."""
    from refsheets.render.pdf import renderer_for

    renderer = renderer_for(layout, library_root)
    document = renderer.render(html, what)
    data: bytes = renderer.write(document, what, variant=variant)
    return data


def _render_html(
    plan: ExportPlan,
    html: str,
    library_root: Path,
    what: str,
    cache: CardCache | None,
    variant: str | None,
) -> bytes:
    key = html_key(plan, html, variant)
    if cache is not None and (hit := cache.get(key, "pdf")) is not None:
        return hit
    data = render_html(plan.layout, library_root, html, what, variant=variant)
    if cache is not None:
        cache.put(key, "pdf", data)
    return data


@dataclass
class _Front:
    """The annex's front pages being put together: the summary's pages, the fonts and
    style its drawn text uses."""

    summary: list[pikepdf.Page]
    links: list[RowLink]  # each summary row's, to point at its card
    style: SummaryStyle
    fonts: Fonts
    names: dict[str, str]  # the faces' names in the laid-out pages (see font_names)


def _graft_front(
    annex: pikepdf.Pdf,
    tree: Any,
    plan: ExportPlan,
    front: pikepdf.Pdf,
    today: date,
    *,
    links: bool = False,
) -> _Front:
    """Append the cover and the summary (laid out by WeasyPrint: the logo, kicker and
    headings; drawn: the tender's words on the cover, the summary's table under its
    heading, over as many pages as it takes) to `annex`."""
    labels = front_labels(plan)
    style = SummaryStyle.of(plan.layout)
    fonts = Fonts()
    for index in range(len(front.pages)):
        graft_page(tree, annex, front, index, prefix="front-")
        if index == 0:
            draw_cover(annex, tree, annex.pages[-1], cover_text(plan, today), style, fonts)
    columns = [
        labels[key] for key in ("number", "client", "mission", "period", "amount", "carried_by")
    ]
    summary = draw_summary(
        annex, tree, annex.pages[-1], _summary_rows(plan), columns, style, fonts, links=links
    )
    return _Front(summary.pages, summary.links, style, fonts, font_names(front))


def _finish_front(annex: pikepdf.Pdf, plan: ExportPlan, front: _Front) -> None:
    """Draw the summary pages' footers, numbered "k / n" in the whole document, and
    embed the fonts the drawn text used."""
    brand = plan.layout.brand
    contact = " · ".join(x for x in (brand.email, brand.website) if x)
    numbers = {page.obj.objgen: k for k, page in enumerate(annex.pages, start=1)}
    total = len(annex.pages)
    for page in front.summary:
        canvas = Canvas(front.fonts)
        number = f"{numbers[page.obj.objgen]}{NBSP}/{NBSP}{total}"
        draw_footer(canvas, brand.name, contact, number, front.style)
        add_content(annex, page, canvas.stream())


def _embed_fonts(
    annex: pikepdf.Pdf,
    front: _Front,
    pages: Sequence[pikepdf.Page],
    subset: Subsetter = _subset,
    *,
    merge_follows: bool = False,
) -> None:
    fonts = front.fonts.embed(annex, front.names, subset=subset, merge_follows=merge_follows)
    link_fonts(pages, fonts)


def cached_subsetter(plan: ExportPlan, cache: CardCache | None) -> Subsetter:
    """Font subsetting that keeps its results in `cache`, by face and glyph ids: the
    annex of another tender with the same cards needs the same subsets (fontTools takes
    0.1-0.3 s a face)."""
    if cache is None:
        return _subset

    def subset(path: Path, gids: Sequence[int]) -> bytes:
        key = derived_key(plan.environment, "subset", str(path), ",".join(map(str, gids)))
        hit = cache.get(key, "ttf")
        if hit is not None:
            return hit
        data = _subset(path, gids)
        cache.put(key, "ttf", data)
        return data

    return subset


def front_pdf(plan: ExportPlan, front_data: bytes, today: date) -> bytes:
    """The cover and summary alone as one tagged PDF, from the laid-out cover and
    heading (`front_pages`' PDF): what an annex starts with."""
    front = pikepdf.open(io.BytesIO(front_data))
    pdf = pikepdf.new()
    tree = new_tree(pdf)
    state = _graft_front(pdf, tree, plan, front, today)
    _finish_front(pdf, plan, state)
    _embed_fonts(pdf, state, state.summary)
    finish_tree(tree, pdf)
    labels = front_labels(plan)
    facts = DocumentFacts(
        title=f"{labels['title_prefix']} — {plan.title}",
        lang=plan.tender.language,
        author=plan.layout.brand.name,
    )
    declare_accessible(pdf, facts, variant=plan.tender.pdf_variant, intents=_intents(front))
    return _save(pdf)


def annex_pdf(
    plan: ExportPlan,
    cards: Sequence[bytes],
    library_root: Path,
    *,
    today: date | None = None,
    cache: CardCache | None = None,
    late: Collection[int] = (),
) -> bytes:
    """The whole PDF annex: cover, summary, then each card (and its attestation).

    `late` are the places of cards that may still be rendering elsewhere when this
    starts (reading them from `cards` waits for them): the other cards are read first.
    Without, the cards are read one at a time, as they are put in.

    Tagged like its parts: the structure of the front pages and of every card is
    grafted into one tree (see render/pdf_tags), in page order.
    """
    today = today or plan.tender.deadline
    variant = plan.tender.pdf_variant
    labels = front_labels(plan)
    ((cover_what, cover, cover_variant),) = front_pages(plan)
    front_data = _render_html(plan, cover, library_root, cover_what, cache, cover_variant)
    front = pikepdf.open(io.BytesIO(front_data))
    annex = pikepdf.new()
    tree = new_tree(annex)
    state = _graft_front(annex, tree, plan, front, today, links=True)
    n_front = len(annex.pages)
    starts: list[int] = []
    foreign: list[pikepdf.Page] = []  # attestations' pages: other tools' resources
    reference = plan.references[0].card.labels.reference if plan.references else "Référence"
    count = len(plan.references)
    if len(cards) != count:
        raise ValueError(f"{len(cards)} cards for {count} references")
    known = KnownFonts()  # the cards' fonts, as the cache gave them

    def opened(index: int) -> tuple[pikepdf.Pdf, dict[str, FontFacts] | None]:
        data = cards[index]
        card = pikepdf.open(io.BytesIO(data))
        return card, _card_font_facts(plan, data, card, cache)

    # A card rendering elsewhere meanwhile (a re-export's changed card): the others are
    # opened first, so that it has that long to arrive before the annex waits for it.
    ahead = {i: opened(i) for i in range(len(cards)) if i not in late} if late else {}
    for index, ref in enumerate(plan.references):
        card_pdf, fonts_used = ahead.pop(index) if index in ahead else opened(index)
        starts.append(len(annex.pages))
        graft_page(tree, annex, card_pdf, 0, prefix=f"card{index + 1}-")
        if fonts_used:
            _known_fonts(annex.pages[-1], fonts_used, known)
        # A cached card does not know its rank: its "Référence k / n" is drawn here.
        canvas = Canvas(state.fonts)
        draw_reference_number(
            canvas, f"{reference}{NBSP}{index + 1}{NBSP}/{NBSP}{count}", state.style
        )
        add_content(annex, annex.pages[-1], canvas.stream())
        if ref.mission.attestation and "attestation" in plan.tender.rules.required_facts:
            from refsheets.export import _withheld_attestation

            if _withheld_attestation(ref.mission, ref.id, plan.tender):
                continue  # an attestation names the client; the tender did not allow it
            # The bytes checked are the bytes appended (the file may have changed since
            # the library was read).
            from refsheets.attestation import read_attestation

            attestation = pikepdf.open(
                io.BytesIO(read_attestation(library_root / ref.mission.attestation))
            )
            for page in attestation.pages:
                annex.pages.append(page)
                _mark_as_figure(tree, annex, annex.pages[-1], ref.card)
                foreign.append(annex.pages[-1])
    _finish_front(annex, plan, state)
    link_rows(
        annex,
        tree,
        state.links,
        [annex.pages[i] for i in starts],
        [f"{reference} {k} — {ref.card.client}" for k, ref in enumerate(plan.references, 1)],
    )
    subset = cached_subsetter(plan, cache)
    fonts = state.fonts.embed(annex, state.names, subset=subset, merge_follows=True)
    link_fonts(state.summary, fonts)
    # A card's page draws only its "Référence k / n", in the regular face: it is given
    # that font alone, and so holds no resource it does not use (the cards were split
    # with theirs only): no page of the cards needs cleaning after.
    number_font = state.fonts.resource(state.style.regular).decode()
    if number_font in fonts:
        number_fonts = pikepdf.Dictionary({number_font: fonts[number_font]})
        link_fonts([annex.pages[i] for i in starts], number_fonts)
    finish_tree(tree, annex)
    with annex.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem(labels["cover"], 0))
        if n_front > 1:
            outline.root.append(pikepdf.OutlineItem(labels["summary"], 1))
        for number, (ref, start) in enumerate(zip(plan.references, starts, strict=True), 1):
            title = f"{number}. {ref.card.client} — {ref.card.title}"
            outline.root.append(pikepdf.OutlineItem(title, start))
    # One subset per face for the whole annex rather than one per card (and footer):
    # only font dictionaries change, not the content streams nor the structure tree.
    merge_font_subsets(annex, [face.path for face in plan.layout.font_faces], subset, known)
    state.fonts.settle(annex, subset)
    # Only the pages that may hold resources they do not use: the front pages (given
    # every face the summary draws with) and the attestations. Cleaning all 500 pages
    # of an annex took a tenth of its assembly.
    for page in [*annex.pages[:n_front], *foreign]:
        page.remove_unreferenced_resources()
    facts = DocumentFacts(
        title=f"{labels['title_prefix']} — {plan.title}",
        lang=plan.tender.language,
        author=plan.layout.brand.name,
        subject=plan.tender.buyer,
        keywords=", ".join(plan.tender.themes),
    )
    declare_accessible(annex, facts, variant=variant, intents=_intents(front))
    annex.Root.PageMode = pikepdf.Name.UseOutlines
    return _save(annex)


def _card_font_facts(
    plan: ExportPlan, data: bytes, card: pikepdf.Pdf, cache: CardCache | None
) -> dict[str, FontFacts] | None:
    """The facts of the fonts of a card's page (see fonts.FontFacts), kept in the cache
    under the card's bytes: read from the card when the cache lacks them, or holds
    something else than the page's fonts."""
    page = card.pages[0]
    key = None
    if cache is not None:
        key = derived_key(plan.environment, "fonts", hashlib.sha256(data).hexdigest())
        hit = cache.get(key, "fonts")
        facts = facts_from_json(hit) if hit is not None else None
        if facts is not None and set(facts) == {str(name) for name in page_fonts(page)}:
            return facts
    facts = page_font_facts(page)
    if key is not None and cache is not None and facts is not None:
        cache.put(key, "fonts", facts_to_json(facts))
    return facts


def _known_fonts(page: pikepdf.Page, facts: dict[str, FontFacts], known: KnownFonts) -> None:
    """Note the facts of the fonts of `page` (a card's, grafted)."""
    fonts = page_fonts(page)
    for key, font_facts in facts.items():
        font = fonts.get(key)
        if font is not None and font.is_indirect:
            known.add(font, font_facts)


def _mark_as_figure(tree: Any, pdf: pikepdf.Pdf, page: pikepdf.Page, card: Card) -> None:
    """An attestation page (a scan or another tool's PDF, untagged) as one figure of
    the structure, with an alternative text naming it, so the annex stays tagged."""
    from refsheets.render.pdf_tags import tag_whole_page

    alt = (
        f"Attestation de bonne exécution : {card.client}"
        if card.lang == "fr"
        else f"Certificate of satisfactory performance: {card.client}"
    )
    tag_whole_page(tree, pdf, page, alt)


def annex_docx(plan: ExportPlan, cards: Sequence[bytes], *, today: date | None = None) -> bytes:
    """The Word annex: a cover, the summary table, then the Word cards: the PDF's pages,
    in the PDF's order, with the PDF's words."""
    from refsheets.export.annex_docx import FrontMatter, SummaryRow, merge_cards_docx

    today = today or plan.tender.deadline
    tender = plan.tender
    lang = tender.language
    labels = front_labels(plan)
    colors = plan.layout.brand.colors
    lines = [
        (labels["buyer"], _plain(plan, tender.buyer)),
        *([(labels["reference"], tender.reference)] if tender.reference else []),
        (labels["candidate"], plan.layout.brand.name),
        (labels["deadline"], format_date(plan.deadline, lang)),
        (labels["count"], str(len(plan.references))),
    ]
    front = FrontMatter(
        kicker=labels["kicker"],
        title=_plain(plan, plan.title),
        lines=lines,
        stamp=f"{labels['stamp']} {format_date(today, lang)} · {plan.layout.brand.name}",
        heading=labels["summary"],
        intro=labels["intro"],
        columns=[
            labels[key] for key in ("number", "client", "mission", "period", "amount", "carried_by")
        ],
        rows=[
            SummaryRow(
                number=str(r["number"]),
                client=r["client"],
                kind=r["kind"],
                title=r["title"],
                period=r["period"],
                amount=r["amount"],
                carried_by=r["carried_by"],
                partners=r["partners"],
            )
            for r in _summary_rows(plan)
        ],
        reference_label=(
            plan.references[0].card.labels.reference if plan.references else "Référence"
        ),
        primary=colors.primary.lstrip("#").upper(),
        rule=colors.rule.lstrip("#").upper(),
        tint=colors.tint.lstrip("#").upper(),
    )
    return merge_cards_docx(front, cards, title=f"{labels['title_prefix']} — {plan.title}")
