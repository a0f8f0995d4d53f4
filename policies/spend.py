"""Online control of ``cost_weight`` to hold a target spend rate (USD per hour).

A PI controller in log space: with ``e = log(measured rate / target)`` (clamped to
``±max_error``), ``log w = log w0 + kp·e + ki·∫e dt``. Working in logs makes the loop
scale-free (a 2x overspend moves the weight by the same factor whatever the prices)
and keeps ``w`` positive. The rate is measured over a sliding window; the integral
stops growing while the weight sits at a clamp (anti-windup). Defaults give a closed-
loop time constant of a few windows, slow enough not to chase per-request noise.
The clock is injected (``now_s``), so the controller is deterministic under test.
"""

from __future__ import annotations

import math
from collections import deque


class SpendRateController:
    """Steers ``cost_weight`` so the observed spend approaches ``target_usd_per_hour``."""

    def __init__(
        self,
        target_usd_per_hour: float,
        *,
        initial_cost_weight: float = 100.0,
        window_s: float = 300.0,
        proportional_gain: float = 0.3,
        integral_gain_per_s: float | None = None,
        min_cost_weight: float = 1e-3,
        max_cost_weight: float = 1e8,
        max_error: float = 2.0,
    ) -> None:
        if not target_usd_per_hour > 0:
            raise ValueError(f"target_usd_per_hour must be > 0, got {target_usd_per_hour!r}")
        if not 0 < min_cost_weight <= initial_cost_weight <= max_cost_weight:
            raise ValueError("need 0 < min_cost_weight <= initial_cost_weight <= max_cost_weight")
        self.target_usd_per_hour = target_usd_per_hour
        self.window_s = window_s
        self.proportional_gain = proportional_gain
        self.integral_gain_per_s = (
            1.0 / (3.0 * window_s) if integral_gain_per_s is None else integral_gain_per_s
        )
        self.max_error = max_error
        self._log_initial = math.log(initial_cost_weight)
        self._log_bounds = (math.log(min_cost_weight), math.log(max_cost_weight))
        self._log_weight = self._log_initial
        self._integral = 0.0
        self._events: deque[tuple[float, float]] = deque()
        self._window_sum = 0.0
        self._started: float | None = None
        self._updated: float | None = None

    def observe(self, cost_usd: float, now_s: float) -> None:
        """Record the cost of one request served at ``now_s``."""
        if self._started is None:
            self._started = now_s
        self._events.append((now_s, cost_usd))
        self._window_sum += cost_usd

    def spend_rate(self, now_s: float) -> float:
        """Measured USD per hour over the sliding window (the span seen so far at first)."""
        while self._events and self._events[0][0] <= now_s - self.window_s:
            self._window_sum -= self._events.popleft()[1]
        if self._started is None:
            return 0.0
        span = min(max(now_s - self._started, 0.1 * self.window_s), self.window_s)
        return max(self._window_sum, 0.0) / span * 3600.0

    def cost_weight(self, now_s: float) -> float:
        """Advance the controller to ``now_s`` and return the weight to use now."""
        if self._updated is None or self._started is None:
            self._updated = now_s
            return math.exp(self._log_weight)
        dt = now_s - self._updated
        if dt <= 0:
            return math.exp(self._log_weight)
        self._updated = now_s
        ratio = (self.spend_rate(now_s) + 1e-12) / self.target_usd_per_hour
        error = min(max(math.log(ratio), -self.max_error), self.max_error)
        integral = self._integral + error * dt
        raw = self._log_initial + self.proportional_gain * error
        raw += self.integral_gain_per_s * integral
        low, high = self._log_bounds
        if low < raw < high or (raw >= high and error < 0) or (raw <= low and error > 0):
            self._integral = integral  # anti-windup: freeze while pushing into a clamp
        self._log_weight = min(max(raw, low), high)
        return math.exp(self._log_weight)

    @property
    def current_cost_weight(self) -> float:
        """The last weight returned (for metrics), without advancing the controller."""
        return math.exp(self._log_weight)
