"""The resilience parts on their own: breaker states, ranking order, retry table, backoff."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import numpy as np
import pytest

from policies import Preferences
from policies.decide import choose
from predictors.prior import PriorScorer
from router.catalog import Catalog
from router.engine import DecisionEngine
from router.errors import (
    InvalidRequestError,
    ModelUnavailableError,
    UpstreamAuthError,
    UpstreamBadRequestError,
    UpstreamConnectionError,
    UpstreamError,
    UpstreamRateLimitError,
    UpstreamResponseError,
    UpstreamTimeoutError,
)
from router.resilience.breaker import BreakerConfig, CircuitState, InProcessBreakerStore
from router.resilience.ranking import decision_ranking
from router.resilience.retry import Backoff, classify
from router.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> InProcessBreakerStore:
    config = BreakerConfig(
        window_s=10.0, min_calls=4, failure_rate=0.5, cooldown_s=5.0, half_open_probes=1
    )
    return InProcessBreakerStore(config, clock)


def state(store: InProcessBreakerStore, model: str = "m") -> CircuitState:
    return run(store.state(model)).state


def test_opens_only_with_enough_calls_and_failures(store: InProcessBreakerStore):
    for _ in range(3):
        run(store.record("m", False))
    assert state(store) is CircuitState.CLOSED  # 3 calls < min_calls
    run(store.record("m", True))
    assert state(store) is CircuitState.OPEN  # 3 of 4 failed >= 50 %
    assert not run(store.try_acquire("m"))
    assert state(store, "other") is CircuitState.CLOSED


def test_successes_keep_it_closed(store: InProcessBreakerStore):
    for ok in [True, False, True, True, False, True, True, True]:
        run(store.record("m", ok))
    assert state(store) is CircuitState.CLOSED


def test_old_failures_leave_the_window(store: InProcessBreakerStore, clock: Clock):
    for _ in range(3):
        run(store.record("m", False))
    clock.now += 11.0
    run(store.record("m", False))
    assert state(store) is CircuitState.CLOSED


def test_opens_exactly_when_the_window_says_so(store: InProcessBreakerStore, clock: Clock):
    """The running failure count agrees with a scan of the window over a random history."""
    rng = random.Random(7)
    window: list[tuple[float, bool]] = []
    for _ in range(2000):
        clock.now += rng.expovariate(2.0)
        ok = rng.random() < 0.7
        if state(store) is not CircuitState.CLOSED:
            clock.now += 5.0  # past the cooldown; a good probe closes it again
            run(store.record("m", True))
            window.clear()
            continue
        run(store.record("m", ok))
        window = [(t, good) for t, good in [*window, (clock.now, ok)] if clock.now - t <= 10.0]
        failures = sum(not good for _, good in window)
        should_open = len(window) >= 4 and failures >= 0.5 * len(window)
        assert (state(store) is CircuitState.OPEN) == should_open
        if should_open:
            window.clear()


def test_half_open_probe_closes_or_reopens(store: InProcessBreakerStore, clock: Clock):
    for _ in range(4):
        run(store.record("m", False))
    view = run(store.state("m"))
    assert view.state is CircuitState.OPEN and view.retry_in_s == pytest.approx(5.0)
    clock.now += 5.0
    assert state(store) is CircuitState.HALF_OPEN
    assert run(store.try_acquire("m"))
    assert not run(store.try_acquire("m"))  # one probe at a time
    run(store.record("m", False))
    assert state(store) is CircuitState.OPEN  # failed probe: cooldown restarts
    clock.now += 5.0
    assert run(store.try_acquire("m"))
    run(store.record("m", True))
    assert state(store) is CircuitState.CLOSED
    assert run(store.try_acquire("m")) and run(store.try_acquire("m"))


def test_a_lost_probe_slot_expires(store: InProcessBreakerStore, clock: Clock):
    for _ in range(4):
        run(store.record("m", False))
    clock.now += 5.0
    assert run(store.try_acquire("m"))  # the caller vanishes without recording
    clock.now += 5.0
    assert run(store.try_acquire("m"))


def test_ranking_matches_the_policy_choice(catalog: Catalog):
    engine = DecisionEngine(catalog, PriorScorer())
    rng = np.random.default_rng(7)
    for _ in range(50):
        weight = float(rng.choice([0.0, 1.0, 1e3, 1e5]))
        outcome = engine.decide_prompt("hello", Preferences(cost_weight=weight), profile="p")
        ranking = decision_ranking(outcome)
        assert ranking[0] == outcome.decision.index
        assert set(ranking) == set(np.flatnonzero(outcome.decision.feasible).tolist())
        # Every prefix of the ranking: its head is what ``choose`` picks from the rest.
        for position, index in enumerate(ranking):
            pool = np.zeros(len(catalog.models), dtype=bool)
            pool[list(ranking[position:])] = True
            assert choose(outcome.table, outcome.decision.utility, pool) == index


def test_computed_ranking_breaks_utility_ties_like_choose(catalog: Catalog):
    engine = DecisionEngine(catalog, PriorScorer())
    outcome = engine.decide_prompt("hi", Preferences(), profile="p")
    tied = np.zeros_like(outcome.decision.utility)
    fields = {**_fields(outcome.decision), "utility": tied}
    fields.pop("ranking", None)  # a policy-made ranking would be used as-is
    decision = outcome.decision.__class__(**fields)
    ranked = decision_ranking(outcome.__class__(**{**_fields(outcome), "decision": decision}))
    pool = np.asarray(decision.feasible)
    assert ranked[0] == choose(outcome.table, tied, pool)


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__dataclass_fields__}


@pytest.mark.parametrize(
    ("error", "reason", "retry", "fall_back"),
    [
        (UpstreamTimeoutError("t"), "timeout", False, True),
        (UpstreamConnectionError("c"), "connect_error", True, True),
        (UpstreamRateLimitError("r"), "upstream_429", True, True),
        (UpstreamError("s", upstream_status=503), "upstream_5xx", True, True),
        (UpstreamAuthError("a"), "upstream_auth", False, True),
        (UpstreamResponseError("b"), "bad_response", False, True),
        (UpstreamBadRequestError("q"), "upstream_4xx", False, False),
        (ModelUnavailableError("u"), "unavailable", False, True),
        (UpstreamError("e"), "upstream_error", False, True),
    ],
)
def test_failure_table(error: Any, reason: str, retry: bool, fall_back: bool):
    kind = classify(error)
    assert kind is not None
    assert (kind.reason, kind.retry, kind.fall_back) == (reason, retry, fall_back)


def test_caller_errors_are_not_upstream_failures():
    assert classify(InvalidRequestError("x")) is None


def test_backoff_is_jittered_capped_and_honours_retry_after():
    backoff = Backoff(base_s=0.1, max_s=0.3, retry_after_max_s=2.0)
    rng = random.Random(0)
    delays = [
        backoff.delay(retry, UpstreamError("x"), rng) for retry in range(6) for _ in range(50)
    ]
    assert all(d is not None and 0.0 <= d <= 0.3 for d in delays)
    assert len({round(d or 0, 6) for d in delays}) > 100  # jittered, not fixed
    wait = UpstreamRateLimitError("r", retry_after_s=1.5)
    assert backoff.delay(0, wait, rng) == 1.5
    assert backoff.delay(0, UpstreamRateLimitError("r", retry_after_s=9.0), rng) is None


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PARETOROUTE_RESILIENCE__MAX_FALLBACK_HOPS", "5")
    monkeypatch.setenv("PARETOROUTE_RESILIENCE__BREAKER_COOLDOWN_S", "2.5")
    settings = Settings()
    assert settings.resilience.max_fallback_hops == 5
    assert settings.resilience.breaker_cooldown_s == 2.5
