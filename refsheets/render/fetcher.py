"""The only door through which WeasyPrint may read a file.

A card's HTML is built from data typed by people, and WeasyPrint would otherwise follow
any URL it meets (`file:///etc/…`, `http://…`). The fetcher serves `file:` URLs under a
few allowed folders (the library, `layouts/`, `fonts/`) and refuses everything else:
other paths, `..` and links that leave those folders, and every other scheme. Each
request is recorded, so that a render can be failed when one was refused and tests can
see exactly what was read.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import URLFetcher
from weasyprint.urls import URLFetcherResponse

# A hook that may replace a file's bytes (the photo cache serves downscaled copies).
Transform = Callable[[Path], bytes | None]

_TYPES = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".css": "text/css",
}


def _short(url: str, limit: int = 120) -> str:
    # Keep the end: the file name is what tells the user which file it was.
    return url if len(url) <= limit else "…" + url[-(limit - 1) :]


class FetchRefused(ValueError):
    """A URL outside the allowed folders, or of a scheme other than `file:`."""


@dataclass(frozen=True)
class Request:
    """One URL WeasyPrint asked for, and whether it was served."""

    url: str
    path: Path | None
    served: bool
    reason: str = ""


class SafeFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """Serves files under `roots` only; records every request in `requests`."""

    def __init__(self, roots: Iterable[Path], transform: Transform | None = None) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.roots = tuple(Path(root).resolve() for root in roots)
        self.transform = transform
        self.requests: list[Request] = []

    @property
    def refused(self) -> list[Request]:
        """The requests that were not served."""
        return [r for r in self.requests if not r.served]

    def check(self, url: str) -> Path:
        """The file `url` names, if it may be read; FetchRefused otherwise."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file":
            raise FetchRefused(f"refused {_short(url)}: only local files are read while rendering")
        if parts.netloc not in ("", "localhost"):
            raise FetchRefused(f"refused {_short(url)}: not a local file")
        raw = unquote(parts.path)
        if ".." in Path(raw).parts:
            raise FetchRefused(f"refused {_short(url)}: '..' in the path")
        path = Path(raw)
        resolved = path.resolve()  # follows links: a link out of a root is refused too
        if not any(resolved.is_relative_to(root) for root in self.roots):
            raise FetchRefused(
                f"refused {_short(url)}: outside the library, layouts and fonts folders"
            )
        if not resolved.is_file():
            raise FetchRefused(f"refused {_short(url)}: no such file")
        return resolved

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        """Serve an allowed file, or raise FetchRefused (WeasyPrint logs it as an error)."""
        try:
            path = self.check(url)
        except FetchRefused as exc:
            self.requests.append(Request(url, None, False, str(exc)))
            raise
        body = self.transform(path) if self.transform else None
        served_url = url
        if body is None:
            body = path.read_bytes()
        else:
            # WeasyPrint re-reads the file on disk when the response's URL is a file: URL
            # (its lazy image loading), which would embed the original photo instead of
            # the bytes served here: a URL of another scheme keeps it on these bytes.
            served_url = "x-refsheets:" + url
        self.requests.append(Request(url, path, True))
        content_type = _TYPES.get(path.suffix.lower()) or (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        return URLFetcherResponse(served_url, body, {"Content-Type": content_type})
