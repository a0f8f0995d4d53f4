"""Latency of the policy per decision for 20 models: ``decide`` alone and ``estimate``+``decide``.

    .venv/bin/python bench/policy_latency.py --calls 20000

Random but fixed (seeded) tables: 14 hosted and 6 local models, a few active
constraints and non-zero weights, so every code path of a typical request runs.
Prints median and p99 in microseconds (time.perf_counter_ns around each call).
"""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from policies import CandidateTable, ModelEconomics, Preferences, decide, estimate
from policies.runtime import prior_runtime

MODELS = 20


def _economics(rng: np.random.Generator) -> list[ModelEconomics]:
    hosted = [
        ModelEconomics(f"hosted-{i}", float(p), float(3 * p), context_window=32768)
        for i, p in enumerate(10 ** rng.uniform(-7, -5, 14))
    ]
    local = [
        ModelEconomics(f"local-{i}", None, None, is_local=True, params_b=b, accelerator=a)
        for i, (b, a) in enumerate(
            [
                (1.5, "cpu"),
                (7.0, "l4"),
                (8.0, "l4"),
                (32.0, "a100-80gb"),
                (70.0, "h100-80gb"),
                (70.0, "h200"),
            ]
        )
    ]
    return hosted + local


def _table(economics: list[ModelEconomics], quality, cost, runtime) -> CandidateTable:
    return CandidateTable(
        models=tuple(e.name for e in economics),
        quality=quality,
        cost_usd=cost,
        runtime_s=runtime,
        context_window=np.array([e.context_window for e in economics], dtype=np.int64),
        is_local=np.array([e.is_local for e in economics]),
        params_b=np.array([e.params_b or np.nan for e in economics]),
        release_ordinal=np.full(len(economics), date(2024, 1, 1).toordinal(), dtype=np.int64),
    )


def _percentiles(samples_ns: list[int]) -> tuple[float, float]:
    micro = np.asarray(samples_ns) / 1000.0
    return float(np.median(micro)), float(np.percentile(micro, 99))


def main(calls: int = 20000, seed: int = 0) -> None:
    """Time ``calls`` decisions and print median / p99 in microseconds."""
    rng = np.random.default_rng(seed)
    economics = _economics(rng)
    runtimes = [prior_runtime(e) for e in economics]
    prefs = Preferences(cost_weight=200.0, latency_weight=0.01, max_cost_usd=0.05, min_quality=0.2)
    qualities = rng.uniform(0.3, 0.95, (calls, MODELS))
    lengths = rng.uniform(20, 800, (calls, MODELS))
    prompts = rng.integers(20, 3000, calls)
    decide_ns, total_ns = [], []
    for i in track(range(calls), description=f"{calls} decisions, {MODELS} models"):
        start = time.perf_counter_ns()
        estimates = estimate(economics, runtimes, int(prompts[i]), lengths[i])
        table = _table(economics, qualities[i], estimates.cost_usd, estimates.runtime_s)
        middle = time.perf_counter_ns()
        decide(table, prefs, prompt_tokens=int(prompts[i]), max_output_tokens=256)
        end = time.perf_counter_ns()
        decide_ns.append(end - middle)
        total_ns.append(end - start)
    report = Table(title=f"policy latency, {MODELS} models, {calls} calls (microseconds)")
    for column in ("what", "median", "p99"):
        report.add_column(column)
    for name, samples in (("decide", decide_ns), ("estimate + table + decide", total_ns)):
        median, p99 = _percentiles(samples)
        report.add_row(name, f"{median:.1f}", f"{p99:.1f}")
    Console().print(report)


if __name__ == "__main__":
    typer.run(main)
