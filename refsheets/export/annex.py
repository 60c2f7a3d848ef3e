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
from refsheets.layouts import Layout
from refsheets.text import NBSP, format_date, group_thousands
from refsheets.typography import french

if TYPE_CHECKING:
    from refsheets.export import ExportPlan

FRONT_TEMPLATE = "annex.html.j2"


def split_pages(document: bytes, cards: Sequence[Card], pages: Sequence[int]) -> list[bytes]:
    """One PDF per card, taking page `pages[i]` of `document` for `cards[i]`; each part
    keeps only its own resources (a naive split would carry every page's images)."""
    source = pikepdf.open(io.BytesIO(document))
    parts = []
    for index, card in zip(pages, cards, strict=True):
        single = pikepdf.new()
        single.pages.append(source.pages[index])
        single.remove_unreferenced_resources()
        _set_info(
            single,
            title=card.title,
            author=card.brand.name,
            lang=card.lang,
            subject=f"{card.labels.reference} : {card.client}",
            keywords=", ".join(card.tags),
        )
        parts.append(_save(single))
    return parts


def _set_info(
    pdf: pikepdf.Pdf, *, title: str, author: str | None, lang: str, subject: str, keywords: str
) -> None:
    info = pdf.trailer.get("/Info")
    if info is None:
        pdf.trailer.Info = pdf.make_indirect(pikepdf.Dictionary())
        info = pdf.trailer.Info
    info.Title = pikepdf.String(title)
    if author:
        info.Author = pikepdf.String(author)
    info.Subject = pikepdf.String(subject)
    info.Keywords = pikepdf.String(keywords)
    info.Producer = pikepdf.String("refsheets")
    # Fixed dates: the same inputs give the same bytes.
    info.CreationDate = pikepdf.String("D:20000101000000Z")
    info.ModDate = pikepdf.String("D:20000101000000Z")
    pdf.Root.Lang = pikepdf.String(lang)


def _save(pdf: pikepdf.Pdf) -> bytes:
    buffer = io.BytesIO()
    pdf.save(
        buffer,
        deterministic_id=True,
        compress_streams=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
    )
    return buffer.getvalue()


def _summary_rows(plan: ExportPlan) -> list[dict[str, Any]]:
    rows = []
    for index, ref in enumerate(plan.references, start=1):
        card, mission = ref.card, ref.mission
        partners = card.partners or ""
        rows.append(
            {
                "number": index,
                "client": card.client,
                "kind": {"public": "Public", "private": "Privé"}.get(
                    mission.client.kind or "", "—"
                ),
                "title": card.title,
                "period": card.period or "—",
                "amount": (
                    f"{group_thousands(mission.budget.amount)}{NBSP}€{NBSP}{mission.budget.basis}"
                    if mission.budget
                    else "—"
                ),
                "role": " · ".join(x for x in (card.brand.name or "", partners) if x),
            }
        )
    return rows


def front_html(plan: ExportPlan, *, today: date) -> str:
    """The cover and summary pages' HTML (autoescaped: tender text is data)."""
    from refsheets.render.pdf import _file_url
    from refsheets.render.sandbox import layout_environment, render_layout_template

    env = layout_environment([str(p) for p in plan.layout.chain])
    tender = plan.tender
    return render_layout_template(
        env,
        FRONT_TEMPLATE,
        "the annex's cover",
        tender=tender,
        brand=plan.layout.brand,
        logo_url=_file_url(plan.layout.logo_path),
        title=french(plan.title),
        buyer=french(tender.buyer),
        deadline=format_date(plan.deadline),
        today=format_date(today),
        rows=_summary_rows(plan),
        count=len(plan.references),
    )


def html_key(plan: ExportPlan, html: str) -> str:
    """The cache key of an annex page's PDF: its HTML and the layout's files."""
    return hashlib.sha256((plan.environment + "\0" + html).encode()).hexdigest()


def front_pages(plan: ExportPlan, today: date) -> list[tuple[str, str]]:
    """The annex's own pages as (what, HTML): the cover and summary, the footers."""
    label = plan.references[0].card.labels.reference if plan.references else "Référence"
    return [
        ("the annex's cover", front_html(plan, today=today)),
        ("the annex's footers", _footers_html(len(plan.references), label)),
    ]


def render_html(layout: Layout, library_root: Path, html: str, what: str) -> bytes:
    """Render one of the annex's own pages in the layout's fonts and colours."""
    from refsheets.render.pdf import renderer_for

    renderer = renderer_for(layout, library_root)
    document = renderer.render(html, what)
    data: bytes = renderer.write(document, what)
    return data


def _render_html(
    plan: ExportPlan, html: str, library_root: Path, what: str, cache: CardCache | None
) -> bytes:
    key = html_key(plan, html)
    if cache is not None and (hit := cache.get(key, "pdf")) is not None:
        return hit
    data = render_html(plan.layout, library_root, html, what)
    if cache is not None:
        cache.put(key, "pdf", data)
    return data


def _footers_html(count: int, label: str) -> str:
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
        " @bottom-left { content: none !important } }"
        ".ref-footer:last-child { page-break-after: auto }"
        f"</style></head><body>{pages}</body></html>"
    )


def _stamp(pdf: pikepdf.Pdf, page: pikepdf.Page, overlay: pikepdf.Page) -> None:
    """Draw `overlay` over `page`, under a fixed resource name.

    pikepdf's add_overlay names the resource at random: the same annex would then differ
    from one export to the next, byte for byte and in its manifest's hash.
    """
    form = pdf.copy_foreign(overlay.as_form_xobject())
    name = page.add_resource(form, pikepdf.Name.XObject, pikepdf.Name("/RefsheetsFooter"))
    page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
    page.contents_add(pikepdf.Stream(pdf, b"\nQ q " + bytes(name) + b" Do Q\n"), prepend=False)


def annex_pdf(
    plan: ExportPlan,
    cards: Sequence[bytes],
    library_root: Path,
    *,
    today: date | None = None,
    cache: CardCache | None = None,
) -> bytes:
    """The whole PDF annex: cover, summary, then each card (and its attestation)."""
    today = today or plan.tender.deadline
    (cover_what, cover), (footers_what, footers_page) = front_pages(plan, today)
    front = pikepdf.open(io.BytesIO(_render_html(plan, cover, library_root, cover_what, cache)))
    footers = pikepdf.open(
        io.BytesIO(_render_html(plan, footers_page, library_root, footers_what, cache))
    )
    annex = pikepdf.new()
    annex.pages.extend(front.pages)
    n_front = len(front.pages)
    starts: list[int] = []
    for index, (ref, data) in enumerate(zip(plan.references, cards, strict=True)):
        card_pdf = pikepdf.open(io.BytesIO(data))
        starts.append(len(annex.pages))
        annex.pages.append(card_pdf.pages[0])
        _stamp(annex, annex.pages[-1], footers.pages[index])
        if ref.mission.attestation and "attestation" in plan.tender.rules.required_facts:
            attestation = pikepdf.open(library_root / ref.mission.attestation)
            annex.pages.extend(attestation.pages)
    with annex.open_outline() as outline:
        outline.root.append(pikepdf.OutlineItem("Couverture", 0))
        if n_front > 1:
            outline.root.append(pikepdf.OutlineItem("Synthèse des références", 1))
        for number, (ref, start) in enumerate(zip(plan.references, starts, strict=True), 1):
            title = f"{number}. {ref.card.client} — {ref.card.title}"
            outline.root.append(pikepdf.OutlineItem(title, start))
    annex.remove_unreferenced_resources()
    brand = plan.layout.brand.name
    _set_info(
        annex,
        title=f"Références — {plan.title}",
        author=brand,
        lang=plan.tender.language,
        subject=plan.tender.buyer,
        keywords=", ".join(plan.tender.themes),
    )
    annex.Root.PageMode = pikepdf.Name.UseOutlines
    return _save(annex)


def annex_docx(plan: ExportPlan, cards: Sequence[bytes], *, today: date | None = None) -> bytes:
    """The Word annex: a cover and the summary table, then the Word cards."""
    from refsheets.export.annex_docx import FrontMatter, merge_cards_docx

    today = today or plan.tender.deadline
    tender = plan.tender
    lines = [
        f"Acheteur : {french(tender.buyer)}",
        *([f"Référence de la consultation : {tender.reference}"] if tender.reference else []),
        f"Candidat : {plan.layout.brand.name}",
        f"Date limite de remise des offres : {format_date(plan.deadline)}",
        f"Références présentées : {len(plan.references)}",
        f"Document établi le {format_date(today)}",
    ]
    rows = [
        [str(r["number"]), r["client"], r["kind"], r["title"], r["period"], r["amount"], r["role"]]
        for r in _summary_rows(plan)
    ]
    front = FrontMatter(
        title=french(plan.title),
        lines=[french(line) for line in lines],
        heading="Synthèse des références",
        columns=["N°", "Client", "Public/Privé", "Intitulé", "Période", "Montant", "Réalisé par"],
        rows=rows,
    )
    return merge_cards_docx(front, cards, title=f"Références — {plan.title}")
