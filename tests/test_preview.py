"""The preview's parts in process: what it renders, what it watches, what it serves.

The browser's view of the whole command is in tests/test_cli_preview.py.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from refsheets.errors import NotFoundError
from refsheets.layouts import LAYOUTS_ROOT
from refsheets.preview import (
    MissionTarget,
    PreviewState,
    Rendered,
    Snapshot,
    TenderTarget,
    _distinct,
    _watching,
    open_server,
    render_once,
)
from tests.conftest import SEED_TENDERS

MISSION = "2021-cc-haute-somme-tiers-lieu-peronne"  # entity pop-cafe


def amount_line(text: str) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", text)


# --------------------------------------------------------------------------- rendering


def test_a_bad_save_keeps_the_last_good_card_with_the_problem_at_its_line(
    library_copy: Path,
) -> None:
    target = MissionTarget(library_copy, MISSION)
    state = PreviewState()
    lines: list[str] = []
    good = render_once(target, state, 72, lines.append)
    assert good.rendered is not None and not good.problems
    assert len(good.rendered.pages) == 1 and good.rendered.pdf.startswith(b"%PDF-")
    assert "213 000 € HT" in amount_line(good.rendered.texts[0])

    path = library_copy / "missions" / f"{MISSION}.yaml"
    text = path.read_text(encoding="utf-8")
    line = 1 + text.splitlines().index("budget: 213 000 € HT")
    path.write_text(text.replace("budget: 213 000 € HT", "budget: beaucoup"), encoding="utf-8")
    bad = render_once(target, state, 72, lines.append)
    assert bad.version == good.version + 1
    assert bad.rendered is good.rendered  # the last good card stays on screen
    assert bad.card_version == good.version
    assert re.match(rf".*missions/{MISSION}\.yaml:{line}:\d+: budget: ", bad.problems[0])
    assert bad.problems[-1].startswith("error: ")
    assert lines[-1] == bad.problems[-1]  # and the terminal says it too

    path.write_text(text.replace("213 000", "214 000"), encoding="utf-8")
    fixed = render_once(target, state, 72, lines.append)
    assert fixed.rendered is not None and not fixed.problems
    assert fixed.card_version == fixed.version
    assert "214 000 € HT" in amount_line(fixed.rendered.texts[0])


def test_a_problem_in_another_mission_does_not_stop_the_card(library_copy: Path) -> None:
    (library_copy / "missions" / "broken.yaml").write_text("title: [unclosed\n")
    snapshot = render_once(MissionTarget(library_copy, MISSION), PreviewState(), 72, print)
    assert snapshot.rendered is not None and not snapshot.problems


def test_a_missing_photo_is_a_problem_of_the_card(library_copy: Path) -> None:
    path = library_copy / "missions" / f"{MISSION}.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "photos:\n  - path: photos/nope.jpg\n", "utf-8"
    )
    snapshot = render_once(MissionTarget(library_copy, MISSION), PreviewState(), 72, print)
    assert snapshot.rendered is None
    assert any("nope.jpg" in line for line in snapshot.problems), snapshot.problems


def test_an_edited_layout_is_rendered_anew(tmp_path: Path, library_copy: Path) -> None:
    """The layout chain shapes the card: a colour changed in brand.yaml shows at once,
    although the process keeps its renderers between renders."""
    shutil.copytree(LAYOUTS_ROOT, tmp_path / "layouts")  # beside the library: it is used
    target = MissionTarget(library_copy, MISSION)
    state = PreviewState()
    before = render_once(target, state, 50, print)
    brand = tmp_path / "layouts" / "pop-cafe" / "brand.yaml"
    brand.write_text(brand.read_text().replace('primary: "#7a4a2e"', 'primary: "#00ff00"'))
    after = render_once(target, state, 50, print)
    assert before.rendered is not None and after.rendered is not None

    def greens(png: bytes) -> int:
        colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 24) or []
        return sum(count for count, colour in colours if colour == (0, 255, 0))

    assert greens(before.rendered.pages[0]) == 0
    assert greens(after.rendered.pages[0]) > 50  # the title bar at least


def test_an_unknown_mission_is_refused_before_serving(library_copy: Path) -> None:
    with pytest.raises(NotFoundError, match=MISSION):
        MissionTarget(library_copy, "2021-cc-haute-somme-tiers-lieu")


def test_an_unknown_layout_is_refused_before_serving(library_copy: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no layout 'pop-upp'.*did you mean 'pop-up'"):
        MissionTarget(library_copy, MISSION, layout="pop-upp")


def test_a_tender_file_that_does_not_exist(library_copy: Path, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no tender file"):
        TenderTarget(library_copy, tmp_path / "nope.yaml", tmp_path)


# --------------------------------------------------------------------------- watching


def test_what_shapes_a_card(library_copy: Path) -> None:
    target = MissionTarget(library_copy, MISSION)
    missions = library_copy / "missions"
    assert target.concerns(missions / f"{MISSION}.yaml")
    assert not target.concerns(missions / "vilogia-lieu-innovation-habitat.yaml")
    assert target.concerns(library_copy / "photos" / "atelier.jpg")
    assert target.concerns(library_copy / "tags.yaml")
    assert target.concerns(library_copy / "entities.yaml")
    assert target.concerns(LAYOUTS_ROOT / "base" / "card.css")
    assert not target.concerns(missions / f".{MISSION}.yaml.swp")
    assert not target.concerns(missions / f"{MISSION}.yaml~")
    watched = dict(target.watched())
    assert watched[library_copy.resolve()] is True
    assert watched[LAYOUTS_ROOT.resolve()] is True


def test_what_shapes_an_annex(library_copy: Path, tmp_path: Path) -> None:
    tender = tmp_path / "example.yaml"
    shutil.copy(SEED_TENDERS / "example.yaml", tender)
    target = TenderTarget(library_copy, tender, tmp_path / "work")
    assert target.concerns(tender)
    assert target.concerns(library_copy / "missions" / "vilogia-lieu-innovation-habitat.yaml")
    assert not target.concerns(tmp_path / "other.yaml")  # beside the tender, not it
    assert not target.concerns(tmp_path / ".cache" / "x.pdf")
    # The tender's folder is watched alone: it may be a project's top, above out/ and .venv/.
    assert dict(target.watched())[tmp_path.resolve()] is False


def test_folders_inside_a_watched_one_are_not_watched_twice(tmp_path: Path) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    assert _distinct([(inner, True), (tmp_path / "a", True)]) == [(tmp_path / "a", True)]
    assert _distinct([(tmp_path, False), (inner, True)]) == [(tmp_path, False), (inner, True)]
    assert _distinct([(tmp_path / "missing", True)]) == []


def test_the_watcher_reports_a_save_of_the_mission_only(library_copy: Path) -> None:
    target = MissionTarget(library_copy, MISSION)
    with _watching(target) as changes:
        other = library_copy / "missions" / "vilogia-lieu-innovation-habitat.yaml"
        other.write_text(other.read_text() + "\n")
        mission = library_copy / "missions" / f"{MISSION}.yaml"
        mission.write_text(mission.read_text() + "\n")
        seen = changes.wait(10)
    assert seen and {p.name for p in seen} == {mission.name}


# --------------------------------------------------------------------------- serving


@dataclass
class _Shown:
    """A target for the server alone: the server only reads `title` and `pdf_name`."""

    title: str = "<b>card</b>"
    pdf_name: str = "card.pdf"


@pytest.fixture
def server() -> Iterator[tuple[int, PreviewState]]:
    state = PreviewState()
    served = open_server(0, state, _Shown())  # type: ignore[arg-type]
    thread = threading.Thread(target=served.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield served.server_address[1], state
    finally:
        served.shutdown()
        served.server_close()
        thread.join()


def get(
    port: int, path: str, host: str | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host or f"127.0.0.1:{port}"}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), body


RENDERED = Rendered(b"%PDF-1.7 card", (b"page one", b"page two"), ("one", "two"))


def test_the_page_loads_nothing_from_elsewhere(server: tuple[int, PreviewState]) -> None:
    port, _ = server
    status, headers, body = get(port, "/")
    assert status == 200
    page = body.decode()
    assert "&lt;b&gt;card&lt;/b&gt;" in page and "<b>card</b>" not in page  # a title is text
    for url in re.findall(r"""(?:src|href|action)\s*=\s*["']([^"']*)""", page):
        assert url.startswith("/") and not url.startswith("//"), url
    assert "http://" not in page and "https://" not in page
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and f'<script nonce="{nonce.group(1)}">' in page


def test_only_what_was_rendered_is_served(server: tuple[int, PreviewState]) -> None:
    port, state = server
    assert get(port, "/page/1.png")[0] == 404  # nothing rendered yet
    state.publish(Snapshot(1, RENDERED, card_version=1))
    assert get(port, "/page/1.png")[2] == b"page one"
    assert get(port, "/page/2.png?v=1")[2] == b"page two"
    status, headers, body = get(port, "/card.pdf")
    assert (status, headers["Content-Type"], body) == (200, "application/pdf", b"%PDF-1.7 card")
    for path in (
        "/page/3.png",
        "/page/0.png",
        "/page/../../../etc/passwd",
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/page/1.png/../../pyproject.toml",
        "/pyproject.toml",
        "/data/missions/" + MISSION + ".yaml",
    ):
        assert get(port, path)[0] == 404, path
    assert get(port, "/", method="POST")[0] == 501


def test_requests_through_another_host_name_are_refused(server: tuple[int, PreviewState]) -> None:
    """A web page may point a name of its own at 127.0.0.1 (DNS rebinding)."""
    port, state = server
    state.publish(Snapshot(1, RENDERED, card_version=1))
    assert get(port, "/card.pdf", host=f"attacker.example:{port}")[0] == 403
    assert get(port, "/card.pdf", host=f"localhost:{port}")[0] == 200


def test_the_state_waits_for_the_next_render(server: tuple[int, PreviewState]) -> None:
    port, state = server
    state.publish(Snapshot(1, RENDERED, card_version=1))
    assert json.loads(get(port, "/state?after=-1")[2])["version"] == 1
    later = Snapshot(2, RENDERED, ("data/missions/x.yaml:3:1: budget: bad",), card_version=1)
    timer = threading.Timer(0.2, state.publish, [later])
    timer.start()
    answer = json.loads(get(port, "/state?after=1")[2])  # returns once version 2 exists
    timer.join()
    assert answer["version"] == 2 and answer["card_version"] == 1
    assert answer["problems"] == ["data/missions/x.yaml:3:1: budget: bad"]
    assert answer["pages"] == 2 and answer["texts"] == ["one", "two"]
