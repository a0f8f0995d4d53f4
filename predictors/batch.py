"""Batch routing: embed each prompt once, decide for every cost weight.

Input lines are ``{"id", "prompt"}``, ``{"id", "messages"}`` or eval records (one
decision per distinct id). Output rows are ``{"id", "cost_weight", "model", "p_quality",
"cost_usd"}`` with utility = quality - cost_weight x predicted cost (USD); the cost is
always predicted (prompt tokens x input price + predicted completion x output price).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from predictors.base import Prompt
from predictors.errors import RecordError
from predictors.metrics import choose
from predictors.prices import PriceTable, predicted_cost
from predictors.scorer import ArtifactScorer
from predictors.tokens import count_prompt_tokens


def read_prompts(path: Path) -> list[tuple[str, Prompt]]:
    """(id, prompt) per distinct id, in file order."""
    seen: dict[str, Prompt] = {}
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            obj: dict[str, Any] = json.loads(text)
            prompt = obj.get("messages", obj.get("prompt"))
            if "id" not in obj or prompt is None:
                raise RecordError(
                    str(path), line, "id/prompt", "needs 'id' and 'prompt' or 'messages'"
                )
            seen.setdefault(str(obj["id"]), prompt)
    return list(seen.items())


def route_batch(
    scorer: ArtifactScorer,
    items: Sequence[tuple[str, Prompt]],
    cost_weights: Sequence[float],
    prices: PriceTable,
) -> Iterator[dict[str, Any]]:
    """One decision row per (id, cost_weight)."""
    if not items:
        return
    quality, tokens = scorer.predict_known([p for _, p in items])
    n_tokens = np.array([count_prompt_tokens(p) for _, p in items], dtype=np.float64)
    cost = predicted_cost(scorer.models, prices, n_tokens, tokens)
    usable = np.where(np.isnan(cost), np.nan, quality)
    picks = {w: choose(usable, np.nan_to_num(cost), w) for w in cost_weights}
    for i, (item_id, _) in enumerate(items):
        for weight in cost_weights:
            j = int(picks[weight][i])
            yield {"id": item_id, "cost_weight": weight, "model": scorer.models[j],
                   "p_quality": float(quality[i, j]), "cost_usd": float(cost[i, j])}  # fmt: skip
