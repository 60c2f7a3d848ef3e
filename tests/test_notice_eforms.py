"""Reading eForms contract notices: the three SDK examples, field by field, and bad XML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from refsheets.errors import NotFoundError
from refsheets.notice.eforms import MAX_DEPTH, Deadline, NoticeError, read_eforms

NOTICES = Path(__file__).resolve().parent / "fixtures" / "notices"
PARIS_WINTER = dt.timezone(dt.timedelta(hours=1))


def test_open_procedure_in_two_lots() -> None:
    notice = read_eforms(NOTICES / "cn_24_FRA_comments.xml")
    assert notice.sdk == "eforms-sdk-1.15"
    assert notice.buyer_id == "ORG-0001"
    assert notice.buyer == "Rouen Habitat"  # ORG-0001 resolved, not the review body ORG-0002
    assert notice.title == (
        "Service d'entretien de remise en état et de nettoyage des espaces verts"
    )
    assert notice.description == (
        "Service d'entretien de remise en état et de nettoyage des espaces verts."
    )
    assert notice.reference == "19S0001"
    assert notice.folder_id == "e3cdabf1-e057-47a5-9210-b1f6fc757228"
    assert notice.language == "FRA"
    assert notice.cpv_main == ["77310000"]
    assert notice.cpv_additional == []
    assert [lot.id for lot in notice.lots] == ["LOT-0001", "LOT-0002"]
    assert [lot.number for lot in notice.lots] == ["1", "2"]
    assert [lot.title for lot in notice.lots] == ["Agence centre", "Agence Hauts de Rouen"]
    deadline = Deadline(dt.date(2019, 6, 24), dt.time(16, 0, tzinfo=dt.UTC), "BT-131")
    for lot in notice.lots:
        assert lot.description == notice.description
        assert lot.cpv == ["77310000"]
        assert lot.deadline == deadline
        assert lot.criteria == []
        assert lot.criteria_in_documents  # BT-821: epo-procurement-document
    assert deadline.yaml() == "2019-06-24 16:00:00+00:00"


def test_restricted_procedure_with_criteria_under_several_codes() -> None:
    notice = read_eforms(NOTICES / "cn_81_FRA.xml")
    assert notice.buyer == "Commissariat à l'énergie atomique et aux énergies alternatives"
    assert notice.title is not None
    assert notice.title.startswith("Assistance à maîtrise d’œuvre en suivi de réalisation")
    assert notice.title.endswith("pour le compte du CEA DAM")
    assert notice.description is not None
    assert notice.description.startswith("Les prestations consistent à assurer une assistance")
    assert "\n— le sous-ensemble PGZ" in notice.description  # its lines kept, unindented
    assert notice.reference == "700029324"
    assert notice.language == "FRA"
    assert notice.cpv_main == ["71336000"]
    (lot,) = notice.lots
    assert lot.id == "LOT-0000"
    assert lot.title == "Procurement of Military Working Dogs"
    assert lot.cpv == ["80512000"]
    # Restricted procedure: the deadline is the one for requests to participate.
    assert lot.deadline == Deadline(
        dt.date(2020, 9, 14), dt.time(16, 0, tzinfo=PARIS_WINTER), "BT-1311"
    )
    assert [c.code for c in lot.criteria] == [
        "slc-stand-other",
        "slc-abil-staff-tech-work",
        "slc-suit-reg-prof",
    ]
    references = lot.criteria[1].text
    assert "références en assistance à MOE" in references
    assert "dans les cinq dernières années" in references
    assert not lot.criteria_in_documents  # BT-821: epo-notice


def test_concession_with_additional_cpv_and_no_deadline() -> None:
    notice = read_eforms(NOTICES / "cn_23.xml")
    assert notice.buyer == "Communauté de communes Loches sud Touraine"
    assert notice.title == (
        "Concession de service public pour la gestion des équipements d'accueil collectif "
        "de la petite enfance — secteur nord-est Loches et Tauxigny-Saint-Bauld"
    )
    assert notice.reference == "Dsp crèches"
    assert notice.cpv_main == ["85312110"]
    assert notice.cpv_additional == ["85312110"]
    (lot,) = notice.lots
    assert lot.deadline is None
    assert lot.criteria_in_documents


def write(tmp_path: Path, text: str, name: str = "avis.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


UBL = "urn:oasis:names:specification:ubl:schema:xsd"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Avis d'appel public à la concurrence", "not well-formed XML"),
        ("<ContractNotice><cbc:ID>", "not well-formed XML"),
        ("", "not well-formed XML"),
        ("<html><body>avis</body></html>", "not an eForms notice (its root element is <html>)"),
        (
            f'<QualificationApplicationRequest xmlns="{UBL}:QualificationApplicationRequest-2"/>',
            "an ESPD request (DUME)",
        ),
        (f'<Invoice xmlns="{UBL}:Invoice-2"/>', "a UBL Invoice document, not a contract notice"),
        (
            f'<ContractAwardNotice xmlns="{UBL}:ContractAwardNotice-2"/>',
            "a contract award notice: the call is closed",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>',
            "declares a DTD or entities",
        ),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            "<x>&xxe;</x>",
            "declares a DTD or entities",
        ),
        (
            '<!DOCTYPE ContractNotice SYSTEM "http://example.org/cn.dtd"><ContractNotice/>',
            "declares a DTD or entities",
        ),
        ("<a>" * (MAX_DEPTH + 5) + "</a>" * (MAX_DEPTH + 5), f"nest more than {MAX_DEPTH} deep"),
    ],
)
def test_bad_sources_are_named_and_explained(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(NoticeError) as error:
        read_eforms(path)
    assert message in error.value.message
    assert str(path) in error.value.message


def test_a_syntax_error_points_at_its_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "<ContractNotice>\n  <a></b>\n</ContractNotice>")
    with pytest.raises(NoticeError, match=r"avis\.xml:2:\d+: not well-formed XML"):
        read_eforms(path)


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as stream:
        stream.write(b"<a>")
        stream.write(b" " * (21 * 1024 * 1024))
        stream.write(b"</a>")
    with pytest.raises(NoticeError, match="MiB; a notice is under 20 MiB"):
        read_eforms(path)


def test_a_notice_without_lots(tmp_path: Path) -> None:
    text = (NOTICES / "cn_23.xml").read_text(encoding="utf-8")
    start, end = (
        text.index("<cac:ProcurementProjectLot>"),
        text.index("</cac:ProcurementProjectLot>"),
    )
    path = write(tmp_path, text[:start] + text[end + len("</cac:ProcurementProjectLot>") :])
    notice = read_eforms(path)
    assert notice.lots == []
    assert notice.title is not None


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no file at"):
        read_eforms(tmp_path / "absent.xml")
