"""Loading a library from Python: one call, every problem collected, nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from refsheets import load_library
from refsheets.errors import NotFoundError
from refsheets.library import mission_to_json
from tests.conftest import DATA


def test_loads_the_eight_missions() -> None:
    library = load_library(DATA)
    assert len(library.missions) == 8
    assert library.errors == []
    assert {d.path.name for d in library.warnings} == {
        "vilogia-lieu-innovation-habitat.yaml",
        "anzin-mediation-numerique-qpv.yaml",
    }
    assert set(library.entities) == {"pop-up", "pop-cafe"}
    assert library.entities["pop-cafe"].email == "contact@pop.cafe"


def test_entity_must_exist(library_copy: Path) -> None:
    path = library_copy / "missions" / "x.yaml"
    path.write_text("title: X\nclient:\n  name: Y\nentity: pop-upp\n")
    library = load_library(library_copy)
    (error,) = library.errors
    assert (error.line, error.column, error.field) == (4, 9, "entity")
    assert "did you mean 'pop-up'?" in error.message
    assert "x" not in library.missions and len(library.missions) == 8


def test_unknown_tag_is_a_warning_with_nearest(library_copy: Path) -> None:
    path = library_copy / "missions" / "x.yaml"
    path.write_text("title: X\nclient:\n  name: Y\n  kind: public\ntags: [tiers-lie, cuisine]\n")
    library = load_library(library_copy)
    tags = [d for d in library.warnings if d.path == path and d.field == "tags"]
    assert [d.column for d in tags] == [8, 19]
    assert "nearest known: tiers-lieu" in tags[0].message
    assert "x" in library.missions


def test_bad_file_name(library_copy: Path) -> None:
    (library_copy / "missions" / "Bad Name.yaml").write_text("title: X\nclient:\n  name: Y\n")
    assert "not a mission id" in load_library(library_copy).errors[0].message


def test_not_a_library(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_library(tmp_path)


def test_anonymous_mission_hides_the_name(library_copy: Path) -> None:
    (library_copy / "missions" / "anon.yaml").write_text(
        "title: X\nclient:\n  name: Secret SA\n  anonymous_label: Bailleur social\n"
        "disclosure: anonymous\n"
    )
    library = load_library(library_copy)
    public = mission_to_json("anon", library.missions["anon"])
    assert "Secret" not in str(public) and public["client"]["anonymous_label"] == "Bailleur social"
    assert "Secret" in str(mission_to_json("anon", library.missions["anon"], private=True))


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` (no pixels: Pillow reads the header)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_bad_photos_are_errors_at_their_line(library_copy: Path) -> None:
    from PIL import Image

    photos = library_copy / "photos"
    photos.mkdir()
    (photos / "bomb.png").write_bytes(_png_header(20_000, 20_000))
    Image.new("RGB", (4, 4)).save(photos / "gif.png", format="GIF")
    for name in ("bomb", "gif"):
        (library_copy / "missions" / f"p-{name}.yaml").write_text(
            f"title: X\nclient:\n  name: Y\nphotos:\n  - path: photos/{name}.png\n"
        )
    library = load_library(library_copy)
    errors = {d.path.stem: d for d in library.errors}
    assert (errors["p-bomb"].line, errors["p-bomb"].field) == (5, "photos.path")
    assert "over the 40 Mpx limit" in errors["p-bomb"].message
    assert "is a GIF image; save it as PNG or JPEG" in errors["p-gif"].message
    assert len(library.missions) == 8


def test_entity_and_tags_are_checked_even_when_the_file_has_other_errors(
    library_copy: Path,
) -> None:
    path = library_copy / "missions" / "x.yaml"
    path.write_text(
        "title: X\nclient:\n  name: Y\nentity: pop-nope\ntags: [tierslieu, zzz]\n"
        "partners:\n  - name: P\n    role: boss\n"
    )
    library = load_library(library_copy)
    found = {(d.severity, d.field, d.line) for d in library.diagnostics if d.path == path}
    assert ("error", "partners[0].role", 8) in found
    assert ("error", "entity", 4) in found
    tags = [d for d in library.warnings if d.path == path and d.field == "tags"]
    assert [(d.line, d.column) for d in tags] == [(5, 8), (5, 19)]
    assert "nearest known: tiers-lieu" in tags[0].message
    assert "x" not in library.missions
