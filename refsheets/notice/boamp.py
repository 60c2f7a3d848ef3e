"""Reading a BOAMP open-data record (DILA's `boamp` dataset, JSON) into a `Notice`.

A record's `donnees` field holds the notice. Since eForms (2024) it is the eForms XML
written as JSON: elements become keys with their prefix (`cbc:Name`), repeated elements
lists, attributes keys of their own (`languageID`, or `@languageID`) and an element's text
the key `#text` (or `$`). The tree is rebuilt from that JSON and read by the eForms reader,
so both forms give the same fields. A record whose `donnees` holds an older BOAMP form
gives what the record's own documented fields say (`objet`, `nomacheteur`,
`datelimitereponse`, `idweb`), and says that the rules were not read.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from refsheets.errors import NotFoundError
from refsheets.notice.eforms import (
    MAX_DEPTH,
    MAX_XML_BYTES,
    NS,
    RECORD_WITHOUT_EFORMS,
    Deadline,
    Lot,
    Notice,
    NoticeError,
    notice_from_root,
)

_TEXT_KEYS = ("#text", "$", "_", "#value")
_UBL = "urn:oasis:names:specification:ubl:schema:xsd"
_NOTICE_ROOTS = {
    name: f"{_UBL}:{name}-2"
    for name in ("ContractNotice", "PriorInformationNotice", "ContractAwardNotice")
}


def read_boamp(path: Path) -> Notice:
    """Read the BOAMP record at `path` (one record, or an API answer holding one)."""
    if not path.is_file():
        raise NotFoundError(f"no file at {path}; give the path of the BOAMP record (JSON)")
    with path.open("rb") as stream:
        data = stream.read(MAX_XML_BYTES + 1)
    if len(data) > MAX_XML_BYTES:
        raise NoticeError(
            f"{path} is over {MAX_XML_BYTES // (1024 * 1024)} MiB; a BOAMP record is far "
            "smaller: is it the whole dataset? give one record"
        )
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise NoticeError(
            f"{path} is not UTF-8 JSON; give the record as the API serves it"
        ) from None
    except json.JSONDecodeError as exc:
        raise NoticeError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); "
            "give the record as the BOAMP API serves it"
        ) from None
    except RecursionError:
        raise NoticeError(f"{path}: JSON nested too deep; this is not a BOAMP record") from None
    record = _record(value, path)
    donnees = record.get("donnees")
    if isinstance(donnees, str):
        try:
            donnees = json.loads(donnees)
        except (json.JSONDecodeError, RecursionError):
            donnees = None
    found = _find_notice(donnees, 0) if isinstance(donnees, dict) else None
    if found is not None:
        name, body = found
        root = _element(name, body, _NOTICE_ROOTS.get(name.split(":")[-1], ""), 0, path)
        notice = notice_from_root(root, path, kind="BOAMP record, eForms")
    else:
        notice = _from_record_fields(record, path)
    return notice


def _record(value: Any, path: Path) -> dict[str, Any]:
    """The record in what the API or an export gives: the record, a list, `results`, `records`."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict):
        for key in ("results", "records"):
            inner = value.get(key)
            if isinstance(inner, list):
                if len(inner) != 1:
                    raise NoticeError(
                        f"{path} holds {len(inner)} records; give one (the call's own record)"
                    )
                value = inner[0]
        if isinstance(value, dict) and isinstance(value.get("fields"), dict):
            value = value["fields"]  # the older API wraps a record's fields
        if isinstance(value, dict) and ("donnees" in value or "objet" in value or "idweb" in value):
            return value
    raise NoticeError(
        f"{path} is JSON but not a BOAMP record (no `donnees`, `objet` nor `idweb` field); "
        "give the record of the call from the BOAMP dataset"
    )


def _find_notice(value: dict[str, Any], depth: int) -> tuple[str, Any] | None:
    for key, inner in value.items():
        if key.split(":")[-1] in _NOTICE_ROOTS and isinstance(inner, dict):
            return key, inner
    if depth < 3:
        for inner in value.values():
            if isinstance(inner, dict):
                found = _find_notice(inner, depth + 1)
                if found:
                    return found
    return None


def _tag(key: str, default_ns: str) -> str:
    prefix, _, local = key.rpartition(":")
    namespace = NS.get(prefix, default_ns) if prefix else default_ns
    return f"{{{namespace}}}{local}" if namespace else local


def _element(key: str, value: Any, default_ns: str, depth: int, path: Path) -> Element:
    if depth > MAX_DEPTH:
        raise NoticeError(f"{path}: the notice nests more than {MAX_DEPTH} deep; not a notice")
    element = Element(_tag(key, default_ns))
    if isinstance(value, dict):
        for name, inner in value.items():
            if name in _TEXT_KEYS:
                element.text = _scalar_text(inner)
            elif name.startswith("@"):
                element.set(name[1:], _scalar_text(inner))
            elif name.startswith("xmlns"):
                continue
            elif ":" not in name and not isinstance(inner, dict | list):
                element.set(name, _scalar_text(inner))  # an attribute written without '@'
            else:
                items = inner if isinstance(inner, list) else [inner]
                for item in items:
                    element.append(_element(name, item, default_ns, depth + 1, path))
    elif value is not None:
        element.text = _scalar_text(value)
    return element


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None or isinstance(value, dict | list) else str(value)


def _from_record_fields(record: dict[str, Any], path: Path) -> Notice:
    """What a pre-eForms record says in its own fields; its rules are not read."""
    notice = Notice(path=path, kind=RECORD_WITHOUT_EFORMS)
    notice.title = _field(record, "objet")
    notice.buyer = _field(record, "nomacheteur")
    notice.reference = _field(record, "idweb") or _field(record, "id")
    deadline = _field(record, "datelimitereponse")
    lot = Lot(id="LOT-0000")
    if deadline:
        try:
            moment = dt.datetime.fromisoformat(deadline)
        except ValueError:
            moment = None
        if moment is not None:
            time = moment.timetz() if "T" in deadline or " " in deadline else None
            lot.deadline = Deadline(moment.date(), time, "datelimitereponse")
    notice.lots = [lot]
    return notice


def _field(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
