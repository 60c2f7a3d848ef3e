"""Importing a portfolio: the round trip against the hand-checked library, reports, the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pypdf
import pytest
import yaml

from refsheets.errors import RefsheetsError
from refsheets.importer import (
    ImportStatus,
    _write_all,
    import_into_library,
    import_portfolio,
)
from refsheets.library import load_library
from refsheets.output import CannotWriteError
from tests.conftest import DATA, FIXTURES, run_cli
from tests.test_importer_extract import make_docx, make_pdf

PORTFOLIO = FIXTURES / "portfolio.txt"
IMPORT = FIXTURES / "import"
LIBRARY = load_library(DATA)

# What the hand-checked files say that the portfolio does not, mission by mission:
# field -> (imported, hand-checked). Every other fact must be identical.
DELIBERATE_DIFFERENCES: dict[str, dict[str, tuple[Any, Any]]] = {
    # "CC Haute-Somme" is public ("CC": communauté de communes) but does not say where:
    # the text says "Péronne", which a person read.
    "2019-cc-haute-somme-feuille-de-route-tiers-lieu": {
        "client.location": (None, "Péronne"),
    },
    "2021-cc-haute-somme-tiers-lieu-peronne": {
        "client.location": (None, "Péronne"),
    },
    # "EPSM" (établissement public de santé mentale) says public.
    "2019-epsm-lille-metropole-co-design-usagers": {},
    # The village (Châtel-Censoir) is named in the text, not in the header.
    "2021-region-bourgogne-village-du-futur": {"client.location": (None, "Châtel-Censoir")},
    "2021-valenciennes-passage-de-la-paix": {},
    "2022-havelinghen-emergence-tiers-lieu": {},
    # The page has no header: the client ("la ville d'Anzin") was taken from the text.
    "anzin-mediation-numerique-qpv": {
        "client.name": (None, "Ville d'Anzin"),
        "client.kind": (None, "public"),
        "client.location": (None, "Anzin"),
    },
    # The page has no header: the title was written for it and the client taken from
    # its text; the note says so.
    "vilogia-lieu-innovation-habitat": {
        "title": (None, "Émergence d'un lieu dédié à l'innovation et à l'habitat de demain"),
        "client.name": (None, "Vilogia"),
        "notes": (
            None,
            "Titre rédigé à partir du texte de la mission ; la page du portfolio n'en a pas.",
        ),
    },
}


def flatten(data: dict[str, Any]) -> dict[str, Any]:
    """A mission file's facts by dotted field, `client` spread out."""
    facts = {key: value for key, value in data.items() if key != "client"}
    facts.update({f"client.{key}": value for key, value in data["client"].items()})
    return facts


def read(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """An empty library with the project's tags and entities."""
    root = tmp_path / "library"
    (root / "missions").mkdir(parents=True)
    for name in ("tags.yaml", "entities.yaml"):
        shutil.copy(DATA / name, root / name)
    return root


def test_round_trip_gives_the_hand_checked_facts(library: Path) -> None:
    report = import_into_library(PORTFOLIO, library)
    assert [m.status for m in report.missions] == [ImportStatus.WRITTEN] * 8
    hand = {path.stem: read(path) for path in sorted((DATA / "missions").glob("*.yaml"))}
    assert set(hand) == set(DELIBERATE_DIFFERENCES)
    matched: dict[str, str] = {}
    for mission in report.missions:
        imported = read(mission.path)
        # Match by content: the context text is the mission's own.
        (stem,) = [s for s, data in hand.items() if data["context"] == imported["context"]]
        matched[mission.path.name] = stem
        mine, theirs = flatten(imported), flatten(hand[stem])
        differences = {
            key: (mine.get(key), theirs.get(key))
            for key in sorted(set(mine) | set(theirs))
            if mine.get(key) != theirs.get(key)
        }
        assert differences == DELIBERATE_DIFFERENCES[stem], stem
    assert sorted(matched.values()) == sorted(hand)


# The page with neither title nor client: named from its text, marked TODO (never
# "mission-04", which says nothing and collides with the next import's numbering).
TODO_FILE = "todo-accompagner-developpement-habitat.yaml"


def test_round_trip_files_load_except_the_two_pages_without_header(library: Path) -> None:
    report = import_into_library(PORTFOLIO, library)
    loaded = load_library(library)
    assert len(loaded.missions) == 6
    problems = sorted(d.format(library) for d in loaded.errors)
    assert problems == [
        "missions/mediation-numerique-solidarite.yaml:6:8: client.name: "
        "should be text, not nothing (an empty value)",
        f"missions/{TODO_FILE}:4:7: title: should be text, not nothing (an empty value)",
        f"missions/{TODO_FILE}:7:8: client.name: should be text, not nothing (an empty value)",
    ]
    assert [m.path.name for m in report.to_complete] == [
        TODO_FILE,
        "mediation-numerique-solidarite.yaml",
    ]
    # The missing date is reported, never made up.
    anzin = report.missions[-1]
    assert "period" not in read(anzin.path)
    assert anzin.missing["period"] == "the page gives no years"
    # Loaded missions resolve their tags as the hand-checked ones do.
    for mission in loaded.missions.values():
        assert all(loaded.taxonomy.resolve(tag) for tag in mission.tags)


def test_a_second_import_changes_nothing(library: Path) -> None:
    first = import_into_library(PORTFOLIO, library)
    before = {m.path: (m.path.read_bytes(), m.path.stat().st_mtime_ns) for m in first.missions}
    second = import_into_library(PORTFOLIO, library)
    assert [m.status for m in second.missions] == [ImportStatus.UNCHANGED] * 8
    assert second.changed == []
    after = {m.path: (m.path.read_bytes(), m.path.stat().st_mtime_ns) for m in second.missions}
    assert after == before
    assert sorted(p.name for p in (library / "missions").iterdir()) == sorted(
        m.path.name for m in first.missions
    )


def test_an_edited_file_is_kept_unless_forced(library: Path) -> None:
    report = import_into_library(PORTFOLIO, library)
    vilogia = next(m.path for m in report.missions if m.draft.title is None)
    edited = vilogia.read_text(encoding="utf-8").replace("title:\n", "title: Un lieu Vilogia\n")
    vilogia.write_text(edited, encoding="utf-8")
    kept = import_into_library(PORTFOLIO, library)
    assert kept.count(ImportStatus.KEPT) == 1 and kept.count(ImportStatus.UNCHANGED) == 7
    assert vilogia.read_text(encoding="utf-8") == edited
    forced = import_into_library(PORTFOLIO, library, force=True)
    assert forced.count(ImportStatus.OVERWRITTEN) == 1
    assert "title:\n" in vilogia.read_text(encoding="utf-8")


def test_missions_already_in_the_library_are_not_written_twice(library_copy: Path) -> None:
    before = {p.name: p.read_bytes() for p in (library_copy / "missions").iterdir()}
    report = import_into_library(PORTFOLIO, library_copy)
    # The EPSM file bears the name the importer would give: kept, not overwritten.
    assert report.count(ImportStatus.DUPLICATE) == 7
    assert report.count(ImportStatus.KEPT) == 1
    assert {p.name: p.read_bytes() for p in (library_copy / "missions").iterdir()} == before
    vilogia = next(m for m in report.missions if m.draft.title is None)
    assert (
        vilogia.duplicate_of == library_copy / "missions" / "vilogia-lieu-innovation-habitat.yaml"
    )


def test_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    report = import_portfolio(PORTFOLIO, tmp_path / "out", dry_run=True)
    assert report.dry_run and len(report.changed) == 8
    assert not (tmp_path / "out").exists()


def test_without_a_library_brands_become_keys(tmp_path: Path) -> None:
    report = import_portfolio(PORTFOLIO, tmp_path)
    assert {m.draft.entity for m in report.missions} == {"pop-up", "pop-cafe"}


def test_unknown_tags_are_flagged_in_the_report(library: Path) -> None:
    report = import_into_library(IMPORT / "variants.txt", library)
    nord = report.missions[2]
    assert "tags not in tags.yaml: participation" in nord.draft.remarks


def test_a_malformed_portfolio_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for name in ("empty.txt", "blank.txt", "no-mission.txt"):
        with pytest.raises(RefsheetsError):
            import_portfolio(IMPORT / name, out)
    assert not out.exists()


def test_writes_are_all_or_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is needed", encoding="utf-8")
    first, second = tmp_path / "a.yaml", blocker / "b.yaml"
    with pytest.raises(CannotWriteError, match="a file stands where its path needs a folder"):
        _write_all([(first, "a: 1\n"), (second, "b: 2\n")])
    assert not first.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["blocker"]  # no temporary file left


def test_a_word_portfolio_imports(library: Path, tmp_path: Path) -> None:
    report = import_into_library(make_docx(tmp_path / "portfolio.docx"), library)
    loaded = load_library(library)
    assert loaded.errors == []
    roubaix = loaded.get("2020-roubaix-friche-devenue-tiers-lieu")
    assert roubaix.approach == "Trois temps :\n\n1. écouter les voisins\n2. prototyper les usages"
    assert [p.name for p in roubaix.partners] == ["Compagnie des Tiers-lieux Hauts de France"]
    ennevelin = loaded.get("2022-ennevelin-animer-maison-associations")
    assert (ennevelin.entity, ennevelin.budget and ennevelin.budget.basis) == ("pop-cafe", "TTC")
    assert report.missions[1].missing == {"tags": "no 'Expertises et thématiques' tags"}


@pytest.mark.slow
def test_a_pdf_portfolio_imports(library: Path, tmp_path: Path) -> None:
    report = import_into_library(make_pdf(tmp_path / "portfolio.pdf"), library)
    loaded = load_library(library)
    assert loaded.errors == []
    assert sorted(loaded.missions) == [
        "2020-roubaix-friche-devenue-tiers-lieu",
        "2022-ennevelin-animer-maison-associations",
    ]
    roubaix = loaded.get("2020-roubaix-friche-devenue-tiers-lieu")
    assert roubaix.deliverables == ["2 ateliers de co-conception", "1 programme du lieu"]
    assert roubaix.tags == ["tiers-lieu", "Friche", "co-design"]
    assert roubaix.budget is not None and roubaix.budget.amount == 18500
    assert report.missions[0].draft.remarks == [
        "ignored before the first mission: POP Up / Nos références 2020-2024",
        "client kind public: 'ville' in the client's name",
        "tags not in tags.yaml: Friche",
    ]


# --------------------------------------------------------------------------- flowing PDFs


def make_flowing_pdf(source: Path, path: Path, page_size: str) -> Path:
    """The portfolio text as one continuous PDF: its missions run on across pages.

    Each line of the text is a paragraph and a blank line keeps its height, so the page
    size alone decides where the pages break: inside a paragraph, a list, a footer, or
    between a mission's header and its first heading.
    """
    import html

    import weasyprint

    rows = "".join(f"<p>{html.escape(row)}</p>" for row in source.read_text("utf-8").split("\n"))
    css = (
        f"@page {{ size: {page_size}; margin: 15mm }}"
        "p { margin: 0; min-height: 1.2em; white-space: pre-wrap; font: 10pt sans-serif }"
    )
    document = f"<html><head><style>{css}</style></head><body>{rows}</body></html>"
    weasyprint.HTML(string=document).write_pdf(path)
    return path


def imported_facts(path: Path, library: Path) -> list[dict[str, Any]]:
    """What an import reads of each mission (a dry run): the facts a card is made of."""
    report = import_into_library(path, library, dry_run=True)
    facts = []
    for mission in report.missions:
        draft = mission.draft
        facts.append(
            {
                "file": mission.path.name,
                "title": draft.title,
                "client": draft.client,
                "period": draft.period,
                "budget": draft.budget,
                "entity": draft.entity,
                "partners": draft.partners,
                "tags": draft.tags,
                "deliverables": draft.deliverables,
                "captions": draft.captions,
                "missing": sorted(draft.missing),
            }
        )
    return facts


# Page sizes chosen so that, between them, the pages break at every place that once
# misled the importer: between a "Expertises et thématiques" heading and its tags, inside
# a paragraph, a list or a line of tags, inside a header that the next page opens on its
# years line (a title ending in "!" above the break), and where the layout wraps a title.
# Each of them failed before the fix.
FLOW_PAGE_SIZES = ["A4", "A4 landscape", "A5", "A6", "B6", "A6 landscape", "210mm 230mm"]


@pytest.mark.slow
@pytest.mark.parametrize("page_size", FLOW_PAGE_SIZES)
def test_a_pdf_whose_missions_flow_across_pages_gives_the_text_facts(
    library: Path, tmp_path: Path, page_size: str
) -> None:
    pdf = make_flowing_pdf(PORTFOLIO, tmp_path / "portfolio.pdf", page_size)
    assert len(pypdf.PdfReader(pdf).pages) > 2  # the missions do run across pages
    assert imported_facts(pdf, library) == imported_facts(PORTFOLIO, library)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_the_portfolio_text_converted_by_libreoffice_gives_the_text_facts(
    library: Path, tmp_path: Path
) -> None:
    # The reviewer's case: "soffice --convert-to pdf portfolio.txt" flows the text over
    # A4 pages; the Havelinghen header sat just above a page break, before "Contexte".
    import subprocess

    shutil.copy(PORTFOLIO, tmp_path / "portfolio.txt")
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(tmp_path / "portfolio.txt"),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = tmp_path / "portfolio.pdf"
    facts = imported_facts(pdf, library)
    assert facts == imported_facts(PORTFOLIO, library)
    havelinghen = next(f for f in facts if f["client"] == "Ville de Havelinghen")
    assert (havelinghen["title"], havelinghen["period"]) == (
        "Accompagner l'émergence d'un tiers-lieu",
        2022,
    )


# --------------------------------------------------------------------------- the command


def test_cli_imports_and_reports(library: Path) -> None:
    result = run_cli(["-L", str(library), "import", str(PORTFOLIO)])
    assert result.returncode == 0, result.stderr
    assert "8 written" in result.stderr
    assert "todo-accompagner" in result.stdout and "the page gives no title" in result.stdout
    assert "2 file(s) need a title or a client name" in result.stderr
    assert len(list((library / "missions").glob("*.yaml"))) == 8
    again = run_cli(["-L", str(library), "import", str(PORTFOLIO)])
    assert again.returncode == 0 and "8 unchanged" in again.stderr


def test_cli_dry_run_and_out(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    result = run_cli(["-L", str(library), "import", str(PORTFOLIO), "--out", str(out), "--dry-run"])
    assert result.returncode == 0, result.stderr
    assert "would be written" in result.stdout and "dry run: nothing written" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.txt", "is empty: it holds no text to import"),
        ("no-mission.txt", "found no mission in"),
    ],
)
def test_cli_refuses_empty_or_malformed_input(
    library: Path, tmp_path: Path, name: str, message: str
) -> None:
    out = tmp_path / "out"
    result = run_cli(["-L", str(library), "import", str(IMPORT / name), "--out", str(out)])
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_cli_missing_file(library: Path, tmp_path: Path) -> None:
    result = run_cli(["-L", str(library), "import", str(tmp_path / "nope.pdf")])
    assert result.returncode == 3
    assert "no file at" in result.stderr


def test_importing_text_does_not_load_the_renderer(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from refsheets.importer import import_portfolio\n"
        f"import_portfolio({str(PORTFOLIO)!r}, {str(tmp_path)!r})\n"
        "assert 'weasyprint' not in sys.modules and 'typer' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
