"""The committed JSON Schema is the one the model gives, and mission files point at it."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from refsheets.schema import mission_schema, schema_text, tender_schema
from refsheets.tender import SCHEMA_LINE
from tests.conftest import DATA, DEMO, DEMO_TENDERS


def test_committed_schema_is_fresh() -> None:
    committed = (DEMO / "mission.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text(), "stale schema: run `make schema`"


def test_schema_accepts_short_forms() -> None:
    budget = json.dumps(mission_schema()["properties"]["budget"])
    assert '"type": "string"' in budget and '"type": "integer"' in budget


def test_every_mission_file_names_the_schema() -> None:
    for path in (DATA / "missions").glob("*.yaml"):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../mission.schema.json", path


def test_committed_tender_schema_is_fresh() -> None:
    committed = (DEMO_TENDERS / "tender.schema.json").read_text(encoding="utf-8")
    assert committed == schema_text("tender"), "stale tender schema: run `make schema`"


def test_tender_schema_accepts_the_forms_a_mission_accepts() -> None:
    rules = tender_schema()["$defs"]["TenderRules"]["properties"]
    min_amount = json.dumps(rules["min_amount"])
    assert '"type": "string"' in min_amount and '"type": "integer"' in min_amount
    assert {"references", "lots"} <= set(tender_schema()["properties"])
    assert tender_schema()["additionalProperties"] is False


# The committed tender files (a user's own tenders in tenders/ are not the tests' business).
COMMITTED_TENDERS = ("example.yaml", "example-lots.yaml")


@pytest.mark.parametrize("name", COMMITTED_TENDERS)
def test_every_committed_tender_file_names_the_schema(name: str) -> None:
    first = (DEMO_TENDERS / name).read_text(encoding="utf-8").splitlines()[0]
    assert first == SCHEMA_LINE == "# yaml-language-server: $schema=tender.schema.json"


def _as_an_editor_reads(text: str) -> object:
    # An editor sees YAML dates as text; JSON has no date type.
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


@pytest.mark.parametrize("name", COMMITTED_TENDERS)
def test_committed_tender_files_validate_against_the_schema(name: str) -> None:
    text = (DEMO_TENDERS / name).read_text(encoding="utf-8")
    jsonschema.validate(_as_an_editor_reads(text), tender_schema())


def test_the_tender_schema_refuses_what_the_loader_refuses() -> None:
    text = (DEMO_TENDERS / "example-lots.yaml").read_text(encoding="utf-8")
    bare_exclusion = text.replace(
        "    - id: vilogia-lieu-innovation-habitat\n", "    - vilogia-lieu-innovation-habitat\n"
    ).replace("      reason: Dates et nature", "    # Dates et nature")
    for bad in (text + "refrences: {}\n", bare_exclusion):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(_as_an_editor_reads(bad), tender_schema())
