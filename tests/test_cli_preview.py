"""`refsheets preview` as a user runs it: the real command, its page in a real browser.

The command runs as a subprocess on a copy of the library; Debian's Chromium (headless,
driven by selenium through Debian's chromedriver: no browser is downloaded) loads the page
while the test edits the mission file as an editor would, then stops the command with
Ctrl-C (SIGINT) and checks that nothing of it is left running.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEED_TENDERS, run_cli

MISSION = "2021-cc-haute-somme-tiers-lieu-peronne"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT = 60  # seconds: a generous bound for a render on a loaded 2-core machine, not a target


@dataclass
class Preview:
    """A running `refsheets preview` and the address it printed."""

    process: subprocess.Popen[str]
    url: str
    stderr: Path

    def state(self, after: int = -1) -> dict[str, Any]:
        """The page's state, as its script asks for it (waits for a render newer than
        `after`)."""
        with urllib.request.urlopen(f"{self.url}state?after={after}", timeout=WAIT) as answer:
            result: dict[str, Any] = json.load(answer)
            return result

    def state_where(self, wanted: Any) -> dict[str, Any]:
        """The first state (within WAIT renders' time) for which `wanted(state)` holds."""
        state = self.state()
        for _ in range(20):
            if wanted(state):
                return state
            state = self.state(after=state["version"])
        raise AssertionError(f"no such state; last: {state}\n{self.stderr.read_text()}")

    def interrupt(self) -> int:
        """Ctrl-C, as a terminal sends it; the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=WAIT)


@contextlib.contextmanager
def run_preview(args: list[str], cwd: Path, *, sigint_ignored: bool = False) -> Iterator[Preview]:
    """Start `refsheets ARGS` (a preview on a free port); kill what is left afterwards.

    `sigint_ignored` starts it as a shell script starts a background job: with SIGINT
    ignored, which Python would otherwise keep.
    """
    stderr = cwd / "preview-stderr.txt"
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("REFSHEETS_LIBRARY", None)
    with stderr.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "refsheets", *args, "--port", "0"],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            start_new_session=True,  # its own process group: the test can see what it left
            preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
            if sigint_ignored
            else None,
        )
    try:
        assert process.stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(WAIT)
        url = line[0].strip() if line else ""
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url), (url, stderr.read_text())
        yield Preview(process, url, stderr)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=WAIT)
        if process.stdout:
            process.stdout.close()


def assert_nothing_left(preview: Preview) -> None:
    """No process of the preview's group runs any more, and its port is closed."""
    with pytest.raises(ProcessLookupError):
        os.killpg(preview.process.pid, 0)
    port = int(preview.url.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass


def spaced(text: str) -> str:
    """Text with every kind of space as a plain one (amounts use narrow no-break spaces)."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def set_budget(mission: Path, line: str) -> None:
    text = mission.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^budget:.*$", line, text)
    assert count == 1
    mission.write_text(text, encoding="utf-8")  # in place, as many editors save


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium, Debian's, through Debian's chromedriver (nothing downloaded)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("chromium and chromium-driver are not installed: run scripts/setup.sh --dev")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--window-size=1100,1500",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def page_texts(driver: Any) -> list[str]:
    """The text of each page image on screen (its alt), once the image has loaded.

    Read in one script: the page swaps its images when a render lands, so elements
    found one call earlier may be gone the next.
    """
    texts = driver.execute_script(
        "return [...document.querySelectorAll('#pages img')]"
        ".filter((image) => image.complete && image.naturalWidth > 0)"
        ".map((image) => image.alt)"
    )
    return [spaced(text) for text in texts]


@pytest.mark.slow
def test_preview_follows_edits_in_chromium_and_stops_on_ctrl_c(
    library_copy: Path, browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    mission = library_copy / "missions" / f"{MISSION}.yaml"
    wait = WebDriverWait(browser, WAIT)
    with run_preview(["--library", str(library_copy), "preview", MISSION], tmp_path) as preview:
        browser.get(preview.url)
        wait.until(lambda d: any("213 000 € HT" in t for t in page_texts(d)))
        problems = browser.find_element(By.ID, "problems")
        assert not problems.is_displayed()
        # The page is the rendered card: a PNG of the PDF's page, as wide as A4 at 150 dpi.
        width = browser.execute_script("return document.querySelector('#pages img').naturalWidth")
        assert width == 1241

        set_budget(mission, "budget: 987 654 € HT")
        wait.until(lambda d: any("987 654 € HT" in t for t in page_texts(d)))
        assert not any("213 000" in t for t in page_texts(browser))
        assert not problems.is_displayed()

        # A half-written save: the last good card stays, with the problem above it.
        text = mission.read_text(encoding="utf-8")
        mission.write_text(text[: text.index("tags: [") + 20], encoding="utf-8")  # cut mid-list
        wait.until(lambda d: problems.is_displayed())
        assert f"missions/{MISSION}.yaml:" in problems.text
        assert any("987 654 € HT" in t for t in page_texts(browser))
        assert "last good card" in browser.find_element(By.ID, "status").text

        # An invalid value: shown at its line.
        mission.write_text(text, encoding="utf-8")
        wait.until(lambda d: not problems.is_displayed())
        line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("budget:"))
        set_budget(mission, "budget: beaucoup")
        wait.until(lambda d: problems.is_displayed())
        assert re.search(rf"missions/{MISSION}\.yaml:{line}:\d+: budget", problems.text), (
            problems.text
        )
        assert any("987 654 € HT" in t for t in page_texts(browser))
        browser.save_screenshot(str(tmp_path / "preview-error.png"))

        set_budget(mission, "budget: 123 456 € HT")
        wait.until(lambda d: any("123 456 € HT" in t for t in page_texts(d)))
        wait.until(lambda d: not problems.is_displayed())

        # Ctrl-C while the page holds a request open: exit 130, nothing left behind.
        assert preview.interrupt() == 130
        assert "Traceback" not in preview.stderr.read_text()
        assert_nothing_left(preview)


@pytest.mark.slow
def test_preview_of_a_tender_shows_the_annex_and_follows_the_tender_file(
    library_copy: Path, tmp_path: Path
) -> None:
    tenders = tmp_path / "tenders"
    tenders.mkdir()
    tender = tenders / "example.yaml"
    shutil.copy(SEED_TENDERS / "example.yaml", tender)
    args = ["--library", str(library_copy), "preview", "tenders/example.yaml"]
    with run_preview(args, tmp_path, sigint_ignored=True) as preview:
        state = preview.state_where(lambda s: s["pages"] > 0)
        assert not state["problems"]
        # Cover and summary, then three cards (the tender asks for at most three).
        assert state["pages"] == 5, state
        assert "Val de Canche" in state["texts"][0]

        text = tender.read_text(encoding="utf-8")
        tender.write_text(text.replace("max_references: 3", "max_references: 2"), "utf-8")
        state = preview.state_where(lambda s: s["pages"] == 4 and not s["problems"])

        tender.write_text(text.replace("max_references: 3", "max_references: many"), "utf-8")
        line = 1 + text.splitlines().index("  max_references: 3")
        state = preview.state_where(lambda s: s["problems"])
        assert any(f"tenders/example.yaml:{line}" in p for p in state["problems"]), state
        assert state["pages"] == 4  # the last good annex is still served
        with urllib.request.urlopen(f"{preview.url}card.pdf", timeout=WAIT) as answer:
            assert answer.read().startswith(b"%PDF-")

        assert preview.interrupt() == 130
        assert_nothing_left(preview)


def test_preview_of_an_unknown_mission_says_so_and_serves_nothing(library_copy: Path) -> None:
    result = run_cli(["--library", str(library_copy), "preview", "2021-cc-haute-somme"])
    assert result.returncode == 3
    assert "no mission '2021-cc-haute-somme'" in result.stderr
    assert MISSION in result.stderr  # the closest id
    assert "Traceback" not in result.stderr


def test_preview_of_a_missing_tender_file(library_copy: Path, tmp_path: Path) -> None:
    result = run_cli(["--library", str(library_copy), "preview", "tenders/nope.yaml"], cwd=tmp_path)
    assert result.returncode == 3
    assert "nope.yaml" in result.stderr


def test_preview_on_a_port_in_use_says_so(library_copy: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(["--library", str(library_copy), "preview", MISSION, "--port", str(port)])
    assert result.returncode == 5, result.stderr
    assert f"127.0.0.1:{port}" in result.stderr and "--port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dpi", "5"], "--dpi 5 is out of range"),
        (["--port", "70000"], "--port"),
    ],
)
def test_preview_bad_options(library_copy: Path, args: list[str], message: str) -> None:
    result = run_cli(["--library", str(library_copy), "preview", MISSION, *args])
    assert result.returncode == 2
    assert message in result.stderr


def test_preview_of_a_tender_takes_no_layout_option(library_copy: Path) -> None:
    tender = str(SEED_TENDERS / "example.yaml")
    result = run_cli(["--library", str(library_copy), "preview", tender, "--layout", "base"])
    assert result.returncode == 2
    assert "tender file" in result.stderr
