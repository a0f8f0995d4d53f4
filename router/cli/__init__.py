"""The ``paretoroute`` command line. Heavy imports happen inside each command."""

from __future__ import annotations

import typer

from router.cli.calibrate import calibrate
from router.cli.keys import keys_app
from router.cli.log import log_app
from router.cli.predict import data_app, eval_command, train_command
from router.cli.route import route
from router.cli.serve import models, serve

app = typer.Typer(
    name="paretoroute",
    pretty_exceptions_enable=False,
    help="Cost-aware LLM router with an OpenAI-compatible API.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(serve)
app.command()(models)
app.command()(route)
app.command("train")(train_command)
app.command("eval")(eval_command)
app.command()(calibrate)
app.add_typer(data_app, name="data")
app.add_typer(log_app, name="log")
app.add_typer(keys_app, name="keys")


def main() -> None:
    """Console-script entry point (the process start: environment set here, once)."""
    from router.cli.failures import run_cli
    from router.process import prepare_environment

    prepare_environment(compute_threads=1)
    run_cli(app)
