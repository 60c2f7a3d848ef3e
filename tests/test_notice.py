"""`new_tender`: notices and RCs merged into a tender file with quoted sources and TODOs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from refsheets.errors import NotFoundError, RefsheetsError, UsageError
from refsheets.library import Library, load_library
from refsheets.notice import NewTender, new_tender
from refsheets.tender import TenderError, load_tender
from tests.conftest import DATA

NOTICES = Path(__file__).resolve().parent / "fixtures" / "notices"

RC = """RÈGLEMENT DE LA CONSULTATION

Article 5.2 – Références

Le candidat présente au moins deux références de prestations
similaires exécutées au cours des trois dernières années, d'un montant
minimum de 5 000 € HT chacune, en précisant le montant, la date et le
destinataire public ou privé.

Les attestations de bonne exécution sont jointes.
"""


@pytest.fixture
def library(tmp_path: Path) -> Library:
    root = tmp_path / "data"
    shutil.copytree(DATA, root)
    return load_library(root)


def write_rc(tmp_path: Path, text: str = RC, name: str = "rc.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def unwrapped(text: str) -> str:
    """The text with each wrapped comment on one line."""
    return re.sub(r"\n *#   ", " ", text)


def data_of(result: NewTender) -> dict[str, Any]:
    data = yaml.safe_load(result.text)
    assert isinstance(data, dict)
    return data


def test_notice_and_rc(tmp_path: Path, library: Library) -> None:
    out = tmp_path / "tenders" / "t.yaml"
    result = new_tender(
        [NOTICES / "cn_24_FRA_comments.xml", write_rc(tmp_path)],
        library=library,
        out=out,
        entity="pop-up",
    )
    assert out.read_text(encoding="utf-8") == result.text
    data = data_of(result)
    assert data["name"] == "Service d'entretien de remise en état et de nettoyage des espaces verts"
    assert data["buyer"] == "Rouen Habitat"
    assert data["reference"] == "19S0001"
    assert str(data["deadline"]) == "2019-06-24 16:00:00+00:00"
    assert data["cpv"] == ["77310000"]
    assert (
        data["query"].strip()
        == "Service d'entretien de remise en état et de nettoyage des espaces verts."
    )
    assert data["language"] == "fr"
    assert data["entity"] == "pop-up"
    assert data["rules"] == {
        "years": 3,
        "min_amount": 5000,
        "min_references": 2,
        "required_facts": ["amount", "dates", "client_kind", "attestation"],
    }
    assert data["lots"] == [
        {"number": 1, "title": "Agence centre"},
        {"number": 2, "title": "Agence Hauts de Rouen"},
    ]
    text = unwrapped(result.text)
    # Every value says where it was read; the rule's sentence is quoted with its line.
    assert "buyer: Rouen Habitat  # cn_24_FRA_comments.xml, BT-500 of the buyer ORG-0001" in text
    assert (
        "deadline: 2019-06-24 16:00:00+00:00  # cn_24_FRA_comments.xml, BT-131 (every lot)" in text
    )
    assert "# « Le candidat présente au moins deux références de prestations similaires" in text
    assert "(rc.txt, line 5)\n  years: 3\n" in text
    assert "min_amount: 5000  # the sentence quoted above (rc.txt, line 5)" in text
    assert "# « Les attestations de bonne exécution sont jointes. » (rc.txt, line 10)" in text
    assert "# TODO max_references:" in text
    assert "# TODO client_kind:" in text
    assert "BT-821 of LOT-0001, LOT-0002: the selection criteria are in the procurement" in text
    assert result.draft.disagreements == []


def test_the_sources_disagree_and_nothing_is_chosen(tmp_path: Path, library: Library) -> None:
    # The notice's criterion says five years; this RC says three.
    result = new_tender(
        [NOTICES / "cn_81_FRA.xml", write_rc(tmp_path)],
        library=library,
        out=tmp_path / "t.yaml",
        entity="pop-up",
    )
    data = data_of(result)
    assert "years" not in data["rules"]
    (disagreement,) = result.draft.disagreements
    assert disagreement.startswith("rules.years: the sources disagree: 5 (cn_81_FRA.xml, BT-750")
    assert "3 (rc.txt, line 5)" in disagreement
    text = unwrapped(result.text)
    assert "  # TODO years: the sources disagree; choose, quoting your source:" in text
    assert "# - 5: « 1) Un dossier précis et détaillé de références" in text
    assert "# - 3: « Le candidat présente au moins deux références" in text
    assert [todo for todo in result.todos if "disagree" in todo] == [
        "rules.years: the sources disagree; choose, quoting your source:"
    ]
    # What they agree on is kept, from both.
    assert data["rules"]["min_references"] == 2
    assert data["rules"]["required_facts"] == ["amount", "dates", "client_kind", "attestation"]


def test_restricted_procedure_from_the_notice_alone(tmp_path: Path, library: Library) -> None:
    result = new_tender([NOTICES / "cn_81_FRA.xml"], library=library, out=tmp_path / "t.yaml")
    data = data_of(result)
    assert str(data["deadline"]) == "2020-09-14 16:00:00+01:00"
    assert "BT-1311 (LOT-0000)" in result.text
    assert data["reference"] == "700029324"
    assert data["cpv"] == ["71336000", "80512000"]  # the procedure's and its one lot's
    assert data["rules"] == {"years": 5, "required_facts": ["dates"]}
    text = unwrapped(result.text)
    assert "(cn_81_FRA.xml, BT-750 (slc-abil-staff-tech-work), LOT-0000)" in text
    assert "Also asked of each reference, not checked by refsheets: lieu, coordonnées du" in text
    assert "lots" not in data  # one lot: its values are the tender's
    assert "entity" not in data  # two entities in the library: the bid manager chooses
    assert "# TODO entity: which of our structures answers: one of pop-up, pop-cafe" in result.text


def test_a_notice_without_deadline_leaves_a_todo(tmp_path: Path, library: Library) -> None:
    result = new_tender([NOTICES / "cn_23.xml"], library=library, out=tmp_path / "t.yaml")
    data = data_of(result)
    assert "deadline" not in data
    assert "# TODO deadline: not found in the sources" in result.text
    assert "deadline: not found in the sources" in result.todos
    assert "entity: which of our structures answers: one of pop-up, pop-cafe" in result.todos
    assert data["cpv"] == ["85312110"]


def test_lots_with_their_own_criteria(tmp_path: Path, library: Library) -> None:
    text = (NOTICES / "cn_24_FRA_comments.xml").read_text(encoding="utf-8")
    criterion = (
        "<ext:UBLExtensions><ext:UBLExtension><ext:ExtensionContent><efext:EformsExtension>"
        '<efac:SelectionCriteria><cbc:TendererRequirementTypeCode listName="selection-criterion">'
        'slc-abil-ref-services</cbc:TendererRequirementTypeCode><cbc:Description languageID="FRA">'
        "{}</cbc:Description></efac:SelectionCriteria></efext:EformsExtension></ext:ExtensionContent>"
        "</ext:UBLExtension></ext:UBLExtensions>"
    )
    first = text.index("<cac:TenderingTerms>", text.index("LOT-0001"))
    second = text.index("<cac:TenderingTerms>", text.index("LOT-0002"))
    lot2 = "Au moins trois références de moins de 5 ans d'un montant minimum de 20 000 € HT."
    lot1 = "Au plus deux références de prestations similaires."
    at = len("<cac:TenderingTerms>")
    text = (
        text[: first + at] + criterion.format(lot1) + text[first + at : second + at]
        + criterion.format(lot2) + text[second + at :]
    )  # fmt: skip
    notice = tmp_path / "avis.xml"
    notice.write_text(text, encoding="utf-8")
    result = new_tender([notice], library=library, out=tmp_path / "t.yaml", entity="pop-up")
    lots = data_of(result)["lots"]
    assert lots[0]["rules"] == {"max_references": 2}
    assert lots[1]["rules"] == {"years": 5, "min_amount": 20000, "min_references": 3}
    assert "(avis.xml, BT-750 (slc-abil-ref-services), LOT-0002)" in unwrapped(result.text)
    assert result.draft.disagreements == []
    # An RC that says otherwise than a lot's criterion: reported, left for the bid manager.
    rc = write_rc(tmp_path, "Le candidat présente au moins deux références de moins de 5 ans.")
    result = new_tender([notice, rc], library=library, out=tmp_path / "t.yaml", force=True)
    lots = data_of(result)["lots"]
    assert data_of(result)["rules"] == {"years": 5, "min_references": 2}
    assert lots[1]["rules"] == {"years": 5, "min_amount": 20000}
    (disagreement,) = result.draft.disagreements
    assert disagreement.startswith("rules.min_references (lot LOT-0002): the sources disagree: 3")
    assert "lots.min_references: the sources disagree; choose, quoting your source:" in result.todos


def test_file_name_and_refusals(tmp_path: Path, library: Library) -> None:
    result = new_tender(
        [NOTICES / "cn_24_FRA_comments.xml"], library=library, tenders_dir=tmp_path / "tenders"
    )
    assert result.path == tmp_path / "tenders" / "19s0001.yaml"
    before = result.path.read_bytes()
    with pytest.raises(UsageError, match="exists; give another --out, or --force"):
        new_tender([NOTICES / "cn_81_FRA.xml"], library=library, out=result.path)
    assert result.path.read_bytes() == before
    new_tender([NOTICES / "cn_81_FRA.xml"], library=library, out=result.path, force=True)
    assert b"700029324" in result.path.read_bytes()
    with pytest.raises(UsageError, match="unknown entity 'pop'"):
        new_tender(
            [NOTICES / "cn_81_FRA.xml"], library=library, out=tmp_path / "x.yaml", entity="pop"
        )
    with pytest.raises(UsageError, match=r"a '\.odt' file"):
        new_tender([write_rc(tmp_path, name="rc.odt")], library=library)
    with pytest.raises(NotFoundError):
        new_tender([tmp_path / "absent.xml"], library=library)
    dry = new_tender(
        [NOTICES / "cn_23.xml"], library=library, out=tmp_path / "dry.yaml", dry_run=True
    )
    assert not dry.written and not (tmp_path / "dry.yaml").exists()


def test_an_rc_pdf_without_text(tmp_path: Path, library: Library) -> None:
    import pikepdf

    pdf = pikepdf.new()
    pdf.add_blank_page()
    path = tmp_path / "rc.pdf"
    pdf.save(path)
    with pytest.raises(RefsheetsError, match="has no text layer"):
        new_tender([NOTICES / "cn_24_FRA_comments.xml", path], library=library)


def test_two_notices_of_one_call_that_differ(tmp_path: Path, library: Library) -> None:
    other = tmp_path / "ted.xml"
    other.write_text(
        (NOTICES / "cn_24_FRA_comments.xml")
        .read_text(encoding="utf-8")
        .replace(
            '<cbc:Name languageID="FRA">Rouen Habitat</cbc:Name>',
            '<cbc:Name languageID="FRA">Rouen Habitat OPH</cbc:Name>',
        ),
        encoding="utf-8",
    )
    result = new_tender(
        [NOTICES / "cn_24_FRA_comments.xml", other], library=library, out=tmp_path / "t.yaml"
    )
    assert result.draft.disagreements == [
        "buyer: cn_24_FRA_comments.xml says 'Rouen Habitat', ted.xml says 'Rouen Habitat OPH'"
    ]
    assert "buyer" not in data_of(result)
    text = unwrapped(result.text)
    assert (
        "# TODO buyer: the sources disagree: cn_24_FRA_comments.xml says 'Rouen Habitat'," in text
    )
    assert "buyer: the sources disagree: cn_24_FRA_comments.xml says 'Rouen Habitat', ted.xml" in (
        " ".join(result.todos)
    )


@pytest.mark.parametrize(
    "sources",
    [["cn_24_FRA_comments.xml", "rc.txt"], ["cn_81_FRA.xml"], ["cn_81_FRA.xml", "rc.txt"]],
)
def test_the_written_tender_validates(tmp_path: Path, library: Library, sources: list[str]) -> None:
    write_rc(tmp_path)
    paths = [tmp_path / name if name == "rc.txt" else NOTICES / name for name in sources]
    result = new_tender(paths, library=library, out=tmp_path / "t.yaml", entity="pop-up")
    tender = load_tender(result.path, library=library)
    assert tender.cpv == data_of(result)["cpv"]
    assert tender.rules.model_dump(exclude_defaults=True) == data_of(result)["rules"]


def test_a_tender_with_todo_lines_does_not_validate_until_they_are_settled(
    tmp_path: Path, library: Library
) -> None:
    result = new_tender([NOTICES / "cn_23.xml"], library=library, out=tmp_path / "t.yaml")
    with pytest.raises(TenderError) as error:
        load_tender(result.path, library=library)
    messages = " ".join(d.message for d in error.value.diagnostics)
    assert "deadline" in messages and "entity" in messages


def test_an_rc_in_markdown(tmp_path: Path, library: Library) -> None:
    rc = write_rc(
        tmp_path,
        "# Article 5 – Références\n\n"
        "- Le candidat présente **au moins trois** références de _prestations similaires_\n"
        "  de moins de `5` ans.\n",
        name="rc.md",
    )
    result = new_tender([rc], library=library, out=tmp_path / "t.yaml", entity="pop-up")
    assert data_of(result)["rules"] == {"years": 5, "min_references": 3}
    assert "(rc.md, line 3)" in result.text
    assert "# TODO name: not found in the sources" in result.text  # no notice: no identity
