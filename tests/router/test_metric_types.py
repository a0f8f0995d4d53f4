"""Remembered ``labels``: the same children and the same exposition as prometheus-client's."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from router.metric_types import Counter, Gauge, Histogram


def _sample(registry: CollectorRegistry, name: str, labels: dict[str, str]) -> float | None:
    return registry.get_sample_value(name, labels)


def test_repeated_labels_return_one_child_and_count_once_each() -> None:
    registry = CollectorRegistry()
    tokens = Counter("t", "tokens", ["model", "kind"], registry=registry)
    first = tokens.labels("m1", "prompt")
    assert tokens.labels("m1", "prompt") is first
    for _ in range(3):
        tokens.labels("m1", "prompt").inc(2)
    tokens.labels(model="m1", kind="completion").inc(5)  # keyword calls go the usual way
    assert tokens.labels("m1", "completion") is tokens.labels(model="m1", kind="completion")
    assert _sample(registry, "t_total", {"model": "m1", "kind": "prompt"}) == 6
    assert _sample(registry, "t_total", {"model": "m1", "kind": "completion"}) == 5


def test_exposition_matches_plain_prometheus_client() -> None:
    import prometheus_client

    ours, theirs = CollectorRegistry(), CollectorRegistry()
    for registry, histogram_type, gauge_type in (
        (ours, Histogram, Gauge),
        (theirs, prometheus_client.Histogram, prometheus_client.Gauge),
    ):
        seconds = histogram_type("s", "seconds", ["model"], registry=registry)
        level = gauge_type("g", "level", ["profile"], registry=registry)
        for value in (0.001, 0.2, 3.0, 0.2):
            seconds.labels("m").observe(value)
        level.labels("balanced").set(4)
        level.labels("balanced").inc()

    def without_created(registry: CollectorRegistry) -> list[bytes]:
        # ``*_created`` holds each child's creation time: the only line that may differ.
        lines = generate_latest(registry).splitlines()
        return [line for line in lines if b"_created" not in line]

    assert without_created(ours) == without_created(theirs)


def test_remove_and_clear_forget_the_children() -> None:
    registry = CollectorRegistry()
    errors = Counter("e", "errors", ["code"], registry=registry)
    errors.labels("500").inc(7)
    errors.remove("500")
    assert _sample(registry, "e_total", {"code": "500"}) is None
    errors.labels("500").inc()  # a fresh child, not the removed one
    assert _sample(registry, "e_total", {"code": "500"}) == 1
    errors.clear()
    assert _sample(registry, "e_total", {"code": "500"}) is None
    errors.labels("500").inc(2)
    assert _sample(registry, "e_total", {"code": "500"}) == 2
