"""The ``paretoroute`` console script: the CLI, or one line on how to install it.

A plain ``pip install paretoroute`` (the SDK) installs the script too, without the
server's dependencies; it then says which extra to install instead of a traceback.
"""

from __future__ import annotations

import sys

SERVER_EXTRA = "pip install 'paretoroute[server]'"
_OWN_PACKAGES = frozenset({"router", "predictors", "policies", "paretoroute"})


def main() -> None:
    """Run the command line (``router.cli``)."""
    try:
        from router.cli import main as cli_main
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] in _OWN_PACKAGES:
            raise  # a broken checkout, not a missing extra
        missing = error.name
        sys.exit(
            f"paretoroute: the command line needs the server ({missing} is missing): {SERVER_EXTRA}"
        )
    cli_main()
