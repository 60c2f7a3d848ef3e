"""The JSON Schemas of mission and tender files, for editors (yaml-language-server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from refsheets.model import Mission
from refsheets.output import write_atomic

SCHEMA_ID = "https://refsheets.invalid/mission.schema.json"
TENDER_SCHEMA_ID = "https://refsheets.invalid/tender.schema.json"

SchemaKind = Literal["mission", "tender"]


def _schema(model: type[BaseModel], schema_id: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        **schema,
    }


def mission_schema() -> dict[str, Any]:
    """The schema of what a mission file may contain (its input forms included)."""
    return _schema(Mission, SCHEMA_ID)


def tender_schema() -> dict[str, Any]:
    """The schema of what a tender file may contain (its input forms included)."""
    from refsheets.tender import Tender

    return _schema(Tender, TENDER_SCHEMA_ID)


def schema_of(kind: SchemaKind) -> dict[str, Any]:
    """The schema of a mission file or of a tender file."""
    return mission_schema() if kind == "mission" else tender_schema()


def schema_text(kind: SchemaKind = "mission") -> str:
    """The schema as the committed file holds it."""
    return json.dumps(schema_of(kind), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_schema(path: Path, kind: SchemaKind = "mission") -> None:
    """Write the schema to `path` atomically."""
    write_atomic(path, schema_text(kind).encode("utf-8"))
