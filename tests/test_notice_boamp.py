"""BOAMP open-data records: eForms-as-JSON in `donnees`, the record's own fields, bad JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import pytest
from defusedxml.ElementTree import parse

from refsheets.notice import new_tender
from refsheets.notice.boamp import read_boamp
from refsheets.notice.eforms import NS, NoticeError, read_eforms

NOTICES = Path(__file__).resolve().parent / "fixtures" / "notices"
PREFIXES = {namespace: prefix for prefix, namespace in NS.items()}


def as_json(element: Element, *, at: bool) -> Any:
    """An element as eForms-as-JSON: prefixed keys, lists for repeats, attributes as keys
    (with '@' or without), the text as '#text'."""
    body: dict[str, Any] = {}
    for name, value in element.attrib.items():
        body[f"@{name}" if at else name] = value
    for child in element:
        namespace, _, local = child.tag[1:].partition("}")
        key = f"{PREFIXES[namespace]}:{local}" if namespace in PREFIXES else local
        value = as_json(child, at=at)
        if key in body:
            if not isinstance(body[key], list):
                body[key] = [body[key]]
            body[key].append(value)
        else:
            body[key] = value
    text = (element.text or "").strip()
    if text and not body:
        return text
    if text:
        body["#text"] = text
    return body


def boamp_record(notice: str, *, at: bool = True) -> dict[str, Any]:
    root = parse(NOTICES / notice).getroot()
    assert root is not None
    donnees = {"EFORMS": {"ContractNotice": as_json(root, at=at)}}
    return {
        "idweb": "24-123456",
        "objet": "Objet court du BOAMP",
        "nomacheteur": "Rouen Habitat",
        "donnees": json.dumps(donnees, ensure_ascii=False),
    }


@pytest.mark.parametrize("notice", ["cn_24_FRA_comments.xml", "cn_81_FRA.xml", "cn_23.xml"])
@pytest.mark.parametrize("at", [True, False])
def test_eforms_as_json_reads_as_the_xml(tmp_path: Path, notice: str, at: bool) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(boamp_record(notice, at=at)), encoding="utf-8")
    from_json = read_boamp(path)
    from_xml = read_eforms(NOTICES / notice)
    for key in ("buyer", "title", "description", "reference", "language", "cpv_main"):
        assert getattr(from_json, key) == getattr(from_xml, key), key
    assert from_json.cpv_additional == from_xml.cpv_additional
    assert from_json.lots == from_xml.lots
    assert from_json.kind == "BOAMP record, eForms"


def test_an_api_answer_holding_one_record(tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    answer = {"total_count": 1, "results": [boamp_record("cn_81_FRA.xml")]}
    path.write_text(json.dumps(answer), encoding="utf-8")
    assert read_boamp(path).lots[0].deadline is not None


def test_a_record_without_eforms_gives_its_own_fields(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    record = {
        "idweb": "22-98765",
        "objet": "Étude de préfiguration d'un tiers-lieu",
        "nomacheteur": "Commune de Péronne",
        "datelimitereponse": "2022-05-13T12:00:00+02:00",
        "donnees": json.dumps({"FNSimple": {"initial": {}}}),
    }
    path.write_text(json.dumps(record), encoding="utf-8")
    notice = read_boamp(path)
    assert notice.title == "Étude de préfiguration d'un tiers-lieu"
    assert notice.buyer == "Commune de Péronne"
    assert notice.reference == "22-98765"
    deadline = notice.lots[0].deadline
    assert deadline is not None and deadline.yaml() == "2022-05-13 12:00:00+02:00"
    assert notice.kind == "BOAMP record, without eForms"
    text = new_tender([path], out=tmp_path / "t.yaml").text
    assert "buyer: Commune de Péronne  # record.json, nomacheteur\n" in text
    assert "deadline: 2022-05-13 12:00:00+02:00  # record.json, datelimitereponse" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{ not json", "record.json:1:3: not valid JSON"),
        ('{"hello": "world"}', "is JSON but not a BOAMP record"),
        ('{"results": []}', "holds 0 records; give one"),
        ("[" * 100_000 + "]" * 100_000, "record.json"),
    ],
)
def test_bad_records(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "record.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(NoticeError) as error:
        read_boamp(path)
    assert message in error.value.message
