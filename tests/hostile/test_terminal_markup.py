"""Threat: data and paths printed to the terminal as Rich markup, or as raw controls.

A title "[/]" crashed `list`, `pick`, `export --dry-run` and the import report (exit 70,
MarkupError); "[link=https://…]" became a clickable hyperlink; an honest "Atelier
[phase 2]" lost its brackets; `--out 'o/[/]'` wrote its files, then exited 70. Every
string the CLI prints is plain text (the consoles never read markup), and a control or
bidirectional character in data is refused at its line and never reaches the terminal
raw (it shows as \\uXXXX).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from refsheets import load_library
from refsheets.errors import printable
from tests.conftest import run_cli

TITLES = ["Atelier [phase 2] et suite", "Fin [/] du style", "[bold]Gras[/bold]"]
LINK = "[link=https://evil.example/]Cliquez[/link]"


def _markup_library(library: Path) -> None:
    for number, title in enumerate([*TITLES, LINK]):
        (library / "missions" / f"m{number}.yaml").write_text(
            f"title: '{title}'\nclient:\n  name: '[red]Client[/]'\n  kind: public\n"
            "period: 2020\nentity: pop-up\ntags: [tiers-lieu]\nbudget: 20000\n",
            encoding="utf-8",
        )


@pytest.mark.parametrize("command", [["list"], ["pick", "--tag", "tiers-lieu"]])
def test_titles_print_as_written(library: Path, command: list[str]) -> None:
    _markup_library(library)
    result = run_cli(["--library", str(library), *command])
    assert result.returncode == 0, result.stderr
    for title in TITLES:
        assert title in result.stdout
    assert "[red]Client[/]" in result.stdout
    assert "[link=https://evil.example/]Cliquez[/link]" in result.stdout
    assert "\x1b]8;" not in result.stdout  # no terminal hyperlink


def test_export_dry_run_prints_data_plainly(library: Path, tmp_path: Path) -> None:
    _markup_library(library)
    tender = tmp_path / "t.yaml"
    tender.write_text(
        "name: Appel [/] test\nbuyer: '[bold]Acheteur'\ndeadline: 2026-04-17\n"
        "entity: pop-up\nthemes: [tiers-lieu]\n",
        encoding="utf-8",
    )
    out = tmp_path / "o[/]"
    result = run_cli(
        ["--library", str(library), "export", str(tender), "--dry-run", "--out", str(out)]
    )
    assert result.returncode == 0, result.stderr
    assert "Atelier [phase 2] et suite" in result.stdout
    assert "o[/]" in result.stderr


def test_import_report_prints_data_plainly(tmp_path: Path) -> None:
    portfolio = tmp_path / "p[bold].txt"
    portfolio.write_text(
        "Ville [/] de Lille\n\n2021\n\nAtelier [phase 2] [bold]\n\nContexte\n\n"
        "Un contexte [link=https://evil.example/]x[/link].\n",
        encoding="utf-8",
    )
    out = tmp_path / "out[/]"
    result = run_cli(
        ["--library", str(tmp_path / "none"), "import", str(portfolio), "--out", str(out)]
    )
    assert result.returncode == 0, result.stderr
    assert "p[bold].txt" in result.stdout
    assert "1 written" in result.stderr
    assert len(list(out.glob("*.yaml"))) == 1


def test_render_out_folder_with_brackets(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "o[/]"
    result = run_cli(
        ["--library", str(library), "render", "good-a", "--format", "docx", "--out", str(out)]
    )
    assert result.returncode == 0, result.stderr
    assert (out / "good-a.docx").is_file()
    assert f"wrote 1 file(s) in {out}" in result.stderr


@pytest.mark.parametrize(
    ("char", "kind"),
    [
        ("\u202e", "bidirectional control U+202E"),
        ("\u2066", "bidirectional control U+2066"),
        ("\u0085", "control character U+0085"),
        ("\u009b", "control character U+009B"),
        ("\x1b", "control character U+001B"),
    ],
)
def test_controls_are_refused_at_their_line(library: Path, char: str, kind: str) -> None:
    escaped = f"\\u{ord(char):04x}"
    (library / "missions" / "x.yaml").write_text(
        f'title: X\nclient:\n  name: "Mairie {escaped}gpj.exe"\n', encoding="utf-8"
    )
    loaded = load_library(library)
    (error,) = [d for d in loaded.errors if d.path.name == "x.yaml"]
    assert (error.line, error.field) == (3, "client.name")
    assert kind in error.message


def test_controls_in_a_file_name_never_reach_the_terminal_raw(library: Path) -> None:
    (library / "missions" / "evil\x1b[31m\u202e.yaml").write_text("title: X\n", encoding="utf-8")
    result = run_cli(["--library", str(library), "check"])
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert "evil\\u001b[31m\\u202e.yaml" in result.stderr


def test_printable_shows_every_control() -> None:
    assert printable("a\u202eb\x9bc\x07d\te\nf") == "a\\u202eb\\u009bc\\u0007d\te\nf"
    assert printable("a\nb", newlines=False) == "a\\u000ab"
