"""Assembling the annex: cover and summary, the cards, bookmarks, "Référence k / n".

The cards come as one-page PDFs (rendered or cached); the cover and summary are one
small WeasyPrint document in the same fonts and colours; the pages are put together with
pikepdf, which also stamps each card's "Référence k / n" and writes the bookmarks. The
Word annex is the Word cards' document with the cover and summary table put in front.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pikepdf

from refsheets.card import Card
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

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(p) for p in plan.layout.chain]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    tender = plan.tender
    return env.get_template(FRONT_TEMPLATE).render(
        tender=tender,
        brand=plan.layout.brand,
        logo_url=_file_url(plan.layout.logo_path),
        title=french(tender.name),
        buyer=french(tender.buyer),
        deadline=format_date(tender.deadline),
        today=format_date(today),
        rows=_summary_rows(plan),
        count=len(plan.references),
    )


def _render_html(plan: ExportPlan, html: str, library_root: Path, what: str) -> bytes:
    from refsheets.render.pdf import renderer_for

    renderer = renderer_for(plan.layout, library_root)
    document = renderer.render(html, what)
    data: bytes = renderer.write(document, what)
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


def annex_pdf(
    plan: ExportPlan, cards: Sequence[bytes], library_root: Path, *, today: date | None = None
) -> bytes:
    """The whole PDF annex: cover, summary, then each card (and its attestation)."""
    today = today or plan.tender.deadline
    front = pikepdf.open(
        io.BytesIO(
            _render_html(plan, front_html(plan, today=today), library_root, "the annex's cover")
        )
    )
    label = plan.references[0].card.labels.reference if plan.references else "Référence"
    footers = pikepdf.open(
        io.BytesIO(
            _render_html(
                plan, _footers_html(len(cards), label), library_root, "the annex's footers"
            )
        )
    )
    annex = pikepdf.new()
    annex.pages.extend(front.pages)
    n_front = len(front.pages)
    starts: list[int] = []
    for index, (ref, data) in enumerate(zip(plan.references, cards, strict=True)):
        card_pdf = pikepdf.open(io.BytesIO(data))
        starts.append(len(annex.pages))
        annex.pages.append(card_pdf.pages[0])
        annex.pages[-1].add_overlay(footers.pages[index], None)
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
        title=f"Références — {plan.tender.name}",
        author=brand,
        lang=plan.tender.language,
        subject=plan.tender.buyer,
        keywords=", ".join(plan.tender.themes),
    )
    annex.Root.PageMode = pikepdf.Name.UseOutlines
    return _save(annex)


def annex_docx(plan: ExportPlan, *, today: date | None = None) -> bytes:
    """The Word annex: a cover and the summary table, then the Word cards."""
    from docx import Document
    from docx.enum.text import WD_BREAK

    from refsheets.render.docx import build_cards_docx
    from refsheets.render.docx_package import normalize_zip

    today = today or plan.tender.deadline
    base = build_cards_docx([r.card for r in plan.references], plan.layout)
    document = Document(io.BytesIO(base))
    body = document.element.body
    first = body[0]
    styles = {s.name for s in document.styles}

    def style(*names: str) -> str | None:
        return next((n for n in names if n in styles), None)

    new: list[Any] = []
    tender = plan.tender
    new.append(document.add_paragraph(french(tender.name), style=style("Card Title", "Title")))
    for line in (
        f"Acheteur : {french(tender.buyer)}",
        f"Référence : {tender.reference}" if tender.reference else "",
        f"Candidat : {plan.layout.brand.name}",
        f"Date limite de remise des offres : {format_date(tender.deadline)}",
        f"Document établi le {format_date(today)}",
    ):
        if line:
            new.append(document.add_paragraph(line, style=style("Card Body", "Normal")))
    new.append(
        document.add_paragraph("Synthèse des références", style=style("Card Heading", "Heading 1"))
    )
    headers = ["N°", "Client", "Public/Privé", "Intitulé", "Période", "Montant", "Rôle"]
    rows = _summary_rows(plan)
    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table_style = style("Table Grid")
    if table_style:
        table.style = document.styles[table_style]
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    for row, data in zip(table.rows[1:], rows, strict=True):
        values = [
            str(data["number"]),
            data["client"],
            data["kind"],
            data["title"],
            data["period"],
            data["amount"],
            data["role"],
        ]
        for cell, text in zip(row.cells, values, strict=True):
            cell.text = text
    new.append(table)
    breaker = document.add_paragraph()
    breaker.add_run().add_break(WD_BREAK.PAGE)
    new.append(breaker)
    for item in new:
        first.addprevious(item._element if hasattr(item, "_element") else item._tbl)
    buffer = io.BytesIO()
    document.core_properties.title = f"Références — {tender.name}"
    document.save(buffer)
    return normalize_zip(buffer.getvalue())
