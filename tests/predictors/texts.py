"""Texts the predictor tests check fast paths against: every RouterBench prompt, seen
through chosen views, and random texts built from chosen fragments."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

from predictors.base import Prompt
from predictors.records import load_records, pivot

DATA = Path(__file__).resolve().parents[2] / "data" / "routerbench.jsonl.gz"


def routerbench_texts(*views: Callable[[Prompt], str]) -> list[str]:
    """Each view of each RouterBench prompt, prompt by prompt."""
    prompts = pivot(load_records(DATA)).prompts
    return [view(prompt) for prompt in prompts for view in views]


def fuzz_texts(pieces: Sequence[str], count: int, shortest: int, longest: int) -> list[str]:
    """``count`` texts of ``shortest``..``longest`` random ``pieces`` (seeded: the same
    texts every run)."""
    rng = random.Random(0)
    return ["".join(rng.choices(pieces, k=rng.randint(shortest, longest))) for _ in range(count)]
