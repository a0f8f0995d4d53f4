"""``python -m router.cli``: the same as the ``paretoroute`` command."""

from router.cli import main

main()
