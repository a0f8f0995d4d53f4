"""Per-stage latency of one server decision (``decision_latency.py --stages``).

Each stage of ``DecisionEngine.decide_prompt`` is timed on its own, ``calls`` times, with
the inputs the previous stages produced for the bench prompt. Only public entry points
that every version of the engine has are called, so the same file times an older
checkout (``PYTHONPATH=/old/tree python bench/decision_latency.py --stages``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np


def timed(fn: Callable[[], object], calls: int, warmup: int = 20) -> np.ndarray:
    """Milliseconds of ``calls`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = np.empty(calls)
    for i in range(calls):
        start = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - start
    return times * 1000.0


def stages(engine: Any, prefs: Any, prompt: str) -> dict[str, Callable[[], object]]:
    """Stage name → a call doing that stage's work for ``prompt`` (in server order)."""
    from predictors.features import structure_features
    from predictors.prompts import embedding_text, last_user_text
    from predictors.tokens import count_prompt_tokens

    messages = [{"role": "user", "content": prompt}]
    scorer, model = engine.scorer, engine.scorer.model
    text, user = embedding_text(messages), last_user_text(messages)
    vectors, structure = scorer.embedder.embed([text]), structure_features([user])
    proba = model.prior.group_proba(vectors, structure)
    groups = np.argmax(proba, axis=1)
    x = model.features.transform(vectors, structure, groups=groups)
    inputs = model._quality_inputs(proba @ model.prior.group_means_, x, structure)
    gate = proba @ model.quality.gate_
    scores = scorer.score([messages], engine.cards)
    tokens = count_prompt_tokens(messages)
    completion = scores.completion_tokens[0]
    return {
        "prompt text": lambda: (embedding_text(messages), last_user_text(messages)),
        "embed (static)": lambda: scorer.embedder.embed([text]),
        "structure features": lambda: structure_features([user]),
        "group prior": lambda: model.prior.group_proba(vectors, structure),
        "features + neighbours": lambda: model.features.transform(
            vectors, structure, groups=groups
        ),
        "quality (stacked)": lambda: model.quality.predict_proba(inputs, gate),
        "length (11 models)": lambda: model.length.predict(x),
        "score (all of the above)": lambda: scorer.score([messages], engine.cards),
        "count prompt tokens": lambda: count_prompt_tokens(messages),
        "cost + runtime estimate": lambda: engine.estimate(tokens, completion),
        "table + policies.decide": lambda: engine.decide(
            scores, tokens, prefs, profile="balanced", max_output_tokens=None, started=0.0
        ),
        "decide_prompt (server path)": lambda: engine.decide_prompt(
            messages, prefs, profile="balanced"
        ),
    }


def print_stages(engine: Any, prefs: Any, prompt: str, calls: int) -> None:
    """One line per stage: p50 and p99 in milliseconds."""
    for name, fn in stages(engine, prefs, prompt).items():
        ms = timed(fn, calls)
        print(
            f"  {name:<30} p50 {np.percentile(ms, 50):.3f} ms  p99 {np.percentile(ms, 99):.3f} ms"
        )
