"""The `refsheets` command: parses arguments, calls the library, maps errors to exit codes.

One module per group of commands, each only parsing arguments and calling the library;
importing them registers their commands on the one Typer `app` of `_app`.
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
import traceback
from typing import NoReturn

from refsheets.cli._app import app, err, print_diagnostics, state
from refsheets.errors import ExitStatus, RefsheetsError
from refsheets.output import WRITE_ERRNOS, cannot_write

__all__ = ["app", "main"]

# The command modules, in the order `--help` lists their commands; importing one registers
# its commands on `app`.
COMMAND_MODULES = (
    "init",
    "new",
    "library",
    "render",
    "pick",
    "tender",
    "notice",
    "export",
    "importer",
    "review",
    "preview",
)
for _module in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_module}")


def main() -> None:
    """Entry point: run the app, turning user errors into messages and exit codes."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
    except RefsheetsError as exc:
        print_diagnostics(exc.diagnostics)
        err.print(f"error: {exc.message}", style="red", markup=False)
        sys.exit(int(exc.exit_status))
    except KeyboardInterrupt:
        err.print("interrupted", style="red")
        sys.exit(int(ExitStatus.INTERRUPTED))
    except SystemExit as exc:
        # Typer turns Ctrl-C (and `kill`, see _terminated) inside a command into a silent
        # exit 130: say it, so that a log shows why the command stopped.
        if exc.code == ExitStatus.INTERRUPTED:
            err.print("interrupted", style="red")
        raise
    except OSError as exc:
        if exc.errno not in WRITE_ERRNOS:
            _bug(exc)
        # A disk or folder the system refuses, met where no writer said it more precisely.
        where = exc.filename if isinstance(exc.filename, str) else "a file"
        err.print(f"error: {cannot_write(where, exc).message}", style="red", markup=False)
        sys.exit(int(ExitStatus.RENDER_FAILED))
    except Exception as exc:  # a bug: say so, traceback only with --debug
        _bug(exc)
    finally:
        # Everything the command made lives until the process ends: the interpreter's
        # last collections need not walk it (about 0.15 s of a cached `check`, more after
        # a large library's table). Exit handlers and the closing of files still run;
        # outputs never wait for exit, they are written and closed by their writers.
        gc.freeze()


def _terminated(signum: int, frame: object) -> None:
    # `kill` (SIGTERM) ends a command like Ctrl-C: its cleanup runs (no staging folder is
    # left, the rendering workers are stopped), and it exits 130.
    raise KeyboardInterrupt


def _bug(exc: BaseException) -> NoReturn:
    if state.debug or os.environ.get("REFSHEETS_DEBUG"):
        traceback.print_exc()
    else:
        err.print(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in refsheets; run again with --debug and report the output.",
            style="red",
            markup=False,
        )
    sys.exit(int(ExitStatus.BUG))
