"""Threat: a YAML file (mission, tags, entities, tender, brand) built to cost or confuse.

Aliases repeat text without bound (a 108 KB file expanding to 200 MB: billion laughs);
nesting a thousand levels deep; merge keys (`<<:`) that hide where keys come from; a
number of 5,000 digits; values quoted whole in error messages (120 MB of errors). Each
is refused at its line with a sentence, and the other files load.
"""

from __future__ import annotations

from pathlib import Path

from refsheets import load_library
from refsheets.errors import MAX_MESSAGE, Diagnostic
from refsheets.yamlfile import MAX_EXPANDED_CHARS, read_source
from tests.conftest import run_cli

GOOD = {"good-a", "good-b"}
HEAD = "title: X\nclient:\n  name: Y\n"


def _only_error(root: Path, name: str, text: str) -> Diagnostic:
    (root / "missions" / name).write_text(text, encoding="utf-8")
    library = load_library(root)
    assert set(library.missions) == GOOD
    (error,) = [d for d in library.errors if d.path.name == name]
    return error


def test_aliases_that_expand_past_the_bound_are_refused_at_their_line(library: Path) -> None:
    # 100 KB repeated 30 times: 3 MB of text from a 100 KB file.
    text = HEAD + "context: &a " + "a" * 100_000 + "\ndeliverables:\n" + "  - *a\n" * 30
    assert len(text) < MAX_EXPANDED_CHARS
    error = _only_error(library, "laughs.yaml", text)
    assert (error.line, error.column) == (6, 3)
    assert "repeats text through YAML aliases" in error.message


def test_nested_aliases_billion_laughs(tmp_path: Path) -> None:
    lines = ['a0: &a0 "' + "x" * 10 + '"']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source, problems = read_source(path)
    assert source is None
    (problem,) = problems
    assert "more than the 2 MiB a file may expand to" in problem.message


def test_a_few_honest_aliases_still_load(library: Path) -> None:
    (library / "missions" / "alias.yaml").write_text(
        HEAD + "context: &c Un atelier\napproach: *c\n", encoding="utf-8"
    )
    assert "alias" in load_library(library).missions


def test_deep_nesting_is_an_error_at_its_file(library: Path) -> None:
    error = _only_error(library, "deep.yaml", HEAD + "notes: " + "[" * 999 + "]" * 999 + "\n")
    assert (error.line, error.field) == (4, "notes")
    error = _only_error(library, "deep.yaml", HEAD + "notes: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "exceeded maximum nesting depth" in error.message


def test_merge_keys_are_refused_with_a_hint(library: Path) -> None:
    text = "title: X\nclient: &c\n  name: Y\npartners:\n  - <<: *c\n"
    error = _only_error(library, "merge.yaml", text)
    assert (error.line, error.column) == (5, 5)
    assert "'<<' (a YAML merge key) is not supported; write the keys out here" in error.message


def test_a_five_thousand_digit_amount(library: Path) -> None:
    error = _only_error(library, "amount.yaml", HEAD + "budget: " + "9" * 5000 + "\n")
    assert (error.line, error.column) == (4, 9)
    assert "is a number of 5000 digits" in error.message
    error = _only_error(library, "amount.yaml", HEAD + "budget: '" + "9" * 5000 + " € HT'\n")
    assert "has 5000 digits; an amount is at most 12 digits" in error.message
    error = _only_error(library, "amount.yaml", HEAD + "budget: 9999999999999\n")
    assert "budget.amount: should be under 1 000 000 000 000" in error.format()


def test_error_messages_quote_values_cut(library: Path) -> None:
    huge = "x" * 50_000
    error = _only_error(library, "long.yaml", HEAD + f"entity: {huge}\ntags: [{huge}]\n")
    assert len(error.format()) < MAX_MESSAGE + 200
    result = run_cli(["--library", str(library), "check"])
    assert result.returncode == 1
    assert len(result.stderr) < 5_000


def test_a_tender_repeating_a_long_alias_prints_little(library: Path, tmp_path: Path) -> None:
    tender = tmp_path / "t.yaml"
    tender.write_text(
        "name: T\nbuyer: B\ndeadline: 2026-04-17\nentity: pop-up\n"
        "themes: [&t th" + "e" * 60_000 + ", " + ", ".join(["*t"] * 40) + "]\n",
        encoding="utf-8",
    )
    result = run_cli(["--library", str(library), "pick", "--tender", str(tender)])
    assert result.returncode == 1, result.stderr[:500]
    assert "t.yaml:5:9: repeats text through YAML aliases" in result.stderr
    assert len(result.stderr) < 1_000
