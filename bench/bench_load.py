"""Loading and validating a library vs plain `yaml.safe_load` (pure-Python loader).

Issue 2's bar: `load_library` on 2,000 missions takes no longer than reading the same
files with PyYAML's pure-Python SafeLoader alone. Prints both, best of 5 runs.

    python bench/bench_load.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synth import make_library
from refsheets.library import load_library


def best_of(runs: int, fn: Callable[[], object]) -> float:
    """The fastest of `runs` timings of `fn`, in seconds."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    """Print the figures."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    with tempfile.TemporaryDirectory() as tmp:
        root = make_library(Path(tmp), n)
        files = sorted((root / "missions").glob("*.yaml"))

        def plain() -> None:
            for path in files:
                yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)

        def ours() -> None:
            library = load_library(root)
            assert len(library.missions) == n, library.diagnostics[:3]

        t_plain = best_of(5, plain)
        t_ours = best_of(5, ours)
    print(f"missions: {n}")
    print(f"yaml.safe_load (pure-Python SafeLoader): {t_plain * 1000:8.0f} ms")
    print(f"refsheets load_library (parse+validate): {t_ours * 1000:8.0f} ms")
    print(f"ratio: {t_ours / t_plain:.2f} (target <= 1.00)")


if __name__ == "__main__":
    main()
