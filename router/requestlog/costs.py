"""The router's cost rule (``DecisionEngine.cost_of``) by model name, in values that cross
to the writer process: each model's economics, fixed at start, and the runtime of each
local model, which the server refits as it serves and sends along with every batch."""

from __future__ import annotations

import math
from collections.abc import Mapping

from policies.cost import served_cost
from policies.economics import ModelEconomics
from policies.runtime import RuntimeParams


class CostTable:
    """USD of one served request: ``table(model, prompt_tokens, completion_tokens)``."""

    def __init__(self, economics: Mapping[str, ModelEconomics]) -> None:
        self.economics = dict(economics)
        #: The latest runtime of each local model (a local model's cost is GPU time).
        self.runtime: dict[str, RuntimeParams] = {}

    def __call__(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        economics = self.economics.get(model)
        if economics is None:
            return math.nan
        return served_cost(economics, self.runtime.get(model), prompt_tokens, completion_tokens)
