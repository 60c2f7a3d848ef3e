"""Threat: an anonymous mission's client leaks through everything but the card's text.

Item 3 of issue 10. With `disclosure: anonymous` the card shows the client's anonymous
label, but the mission's id (the importer names files year-client-title) reached the card
files, the zip's entry names, the tables' "Référence" column and the PDF itself (as an
anchor); `pick --json` and the `list`/`pick` tables printed the real client; and the
attestation, which names the client, was appended without a word. Public outputs name an
anonymous reference by its place in the annex; the terminal follows `list --json`'s rule
(the real client only with --private); an attestation needs an explicit choice.
"""

from __future__ import annotations

import json
import re
import unicodedata
import zipfile
from pathlib import Path

import pikepdf
import pytest

from tests.conftest import run_cli
from tests.hostile.exporting import add_mission, export, make_project, mission_yaml, write_tender

SECRET_ID = "2021-ville-secrete-tiers-lieu"
SECRET_CLIENT = "Ville Secrète"
LABEL = "Une commune des Hauts-de-France"


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _leaks(text: str) -> bool:
    """Whether `text` names the client, or the id made of its name."""
    return bool(re.search(r"secr[e]te", _folded(text)))


def _pdf_everything(data: bytes) -> str:
    """Every string and every decoded stream of a PDF: what a curious buyer could read."""
    import io

    pdf = pikepdf.open(io.BytesIO(data))
    parts = []
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            try:
                parts.append(obj.read_bytes().decode("latin-1"))
            except pikepdf.PdfError:
                parts.append(obj.read_raw_bytes().decode("latin-1"))
        else:
            parts.append(repr(obj))
    parts.append(repr(pdf.trailer))
    return "\n".join(parts)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = make_project(tmp_path / "p", 0)
    add_mission(project, "2022-nommee", mission_yaml("Mission nommée", "Ville Nommée"))
    add_mission(
        project,
        SECRET_ID,
        mission_yaml("Tiers-lieu intercommunal", SECRET_CLIENT, anonymous=LABEL)
        + "attestation: attestations/secrete.pdf\n",
    )
    (project / "data" / "attestations").mkdir()
    attestation = pikepdf.new()
    attestation.add_blank_page()
    attestation.save(project / "data" / "attestations" / "secrete.pdf")
    return project


@pytest.mark.slow
def test_public_outputs_never_name_an_anonymous_client(project: Path) -> None:
    tender = write_tender(project, references=2, formats="[pdf, docx]")
    result = export(project, tender)
    assert result.returncode == 0, result.stderr
    folder = project / "out" / "t"
    with zipfile.ZipFile(folder / "t.zip") as archive:
        names = archive.namelist()
        contents = {name: archive.read(name) for name in names}
    assert "t/cards/reference_01.pdf" in names or "t/cards/reference_02.pdf" in names
    for name, payload in contents.items():
        assert not _leaks(name), name
        if name.endswith(".pdf"):
            assert not _leaks(_pdf_everything(payload)), name
        elif name.endswith((".docx", ".xlsx")):
            inner = zipfile.ZipFile(folder / name.removeprefix("t/"))
            for part in inner.namelist():
                assert not _leaks(part + inner.read(part).decode("utf-8", "replace")), (name, part)
        else:
            assert not _leaks(payload.decode("utf-8-sig")), name
    assert LABEL in (folder / "references.csv").read_text(encoding="utf-8-sig")
    # on our side, the manifest (beside the zip, not in it) says which card is which
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    cards = {item["id"]: item["card"] for item in manifest["selection"]}
    assert re.fullmatch(r"reference_0[12]", cards[SECRET_ID])
    assert cards["2022-nommee"] == "2022-nommee"


def test_terminal_output_follows_list_json(project: Path) -> None:
    args = ["--library", str(project / "data")]
    tender = str(write_tender(project, references=2))
    for command in (["list"], ["pick", "--tender", tender], ["pick", "--tender", tender, "--json"]):
        shown = run_cli([*args, *command])
        assert shown.returncode == 0, shown.stderr
        assert SECRET_CLIENT not in shown.stdout, command
        assert LABEL in shown.stdout.replace("\n", " ") or "--json" not in command, command
        private = run_cli([*args, *command, "--private"])
        assert private.returncode == 0, private.stderr
        assert SECRET_CLIENT in private.stdout, command
    picked = json.loads(run_cli([*args, "pick", "--tender", tender, "--json"]).stdout)
    assert {item["client"] for item in picked["selected"]} == {"Ville Nommée", LABEL}


@pytest.mark.slow
def test_an_anonymous_attestation_needs_an_explicit_choice(project: Path) -> None:
    extra = "  required_facts: [attestation]\n"
    tender = write_tender(project, references=2)
    text = tender.read_text(encoding="utf-8").replace("rules:\n", "rules:\n" + extra)
    (project / "data" / "attestations" / "nommee.pdf").write_bytes(
        (project / "data" / "attestations" / "secrete.pdf").read_bytes()
    )
    named = project / "data" / "missions" / "2022-nommee.yaml"
    named.write_text(
        named.read_text(encoding="utf-8") + "attestation: attestations/nommee.pdf\n",
        encoding="utf-8",
    )
    tender.write_text(text, encoding="utf-8")
    refused = export(project, tender)
    assert refused.returncode == 1, refused.stderr
    assert f"{SECRET_ID}: anonymous" in refused.stderr
    assert "anonymous_attestations" in refused.stderr
    assert not (project / "out" / "t").exists()
    annex = project / "out" / "t" / "annexe-references.pdf"
    # allowed incomplete, it goes without the anonymous mission's attestation
    assert export(project, tender, "--allow-incomplete").returncode == 0
    assert _blank_pages(annex) == 1  # the named mission's attestation only
    tender.write_text(text + f"anonymous_attestations: [{SECRET_ID}]\n", encoding="utf-8")
    allowed = export(project, tender)
    assert allowed.returncode == 0, allowed.stderr
    assert _blank_pages(annex) == 2  # both attestations (blank pages here) appended


def _blank_pages(path: Path) -> int:
    from pypdf import PdfReader

    return sum(1 for page in PdfReader(path).pages if not (page.extract_text() or "").strip())
