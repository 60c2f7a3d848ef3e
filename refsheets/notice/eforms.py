"""Reading an eForms contract notice (UBL XML, SDK 1.x) into a `Notice`.

The field paths are those of the eForms SDK's `fields/fields.json` (BT-21, BT-24, BT-22,
BT-131, BT-1311, BT-262, BT-263, BT-702, BT-750, BT-809, BT-821, BT-500 with OPT-300).
The XML is parsed by defusedxml: no DTD, no entity, nothing fetched; the file's size and
the depth of its elements are bounded before anything else is read.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

from refsheets.errors import NotFoundError, RefsheetsError

MAX_XML_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 100  # eForms notices nest about 15 deep

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "ext": "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2",
    "efac": "http://data.europa.eu/p27/eforms-ubl-extension-aggregate-components/1",
    "efbc": "http://data.europa.eu/p27/eforms-ubl-extension-basic-components/1",
    "efext": "http://data.europa.eu/p27/eforms-ubl-extensions/1",
}
_UBL_DOCUMENT = re.compile(r"\{urn:oasis:names:specification:ubl:schema:xsd:(\w+)-2\}(\w+)")
_EXTENSION = "ext:UBLExtensions/ext:UBLExtension/ext:ExtensionContent/efext:EformsExtension"

RECORD_WITHOUT_EFORMS = "BOAMP record, without eForms"
"""The kind of a BOAMP record read from its own fields (its `donnees` are not eForms)."""

# ISO 639-2 codes of the notice languages (BT-702) for the two languages of our annexes.
LANGUAGES = {"FRA": "fr", "ENG": "en"}


class NoticeError(RefsheetsError):
    """A source that cannot be read as a notice."""


@dataclass(frozen=True)
class Criterion:
    """A selection criterion's text (BT-750) with its type code (BT-809) and lot."""

    code: str | None
    text: str
    lot: str


@dataclass(frozen=True)
class Deadline:
    """A deadline with its time when the notice gives one, and the field it came from."""

    date: dt.date
    time: dt.time | None
    field: str  # "BT-131" (tenders) or "BT-1311" (requests to participate)

    def yaml(self) -> str:
        """`2019-06-24 16:00:00+00:00`, or `2019-06-24` without a time."""
        if self.time is None:
            return self.date.isoformat()
        return dt.datetime.combine(self.date, self.time).isoformat(sep=" ")


@dataclass
class Lot:
    """One lot of a notice (BT-137), with its own scope and terms."""

    id: str
    internal_id: str | None = None  # BT-22-Lot
    title: str | None = None  # BT-21-Lot
    description: str | None = None  # BT-24-Lot
    cpv: list[str] = field(default_factory=list)  # BT-262-Lot, then BT-263-Lot
    deadline: Deadline | None = None  # BT-131 or BT-1311
    criteria: list[Criterion] = field(default_factory=list)  # BT-750 / BT-809
    criteria_in_documents: bool = False  # BT-821: "in the procurement documents"

    @property
    def number(self) -> str:
        """The lot's number as the buyer writes it: LOT-0002 -> '2'."""
        match = re.fullmatch(r"LOT-0*(\d+)", self.id)
        return match.group(1) if match else self.id


@dataclass
class Notice:
    """What a contract notice says about the call, each value with its field."""

    path: Path
    kind: str  # "eForms notice" or "BOAMP record"
    sdk: str | None = None  # cbc:CustomizationID, e.g. eforms-sdk-1.15
    notice_id: str | None = None  # BT-701
    folder_id: str | None = None  # BT-04
    buyer: str | None = None  # BT-500 of the buyer (OPT-300)
    buyer_id: str | None = None
    title: str | None = None  # BT-21-Procedure
    description: str | None = None  # BT-24-Procedure
    reference: str | None = None  # BT-22-Procedure
    language: str | None = None  # BT-702, ISO 639-2 (FRA)
    cpv_main: list[str] = field(default_factory=list)  # BT-262-Procedure
    cpv_additional: list[str] = field(default_factory=list)  # BT-263-Procedure
    lots: list[Lot] = field(default_factory=list)


def parse_xml(data: bytes, path: Path) -> Element:
    """The root of an XML document, parsed safely (no DTD, entities, network) and bounded."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    if len(data) > MAX_XML_BYTES:
        raise NoticeError(
            f"{path} is {len(data) // (1024 * 1024)} MiB; a notice is under "
            f"{MAX_XML_BYTES // (1024 * 1024)} MiB: is it the right file?"
        )
    depth = 0
    root: Element | None = None
    try:
        # eForms notices have no DTD: refuse any, not only the entities one may declare.
        events = iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True)
        for event, element in events:
            if event == "start":
                depth += 1
                if root is None:
                    root = element
                if depth > MAX_DEPTH:
                    raise NoticeError(
                        f"{path}: elements nest more than {MAX_DEPTH} deep; "
                        "this is not an eForms notice"
                    )
            else:
                depth -= 1
    except DefusedXmlException as exc:
        raise NoticeError(
            f"{path} declares a DTD or entities ({type(exc).__name__}); eForms notices have "
            "none: refusing to read it"
        ) from None
    except ParseError as exc:
        line, column = exc.position
        raise NoticeError(
            f"{path}:{line}:{column + 1}: not well-formed XML ({_parse_reason(exc)}); "
            "give the notice's XML as published"
        ) from None
    if root is None:  # pragma: no cover - expat reports an empty document as an error
        raise NoticeError(f"{path} holds no XML element")
    return root


def _parse_reason(exc: ParseError) -> str:
    return re.sub(r":\s*line \d+, column \d+$", "", str(exc))


def read_eforms(path: Path) -> Notice:
    """Read the eForms contract notice at `path`.

    Raises NotFoundError for a missing file and NoticeError for a file that is not an
    eForms contract notice (not XML, another UBL document, an ESPD…).
    """
    if not path.is_file():
        raise NotFoundError(f"no file at {path}; give the path of the notice's XML")
    with path.open("rb") as stream:
        data = stream.read(MAX_XML_BYTES + 1)
    return notice_from_root(parse_xml(data, path), path, kind="eForms notice")


def notice_from_root(root: Element, path: Path, *, kind: str) -> Notice:
    """The notice in an eForms UBL tree (read from XML or rebuilt from BOAMP's JSON)."""
    match = _UBL_DOCUMENT.fullmatch(root.tag)
    if match is None:
        name = root.tag.split("}")[-1]
        raise NoticeError(
            f"{path} is XML but not an eForms notice (its root element is <{name}>); "
            "give the contract notice published on TED or BOAMP"
        )
    document = match.group(2)
    if document != "ContractNotice":
        what = {
            "QualificationApplicationRequest": "an ESPD request (DUME), not a notice",
            "QualificationApplicationResponse": "an ESPD response (DUME), not a notice",
            "ContractAwardNotice": "a contract award notice: the call is closed",
            "PriorInformationNotice": "a prior information notice: the call is not open yet",
        }.get(document, f"a UBL {document} document, not a contract notice")
        raise NoticeError(f"{path} is {what}; give the contract notice (cn_…) of the call")
    notice = Notice(path=path, kind=kind)
    notice.sdk = _text(root, "cbc:CustomizationID")
    notice.notice_id = _text(root, "cbc:ID")
    notice.folder_id = _text(root, "cbc:ContractFolderID")
    notice.language = _text(root, "cbc:NoticeLanguageCode")
    language = notice.language
    notice.buyer_id = _text(root, "cac:ContractingParty/cac:Party/cac:PartyIdentification/cbc:ID")
    notice.buyer = _organisation_name(root, notice.buyer_id, language)
    project = root.find("cac:ProcurementProject", NS)
    if project is not None:
        notice.reference = _text(project, "cbc:ID")
        notice.title = _localized(project, "cbc:Name", language)
        notice.description = _localized(project, "cbc:Description", language)
        notice.cpv_main = _codes(project, "cac:MainCommodityClassification")
        notice.cpv_additional = _codes(project, "cac:AdditionalCommodityClassification")
    for element in root.findall("cac:ProcurementProjectLot", NS):
        id_element = element.find("cbc:ID", NS)
        if id_element is None or id_element.get("schemeName", "Lot") != "Lot":
            continue  # parts (PIN) and groups of lots carry no scope of their own here
        notice.lots.append(_lot(element, (id_element.text or "").strip(), language))
    return notice


def _lot(element: Element, lot_id: str, language: str | None) -> Lot:
    lot = Lot(id=lot_id)
    project = element.find("cac:ProcurementProject", NS)
    if project is not None:
        lot.internal_id = _text(project, "cbc:ID")
        lot.title = _localized(project, "cbc:Name", language)
        lot.description = _localized(project, "cbc:Description", language)
        lot.cpv = _codes(project, "cac:MainCommodityClassification") + _codes(
            project, "cac:AdditionalCommodityClassification"
        )
    process = element.find("cac:TenderingProcess", NS)
    if process is not None:
        for period, name in (
            ("cac:TenderSubmissionDeadlinePeriod", "BT-131"),
            ("cac:ParticipationRequestReceptionPeriod", "BT-1311"),
        ):
            deadline = _deadline(process.find(period, NS), name)
            if deadline is not None:
                lot.deadline = deadline
                break
    terms = element.find("cac:TenderingTerms", NS)
    if terms is not None:
        for criterion in terms.findall(f"{_EXTENSION}/efac:SelectionCriteria", NS):
            text = _localized(criterion, "cbc:Description", language)
            if text:
                code = _text(criterion, "cbc:TendererRequirementTypeCode")
                lot.criteria.append(Criterion(code, text, lot_id))
        for source in terms.iterfind(
            "cac:TendererQualificationRequest/cac:SpecificTendererRequirement/"
            "cbc:TendererRequirementTypeCode[@listName='selection-criteria-source']",
            NS,
        ):
            if (source.text or "").strip() == "epo-procurement-document":
                lot.criteria_in_documents = True
    return lot


def _deadline(period: Element | None, name: str) -> Deadline | None:
    if period is None:
        return None
    date_text = _text(period, "cbc:EndDate")
    if not date_text:
        return None
    try:
        day = dt.date.fromisoformat(date_text[:10])
    except ValueError:
        return None
    time_text = _text(period, "cbc:EndTime")
    moment: dt.time | None = None
    if time_text:
        # eForms writes the offset on the time ("16:00:00+01:00", "16:00:00Z"), or only on
        # the date ("2019-06-24+01:00"): take it from wherever it is.
        zone = _zone(time_text[8:]) or _zone(date_text[10:])
        try:
            moment = dt.time.fromisoformat(time_text[:8]).replace(tzinfo=zone)
        except ValueError:
            moment = None
    return Deadline(day, moment, name)


def _zone(suffix: str) -> dt.tzinfo | None:
    suffix = suffix.strip()
    if suffix == "Z":
        return dt.UTC
    match = re.fullmatch(r"([+-])(\d\d):(\d\d)", suffix)
    if match is None:
        return None
    offset = dt.timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
    return dt.timezone(-offset if match.group(1) == "-" else offset)


def _organisation_name(root: Element, org_id: str | None, language: str | None) -> str | None:
    if org_id is None:
        return None
    for company in root.iterfind(
        f"{_EXTENSION}/efac:Organizations/efac:Organization/efac:Company", NS
    ):
        if _text(company, "cac:PartyIdentification/cbc:ID") == org_id:
            return _localized(company, "cac:PartyName/cbc:Name", language)
    return None


def _codes(project: Element, classification: str) -> list[str]:
    codes = []
    for element in project.iterfind(f"{classification}/cbc:ItemClassificationCode", NS):
        code = (element.text or "").strip()
        if element.get("listName", "cpv") == "cpv" and code and code not in codes:
            codes.append(code)
    return codes


def _text(element: Element, path: str) -> str | None:
    found = element.find(path, NS)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _localized(element: Element, path: str, language: str | None) -> str | None:
    """The text in the notice's language when the field is given in several."""
    found = element.findall(path, NS)
    texts = [(item.get("languageID"), _clean(item.text or "")) for item in found]
    texts = [(lang, text) for lang, text in texts if text]
    for lang, text in texts:
        if lang == language:
            return text
    return texts[0][1] if texts else None


def _clean(text: str) -> str:
    """A field's text without the indentation of the XML: lines stripped, blank ones kept."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    return "\n".join(lines).strip()
