"""Priors for models with few or no records, from catalog metadata.

A catalog model with no eval records at all gets a quality prior from its ``ModelCard``:
the population mean of the known models, nudged up for larger and newer models::

    prior = population_mean
            + 0.04 * clip(log2(params_b / 30), -3, 3)        # if params_b is known
            + 0.03 * clip(years since 2023-07-01, -2, 2)      # if release_date is known
            + 0.03 if "frontier" in tags, - 0.03 if "small" in tags

clipped into [0.05, 0.95]. It is deliberately crude (it is a prior, flagged
``source="metadata-prior"``), and models with a few records shrink toward it::

    shrunk = (n * mean + strength * prior) / (n + strength)
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np

from predictors.base import ModelCard

#: Pseudo-count of the prior in the shrinkage formula.
DEFAULT_SHRINK_STRENGTH = 20.0
#: Models with at least this many records are "learned"; fewer are "shrunk".
DEFAULT_MIN_RECORDS = 100
_REFERENCE_DATE = date(2023, 7, 1)


def metadata_prior(card: ModelCard, population_mean: float) -> float:
    """Prior quality of a model that has no records, from its catalog card."""
    prior = population_mean
    if card.params_b is not None and card.params_b > 0:
        prior += 0.04 * float(np.clip(math.log2(card.params_b / 30.0), -3.0, 3.0))
    if card.release_date is not None:
        years = (card.release_date - _REFERENCE_DATE).days / 365.25
        prior += 0.03 * float(np.clip(years, -2.0, 2.0))
    if "frontier" in card.tags:
        prior += 0.03
    if "small" in card.tags:
        prior -= 0.03
    return float(np.clip(prior, 0.05, 0.95))


def shrink(
    mean: float | np.ndarray,
    n_records: float,
    prior: float,
    strength: float = DEFAULT_SHRINK_STRENGTH,
) -> float | np.ndarray:
    """Pull an empirical mean over ``n_records`` toward ``prior``."""
    return (n_records * mean + strength * prior) / (n_records + strength)
