"""Reading notices: the time to read each example notice, and `tender new` end to end.

For each of the SDK's three French notices (tests/fixtures/notices), prints the median
and best of several in-process runs of:

- read: `read_eforms` (safe XML parse, fields, lots, criteria);
- rules: the same plus the rule extraction of its criteria and the tender file's text
  (`new_tender --dry-run` in process, without the library load);

then, once, `refsheets tender new NOTICE --dry-run` as a new process (what a user waits
for, Python's start and imports included). Figures, not pass/fail.

    python bench/bench_notice.py [RUNS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from refsheets.notice import new_tender
from refsheets.notice.eforms import read_eforms

ROOT = Path(__file__).resolve().parent.parent
NOTICES = ROOT / "tests" / "fixtures" / "notices"
NAMES = ("cn_24_FRA_comments.xml", "cn_81_FRA.xml", "cn_23.xml")


def timings(runs: int, fn: Callable[[], object]) -> list[float]:
    """`runs` timings of `fn`, in seconds."""
    result = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        result.append(time.perf_counter() - start)
    return result


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    read_eforms(NOTICES / NAMES[0])  # imports and the CPV list, once
    new_tender([NOTICES / NAMES[0]], dry_run=True)
    print(f"{'notice':26} {'KiB':>5} {'read (ms)':>18} {'read+rules+write (ms)':>24}")
    for name in NAMES:
        path = NOTICES / name
        read = timings(runs, lambda path=path: read_eforms(path))  # type: ignore[misc]
        full = timings(runs, lambda path=path: new_tender([path], dry_run=True))  # type: ignore[misc]
        print(
            f"{name:26} {path.stat().st_size / 1024:5.1f} "
            f"{statistics.median(read) * 1000:8.2f} (best {min(read) * 1000:5.2f}) "
            f"{statistics.median(full) * 1000:12.2f} (best {min(full) * 1000:5.2f})"
        )
    for name in NAMES:
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "refsheets", "tender", "new", str(NOTICES / name), "--dry-run"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        elapsed = time.perf_counter() - start
        print(f"refsheets tender new {name} --dry-run (new process): {elapsed:.2f} s")


if __name__ == "__main__":
    main()
