"""Where training and evaluation get prices: the catalog first, fitted prices as a fallback.

``resolve_prices`` gives every model of a data set (input, output) USD per token and says
where each came from: ``catalog`` (the ``--catalog`` / ``PARETOROUTE_CATALOG`` file, the
same one the server routes with), ``fitted`` (``predictors.price_fit`` on the records'
``cost_usd``, reported as a fallback), or nothing at all. A pool where no model has a
price is **quality-only**: routing ignores cost (``policies.cost.quality_only_cost``) and
cost metrics are not reported. ``fill_costs`` completes a matrix's missing recorded
costs from a price table with the one hosted cost formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from policies.cost import hosted_cost
from predictors.price_fit import PriceTable, fit_prices
from predictors.records import EvalRecord, RecordMatrix


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per token (input, output) of the models that have a price, and the source."""

    table: dict[str, tuple[float, float]]
    #: Model → ``catalog`` | ``fitted`` | ``artifact`` | ``none``.
    source: dict[str, str]

    @property
    def quality_only(self) -> bool:
        """No model has a price."""
        return not self.table

    def note(self) -> str:
        """One line for every output: where prices came from, or that there are none."""
        if self.quality_only:
            return "no prices (no catalog price, no recorded cost): quality-only routing"
        counts: dict[str, int] = {}
        for source in self.source.values():
            counts[source] = counts.get(source, 0) + 1
        parts = [f"{source} {n}" for source, n in sorted(counts.items())]
        fallback = " (fitted prices are a fallback)" if "fitted" in counts else ""
        return f"prices per model: {', '.join(parts)}{fallback}"


def resolve_prices(
    models: Sequence[str],
    records: Sequence[EvalRecord],
    catalog: Mapping[str, tuple[float, float]] | None = None,
    fallback: Mapping[str, tuple[float, float]] | None = None,
) -> Prices:
    """Catalog price where the catalog has one, else ``fallback`` (e.g. an artifact's),
    else a fit on the records' costs (only fitted when needed), else none."""
    catalog, fallback = dict(catalog or {}), dict(fallback or {})
    missing = [m for m in models if m not in catalog and m not in fallback]
    fitted = fit_prices([r for r in records if r.model in missing]) if missing else {}
    table: dict[str, tuple[float, float]] = {}
    source: dict[str, str] = {}
    for model in models:
        for name, prices in (("catalog", catalog), ("artifact", fallback), ("fitted", fitted)):
            if model in prices:
                table[model], source[model] = tuple(prices[model]), name  # type: ignore[assignment]
                break
        else:
            source[model] = "none"
    return Prices(table, source)


def fill_costs(
    matrix: RecordMatrix, prices: PriceTable, completion_tokens: np.ndarray | None = None
) -> RecordMatrix:
    """``matrix`` with missing recorded costs priced from ``prices``: prompt tokens counted
    where absent, recorded completion tokens, else ``completion_tokens`` (predicted) when
    given; a cell that cannot be priced stays NaN."""
    if not prices or not np.isnan(matrix.cost_usd).any():
        return matrix
    from predictors.tokens import count_prompt_tokens

    counted = np.array([count_prompt_tokens(p) for p in matrix.prompts], dtype=np.float64)
    prompt_tokens = np.where(np.isnan(matrix.prompt_tokens), counted, matrix.prompt_tokens)
    completion = matrix.completion_tokens
    if completion_tokens is not None:
        completion = np.where(np.isnan(completion), completion_tokens, completion)
    unit = np.array([prices.get(m, (np.nan, np.nan)) for m in matrix.models], dtype=np.float64)
    unit = unit.reshape(len(matrix.models), 2)
    filled = hosted_cost(prompt_tokens[:, None], completion, unit[:, 0], unit[:, 1])
    cost = np.where(np.isnan(matrix.cost_usd), filled, matrix.cost_usd)
    return replace(matrix, cost_usd=cost, prompt_tokens=prompt_tokens)
