"""How the command line reports ordinary mistakes: one line, an exit code, no traceback.

A missing or unreadable file, an invalid catalog, eval records or artifact is the user's
to fix, so ``paretoroute`` prints ``paretoroute: error: <what and where>`` and exits 1
(usage errors stay typer's: exit 2 with the usage line). ``--debug`` anywhere on the
command line (or ``PARETOROUTE_DEBUG=1``) lets the traceback through instead.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable

import typer

FAILURE_EXIT = 1


def _expected() -> tuple[type[BaseException], ...]:
    import yaml

    from predictors.errors import PredictorError
    from router.catalog import CatalogError

    return (
        OSError,
        CatalogError,
        PredictorError,
        yaml.YAMLError,
        json.JSONDecodeError,
        UnicodeDecodeError,
    )


def describe(error: BaseException) -> str:
    """One line naming what went wrong (file errors name the file)."""
    if isinstance(error, FileNotFoundError) and error.filename:
        return f"no such file: {error.filename}"
    if isinstance(error, IsADirectoryError) and error.filename:
        return f"is a directory, expected a file: {error.filename}"
    if isinstance(error, PermissionError) and error.filename:
        return f"permission denied: {error.filename}"
    text = " ".join(str(error).split())
    return text or type(error).__name__


def debug_requested(argv: list[str]) -> bool:
    """True (and ``--debug`` removed from ``argv``) when the user asked for tracebacks."""
    asked = "--debug" in argv
    while "--debug" in argv:
        argv.remove("--debug")
    return asked or os.environ.get("PARETOROUTE_DEBUG", "") not in ("", "0", "false")


def run_cli(app: Callable[[], object]) -> None:
    """Run ``app``; expected failures become one line on stderr and exit code 1."""
    debug = debug_requested(sys.argv)
    try:
        app()
    except _expected() as error:
        if debug:
            raise
        typer.echo(f"paretoroute: error: {describe(error)}", err=True)
        raise SystemExit(FAILURE_EXIT) from None
