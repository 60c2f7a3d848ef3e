"""Our role in the contract: on the card (PDF and Word), in the DC2/DUME table, and
consistent with the partners' roles."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from refsheets import load_library
from refsheets.card import build_card
from refsheets.export.tables import rows_for, to_csv, to_xlsx
from refsheets.library import Library
from tests.conftest import run_cli

BASE = (
    "title: Étude\nclient:\n  name: Commune de Test\n  kind: public\nperiod: 2024\n"
    "entity: pop-up\ndeliverables: [Rapport]\nbudget: 10 000 € HT\n"
)


def _library(root: Path, **missions: str) -> Library:
    for mission_id, extra in missions.items():
        (root / "missions" / f"{mission_id}.yaml").write_text(BASE + extra, encoding="utf-8")
    return load_library(root)


ROLES = {
    "lead": "role: mandataire\npartners:\n  - {name: Atelier A, role: cotraitant}\n"
    "  - {name: Bureau B, role: sous-traitant}\n",
    "member": "role: cotraitant\npartners:\n  - {name: Atelier A, role: mandataire}\n",
    "sub": "role: sous-traitant\npartners:\n  - {name: Atelier A, role: titulaire}\n",
    "alone": "role: titulaire\n",
    "alone-hiring": "role: titulaire\npartners:\n  - {name: Bureau B, role: sous-traitant}\n",
}


@pytest.mark.parametrize(
    ("mission_id", "fr", "en"),
    [
        (
            "lead",
            "en tant que mandataire d'un groupement avec Atelier A (cotraitant), "
            "avec Bureau B en sous-traitance",
            "as lead of a consortium with Atelier A (co-contractor), "
            "with Bureau B as subcontractor(s)",
        ),
        (
            "member",
            "en tant que cotraitant d'un groupement avec Atelier A (mandataire)",
            "as co-contractor in a consortium with Atelier A (lead)",
        ),
        (
            "sub",
            "en tant que sous-traitant de Atelier A (titulaire)",
            "as subcontractor to Atelier A (contract holder)",
        ),
        ("alone", "en tant que titulaire du marché", "as sole contractor"),
        (
            "alone-hiring",
            "en tant que titulaire du marché, avec Bureau B en sous-traitance",
            "as sole contractor, with Bureau B as subcontractor(s)",
        ),
    ],
)
def test_the_card_says_our_role(library_copy: Path, mission_id: str, fr: str, en: str) -> None:
    library = _library(library_copy, **ROLES)
    assert build_card(library, mission_id).partners == fr
    assert build_card(library, mission_id, lang="en").partners == en


def test_the_dc2_table_gives_our_role_and_the_partners_in_french(library_copy: Path) -> None:
    library = _library(library_copy, **ROLES)
    rows = rows_for([(i, library.missions[i]) for i in ROLES])
    sheet = load_workbook(io.BytesIO(to_xlsx(rows, title="T"))).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    role, partners = header.index("Rôle"), header.index("Partenaires")
    table = {row[0]: (row[role], row[partners]) for row in sheet.iter_rows(2, values_only=True)}
    assert table == {
        "lead": ("Mandataire du groupement", "Atelier A (cotraitant), Bureau B (sous-traitant)"),
        "member": ("Cotraitant (membre du groupement)", "Atelier A (mandataire)"),
        "sub": ("Sous-traitant", "Atelier A (titulaire)"),
        "alone": ("Titulaire", None),
        "alone-hiring": ("Titulaire", "Bureau B (sous-traitant)"),
    }
    assert "Mandataire du groupement" in to_csv(rows).decode("utf-8-sig")


def test_the_dc2_table_gives_our_role_in_english_for_a_tender_in_english(
    library_copy: Path,
) -> None:
    library = _library(library_copy, **ROLES)
    rows = rows_for([(i, library.missions[i]) for i in ROLES], "en")
    sheet = load_workbook(io.BytesIO(to_xlsx(rows, title="T", lang="en"))).active
    assert sheet is not None
    header = [cell.value for cell in sheet[1]]
    role, partners = header.index("Role"), header.index("Partners")
    table = {row[0]: (row[role], row[partners]) for row in sheet.iter_rows(2, values_only=True)}
    assert table == {
        "lead": ("Lead of the consortium", "Atelier A (co-contractor), Bureau B (subcontractor)"),
        "member": ("Co-contractor (consortium member)", "Atelier A (lead)"),
        "sub": ("Subcontractor", "Atelier A (contract holder)"),
        "alone": ("Sole contractor", None),
        "alone-hiring": ("Sole contractor", "Bureau B (subcontractor)"),
    }
    assert "Lead of the consortium" in to_csv(rows, "en").decode("utf-8-sig")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "role: titulaire\npartners:\n  - {name: Atelier A, role: cotraitant}\n",
            "Atelier A cannot be cotraitant when we were titulaire",
        ),
        (
            "role: mandataire\npartners:\n  - {name: Atelier A, role: mandataire}\n",
            "Atelier A cannot be mandataire when we were mandataire",
        ),
        (
            "role: cotraitant\npartners:\n  - {name: Atelier A, role: titulaire}\n",
            "Atelier A cannot be titulaire when we were cotraitant",
        ),
    ],
)
def test_partners_roles_that_contradict_ours_are_errors_at_their_line(
    library_copy: Path, extra: str, message: str
) -> None:
    library = _library(library_copy, bad=extra)
    (error,) = [d for d in library.errors if d.path.stem == "bad"]
    assert message in error.message
    assert (error.line, error.field) == (11, "partners.role")
    assert "bad" not in library.missions


def test_a_subcontractor_partner_is_never_a_member_of_the_groupement(library_copy: Path) -> None:
    library = _library(library_copy, hired="partners:\n  - {name: Bureau B, role: subcontractor}\n")
    (row,) = rows_for([("hired", library.missions["hired"])])
    assert row.role == "Titulaire" and "groupement" not in row.role
    assert "groupement" not in (build_card(library, "hired").partners or "")


@pytest.mark.slow
def test_the_pdf_and_word_cards_print_our_role(library_copy: Path, tmp_path: Path) -> None:
    _library(library_copy, lead=ROLES["lead"])
    out = tmp_path / "out"
    result = run_cli(
        ["--library", str(library_copy), "render", "lead", "--format", "all", "--out", str(out)]
    )
    assert result.returncode == 0, result.stderr
    pdf_text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(out / "lead.pdf").pages
    )
    assert "en tant que mandataire d'un groupement avec Atelier A (cotraitant)" in pdf_text
    word_text = " ".join(p.text for p in docx.Document(str(out / "lead.docx")).paragraphs)
    word_text += " ".join(
        cell.text
        for table in docx.Document(str(out / "lead.docx")).tables
        for row in table.rows
        for cell in row.cells
    )
    assert "en tant que mandataire d'un groupement avec Atelier A (cotraitant)" in word_text
