"""Assembling the annex: cover and summary, the cards, bookmarks, "Référence k / n".

The cards come as one-page PDFs (rendered or cached); the cover and summary are one
small WeasyPrint document in the same fonts and colours; the pages are put together with
pikepdf, which also stamps each card's "Référence k / n" and writes the bookmarks. The
Word annex is the Word cards' document with the cover and summary table put in front.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pikepdf

from refsheets.card import Card
from refsheets.export.cache import CardCache
from refsheets.export.fonts import merge_font_subsets
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
    document: bytes, cards: Sequence[Card], pages: Sequence[int], *, variant: str = PDF_UA
) -> list[bytes]:
    """One PDF per card, taking page `pages[i]` of `document` for `cards[i]`; each part
    keeps only its own resources (a naive split would carry every page's images) and
    its own part of the structure tree (so each card stays a tagged PDF)."""
    parts = []
    for index, card in zip(pages, cards, strict=True):
        # Opened afresh for each part: grafting edits the source's elements.
        source = pikepdf.open(io.BytesIO(document))
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


def front_html(plan: ExportPlan, *, today: date) -> str:
    """The cover and summary pages' HTML (autoescaped: tender text is data)."""
    # Not from render.pdf: templating the front pages of a warm export, whose pages are
    # all cached, must not import WeasyPrint.
    from refsheets.render.sandbox import layout_environment, render_layout_template
    from refsheets.render.words import protect_words

    env = layout_environment([str(p) for p in plan.layout.chain])
    env.filters["words"] = protect_words
    tender = plan.tender
    lang = tender.language
    return render_layout_template(
        env,
        FRONT_TEMPLATE,
        "the annex's cover",
        tender=tender,
        lang=lang,
        labels=front_labels(plan),
        brand=plan.layout.brand,
        logo_url=plan.layout.logo_path.resolve().as_uri(),
        title=_plain(plan, plan.title),
        buyer=_plain(plan, tender.buyer),
        deadline=format_date(plan.deadline, lang),
        today=format_date(today, lang),
        rows=_summary_rows(plan),
        count=len(plan.references),
    )


def html_key(plan: ExportPlan, html: str, variant: str | None = PDF_UA) -> str:
    """The cache key of an annex page's PDF: its HTML, the layout's files, the variant."""
    payload = f"{plan.environment}\0{variant}\0{html}"
    return hashlib.sha256(payload.encode()).hexdigest()


def front_pages(plan: ExportPlan, today: date) -> list[tuple[str, str, str | None]]:
    """The annex's own pages as (what, HTML, PDF variant): the cover and summary
    (tagged), and the page footers (untagged: drawn over the pages as artifacts)."""
    return [
        ("the annex's cover", front_html(plan, today=today), plan.tender.pdf_variant),
        ("the annex's footers", _footers_html(plan), None),
    ]


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


def _footers_html(plan: ExportPlan) -> str:
    """One page per card: its "Référence k / n", drawn over the card's page (a cached
    card does not know its rank). The summary's pages number themselves (annex.html.j2)."""
    label = plan.references[0].card.labels.reference if plan.references else "Référence"
    count = len(plan.references)
    pages = "".join(
        f'<div class="ref-footer">{label}{NBSP}{k}{NBSP}/{NBSP}{count}</div>'
        for k in range(1, count + 1)
    )
    return (
        "<!doctype html><html><head><style>"
        "@page { size: A4; margin: 0 } body { margin: 0 }"
        ".ref-footer { page-break-after: always; height: 297mm; box-sizing: border-box;"
        " padding-top: 284mm; padding-right: 14mm; text-align: right;"
        " font-family: var(--font-body); font-size: 7.5pt; color: var(--muted);"
        " letter-spacing: 0.04em; }"
        "html, body { background: none !important }"
        "@page { size: A4 !important; margin: 0 !important; background: none !important;"
        " @bottom-left { content: none !important; border: none !important }"
        " @bottom-right { content: none !important; border: none !important } }"
        ".ref-footer:last-child { page-break-after: auto }"
        f"</style></head><body>{pages}</body></html>"
    )


def _stamp(pdf: pikepdf.Pdf, page: pikepdf.Page, overlay: pikepdf.Page) -> None:
    """Draw `overlay` over `page`, under a fixed resource name, as a pagination artifact.

    pikepdf's add_overlay names the resource at random: the same annex would then differ
    from one export to the next, byte for byte and in its manifest's hash. The overlay
    is marked as an artifact: a tagged page holds no untagged content.
    """
    form = pdf.copy_foreign(overlay.as_form_xobject())
    name = page.add_resource(form, pikepdf.Name.XObject, pikepdf.Name("/RefsheetsFooter"))
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    page.contents_add(
        pikepdf.Stream(
            pdf,
            b"\nQ /Artifact <</Type /Pagination>> BDC q " + bytes(name) + b" Do Q EMC\n",
        ),
        prepend=False,
    )


def annex_pdf(
    plan: ExportPlan,
    cards: Sequence[bytes],
    library_root: Path,
    *,
    today: date | None = None,
    cache: CardCache | None = None,
) -> bytes:
    """The whole PDF annex: cover, summary, then each card (and its attestation).

    Tagged like its parts: the structure of the front pages and of every card is
    grafted into one tree (see render/pdf_tags), in page order.
    """
    today = today or plan.tender.deadline
    variant = plan.tender.pdf_variant
    labels = front_labels(plan)
    (cover_what, cover, cover_variant), (footers_what, footers_page, _) = front_pages(plan, today)
    front_data = _render_html(plan, cover, library_root, cover_what, cache, cover_variant)
    front = pikepdf.open(io.BytesIO(front_data))
    footers = pikepdf.open(
        io.BytesIO(_render_html(plan, footers_page, library_root, footers_what, cache, None))
    )
    annex = pikepdf.new()
    tree = new_tree(annex)
    for index in range(len(front.pages)):
        graft_page(tree, annex, front, index, prefix="front-")
    n_front = len(front.pages)
    overlays = iter(footers.pages)
    starts: list[int] = []
    for index, (ref, data) in enumerate(zip(plan.references, cards, strict=True)):
        card_pdf = pikepdf.open(io.BytesIO(data))
        starts.append(len(annex.pages))
        graft_page(tree, annex, card_pdf, 0, prefix=f"card{index + 1}-")
        _stamp(annex, annex.pages[-1], next(overlays))
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
    merge_font_subsets(annex, [face.path for face in plan.layout.font_faces])
    annex.remove_unreferenced_resources()
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
