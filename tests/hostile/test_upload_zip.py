"""Threat: the upload zip tells the buyer our bid strategy and our other clients.

Item 2 of issue 10. `<tender>.zip` is what gets uploaded to the buyer's platform. It held
`manifest.json`: every mission of the library that was not chosen, with titles, scores and
reasons. The zip must hold what the buyer should read (annexes, cards, tables) and
nothing else; the manifest stays beside it, for us, and lists the zip with its hash.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.hostile.exporting import add_mission, export, make_project, mission_yaml, write_tender

pytestmark = pytest.mark.slow

LEFT_OUT_TITLE = "Stratégie confidentielle pour le concurrent direct"


def test_the_zip_holds_only_what_the_buyer_reads(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", 0)
    for i in range(2):
        add_mission(project, f"2022-m{i}", mission_yaml(f"Mission retenue {i}", f"Client {i}"))
    # about the subject, but below the tender's minimum amount: excluded, with a reason
    add_mission(
        project,
        "2022-concurrent-direct",
        mission_yaml(LEFT_OUT_TITLE, "Concurrent Direct").replace(
            "budget: 20 000 € HT", "budget: 500 € HT"
        ),
    )
    tender = write_tender(project, references=3, formats="[pdf, docx]")
    tender.write_text(
        tender.read_text(encoding="utf-8").replace("rules:\n", "rules:\n  min_amount: 1000\n"),
        encoding="utf-8",
    )
    result = export(project, tender)
    assert result.returncode == 0, result.stderr
    folder = project / "out" / "t"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert [item["id"] for item in manifest["excluded"]] == ["2022-concurrent-direct"]

    with zipfile.ZipFile(folder / "t.zip") as archive:
        names = sorted(archive.namelist())
        contents = {name: archive.read(name) for name in names}
    assert names == sorted(
        [
            "t/annexe-references.docx",
            "t/annexe-references.pdf",
            "t/cards/2022-m0.docx",
            "t/cards/2022-m0.pdf",
            "t/cards/2022-m1.docx",
            "t/cards/2022-m1.pdf",
            "t/references.csv",
            "t/references.xlsx",
        ]
    )
    # nothing in it speaks of the mission left out, nor of scores
    for name, payload in contents.items():
        if name.endswith(".pdf"):
            reader = PdfReader(folder / name.removeprefix("t/"))
            text = " ".join(page.extract_text() or "" for page in reader.pages)
        elif name.endswith((".docx", ".xlsx")):
            inner = zipfile.ZipFile(folder / name.removeprefix("t/"))
            text = " ".join(inner.read(n).decode("utf-8", "replace") for n in inner.namelist())
        else:
            text = payload.decode("utf-8-sig")
        assert "concurrent" not in text.lower(), name
        assert "score" not in text.lower(), name

    # the manifest stays beside the zip, for us, and vouches for it
    assert (folder / "manifest.json").is_file()
    listed = {item["path"]: item["sha256"] for item in manifest["files"]}
    assert listed["t.zip"] == hashlib.sha256((folder / "t.zip").read_bytes()).hexdigest()
    assert "manifest.json" not in listed
