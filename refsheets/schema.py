"""The JSON Schema of a mission file, for editors (yaml-language-server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refsheets.model import Mission
from refsheets.output import write_atomic

SCHEMA_ID = "https://refsheets.invalid/mission.schema.json"


def mission_schema() -> dict[str, Any]:
    """The schema of what a mission file may contain (its input forms included)."""
    schema = Mission.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }


def schema_text() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(mission_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_schema(path: Path) -> None:
    """Write the schema to `path` atomically."""
    write_atomic(path, schema_text().encode("utf-8"))
