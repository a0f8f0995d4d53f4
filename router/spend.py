"""Per-profile spend-rate control: the state behind ``target_spend_usd_per_hour``.

The controller math lives in ``policies.spend``; this holds one controller per profile
for the life of an app and exports its state as metrics.

With N server workers each process holds its own controllers and steers its own share of
the traffic to ``target / N``: the kernel spreads connections evenly over the workers, so
the shares add up to the profile's target. ``/metrics`` sums target and rate over workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from policies.preferences import Preferences
from policies.spend import SpendRateController
from router.metrics import RouterMetrics

MIN_COST_WEIGHT = 1e-3
MAX_COST_WEIGHT = 1e8


class SpendControl:
    """One ``SpendRateController`` per profile that sets a target spend rate."""

    def __init__(
        self,
        metrics: RouterMetrics,
        clock: Callable[[], float] = time.monotonic,
        *,
        workers: int = 1,
    ) -> None:
        self._controllers: dict[str, SpendRateController] = {}
        self._metrics = metrics
        self._clock = clock
        self._share = 1.0 / workers

    def _controller(self, profile: str, prefs: Preferences) -> SpendRateController | None:
        if prefs.target_spend_usd_per_hour is None:
            return None
        target = prefs.target_spend_usd_per_hour * self._share
        controller = self._controllers.get(profile)
        if controller is None or controller.target_usd_per_hour != target:
            # The controller starts from the caller's weight, clamped into its range.
            initial = prefs.cost_weight if prefs.cost_weight > 0 else 100.0
            initial = min(max(initial, MIN_COST_WEIGHT), MAX_COST_WEIGHT)
            controller = SpendRateController(
                target,
                initial_cost_weight=initial,
                min_cost_weight=MIN_COST_WEIGHT,
                max_cost_weight=MAX_COST_WEIGHT,
            )
            self._controllers[profile] = controller
            self._metrics.spend_target.labels(profile).set(target)
        return controller

    def apply(self, profile: str, prefs: Preferences) -> Preferences:
        """Preferences with the controller's current cost_weight, if the profile has one."""
        controller = self._controller(profile, prefs)
        if controller is None:
            return prefs
        now = self._clock()
        weight = controller.cost_weight(now)
        self._metrics.cost_weight.labels(profile).set(weight)
        self._metrics.spend_rate.labels(profile).set(controller.spend_rate(now))
        return replace(prefs, cost_weight=weight)

    def observe(self, profile: str, cost_usd: float) -> None:
        """Count the cost of a request served under ``profile``."""
        controller = self._controllers.get(profile)
        if controller is not None:
            controller.observe(cost_usd, self._clock())
