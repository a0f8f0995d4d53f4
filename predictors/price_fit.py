"""Per-model token prices and predicted request cost.

``fit_prices`` recovers (input, output) USD per token for each model by non-negative
least squares of the records' ``cost_usd`` on ``prompt_tokens`` and ``completion_tokens``.
It is the fallback when no catalog price table covers a model; the artifact stores the
fitted table so decisions never read a record's cost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from policies.cost import hosted_cost
from predictors.records import EvalRecord

#: USD per token, (input, output).
PriceTable = Mapping[str, tuple[float, float]]


def fit_prices(records: Sequence[EvalRecord]) -> dict[str, tuple[float, float]]:
    """NNLS fit of cost_usd ~ in_price * prompt_tokens + out_price * completion_tokens."""
    from scipy.optimize import nnls

    rows: dict[str, list[tuple[float, float, float]]] = {}
    for r in records:
        if None not in (r.cost_usd, r.prompt_tokens, r.completion_tokens):
            rows.setdefault(r.model, []).append(
                (
                    float(r.prompt_tokens or 0),
                    float(r.completion_tokens or 0),
                    float(r.cost_usd or 0),
                )
            )
    table = {}
    for model, values in sorted(rows.items()):
        data = np.array(values)
        scale = 1e6  # NNLS is better conditioned on USD per million tokens
        solution, _ = nnls(data[:, :2], data[:, 2] * scale)
        table[model] = (float(solution[0] / scale), float(solution[1] / scale))
    return table


def predicted_cost(
    models: Sequence[str],
    prices: PriceTable,
    prompt_tokens: NDArray[np.float64],
    completion_tokens: NDArray[np.float64],
) -> NDArray[np.float64]:
    """(n, m) USD: prompt tokens x input price + predicted completion x output price."""
    unit = np.array([prices.get(m, (np.nan, np.nan)) for m in models], dtype=np.float64)
    unit = unit.reshape(len(models), 2)
    return hosted_cost(prompt_tokens[:, None], completion_tokens, unit[:, 0], unit[:, 1])
