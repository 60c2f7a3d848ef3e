"""The committed JSON Schema is the one the model gives, and mission files point at it."""

from __future__ import annotations

import json

from refsheets.schema import mission_schema, schema_text
from tests.conftest import DATA


def test_committed_schema_is_fresh() -> None:
    committed = (DATA / "mission.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), "stale schema: run `make schema`"


def test_schema_accepts_short_forms() -> None:
    budget = json.dumps(mission_schema()["properties"]["budget"])
    assert '"type": "string"' in budget and '"type": "integer"' in budget


def test_every_mission_file_names_the_schema() -> None:
    for path in (DATA / "missions").glob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../mission.schema.json", path
