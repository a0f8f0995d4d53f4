"""What the router's own ``/metrics`` saw during one wrk run: event-loop lag, the scoring
queue wait against the scoring compute time, and GC pauses (``router.loop_health``).

``bench/overhead.py`` scrapes ``/metrics`` before and after each router scenario; the
difference of the two scrapes is that scenario alone. Percentiles come from histogram
buckets, so each is reported as the bucket's upper bound ("<= x ms").
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

#: name -> {label tuple (without "le") -> {le -> cumulative count}}, plus _sum and _count.
Scrape = dict[str, dict[tuple[tuple[str, str], ...], dict[str, float]]]

LAG = "paretoroute_event_loop_lag_seconds"
QUEUE = "paretoroute_decision_queue_seconds"
SCORING = "paretoroute_scoring_batch_seconds"
BATCH = "paretoroute_scoring_batch_size"
GC = "paretoroute_gc_pause_seconds"


def scrape(port: int) -> Scrape:
    """The histograms of the router's ``/metrics``, by series."""
    return parse(httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text)


def parse(text: str) -> Scrape:
    """The histograms of a Prometheus text exposition, by series."""
    out: Scrape = {}
    for family in text_string_to_metric_families(text):
        if family.type != "histogram":
            continue
        series = out.setdefault(family.name, {})
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            key = sample.labels.get("le", sample.name.rsplit("_", 1)[-1])
            series.setdefault(labels, {})[key] = sample.value
    return out


@dataclass(frozen=True, slots=True)
class Histo:
    """One histogram's change over a run: bucket counts, sum and count."""

    buckets: list[tuple[float, float]]  # (upper bound, cumulative count)
    total: float
    count: float

    def quantile_bound(self, q: float) -> float:
        """The upper bound of the bucket holding quantile ``q`` (inf past the last one)."""
        if self.count <= 0:
            return float("nan")
        for bound, cumulative in self.buckets:
            if cumulative >= q * self.count:
                return bound
        return float("inf")

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else float("nan")


def delta(before: Scrape, after: Scrape, name: str) -> Histo:
    """``name`` summed over its label sets, after minus before."""
    buckets: dict[float, float] = {}
    total = count = 0.0
    for labels, values in after.get(name, {}).items():
        old = before.get(name, {}).get(labels, {})
        for key, value in values.items():
            change = value - old.get(key, 0.0)
            if key == "sum":
                total += change
            elif key == "count":
                count += change
            elif key != "bucket":
                buckets[float(key)] = buckets.get(float(key), 0.0) + change
    return Histo(sorted(buckets.items()), total, count)


def _ms(value: float) -> str:
    if value != value:
        return "-"
    return "> last" if value == float("inf") else f"{value * 1e3:.3g}"


def describe(before: Scrape, after: Scrape) -> dict[str, str]:
    """Table cells for one run: lag, decision queue vs compute, batch size, GC."""
    lag, queue, scoring = (
        delta(before, after, LAG),
        delta(before, after, QUEUE),
        delta(before, after, SCORING),
    )
    batch, gc = delta(before, after, BATCH), delta(before, after, GC)
    return {
        "lag": f"{lag.count:.0f} ticks, p50 <= {_ms(lag.quantile_bound(0.5))}, "
        f"p99 <= {_ms(lag.quantile_bound(0.99))}, mean {_ms(lag.mean)}",
        "queue": "-"
        if not queue.count
        else f"mean {_ms(queue.mean)}, p99 <= {_ms(queue.quantile_bound(0.99))}",
        "compute": "-"
        if not scoring.count
        else f"mean {_ms(scoring.mean)}, p99 <= {_ms(scoring.quantile_bound(0.99))}",
        "batch": "-" if not batch.count else f"{batch.mean:.2f}",
        "gc": f"{gc.count:.0f}, longest <= {_ms(gc.quantile_bound(1.0))}",
    }
