"""YAML reading: libyaml speed, duplicate keys, encodings, positions."""

from __future__ import annotations

from pathlib import Path

from refsheets.model import Mission
from refsheets.yamlfile import read_source, validate_source


def _read(tmp_path: Path, content: bytes) -> tuple[object, list[str]]:
    path = tmp_path / "m.yaml"
    path.write_bytes(content)
    source, problems = read_source(path)
    return source, [p.format() for p in problems]


def test_duplicate_nested_key(tmp_path: Path) -> None:
    _, problems = _read(tmp_path, b"title: X\nclient:\n  name: A\n  name: B\n")
    assert problems == [
        f"{tmp_path}/m.yaml:4:3: the key 'name' is given twice (first on line 3); keep only one"
    ]


def test_bom_is_accepted(tmp_path: Path) -> None:
    source, problems = _read(tmp_path, "\ufefftitle: É\nclient: {name: Y}\n".encode())
    assert problems == [] and source is not None


def test_too_large(tmp_path: Path) -> None:
    _, problems = _read(tmp_path, b"title: " + b"x" * (1024 * 1024 + 1))
    assert "at most 1024 KiB" in problems[0]


def test_validation_positions(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("title: X\nclient:\n  name: Y\ndeliverables:\n  - ok\n  - [nested]\n")
    source, _ = read_source(path)
    assert source is not None
    mission, problems = validate_source(source, Mission)
    assert mission is None
    assert [(p.line, p.column, p.field) for p in problems] == [(6, 5, "deliverables[1]")]
