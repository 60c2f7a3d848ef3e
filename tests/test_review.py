"""The freshness review: windows at a fixed date, overdue reviews, the JSON and the HTML
report (parsed, its SVG well-formed, one printed page)."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from refsheets import load_library
from refsheets.library import Library
from refsheets.review import (
    add_months,
    finding_lines,
    leaves_window,
    qualifies,
    review_library,
)
from refsheets.review_html import review_html
from refsheets.select import PickQuery, pick
from tests.conftest import DATA, run_cli

DAY = dt.date(2026, 10, 1)


@pytest.fixture(scope="module")
def seed() -> Library:
    return load_library(DATA)


def test_the_day_each_reference_leaves_a_window(seed: Library) -> None:
    # period: 2021 (a bare year counts as December) -> out of the 3-year window on 2025-01-01
    valenciennes = seed.missions["2021-valenciennes-passage-de-la-paix"]
    assert leaves_window(valenciennes, 3) == dt.date(2025, 1, 1)
    assert leaves_window(valenciennes, 5) == dt.date(2027, 1, 1)
    # period: 2021-2024
    peronne = seed.missions["2021-cc-haute-somme-tiers-lieu-peronne"]
    assert leaves_window(peronne, 3) == dt.date(2028, 1, 1)
    # no period: never computed, never guessed
    assert leaves_window(seed.missions["vilogia-lieu-innovation-habitat"], 3) is None


def test_references_leaving_a_window_soon_are_listed_with_their_date(seed: Library) -> None:
    review = review_library(seed, today=DAY, horizon_months=6)
    leaving = {(f.mission_id, f.date) for f in review.findings if f.kind == "window"}
    # Every mission that ended in 2021 leaves the 5-year window on 2027-01-01 (within
    # six months of 2026-10-01); the ones of 2022 leave the 3-year window on 2026-01-01,
    # already gone, and the 5-year one in 2028, too far.
    assert leaving == {
        ("2021-valenciennes-passage-de-la-paix", dt.date(2027, 1, 1)),
    }
    near = review_library(seed, today=DAY, horizon_months=16)
    assert ("2022-havelinghen-emergence-tiers-lieu", dt.date(2028, 1, 1)) in {
        (f.mission_id, f.date) for f in near.findings if f.kind == "window"
    }


def test_the_window_rule_is_the_one_pick_applies(seed: Library) -> None:
    for day in (dt.date(2024, 1, 1), dt.date(2025, 6, 30), DAY, dt.date(2027, 1, 1)):
        for years in (3, 5):
            picked = pick(seed, PickQuery(within=years, on=day), today=day)
            by_pick = set(picked.ids)
            by_review = {i for i, m in seed if qualifies(m, years, day) and m.period}
            assert by_review == by_pick, (day, years)


def test_per_tag_counts_at_a_fixed_date(seed: Library) -> None:
    review = review_library(seed, today=DAY)
    tiers_lieu = next(t for t in review.tags if t.tag == "tiers-lieu")
    # tiers-lieu missions end in 2020, 2024, 2021, 2022, 2022, and one has no dates
    assert tiers_lieu.total == 6
    assert tiers_lieu.within[3] == 1  # on 2026-10-01, only the one that ended in 2024
    assert tiers_lieu.within[5] == 4  # 2024, 2022, 2022 and 2021 (counts until 2027-01-01)


def test_overdue_and_never_reviewed(library_copy: Path) -> None:
    path = library_copy / "missions" / "2022-havelinghen-emergence-tiers-lieu.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "reviewed: 15/09/2025\nowner: Léa\n", encoding="utf-8"
    )
    (library_copy / "refsheets.yaml").write_text("review_period: 6 mois\n", encoding="utf-8")
    library = load_library(library_copy)
    review = review_library(library, today=DAY)
    assert review.review_period_months == 6
    overdue = {f.mission_id: f for f in review.overdue}
    havelinghen = overdue["2022-havelinghen-emergence-tiers-lieu"]
    assert havelinghen.date == dt.date(2026, 3, 15) and havelinghen.owner == "Léa"
    assert "jamais relue" in overdue["vilogia-lieu-innovation-habitat"].message
    # soonest first: the dated overdue review before everything undated
    assert review.findings[0].mission_id == "2022-havelinghen-emergence-tiers-lieu"
    fresh = review_library(library, today=dt.date(2025, 10, 1))
    assert "2022-havelinghen-emergence-tiers-lieu" not in {f.mission_id for f in fresh.overdue}


def test_add_months_keeps_the_day_or_the_months_last() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)


def test_cli_review_json_and_exit_status(library_copy: Path) -> None:
    result = run_cli(["--library", str(library_copy), "review", "--json", "--today", "01/10/2026"])
    assert result.returncode == 1, result.stderr  # nothing of the seed was ever reviewed
    data = json.loads(result.stdout)
    assert data["today"] == "2026-10-01" and data["overdue"] == 8
    kinds = {f["kind"] for f in data["findings"]}
    assert {"overdue", "window", "fact", "attestation"} <= kinds
    assert "8 mission(s) à relire (relecture tous les 12 mois)" in result.stderr
    for path in (library_copy / "missions").glob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8") + "reviewed: 2026-09-01\n", "utf-8")
    clean = run_cli(["--library", str(library_copy), "review", "--today", "01/10/2026"])
    assert clean.returncode == 0, clean.stderr
    assert (
        "01/01/2027  fenêtre        2021-valenciennes-passage-de-la-paix : sort de la fenêtre "
        "de 5 ans le 01/01/2027 (terminée en 12/2021)"
    ) in clean.stdout
    bad = run_cli(["--library", str(library_copy), "review", "--today", "2026/10/01"])
    assert bad.returncode == 2


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _svg_of(page: str) -> ET.Element:
    start, end = page.index("<svg"), page.index("</svg>") + len("</svg>")
    return ET.fromstring(page[start:end])  # raises when not well-formed XML


def test_the_html_report_parses_and_its_svg_is_well_formed(seed: Library) -> None:
    page = review_html(review_library(seed, today=DAY), title="Démo <&> POP")
    parser = _Collector()
    parser.feed(page)
    assert "script" not in parser.tags and "svg" in parser.tags
    text = " ".join(parser.text)
    assert "Démo <&> POP" in text  # escaped in the source, read back as written
    assert "<&>" not in page
    svg = _svg_of(page)
    ns = "{http://www.w3.org/2000/svg}"
    assert svg.tag == f"{ns}svg"
    bars = svg.findall(f"{ns}rect[{ns}title]")
    # one bar per dated mission and tag on the drawing
    assert len(bars) >= 6
    labels = [t.text for t in svg.iter(f"{ns}text")]
    assert "Tiers-lieu" in labels and "− 3 ans" in labels and "aujourd'hui" in labels
    assert "http" not in page.replace("http://www.w3.org/2000/svg", "")  # nothing to fetch


@pytest.mark.slow
def test_the_html_report_prints_on_one_page(seed: Library, tmp_path: Path) -> None:
    import weasyprint

    page = review_html(review_library(seed, today=DAY), title="Démo")
    pdf = weasyprint.HTML(string=page).render()
    assert len(pdf.pages) == 1


def test_cli_review_writes_the_html_file(library_copy: Path, tmp_path: Path) -> None:
    report = tmp_path / "revue.html"
    result = run_cli(
        ["--library", str(library_copy), "review", "--html", str(report), "--today", "2026-10-01"]
    )
    assert result.returncode == 1
    assert report.is_file() and "<svg" in report.read_text(encoding="utf-8")
    _svg_of(report.read_text(encoding="utf-8"))


# Words of the other language that must not show in a report (the findings' own words, the
# page's headings and the kinds of findings).
ENGLISH = ("never reviewed", "leaves the", "no attestation", "no period", "overdue", "window")
FRENCH = ("jamais relue", "sort de la fenêtre", "attestation de bonne", "pas de période")


def _with_warnings(library_copy: Path) -> Library:
    """The seed with one warning of each kind `check` gives a code to."""
    path = library_copy / "missions" / "2022-havelinghen-emergence-tiers-lieu.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("client:\n", "client:\n  anonymous_label: Commune rurale du Nord\n")
    text = text.replace("tags: [", "tags: [ruralite-bis, ")
    path.write_text(text + "disclosure: anonymous\n", encoding="utf-8")
    return load_library(library_copy)


def test_the_report_speaks_french_by_default(library_copy: Path) -> None:
    library = _with_warnings(library_copy)
    review = review_library(library, today=DAY)
    assert review.lang == "fr"
    messages = " ".join(f.message for f in review.findings)
    assert all(word in messages for word in FRENCH)
    assert "thématique inconnue « ruralite-bis »" in messages
    assert "mission anonyme, mais ce texte nomme" in messages
    page = review_html(review, title="Démo")
    assert '<html lang="fr">' in page
    parser = _Collector()
    parser.feed(page[page.index("<body") :])  # what is read, not the style sheet
    text = " ".join(parser.text)
    assert not [word for word in ENGLISH if word in text]
    terminal = " ".join(finding_lines(review.findings, "fr"))
    assert not [word for word in ENGLISH if word in terminal]


def test_the_report_speaks_english_when_the_library_says_so(library_copy: Path) -> None:
    (library_copy / "refsheets.yaml").write_text("language: en\n", encoding="utf-8")
    library = _with_warnings(library_copy)
    review = review_library(library, today=DAY)
    assert review.lang == "en"
    messages = " ".join(f.message for f in review.findings)
    assert not [word for word in FRENCH if word in messages]
    assert "unknown tag 'ruralite-bis'" in messages and "never reviewed" in messages
    page = review_html(review, title="Demo")
    assert '<html lang="en">' in page and "Third place" in page  # the tag's English label
    parser = _Collector()
    parser.feed(page[page.index("<body") :])
    text = " ".join(parser.text)
    assert not [word for word in (*FRENCH, "aujourd'hui", "Thématique", " ans") if word in text]


def test_cli_review_lang_option_overrides_the_library(library_copy: Path) -> None:
    result = run_cli(
        ["--library", str(library_copy), "review", "--lang", "en", "--today", "01/10/2026"]
    )
    assert result.returncode == 1
    assert "never reviewed" in result.stdout and "jamais" not in result.stdout
    assert "8 mission(s) overdue for review (every 12 months)" in result.stderr


def test_the_report_is_the_same_from_the_librarys_index(
    library_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index keeps what each warning is (its code), so the French report does not
    fall back to pointing at `check` once the files are indexed."""
    import refsheets.index

    # The index keeps only files that have not just changed; these were, just now.
    monkeypatch.setattr(refsheets.index, "RACY_SECONDS", 0)
    _with_warnings(library_copy)
    fresh = load_library(library_copy, index=True)
    assert (library_copy / ".refsheets" / "index.sqlite").is_file()
    warm = load_library(library_copy, index=True)
    assert [(d.code, d.detail) for d in warm.diagnostics] == [
        (d.code, d.detail) for d in fresh.diagnostics
    ]
    assert [f.message for f in review_library(warm, today=DAY).findings] == [
        f.message for f in review_library(fresh, today=DAY).findings
    ]
    assert "thématique inconnue « ruralite-bis »" in " ".join(
        f.message for f in review_library(warm, today=DAY).findings
    )
