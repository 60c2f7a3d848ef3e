"""Diagnostics and user errors, shared by every stage.

A user error (bad data, a missing file, a card that cannot fit) is a `RefsheetsError`
carrying sentences; anything else is a bug. The CLI maps the first kind to an exit code
and shows tracebacks only for the second, and only with `--debug`.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]

MAX_MESSAGE = 600
"""The longest message a diagnostic or a user error keeps (values are quoted cut)."""


class ExitStatus(enum.IntEnum):
    """Exit codes of the `refsheets` command (documented in the README)."""

    OK = 0
    INVALID_DATA = 1  # `check` found errors (or warnings with --strict)
    USAGE = 2  # bad arguments (Typer's own code for usage errors)
    NOT_FOUND = 3  # an id, a file or a layout that does not exist
    RENDER_FAILED = 4  # a card or file could not be produced (does not fit, bad image,
    #                    a folder that cannot be written)
    BUSY = 5  # another export to the same folder is running
    INTERRUPTED = 130
    BUG = 70  # an unexpected error: please report it with --debug output


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in one file, pointing at the place to fix."""

    path: Path
    message: str
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based
    field: str | None = None  # dotted location in the document, e.g. budget.amount
    severity: Severity = "error"
    # What kind of warning it is ('no-period', 'leak', 'unknown-tag', …) and its one
    # variable part (the tag, the name that leaks): reports in French say it in French.
    code: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        # The last guard against a value quoted whole: one message is one line or two.
        if len(self.message) > MAX_MESSAGE:
            object.__setattr__(self, "message", self.message[: MAX_MESSAGE - 1] + "…")

    def format(self, root: Path | None = None) -> str:
        """`path:line:col: field: message`, with the path relative to `root` when inside it."""
        path = self.path
        if root is not None:
            with contextlib.suppress(ValueError):
                path = self.path.resolve().relative_to(root.resolve())
        where = str(path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        label = f"{self.field}: " if self.field else ""
        kind = "" if self.severity == "error" else "warning: "
        return printable(f"{where}: {kind}{label}{self.message}", newlines=False)


class RefsheetsError(Exception):
    """A user error: the message says what is wrong and what to do."""

    exit_status = ExitStatus.INVALID_DATA

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        super().__init__(message)
        self.message = message
        self.diagnostics = diagnostics or []


class NotFoundError(RefsheetsError):
    """An id, file or layout that does not exist."""

    exit_status = ExitStatus.NOT_FOUND


class UsageError(RefsheetsError):
    """A command asked for something it cannot do as asked (no ids, contradictory options)."""

    exit_status = ExitStatus.USAGE


class RenderError(RefsheetsError):
    """A card could not be produced."""

    exit_status = ExitStatus.RENDER_FAILED


# What a terminal must never receive raw from data: C0 and C1 controls (escape sequences,
# hyperlinks, cursor moves), DEL, and the bidirectional controls that reorder what is
# shown (U+202E makes "gpj.exe" read "exe.jpg"). Tabs and newlines stay.
UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u2028\u2029\ufffe\uffff]"
)


def printable(text: str, *, newlines: bool = True) -> str:
    """`text` safe to show on a terminal: each control character as a visible `\\uXXXX`
    (newlines too, unless `newlines` says they may stay)."""
    text = UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text if newlines else text.replace("\n", "\\u000a")


def shorten(text: str, limit: int = 60) -> str:
    """Cut a value for a message (YAML anchors can make a value enormous), with its
    control characters made visible."""
    text = printable(text.replace("\n", "⏎"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def did_you_mean(word: str, choices: Iterable[str], *, listing: str = "known") -> str:
    """ "did you mean 'x'?" for the closest choice, else the list of choices."""
    import difflib

    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1)
    return f"did you mean '{close[0]}'?" if close else f"{listing}: " + ", ".join(options)
