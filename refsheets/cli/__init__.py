"""The `refsheets` command: parses arguments, calls the library, maps errors to exit codes.

One module per group of commands, each only parsing arguments and calling the library;
importing them registers their commands on the one Typer `app` of `_app`.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

from refsheets.cli._app import app, err, print_diagnostics, state
from refsheets.errors import ExitStatus, RefsheetsError

__all__ = ["app", "main"]

# The command modules, in the order `--help` lists their commands; importing one registers
# its commands on `app`.
COMMAND_MODULES = ("library", "render", "pick", "tender", "notice", "export", "importer", "preview")
for _module in COMMAND_MODULES:
    importlib.import_module(f"{__name__}.{_module}")


def main() -> None:
    """Entry point: run the app, turning user errors into messages and exit codes."""
    try:
        app()
    except RefsheetsError as exc:
        print_diagnostics(exc.diagnostics)
        err.print(f"error: {exc.message}", style="red", markup=False)
        sys.exit(int(exc.exit_status))
    except KeyboardInterrupt:
        err.print("interrupted", style="red")
        sys.exit(int(ExitStatus.INTERRUPTED))
    except Exception as exc:  # a bug: say so, traceback only with --debug
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
