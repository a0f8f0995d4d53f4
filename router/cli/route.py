"""``paretoroute route``: decide without calling any model, one prompt or a batch.

Both modes build the catalog, scorer and engine from ``Settings`` exactly as the server
does (``--catalog``, ``--artifact`` and ``--scorer`` override the ``PARETOROUTE_*``
settings) and decide through ``DecisionEngine``, with the preferences merged by the same
``build_preferences`` as ``/v1/route``: so a prompt gets the same model here, in a batch
and over HTTP. Batch input is JSONL, one ``{"id", "prompt"}`` or ``{"id", "messages"}``
per line; output is one JSON line per (id, cost weight). A model without a price has
``predicted_cost_usd: null``; in a pool where no model has a price every ``reason``
says the decision was on quality only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from router.engine import DecisionEngine, DecisionOutcome
from router.errors import RouterError
from router.settings import Settings


def build_engine(settings: Settings) -> DecisionEngine:
    """Catalog and scorer from ``settings``, as ``router.services`` builds them; except
    that an ``--artifact`` without a catalog decides between the artifact's own models
    (``router.catalog.artifact_catalog``). Warns on stderr when catalog models are
    unknown to the artifact (they get the metadata prior, the same for every prompt)."""
    from router.catalog import artifact_catalog, load_catalog
    from router.services import build_scorer

    scorer = build_scorer(settings)
    known: tuple[str, ...] | None = getattr(scorer, "models", None)
    manifest = getattr(scorer, "manifest", None)
    if settings.catalog is None and settings.artifact is not None and manifest is not None:
        catalog = artifact_catalog(manifest["models"], manifest["prices"], str(settings.artifact))
    else:
        catalog = load_catalog(settings.catalog)
    unknown = [m for m in catalog.names() if known is not None and m not in known]
    if unknown:
        typer.echo(
            f"warning: {len(unknown)} of {len(catalog.models)} catalog models are unknown to "
            f"the predictor ({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}): "
            "their quality is the metadata prior, the same for every prompt",
            err=True,
        )
    return DecisionEngine(catalog, scorer)


def parse_prefs(pairs: Sequence[str], **flags: Any) -> dict[str, Any]:
    """``--pref name=value`` pairs plus the dedicated flags that were given."""
    values = {name: value for name, value in flags.items() if value is not None}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--pref")
        values[name.strip()] = value.strip()
    return values


def preferences_for(engine: DecisionEngine, profile: str | None, values: dict[str, Any]) -> Any:
    """(profile applied, Preferences) exactly as the server merges a ``router`` object."""
    from pydantic import ValidationError

    from router.schemas import RouterPreferences
    from router.selection import build_preferences, resolve_model_field

    try:
        body = RouterPreferences.model_validate(values)
        choice = resolve_model_field(f"auto:{profile}" if profile else "auto", engine.catalog)
        return build_preferences(choice, engine.catalog, None, body)
    except ValidationError as error:
        first = error.errors()[0]
        raise typer.BadParameter(
            f"{first['loc'][0]}: {first['msg']}", param_hint="--pref"
        ) from None
    except RouterError as error:
        raise typer.BadParameter(error.message, param_hint="--profile/--pref") from None


def decision_row(outcome: DecisionOutcome) -> dict[str, Any]:
    """One decision in the API's vocabulary (``/v1/route`` field names)."""
    index, table = outcome.decision.index, outcome.table
    cost = float(table.cost_usd[index])
    return {
        "model": outcome.decision.model,
        "profile": outcome.profile,
        "predicted_quality": float(table.quality[index]),
        "predicted_cost_usd": cost if math.isfinite(cost) else None,
        "predicted_runtime_s": float(table.runtime_s[index]),
        "fell_back": outcome.decision.fell_back,
        "reason": outcome.decision.reason,
    }


#: Batch output names before the vocabulary was unified; written for one more release.
LEGACY_NAMES = {"p_quality": "predicted_quality", "cost_usd": "predicted_cost_usd"}


def _legacy(row: dict[str, Any]) -> dict[str, Any]:
    return {old: row[new] for old, new in LEGACY_NAMES.items() if new in row}


def read_prompts(path: Path) -> list[tuple[str, Any]]:
    """(id, prompt or messages) per distinct id, in file order; clear errors per line."""
    seen: dict[str, Any] = {}
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as error:
                raise typer.BadParameter(f"{path}:{line}: not JSON ({error.msg})") from None
            prompt = obj.get("messages", obj.get("prompt")) if isinstance(obj, dict) else None
            if not isinstance(obj, dict) or "id" not in obj or prompt is None:
                raise typer.BadParameter(f"{path}:{line}: needs 'id' and 'prompt' or 'messages'")
            seen.setdefault(str(obj["id"]), prompt)
    return list(seen.items())


def batch_rows(
    engine: DecisionEngine,
    items: Sequence[tuple[str, Any]],
    profile: str | None,
    values: dict[str, Any],
    cost_weights: Sequence[float | None],
) -> Iterator[dict[str, Any]]:
    """One row per (id, cost weight); ``None`` keeps the merged preferences' weight.

    Every prompt is scored once, in one batch; each weight then decides on those scores.
    """
    prompts = [prompt for _, prompt in items]
    scores = engine.scorer.score(prompts, engine.cards) if prompts else None
    merged = [
        preferences_for(engine, profile, values if w is None else {**values, "cost_weight": w})
        for w in cost_weights
    ]
    for row, (item_id, prompt) in enumerate(items):
        assert scores is not None
        for profile_name, prefs in merged:
            decided = _decide_one(engine, scores.row(row), prompt, prefs, profile_name)
            yield {"id": item_id, "cost_weight": prefs.cost_weight, **decided, **_legacy(decided)}


def _decide_one(
    engine: DecisionEngine, scores: Any, prompt: Any, prefs: Any, profile: str
) -> dict[str, Any]:
    try:
        outcome = engine.decide_scores(scores, prompt, prefs, profile=profile)
    except RouterError as error:
        return {"model": None, "error": error.message}
    return decision_row(outcome)


def _print(outcome: DecisionOutcome) -> None:
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
            f"{candidates.cost_usd[i]:.6f}" if np.isfinite(candidates.cost_usd[i]) else "-",
            f"{candidates.runtime_s[i]:.2f}",
            f"{decision.utility[i]:.3f}",
            "yes" if decision.on_front[i] else "",
            "yes" if decision.feasible[i] else (decision.infeasible_reason[i] or "no"),
        )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    console.print(f"reason: {decision.reason}")


def applied(prefs: Any) -> str:
    """The weights and every constraint actually applied, for titles."""
    from dataclasses import fields

    from policies.preferences import default_of

    parts = [f"cost_weight={prefs.cost_weight:g}", f"latency_weight={prefs.latency_weight:g}"]
    for item in fields(prefs):
        value = getattr(prefs, item.name)
        if item.name in ("cost_weight", "latency_weight"):
            continue
        if value != default_of(type(prefs), item.name):
            shown = ",".join(sorted(value)) if isinstance(value, frozenset) else value
            parts.append(f"{item.name}={shown}")
    return ", ".join(parts)


def _plot(outcome: DecisionOutcome, prompt: str, plot: Path) -> None:
    from router.front_plot import plot_front

    title = f"{prompt[:80]!r}\nprofile {outcome.profile}: {applied(outcome.decision.preferences)}"
    plot_front(outcome.table, outcome.decision, plot, title)
    typer.echo(f"wrote {plot}")


def _settings(catalog: Path | None, artifact: Path | None, scorer: str | None) -> Settings:
    given: dict[str, Any] = {"catalog": catalog, "artifact": artifact, "scorer": scorer}
    return Settings(**{key: value for key, value in given.items() if value is not None})


def _batch(engine: DecisionEngine, source: Path, out: Path, profile: str | None,
           values: dict[str, Any], cost_weights: str | None) -> None:  # fmt: skip
    weights: list[float | None] = [None]
    if cost_weights:
        weights = [float(w) for w in cost_weights.split(",") if w.strip()]
    rows = batch_rows(engine, read_prompts(source), profile, values, weights)
    with out.open("w", encoding="utf-8") as handle:
        count = sum(handle.write(json.dumps(row) + "\n") > 0 for row in rows)
    typer.echo(f"wrote {count} decisions to {out}")


def route(
    prompt: Annotated[str | None, typer.Argument(help="One prompt to decide for")] = None,
    input: Annotated[
        Path | None, typer.Option("--input", help="Batch: JSONL of {id, prompt|messages}")
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", help="Batch: decisions JSONL")] = None,
    cost_weights: Annotated[
        str | None, typer.Option(help="Batch: comma-separated cost weights to sweep")
    ] = None,
    artifact: Annotated[Path | None, typer.Option(help="Predictor artifact [env]")] = None,
    catalog: Annotated[Path | None, typer.Option(help="Catalog YAML [env]")] = None,
    scorer: Annotated[str | None, typer.Option(help="artifact or prior [env]")] = None,
    profile: Annotated[str | None, typer.Option(help="Catalog profile")] = None,
    cost_weight: Annotated[float | None, typer.Option(help="Quality points per USD")] = None,
    latency_weight: Annotated[float | None, typer.Option(help="Quality per second")] = None,
    pref: Annotated[
        list[str] | None, typer.Option(help="Any preference as NAME=VALUE (repeatable)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Single: print JSON")] = False,
    plot: Annotated[Path | None, typer.Option(help="Single: save the front as a PNG")] = None,
) -> None:
    """Decide without calling any model: PROMPT for one table, --input/--output for a batch."""
    values = parse_prefs(pref or [], cost_weight=cost_weight, latency_weight=latency_weight)
    if input is None and not prompt:
        raise typer.BadParameter("give a PROMPT, or --input and --output", param_hint="PROMPT")
    if input is not None and output is None:
        raise typer.BadParameter("--input needs --output", param_hint="--output")
    # A bad artifact or catalog is one clean line from ``router.cli.failures``.
    engine = build_engine(_settings(catalog, artifact, scorer))
    if input is not None and output is not None:
        _batch(engine, input, output, profile, values, cost_weights)
        return
    assert prompt is not None
    profile_name, prefs = preferences_for(engine, profile, values)
    try:
        outcome = engine.decide_prompt(prompt, prefs, profile=profile_name)
    except RouterError as error:
        raise typer.BadParameter(error.message) from None
    if as_json:
        typer.echo(json.dumps(decision_row(outcome)))
    else:
        _print(outcome)
    if plot is not None:
        _plot(outcome, prompt, plot)
