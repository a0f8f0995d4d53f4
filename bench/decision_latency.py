"""Decision latency: embed + predict all models + policy for one ~220-token prompt.

Usage: ``python bench/decision_latency.py [--calls 500] [--embedder static|minilm|both]
[--stages]``; ``--stages`` adds the p50/p99 of every stage of the server path
(``bench/decision_stages.py``).
The server path is timed twice: on the one prompt above, asked again and again (its
token count is remembered after the first call), and on the prompts of
``bench/overhead.py`` (64 RouterBench prompts, each call's question new: the counter of
``overhead_lib.bench_content`` ends it), where what the router remembers of earlier
prompts' blocks helps as it would in use.
Threads are pinned with ``predictors.scorer.configure_threads(1)`` as the server does.
Two figures for the fast embedder: the server's own decision path
(``router.engine.DecisionEngine.decide_prompt`` over the embedded default catalog: score, cost and
runtime estimates, candidate table, ``policies.decide`` with the default profile), and
the predictor alone with a vectorised argmax of quality - cost_weight x predicted cost.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # overhead_lib, decision_stages

PROMPT = (
    "You are given a list of tuples where each tuple holds a student's name, their grade "
    "level and a list of test scores. Write a Python function that returns, for every grade "
    "level, the name of the student with the highest average score, breaking ties by the "
    "alphabetically first name. The function must handle empty score lists by treating "
    "their average as zero, must not modify the input, and should run in linear time in the "
    "total number of scores. Include a short docstring and explain in one sentence why your "
    "approach is linear. Then give two example calls with their expected outputs, one of "
    "which exercises the tie-breaking rule and one the empty-list rule. Finally, state which "
    "standard library modules, if any, you used and why they are appropriate here, and "
    "mention one edge case involving duplicate names in different grades. Keep the whole "
    "answer under three hundred words, use type hints throughout, avoid third-party "
    "packages, and format the code as a single fenced block followed by the examples, so "
    "that a reviewer can paste it into a file and run it directly."
)


def measure_embed_only(embedder, calls: int) -> np.ndarray:
    from predictors.prompts import embedding_text

    text = embedding_text(PROMPT)
    times = []
    for i in range(calls + 20):
        start = time.perf_counter()
        embedder.embed([text])
        if i >= 20:
            times.append(time.perf_counter() - start)
    return np.array(times) * 1000


def measure(scorer, calls: int) -> np.ndarray:
    from predictors.metrics import choose
    from predictors.price_fit import predicted_cost
    from predictors.tokens import count_prompt_tokens

    prices = {m: tuple(p) for m, p in scorer.manifest["prices"].items()}
    n_tokens = np.array([float(count_prompt_tokens(PROMPT))])
    times = []
    for i in range(calls + 20):
        start = time.perf_counter()
        quality, tokens = scorer.predict_known([PROMPT])
        cost = predicted_cost(scorer.models, prices, n_tokens, tokens)
        choose(quality, cost, 100.0)
        if i >= 20:  # warm-up calls excluded
            times.append(time.perf_counter() - start)
    return np.array(times) * 1000


def server_engine() -> tuple[Any, Any]:
    """The server's engine (embedded catalog, shipped predictor) and default preferences."""
    from router.cli.route import build_engine
    from router.selection import build_preferences, resolve_model_field
    from router.settings import Settings

    engine = build_engine(Settings())
    catalog = engine.catalog
    _, prefs = build_preferences(resolve_model_field("auto", catalog), catalog, None, None)
    return engine, prefs


def one_prompt(_: int) -> list[dict[str, str]]:
    """The bench prompt, every call."""
    return [{"role": "user", "content": PROMPT}]


def replay_prompts() -> Callable[[int], list[dict[str, str]]]:
    """Call ``i`` → ``bench/overhead.py``'s prompt ``i``, its question made new by ``i``."""
    from overhead_lib import bench_content, bench_prompts

    prompts = bench_prompts()
    return lambda i: [{"role": "user", "content": bench_content(prompts[i % len(prompts)], i)}]


def measure_router(
    calls: int, messages: Callable[[int], list[dict[str, str]]] = one_prompt
) -> tuple[np.ndarray, float]:
    """Wall milliseconds per decision, and the process CPU milliseconds per decision (less
    sensitive than wall time to other processes sharing the cores); call ``i`` decides
    ``messages(i)`` (built before the clock starts)."""
    engine, prefs = server_engine()
    warmup = 64
    asked = [messages(i) for i in range(warmup + calls)]
    for i in range(warmup):
        engine.decide_prompt(asked[i], prefs, profile="balanced")
    times = np.empty(calls)
    cpu_start = time.process_time()
    for i in range(calls):
        start = time.perf_counter()
        engine.decide_prompt(asked[warmup + i], prefs, profile="balanced")
        times[i] = time.perf_counter() - start
    return times * 1000, (time.process_time() - cpu_start) * 1000 / calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--embedder", choices=["static", "minilm", "both"], default="both")
    parser.add_argument("--stages", action="store_true", help="also time each stage")
    args = parser.parse_args()
    from router.process import prepare_environment

    prepare_environment(compute_threads=1)
    from predictors.artifact import load_scorer
    from predictors.embedders import SentenceTransformerEmbedder
    from predictors.scorer import configure_threads
    from predictors.tokens import count_tokens

    configure_threads(1)
    print(f"prompt tokens (cl100k): {count_tokens(PROMPT)}")
    scorer = load_scorer()
    kinds = ["static", "minilm"] if args.embedder == "both" else [args.embedder]
    if "static" in kinds:
        what = "server path: score + estimate + policies.decide"
        for label, messages in (("one prompt", one_prompt), ("replay prompts", replay_prompts())):
            ms, cpu = measure_router(args.calls, messages)
            p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
            print(f" static ({what}; {label}): p50 {p50:.2f} ms  p99 {p99:.2f} ms (n={len(ms)})")
            print(f"   min {ms.min():.2f} ms, CPU {cpu:.2f} ms per decision")
        if args.stages:
            from decision_stages import print_stages

            print_stages(*server_engine(), PROMPT, args.calls)
    for kind in kinds:
        configure_threads(1)
        if kind == "minilm":
            # The shipped model expects static vectors, so for MiniLM only the embedding is
            # timed: a lower bound on a MiniLM-based decision.
            ms, what = measure_embed_only(SentenceTransformerEmbedder(), args.calls), "embed only"
        else:
            ms, what = measure(scorer, args.calls), "embed + predict 11 models + argmax"
        p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
        print(f"{kind:>7} ({what}): p50 {p50:.2f} ms  p99 {p99:.2f} ms (n={len(ms)})")


if __name__ == "__main__":
    main()
