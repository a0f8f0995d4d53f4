"""Per-profile spend-rate control: the state behind ``target_spend_usd_per_hour``.

The controller math lives in ``policies.spend``; this holds the controllers for the life
of an app and exports the shared ones' state as metrics.

Whose controller a target steers depends on the caller (``router.auth.context``):

- the master key, or no guard at all: the profile's shared controller (a new target
  replaces it);
- a virtual key that asks for a target other than the profile's catalog target: that
  key's own controller for the profile (``key:<id>/<profile>``), never the shared one;
- anonymous callers (auth off): the shared controller, except that a profile whose
  catalog sets a target keeps it (the caller's target is ignored for that profile).

Every served request's cost feeds its profile's shared controller, and the key's own
controller too when it has one.

With N server workers each process holds its own controllers and steers its own share of
the traffic to ``target / N``: the kernel spreads connections evenly over the workers, so
the shares add up to the target. ``/metrics`` sums target and rate over workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from policies.preferences import Preferences
from policies.spend import SpendRateController
from router.auth.context import Caller, current_caller
from router.metrics import RouterMetrics

MIN_COST_WEIGHT = 1e-3
MAX_COST_WEIGHT = 1e8


class SpendControl:
    """``SpendRateController``s keyed by profile (shared) or key and profile (own)."""

    def __init__(
        self,
        metrics: RouterMetrics,
        clock: Callable[[], float] = time.monotonic,
        catalog_targets: Mapping[str, float] | None = None,
        *,
        workers: int = 1,
    ) -> None:
        self._controllers: dict[str, SpendRateController] = {}
        self._metrics = metrics
        self._clock = clock
        self._catalog_targets = dict(catalog_targets or {})
        self._share = 1.0 / workers

    def _slot(self, profile: str, target: float, caller: Caller | None) -> tuple[str, float]:
        """Which controller (name) and which target this caller's request uses."""
        catalog = self._catalog_targets.get(profile)
        if caller is None or caller.kind == "master" or target == catalog:
            return profile, target
        if caller.kind == "key":
            return f"{caller.owner}/{profile}", target
        return profile, catalog if catalog is not None else target

    def _controller(self, slot: str, target: float, prefs: Preferences) -> SpendRateController:
        controller = self._controllers.get(slot)
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
            self._controllers[slot] = controller
        return controller

    def apply(self, profile: str, prefs: Preferences) -> Preferences:
        """Preferences with the controller's current cost_weight, if a target applies."""
        if prefs.target_spend_usd_per_hour is None:
            return prefs
        slot, target = self._slot(profile, prefs.target_spend_usd_per_hour, current_caller())
        controller = self._controller(slot, target * self._share, prefs)
        now = self._clock()
        weight = controller.cost_weight(now)
        if slot == profile:
            # Only shared controllers are exported: key ids stay out of metric labels.
            self._metrics.spend_target.labels(profile).set(target * self._share)
            self._metrics.cost_weight.labels(profile).set(weight)
            self._metrics.spend_rate.labels(profile).set(controller.spend_rate(now))
        return replace(prefs, cost_weight=weight, target_spend_usd_per_hour=target)

    def observe(self, profile: str, cost_usd: float) -> None:
        """Count the cost of a request served under ``profile``."""
        now = self._clock()
        caller = current_caller()
        slots = [profile]
        if caller is not None and caller.key is not None:
            slots.append(f"{caller.owner}/{profile}")
        for slot in slots:
            controller = self._controllers.get(slot)
            if controller is not None:
                controller.observe(cost_usd, now)
