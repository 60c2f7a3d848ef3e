"""refsheets.export.publish: the staging folder of an export, under interruption."""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest

from refsheets.export.publish import publish, staging_folder


@pytest.fixture
def term_raises() -> Iterator[None]:
    """SIGTERM handled as the CLI handles it (a KeyboardInterrupt), not by dying."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_right_after_the_folder_is_made_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, term_raises: None, signum: int
) -> None:
    # The window seen once under load: the signal lands inside mkdtemp, once the folder
    # exists but before its name is known to anyone who would remove it.
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp_then_signal(**kwargs: str) -> str:
        made = real_mkdtemp(**kwargs)
        os.kill(os.getpid(), signum)
        for _ in range(1000):  # give Python its chance to run the handler here
            pass
        return made

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp_then_signal)
    target = tmp_path / "out" / "t"
    with pytest.raises(KeyboardInterrupt), staging_folder(target):
        pytest.fail("the interrupted export went on")
    assert list((tmp_path / "out").iterdir()) == []
    # The handlers are given back: Ctrl-C still interrupts.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_staging_folder_is_removed_unless_published(tmp_path: Path) -> None:
    target = tmp_path / "out" / "t"
    with staging_folder(target) as staging:
        (staging / "card.pdf").write_bytes(b"%PDF")
        assert staging.parent == target.parent and staging.name.startswith(".t.")
    assert not staging.exists() and not target.exists()
    with staging_folder(target) as staging:
        (staging / "card.pdf").write_bytes(b"%PDF")
        publish(staging, target)
    assert (target / "card.pdf").read_bytes() == b"%PDF"
    assert [p.name for p in target.parent.iterdir()] == ["t"]
