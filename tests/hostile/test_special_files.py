"""Threat: a file of the library that is not a plain file, or whose name is a trap.

A FIFO never ends a read (the command hangs); a link to /dev/zero or /dev/urandom is an
endless file (memory runs out before any size check on the bytes read); a symbolic link
loop, a name longer than the file system allows, a NUL byte raise errors nobody expected
(exit 70); a file name ending in a newline passes an id pattern written with `$`. Each is
reported at its file, and the other missions load.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from refsheets import load_library
from refsheets.files import UnreadableFile, read_limited
from tests.conftest import run_cli

GOOD = {"good-a", "good-b"}


def _errors_for(root: Path, name: str) -> list[str]:
    library = load_library(root)
    assert set(library.missions) == GOOD
    return [d.format() for d in library.errors if d.path.name == name]


@pytest.mark.parametrize("where", ["missions/x.yaml", "tags.yaml"])
def test_a_fifo_is_reported_not_read(library: Path, where: str) -> None:
    path = library / where
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    library_loaded = load_library(library)
    (error,) = [d for d in library_loaded.errors if d.path == path]
    assert "named pipe (FIFO), not a regular file" in error.message
    assert set(library_loaded.missions) == GOOD


def test_list_does_not_hang_on_a_fifo(library: Path) -> None:
    os.mkfifo(library / "missions" / "x.yaml")
    os.mkfifo(library / "tags.yaml.tmp")
    os.replace(library / "tags.yaml.tmp", library / "tags.yaml")
    result = run_cli(["--library", str(library), "list"])
    assert result.returncode == 0, result.stderr
    assert "x.yaml: is a named pipe (FIFO)" in result.stderr
    assert "tags.yaml: is a named pipe (FIFO)" in result.stderr


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("where", ["missions/x.yaml", "tags.yaml"])
def test_a_link_to_an_endless_device_is_refused(library: Path, device: str, where: str) -> None:
    path = library / where
    path.unlink(missing_ok=True)
    path.symlink_to(device)
    (error,) = _errors_for(library, path.name)
    assert "is a device, not a regular file" in error


def test_the_size_cap_bounds_the_read_itself(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"x" * 2000)
    with pytest.raises(UnreadableFile) as caught:
        read_limited(path, 1000)
    assert caught.value.too_big
    assert read_limited(path, 2000) == b"x" * 2000


def test_a_mission_that_is_a_symlink_loop(library: Path) -> None:
    missions = library / "missions"
    (missions / "loop-a.yaml").symlink_to("loop-b.yaml")
    (missions / "loop-b.yaml").symlink_to("loop-a.yaml")
    (error,) = _errors_for(library, "loop-a.yaml")
    assert "symbolic link that loops" in error


def _with_photo(library: Path, path_text: str) -> str:
    (library / "missions" / "x.yaml").write_text(
        "title: X\nclient:\n  name: Y\nphotos:\n  - path: " + path_text + "\n", encoding="utf-8"
    )
    (error,) = _errors_for(library, "x.yaml")
    return error


def test_a_photo_that_is_a_symlink_loop(library: Path) -> None:
    (library / "photos").mkdir()
    (library / "photos" / "a.jpg").symlink_to("b.jpg")
    (library / "photos" / "b.jpg").symlink_to("a.jpg")
    error = _with_photo(library, "photos/a.jpg")
    assert ":5:11: photos.path: photos/a.jpg is a symbolic link that loops" in error


def test_a_photo_name_too_long_for_the_file_system(library: Path) -> None:
    error = _with_photo(library, "photos/" + "a" * 300 + ".jpg")
    assert ":5:11: photos[0].path: has a name over 255 bytes" in error


def test_a_photo_path_too_long_for_the_file_system(library: Path) -> None:
    # Each name is short, the whole path is not: the file system refuses it (ENAMETOOLONG).
    error = _with_photo(library, "photos/" + "a/" * 2100 + "x.jpg")
    assert ":5:11: photos.path: photos/a/a/" in error
    assert "has a name too long for the file system" in error


def test_a_photo_name_with_a_nul_byte(library: Path) -> None:
    error = _with_photo(library, '"photos/a\\0.jpg"')
    assert ":5:11: photos[0].path: holds the control character U+0000" in error


def test_an_id_with_a_trailing_newline_is_not_an_id(library: Path) -> None:
    path = library / "missions" / "2021-evil\n.yaml"
    path.write_text("title: X\nclient:\n  name: Y\n", encoding="utf-8")
    (error,) = _errors_for(library, path.name)
    # The newline is shown, never printed raw (nor does it reach a file name, a zip entry
    # or a CSV: the mission is left out).
    assert "missions/2021-evil\\u000a.yaml: the file name '2021-evil⏎.yaml' is not" in error
