"""``paretoroute route``: one prompt's decision (with an optional front plot), or a batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from router.cli.predict import route_command as batch_route


def _single(
    prompt: str,
    catalog: Path | None,
    artifact: Path | None,
    profile: str | None,
    weights: dict[str, Any],
) -> Any:
    from predictors.artifact import load_scorer
    from predictors.tokens import count_tokens
    from router.catalog import load_catalog
    from router.preferences import build_preferences, resolve_model_field
    from router.routing import ModelRouter
    from router.schemas import RouterPreferences

    loaded = load_catalog(catalog)
    router = ModelRouter(loaded, load_scorer(artifact))
    choice = resolve_model_field(f"auto:{profile}" if profile else "auto", loaded)
    overrides = RouterPreferences(**{k: v for k, v in weights.items() if v is not None})
    profile_name, prefs = build_preferences(choice, loaded, None, overrides)
    return router.route(
        prompt, count_tokens(prompt), prefs, profile=profile_name, max_output_tokens=None
    )


def _print(outcome: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"profile {outcome.profile}: {outcome.decision.model}")
    table.add_column("model", no_wrap=True)
    for column in ("quality", "cost $", "runtime s", "utility", "front", "feasible"):
        table.add_column(column)
    decision, candidates = outcome.decision, outcome.table
    for i, name in enumerate(candidates.models):
        table.add_row(
            f"[bold]* {name}[/bold]" if i == decision.index else name,
            f"{candidates.quality[i]:.3f}",
            f"{candidates.cost_usd[i]:.6f}",
            f"{candidates.runtime_s[i]:.2f}",
            f"{decision.utility[i]:.3f}",
            "yes" if decision.on_front[i] else "",
            "yes" if decision.feasible[i] else (decision.infeasible_reason[i] or "no"),
        )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    console.print(f"reason: {decision.reason}")


def route(
    prompt: Annotated[str | None, typer.Argument(help="One prompt to decide for")] = None,
    input: Annotated[
        Path | None, typer.Option("--input", help="Batch: JSONL of {id, prompt|messages}")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Batch: decisions JSONL")] = None,
    cost_weights: Annotated[str, typer.Option(help="Batch: comma-separated weights")] = "0",
    artifact: Annotated[
        Path | None, typer.Option(help="Predictor artifact (default: shipped)")
    ] = None,
    catalog: Annotated[Path | None, typer.Option(help="Catalog (default: embedded)")] = None,
    profile: Annotated[str | None, typer.Option(help="Single: catalog profile")] = None,
    cost_weight: Annotated[
        float | None, typer.Option(help="Single: quality points per USD")
    ] = None,
    latency_weight: Annotated[float | None, typer.Option(help="Single: quality per second")] = None,
    plot: Annotated[Path | None, typer.Option(help="Single: save the front as a PNG")] = None,
) -> None:
    """Decide without calling any model: PROMPT for one table, --input/--output for a batch."""
    if input is not None:
        if output is None:
            raise typer.BadParameter("--input needs --output", param_hint="--output")
        batch_route(input=input, output=output, cost_weights=cost_weights, artifact=artifact)
        return
    if not prompt:
        raise typer.BadParameter("give a PROMPT, or --input and --output", param_hint="PROMPT")
    weights = {"cost_weight": cost_weight, "latency_weight": latency_weight}
    outcome = _single(prompt, catalog, artifact, profile, weights)
    _print(outcome)
    if plot is not None:
        from router.front_plot import plot_front

        prefs = outcome.decision.preferences
        title = (
            f"{prompt[:80]!r}\nprofile {outcome.profile}: cost_weight={prefs.cost_weight:g}, "
            f"latency_weight={prefs.latency_weight:g}"
        )
        plot_front(outcome.table, outcome.decision, plot, title)
        typer.echo(f"wrote {plot}")
