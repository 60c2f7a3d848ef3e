"""A live preview: the real rendered card (or a tender's annex) on a page served locally.

`run_preview(target, port=…)` renders the target once, serves a page on 127.0.0.1 that
shows the rendered pages as images (the PDF rasterised, never an HTML imitation: paged
CSS is what the buyer gets) with a link to the PDF itself, and renders again each time
a file that shapes it is saved. A save that breaks a file keeps the last good pages on
screen, with the problems shown above them at their `file:line:col`.

This module renders nothing itself: it calls `refsheets.render.render` for a card and
`refsheets.export.export_tender` for an annex, and only keeps what they produced in
memory. The server answers a fixed set of paths from those bytes and never reads a file
from disk, so no request can reach a file it was not meant to.
"""

from __future__ import annotations

import contextlib
import html
import http.server
import json
import queue
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from refsheets.card import Lang
from refsheets.errors import Diagnostic, ExitStatus, NotFoundError, RefsheetsError
from refsheets.layouts import fonts_root_for, load_layout, resolve_layouts_root
from refsheets.library import MISSIONS_DIR, load_library

HOST = "127.0.0.1"  # never beyond loopback: the cards may carry unpublished facts
DEFAULT_PORT = 8421
LONG_POLL_SECONDS = 15.0  # a page waits this long for a new render before asking again
QUIET_SECONDS = 0.05  # an editor's save is often several events: render once they stop

Log = Callable[[str], None]


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Rendered:
    """What one render produced: the PDF, its pages as PNG images, and their text."""

    pdf: bytes
    pages: tuple[bytes, ...]
    texts: tuple[str, ...]  # each page's text, read back from the PDF (the images' alt)
    warnings: tuple[str, ...] = ()


class PreviewTarget(Protocol):
    """Something the preview renders: a mission's card or a tender's annex."""

    title: str
    pdf_name: str

    def render(self, dpi: int) -> Rendered:
        """Render it; raise RefsheetsError (with diagnostics) when an input is wrong."""
        ...

    def watched(self) -> list[tuple[Path, bool]]:
        """The folders (and whether recursively) whose changes may shape it."""
        ...

    def concerns(self, path: Path) -> bool:
        """Whether a change of `path` (inside a watched folder) may shape it."""
        ...


def _is_noise(path: Path) -> bool:
    # Editors' swap and backup files, hidden folders (.git, our own .cache): never inputs.
    return any(part.startswith(".") for part in path.parts) or path.name.endswith(
        ("~", ".swp", ".swx", ".tmp")
    )


def _read_back(pdf: bytes, dpi: int) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    from refsheets.render.png import pdf_page_texts, pdf_to_pngs

    return tuple(pdf_to_pngs(pdf, dpi=dpi)), tuple(pdf_page_texts(pdf))


@dataclass
class MissionTarget:
    """One mission's card, as `refsheets render ID` makes it."""

    library_root: Path
    mission_id: str
    layout: str | None = None
    lang: Lang = "fr"
    title: str = field(init=False)
    pdf_name: str = field(init=False)

    def __post_init__(self) -> None:
        self.library_root = Path(self.library_root).resolve()
        self.title = self.mission_id
        self.pdf_name = f"{self.mission_id}.pdf"
        library = load_library(self.library_root)
        if self.mission_id not in library.paths:
            library.get(self.mission_id)  # NotFoundError naming the closest ids
        if self.layout is not None:  # a mistyped --layout: say so now, not on the page
            load_layout(self.layout, resolve_layouts_root(self.library_root))

    def render(self, dpi: int) -> Rendered:
        """The card, rendered by `refsheets.render.render` into a private folder."""
        from refsheets.render import render

        library = load_library(self.library_root)
        problems = [d for d in library.errors if self.concerns(d.path)]
        if problems:
            raise RefsheetsError(f"the card of '{self.mission_id}' cannot be rendered", problems)
        library.get(self.mission_id)  # a file removed meanwhile: NotFoundError says so
        warnings = tuple(
            d.format(self.library_root)
            for d in library.warnings
            if _same_file(d.path, library.paths.get(self.mission_id))
        )
        with tempfile.TemporaryDirectory(prefix="refsheets-preview-") as folder:
            written = render(
                library,
                [self.mission_id],
                formats=("pdf",),
                layout=self.layout,
                lang=self.lang,
                out_dir=Path(folder),
            )
            pdf = written[0].read_bytes()
        pages, texts = _read_back(pdf, dpi)
        return Rendered(pdf, pages, texts, warnings)

    def watched(self) -> list[tuple[Path, bool]]:
        """The library (mission, photos, tags, entities), the layouts and the fonts."""
        layouts = resolve_layouts_root(self.library_root).resolve()
        return _distinct(
            [(self.library_root, True), (layouts, True), (fonts_root_for(layouts), True)]
        )

    def concerns(self, path: Path) -> bool:
        """Any input but another mission's file (their changes do not shape this card)."""
        if _is_noise(path):
            return False
        path = Path(path).resolve()
        if path.parent == self.library_root / MISSIONS_DIR:
            return path.stem == self.mission_id
        return True


@dataclass
class TenderTarget:
    """A tender's PDF annex, as `refsheets export TENDER.yaml` makes it."""

    library_root: Path
    tender_path: Path
    work: Path  # a private folder: the export's output and its card cache
    title: str = field(init=False)
    pdf_name: str = field(init=False)

    def __post_init__(self) -> None:
        self.library_root = Path(self.library_root).resolve()
        self.tender_path = Path(self.tender_path).resolve()
        if not self.tender_path.is_file():
            raise NotFoundError(f"no tender file {self.tender_path}; give the path of a .yaml")
        load_library(self.library_root)  # NotFoundError when it is no library
        self.title = self.tender_path.name
        self.pdf_name = f"{self.tender_path.stem}-annexe-references.pdf"

    def render(self, dpi: int) -> Rendered:
        """The annex, exported by `export_tender` into the private folder (cache kept)."""
        from refsheets.export import ANNEX_PDF, export_tender

        library = load_library(self.library_root)
        # The cache outlives each export: a save re-renders only the cards it changed.
        report = export_tender(
            self.tender_path,
            library,
            out_root=self.work / "out",
            today=date.today(),
            jobs=1,  # no worker processes: the preview runs beside its server threads
            allow_incomplete=True,  # a preview shows what is missing rather than nothing
            cache_root=self.work / "cache",
        )
        # A tender in lots: the first lot's annex (each lot has its own folder).
        annex = report.plan.annexes[0].target / ANNEX_PDF
        if not annex.is_file():
            raise RefsheetsError(
                f"{self.tender_path.name} asks for no PDF (formats:); add pdf to preview it"
            )
        pdf = annex.read_bytes()
        warnings = [d.format(self.library_root) for d in library.errors]
        warnings += report.plan.warnings
        warnings += [
            f"{ref.id} lacks facts the tender requires: {', '.join(ref.missing)}"
            for ref in report.plan.references
            if ref.missing
        ]
        pages, texts = _read_back(pdf, dpi)
        return Rendered(pdf, pages, texts, tuple(warnings))

    def watched(self) -> list[tuple[Path, bool]]:
        """The library, the layouts, the fonts, and the tender file's own folder."""
        layouts = resolve_layouts_root(self.library_root).resolve()
        return _distinct(
            [
                (self.library_root, True),
                (layouts, True),
                (fonts_root_for(layouts), True),
                # Not recursively: the tender may sit at the top of a project, above out/.
                (self.tender_path.parent, False),
            ]
        )

    def concerns(self, path: Path) -> bool:
        """Every mission may enter the selection; in the tender's folder, only the tender."""
        if _is_noise(path):
            return False
        path = Path(path).resolve()
        if path.parent == self.tender_path.parent and not _inside(path, self.library_root):
            return path == self.tender_path
        return True


def _same_file(a: Path, b: Path | None) -> bool:
    return b is not None and Path(a).resolve() == Path(b).resolve()


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _distinct(folders: list[tuple[Path, bool]]) -> list[tuple[Path, bool]]:
    """The folders without those a recursive one already covers."""
    result: list[tuple[Path, bool]] = []
    for folder, recursive in folders:
        if not folder.is_dir():
            continue
        if any(r and _inside(folder, f) for f, r in result):
            continue
        result = [(f, r) for f, r in result if not (recursive and _inside(f, folder))]
        result.append((folder, recursive))
    return result


# --------------------------------------------------------------------------- state


@dataclass(frozen=True)
class Snapshot:
    """What the page shows: the last good render and the problem of the latest, if any."""

    version: int = 0
    rendered: Rendered | None = None
    problems: tuple[str, ...] = ()  # the latest render failed: why, one line per problem
    rendered_at: str = ""  # the time of the last good render (HH:MM:SS)
    seconds: float = 0.0  # how long the last good render took
    card_version: int = 0  # the version that produced `rendered`

    def to_json(self) -> dict[str, Any]:
        """The page's view of it (no bytes: the pages are fetched by their own URLs)."""
        rendered = self.rendered
        return {
            "version": self.version,
            "card_version": self.card_version,
            "pages": len(rendered.pages) if rendered else 0,
            "texts": list(rendered.texts) if rendered else [],
            "warnings": list(rendered.warnings) if rendered else [],
            "problems": list(self.problems),
            "rendered_at": self.rendered_at,
            "seconds": round(self.seconds, 2),
        }


class PreviewState:
    """The current snapshot, shared by the render loop and the request threads."""

    def __init__(self) -> None:
        self._snapshot = Snapshot()
        self._changed = threading.Condition()

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot (immutable: safe to read without the lock)."""
        return self._snapshot

    def publish(self, snapshot: Snapshot) -> None:
        """Make `snapshot` current and wake every waiting page."""
        with self._changed:
            self._snapshot = snapshot
            self._changed.notify_all()

    def wait_after(self, version: int, timeout: float) -> Snapshot:
        """The first snapshot newer than `version`, or the current one after `timeout`."""
        with self._changed:
            self._changed.wait_for(lambda: self._snapshot.version > version, timeout)
            return self._snapshot


def render_once(target: PreviewTarget, state: PreviewState, dpi: int, log: Log) -> Snapshot:
    """Render `target` and publish the result; on failure keep the last good pages."""
    started = time.perf_counter()
    previous = state.snapshot
    try:
        rendered = target.render(dpi)
    except RefsheetsError as exc:
        problems = tuple(_problem_lines(exc))
        snapshot = replace(previous, version=previous.version + 1, problems=problems)
        for line in problems:
            log(line)
    except Exception as exc:  # a bug must not take the page down: show it, keep serving
        problems = (
            f"internal error: {type(exc).__name__}: {exc} (a bug in refsheets: please report "
            "it with the traceback printed in the terminal)",
        )
        snapshot = replace(previous, version=previous.version + 1, problems=problems)
        log(traceback.format_exc().rstrip())
    else:
        seconds = time.perf_counter() - started
        version = previous.version + 1
        snapshot = Snapshot(version, rendered, (), time.strftime("%H:%M:%S"), seconds, version)
        log(f"rendered {target.title} in {seconds:.2f} s ({len(rendered.pages)} page(s))")
    state.publish(snapshot)
    return snapshot


def _problem_lines(exc: RefsheetsError) -> Iterator[str]:
    for diagnostic in exc.diagnostics:
        yield _format(diagnostic)
    yield f"error: {exc.message}"


def _format(diagnostic: Diagnostic) -> str:
    return diagnostic.format(Path.cwd())


# --------------------------------------------------------------------------- server

_PAGE_PATH = re.compile(r"^/page/([1-9][0-9]{0,4})\.png$")


def _page_html(title: str, pdf_name: str, nonce: str) -> str:
    return (
        _PAGE.replace("{title}", html.escape(title))
        .replace("{pdf_name}", html.escape(pdf_name))
        .replace("{nonce}", nonce)
    )


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # a waiting page never keeps the process alive on Ctrl-C
    allow_reuse_address = True
    state: PreviewState
    target: PreviewTarget


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    server_version = "refsheets-preview"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the terminal shows renders and problems only."""

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        # A page of another site may send requests to this port through a name that
        # resolves to 127.0.0.1 (DNS rebinding): answer only requests addressed to us.
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host not in (HOST, "localhost"):
            self._send(403, "text/plain; charset=utf-8", b"forbidden\n", body=body)
            return
        url = urlsplit(self.path)
        snapshot = self.server.state.snapshot
        if url.path == "/":
            nonce = secrets.token_urlsafe(16)
            page = _page_html(self.server.target.title, self.server.target.pdf_name, nonce)
            self._send(200, "text/html; charset=utf-8", page.encode(), body=body, nonce=nonce)
        elif url.path == "/state":
            query = parse_qs(url.query)
            try:
                after = int(query.get("after", ["-1"])[0])
            except ValueError:
                after = -1
            if after >= snapshot.version:
                snapshot = self.server.state.wait_after(after, LONG_POLL_SECONDS)
            payload = json.dumps(snapshot.to_json(), ensure_ascii=False).encode()
            self._send(200, "application/json", payload, body=body)
        elif url.path == "/card.pdf" and snapshot.rendered:
            self._send(200, "application/pdf", snapshot.rendered.pdf, body=body)
        elif (match := _PAGE_PATH.match(url.path)) and snapshot.rendered:
            index = int(match.group(1)) - 1
            pages = snapshot.rendered.pages
            if index < len(pages):
                self._send(200, "image/png", pages[index], body=body)
            else:
                self._send(404, "text/plain; charset=utf-8", b"no such page\n", body=body)
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found\n", body=body)

    def _send(
        self, status: int, kind: str, payload: bytes, *, body: bool, nonce: str | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        # Nothing from the network, and only our own inline script and style.
        script = f"'nonce-{nonce}'" if nonce else "'none'"
        self.send_header(
            "Content-Security-Policy",
            f"default-src 'none'; img-src 'self'; connect-src 'self'; frame-src 'self'; "
            f"script-src {script}; style-src {script}; base-uri 'none'; form-action 'none'",
        )
        self.end_headers()
        if body:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)


class PortBusyError(RefsheetsError):
    """The port asked for is taken."""

    exit_status = ExitStatus.BUSY


def open_server(port: int, state: PreviewState, target: PreviewTarget) -> _Server:
    """A server bound to 127.0.0.1:`port` (0: a free port); PortBusyError when taken."""
    try:
        server = _Server((HOST, port), _Handler)
    except OSError as exc:
        if exc.errno in (98, 48, 10048) or isinstance(exc, PermissionError):  # in use
            raise PortBusyError(
                f"cannot listen on {HOST}:{port} ({exc.strerror}); another preview may be "
                "running: stop it, or pass --port N (--port 0 picks a free port)"
            ) from None
        raise
    server.state = state
    server.target = target
    return server


# --------------------------------------------------------------------------- watching


class _Changes(FileSystemEventHandler):
    """Saved files reported by watchdog (in its thread), taken by the render loop."""

    def __init__(self, target: PreviewTarget) -> None:
        super().__init__()
        self.target = target
        self.queue: queue.Queue[Path] = queue.Queue()

    def dispatch(self, event: FileSystemEvent) -> None:
        """watchdog's entry point: keep the paths of events that may shape the target."""
        if event.event_type in ("opened", "closed_no_write"):
            return  # reads (ours included) change nothing
        if event.is_directory and event.event_type == "modified":
            return  # a folder "changes" with each file saved in it: the file's event counts
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if raw:
                path = Path(raw if isinstance(raw, str) else raw.decode())
                if self.target.concerns(path):
                    self.queue.put(path)

    def wait(self, timeout: float) -> list[Path]:
        """The changes after the next one arrives (within `timeout`), once they pause."""
        try:
            changed = [self.queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:  # an editor's save is several events: take them all
            try:
                changed.append(self.queue.get(timeout=QUIET_SECONDS))
            except queue.Empty:
                return changed


@contextlib.contextmanager
def _watching(target: PreviewTarget) -> Iterator[_Changes]:
    changes = _Changes(target)
    observer = Observer()
    for folder, recursive in target.watched():
        observer.schedule(changes, str(folder), recursive=recursive)
    observer.daemon = True
    observer.start()
    try:
        yield changes
    finally:
        observer.stop()
        observer.join(timeout=5)


def run_preview(
    target: PreviewTarget,
    *,
    port: int = DEFAULT_PORT,
    dpi: int | None = None,
    on_ready: Callable[[str], None] | None = None,
    log: Log = print,
) -> None:
    """Serve the preview of `target` until interrupted (KeyboardInterrupt propagates).

    Binds 127.0.0.1:`port` first (PortBusyError when taken), renders once, calls
    `on_ready(url)`, then renders again after every save of an input.
    """
    from refsheets.render.png import DEFAULT_DPI, check_dpi

    dpi = check_dpi(DEFAULT_DPI if dpi is None else dpi)
    state = PreviewState()
    server = open_server(port, state, target)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.daemon = True
    try:
        with _watching(target) as changes:
            thread.start()
            url = f"http://{HOST}:{server.server_address[1]}/"
            if on_ready:
                on_ready(url)
            render_once(target, state, dpi, log)
            while True:
                # A short timeout keeps the main thread responsive to Ctrl-C.
                if changes.wait(0.5):
                    render_once(target, state, dpi, log)
    finally:
        if thread.is_alive():
            server.shutdown()
        server.server_close()


def free_port() -> int:
    """A port free on 127.0.0.1 right now (for tests and `--port 0` users' scripts)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def private_folder() -> Iterator[Path]:
    """A temporary folder removed afterwards, even on Ctrl-C."""
    folder = Path(tempfile.mkdtemp(prefix="refsheets-preview-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · refsheets preview</title>
<style nonce="{nonce}">
  body { margin: 0; background: #e8eaed; color: #1d232a;
         font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
  header { position: sticky; top: 0; z-index: 1; display: flex; gap: 1em;
           align-items: baseline; padding: 0.6em 1em; background: #fff;
           border-bottom: 1px solid #d5dadf; }
  header h1 { font-size: 1em; margin: 0; }
  #status { color: #5f6b76; }
  #status.stale { color: #b3261e; }
  header a { margin-left: auto; }
  #problems { margin: 1em auto; max-width: 60em; padding: 0.8em 1em; background: #fdecea;
              border: 1px solid #b3261e; color: #5c1410; white-space: pre-wrap;
              font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
  #warnings { margin: 1em auto; max-width: 60em; padding: 0.5em 1em 0.5em 2em;
              background: #fff8e1; border: 1px solid #c9912f; }
  #pages { display: flex; flex-direction: column; align-items: center; gap: 1.5em;
           padding: 1.5em 1em 3em; }
  #pages img { width: min(100%, 210mm); height: auto; background: #fff;
               box-shadow: 0 1px 4px rgba(0, 0, 0, 0.25); }
  #pages.stale img { opacity: 0.55; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header>
  <h1>{title}</h1>
  <span id="status" role="status">rendering…</span>
  <a id="pdf" href="/card.pdf" download="{pdf_name}" hidden>PDF</a>
</header>
<pre id="problems" role="alert" hidden></pre>
<ul id="warnings" hidden></ul>
<main id="pages"></main>
<script nonce="{nonce}">
"use strict";
// Ask the server for the next render (it answers when one is done, or after a while),
// swap the page images in once they have loaded, and show the problems of the latest
// render above the last good pages.
const pages = document.getElementById("pages");
const status = document.getElementById("status");
const problems = document.getElementById("problems");
const warnings = document.getElementById("warnings");
let shownVersion = -1;
let cardVersion = 0;

function show(state) {
  problems.hidden = state.problems.length === 0;
  problems.textContent = state.problems.join("\\n");
  warnings.hidden = state.warnings.length === 0;
  warnings.replaceChildren(...state.warnings.map((text) => {
    const item = document.createElement("li");
    item.textContent = text;
    return item;
  }));
  pages.classList.toggle("stale", state.problems.length > 0);
  status.classList.toggle("stale", state.problems.length > 0);
  if (state.pages === 0) {
    status.textContent = state.problems.length ? "no card yet: fix the problem" : "rendering…";
    return;
  }
  document.getElementById("pdf").hidden = false;
  status.textContent = (state.problems.length ? "last good card: " : "rendered ")
    + state.rendered_at + " in " + state.seconds + " s";
  if (state.card_version === cardVersion) return;  // the same card: nothing to reload
  cardVersion = state.card_version;
  const version = state.card_version;
  const images = state.texts.map((text, index) => {
    const image = new Image();
    image.alt = text;
    image.src = "/page/" + (index + 1) + ".png?v=" + version;
    return image;
  });
  Promise.all(images.map((image) => image.decode().catch(() => null))).then(() => {
    if (version !== cardVersion) return;  // a newer render came meanwhile
    pages.replaceChildren(...images);
    pages.dataset.version = String(version);
  });
}

async function follow() {
  for (;;) {
    try {
      const answer = await fetch("/state?after=" + shownVersion, {cache: "no-store"});
      const state = await answer.json();
      if (state.version !== shownVersion) {
        shownVersion = state.version;
        show(state);
      }
    } catch (error) {
      status.textContent = "preview stopped (run refsheets preview again)";
      status.classList.add("stale");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
follow();
</script>
</body>
</html>
"""
