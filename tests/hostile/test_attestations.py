"""Threat: an attestation that is not a usable PDF (damaged, not a PDF, encrypted).

It used to be opened only at the very end of an export, when the annex is assembled:
exit 70 after every card was rendered. `check` (any load of the library) reports it at
the mission's `attestation:` line, and the other missions load.
"""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest

from refsheets import load_library
from tests.conftest import run_cli

GOOD = {"good-a", "good-b"}


def _pdf(**save: object) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buffer = io.BytesIO()
    pdf.save(buffer, **save)  # type: ignore[arg-type]
    return buffer.getvalue()


def _with_attestation(library: Path, data: bytes) -> list[str]:
    (library / "attestations").mkdir()
    (library / "attestations" / "a.pdf").write_bytes(data)
    (library / "missions" / "x.yaml").write_text(
        "title: X\nclient:\n  name: Y\nattestation: attestations/a.pdf\n", encoding="utf-8"
    )
    loaded = load_library(library)
    assert set(loaded.missions) >= GOOD
    return [d.format() for d in loaded.errors if d.path.name == "x.yaml"]


def test_a_good_attestation_loads(library: Path) -> None:
    assert _with_attestation(library, _pdf()) == []


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"Attestation de bonne execution\n", "is not a PDF"),
        (b"%PDF-1.7\n" + b"garbage " * 100, "is a damaged PDF"),
        (_pdf()[:300], "is a damaged PDF"),
        (
            _pdf(encryption=pikepdf.Encryption(owner="o", user="secret", R=6)),
            "is protected by a password",
        ),
        (
            _pdf(encryption=pikepdf.Encryption(owner="o", user="", R=6)),
            "is encrypted (protected against changes)",
        ),
    ],
    ids=["not-pdf", "garbage", "truncated", "password", "aes-256-owner-only"],
)
def test_a_bad_attestation_is_an_error_at_its_line(library: Path, data: bytes, said: str) -> None:
    (error,) = _with_attestation(library, data)
    assert f"x.yaml:4:14: attestation: the attestation a.pdf {said}" in error


def test_check_reports_it_with_a_user_exit_code(library: Path) -> None:
    _with_attestation(library, b"%PDF-1.4\nnot really\n")
    result = run_cli(["--library", str(library), "check"])
    assert result.returncode == 1
    assert "x.yaml:4:14: attestation: the attestation a.pdf is a damaged PDF" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_attestation_that_is_a_fifo(library: Path) -> None:
    import os

    (library / "attestations").mkdir()
    os.mkfifo(library / "attestations" / "a.pdf")
    (library / "missions" / "x.yaml").write_text(
        "title: X\nclient:\n  name: Y\nattestation: attestations/a.pdf\n", encoding="utf-8"
    )
    (error,) = [d for d in load_library(library).errors if d.path.name == "x.yaml"]
    assert "no file at attestations/a.pdf" in error.message


def test_an_attestation_replaced_after_the_library_was_read(tmp_path: Path) -> None:
    """The annex appends the very bytes it checked: a file swapped between `check` and the
    end of an export is a clear error at that file, and the earlier export stays."""
    from datetime import date

    from refsheets.attestation import BadAttestation
    from refsheets.export import export_tender
    from tests.hostile.exporting import add_mission, make_project, mission_yaml, write_tender

    project = make_project(tmp_path / "p", 0)
    (project / "data" / "attestations").mkdir()
    attestation = project / "data" / "attestations" / "a.pdf"
    attestation.write_bytes(_pdf())
    add_mission(
        project,
        "2022-m",
        mission_yaml("Titre", "Ville de Test", extra="attestation: attestations/a.pdf\n"),
    )
    tender = write_tender(project, references=1)
    text = tender.read_text(encoding="utf-8")
    tender.write_text(text.replace("rules:\n", "rules:\n  required_facts: [attestation]\n"))
    library = load_library(project / "data")
    assert not library.errors
    options = {"out_root": project / "out", "today": date(2026, 1, 5), "jobs": 1}
    export_tender(tender, library, **options)  # type: ignore[arg-type]
    annex = project / "out" / "t" / "annexe-references.pdf"
    before = annex.read_bytes()
    attestation.write_bytes(b"%PDF-1.4\nreplaced by something else\n")
    with pytest.raises(BadAttestation, match=r"the attestation a\.pdf is a damaged PDF"):
        export_tender(tender, library, **options)  # type: ignore[arg-type]
    assert annex.read_bytes() == before
