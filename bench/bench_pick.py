"""Ranking cost: `pick --query` next to `list` on the same synthetic library, same run.

Issue 5's bar: ranking adds at most 50 % to what listing the library costs. Prints two
comparisons, best of several runs each:

- in process: `load_library` alone (what `list` does before printing) against
  `load_library` + `pick(query)`, with the analysed words forgotten before every run so
  each run analyses the text from scratch;
- end to end: `refsheets list` against `refsheets pick --query …`, each a new process,
  printing their tables (pick prints every matching mission, as list prints every one),
  then their JSON; and `pick --query -n 10`, the usual way to ask.

The bar is on the commands, as the issue words it (`pick --query` next to `list`). The
in-process figure is printed for information: it sets the ranking against loading alone,
leaving out what `list` itself does after loading, so it is stricter than the bar.

    python bench/bench_pick.py [N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synth import make_library
from refsheets.library import load_library
from refsheets.search import clear_caches
from refsheets.select import PickQuery, pick

QUERY = (
    "Assistance à maîtrise d'ouvrage pour la programmation et le modèle économique "
    "d'un tiers-lieu numérique intercommunal : diagnostic, concertation des habitants, "
    "gouvernance et portage juridique"
)
TODAY = date(2026, 3, 1)


def best_of(runs: int, *fns: Callable[[], object]) -> list[float]:
    """The fastest of `runs` timings of each of `fns`, in seconds.

    The functions take turns, so a machine busy with other work slows each of them alike.
    """
    best = [float("inf")] * len(fns)
    for _ in range(runs):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def run_cli(root: Path, *args: str) -> None:
    """Run `refsheets -L ROOT ARGS` as a user would; fail loudly on a non-zero exit."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    subprocess.run(
        [sys.executable, "-m", "refsheets", "-L", str(root), *args],
        check=True,
        stdout=subprocess.DEVNULL,
        env=env,
    )


def main() -> None:
    """Print the figures."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        root = make_library(Path(tmp), n)

        def load() -> None:
            library = load_library(root)
            assert len(library.missions) == n, library.diagnostics[:3]

        picked: list[int] = []

        def load_and_pick() -> None:
            clear_caches()
            library = load_library(root)
            result = pick(library, PickQuery(text=QUERY), today=TODAY)
            picked.append(len(result.selected))

        library = load_library(root)

        def pick_only() -> None:
            clear_caches()
            pick(library, PickQuery(text=QUERY), today=TODAY)

        t_load, t_both, t_pick = best_of(7, load, load_and_pick, pick_only)
        t_list_cli, t_pick_cli = best_of(
            3, lambda: run_cli(root, "list"), lambda: run_cli(root, "pick", "--query", QUERY)
        )
        t_list_json, t_pick_json, t_pick10_cli = best_of(
            3,
            lambda: run_cli(root, "list", "--json"),
            lambda: run_cli(root, "pick", "--query", QUERY, "--json"),
            lambda: run_cli(root, "pick", "--query", QUERY, "-n", "10"),
        )

    print(f"missions: {n}; query matches {picked[-1]} of them")
    print("in process (best of 7, taking turns):")
    print(f"  load_library                 {t_load * 1000:8.0f} ms")
    print(f"  load_library + pick --query  {t_both * 1000:8.0f} ms")
    print(f"  pick alone (index + rank)    {t_pick * 1000:8.0f} ms")
    print(f"  ratio {t_both / t_load:.2f} (no bar: stricter than the commands, list prints too)")
    print("end to end, new process each (best of 3, taking turns):")
    print(f"  refsheets list                      {t_list_cli * 1000:8.0f} ms")
    print(f"  refsheets pick --query              {t_pick_cli * 1000:8.0f} ms")
    print(f"  ratio {t_pick_cli / t_list_cli:.2f} (target <= 1.50)")
    print(f"  refsheets list --json               {t_list_json * 1000:8.0f} ms")
    print(f"  refsheets pick --query --json       {t_pick_json * 1000:8.0f} ms")
    print(f"  ratio {t_pick_json / t_list_json:.2f} (target <= 1.50)")
    print(f"  refsheets pick --query -n 10        {t_pick10_cli * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
