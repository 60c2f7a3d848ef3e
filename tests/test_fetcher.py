"""The URL fetcher: serves files under its roots, refuses everything else."""

from __future__ import annotations

from pathlib import Path

import pytest
import weasyprint

from refsheets.render.fetcher import FetchRefused, SafeFetcher


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "photo.png").write_bytes(b"\x89PNG fake")
    (folder / "é t.svg").write_text("<svg/>")
    return folder


def test_serves_a_file_under_its_roots_and_records_it(root: Path) -> None:
    fetcher = SafeFetcher([root])
    response = fetcher.fetch((root / "photo.png").as_uri())
    assert response.read() == b"\x89PNG fake"
    assert response.content_type == "image/png"
    assert fetcher.requests[0].served and fetcher.requests[0].path == root / "photo.png"
    # Percent-encoded names (spaces, accents) are decoded.
    assert fetcher.fetch((root / "é t.svg").as_uri()).read() == b"<svg/>"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/hostname",
        "file:///etc/passwd",
        "http://example.com/logo.svg",
        "https://example.com/font.ttf",
        "ftp://example.com/x",
        "data:text/plain,hello",
        "file://otherhost/etc/hostname",
    ],
)
def test_refuses_other_files_and_schemes(root: Path, url: str) -> None:
    fetcher = SafeFetcher([root])
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)
    assert fetcher.refused and fetcher.refused[0].url == url


def test_refuses_dot_dot_and_links_out_of_the_roots(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    fetcher = SafeFetcher([root])
    with pytest.raises(FetchRefused, match=r"'\.\.'"):
        fetcher.fetch(f"file://{root}/../secret.txt")
    (root / "link.png").symlink_to(secret)
    with pytest.raises(FetchRefused, match="outside"):
        fetcher.fetch((root / "link.png").as_uri())
    with pytest.raises(FetchRefused, match="no such file"):
        fetcher.fetch((root / "missing.png").as_uri())
    assert not any(r.served for r in fetcher.requests)


def test_weasyprint_asks_it_and_gets_nothing_outside(root: Path) -> None:
    fetcher = SafeFetcher([root])
    html = '<p>x</p><img src="file:///etc/hostname"><img src="http://example.com/a.png">'
    weasyprint.HTML(string=html, url_fetcher=fetcher).render()
    assert {r.url for r in fetcher.requests} == {
        "file:///etc/hostname",
        "http://example.com/a.png",
    }
    assert fetcher.refused == fetcher.requests


def test_a_transform_replaces_the_bytes_served(root: Path) -> None:
    fetcher = SafeFetcher(
        [root], transform=lambda path: b"small" if path.suffix == ".png" else None
    )
    response = fetcher.fetch((root / "photo.png").as_uri())
    assert response.read() == b"small"
    # Not a file: URL, or WeasyPrint would read the original file from disk again.
    assert response.path is None
    assert fetcher.fetch((root / "é t.svg").as_uri()).read() == b"<svg/>"
