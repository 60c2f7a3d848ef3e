"""A large library's commands, as a user runs them, with and without the library's index.

Issue 15 item 3: with 10,000 missions, `list`, `pick --query` and `pick --tag` each in
1.5 s or less once the library has been read once; 5 s and 500 MB at 50,000. For each size
this writes a synthetic library, then times each command in a new process (stdout to
/dev/null) and reads its peak memory (max RSS, from wait4): first with the index bypassed
(REFSHEETS_NO_INDEX=1: every file parsed, as before the index), then once to build the
index, then with the index warm.

    python bench/bench_index.py [N ...]        # default: 10000 50000
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synth import make_library
from refsheets.index import NO_INDEX_ENV, RACY_SECONDS

QUERY = "Programmation d'un tiers-lieu numérique intercommunal"
COMMANDS = {
    "list": ["list"],
    "list --json": ["list", "--json"],
    "pick --query": ["pick", "--on", "2026-04-17", "--query", QUERY],
    "pick --tag": ["pick", "--on", "2026-04-17", "--tag", "fablab"],
}


def run(library: Path, args: list[str], *, index: bool) -> tuple[float, float]:
    """Wall seconds and max RSS (MB) of `refsheets ARGS` on `library`."""
    env = {**os.environ, "REFSHEETS_LIBRARY": str(library), "COLUMNS": "120"}
    env.pop(NO_INDEX_ENV, None)
    if not index:
        env[NO_INDEX_ENV] = "1"
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "refsheets", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"refsheets {' '.join(args)} failed ({status})")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    """Print the figures."""
    sizes = [int(arg) for arg in sys.argv[1:]] or [10_000, 50_000]
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            library = make_library(Path(tmp), size)
            time.sleep(RACY_SECONDS + 0.5)  # files this fresh are not kept in the index
            print(f"\n{size} missions (bar: 1.5 s at 10,000; 5 s and 500 MB at 50,000)")
            print(f"{'command':<14} {'no index':>16} {'index warm':>16}  ratio")
            built, built_rss = run(library, ["list", "--json"], index=True)
            for name, args in COMMANDS.items():
                before, before_rss = run(library, args, index=False)
                after, after_rss = run(library, args, index=True)
                print(
                    f"{name:<14} {before:6.2f} s {before_rss:5.0f} MB "
                    f"{after:6.2f} s {after_rss:5.0f} MB  {after / before:5.2f}"
                )
            print(f"first read, building the index (list --json): {built:.2f} s {built_rss:.0f} MB")
    print(f"\nload average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
