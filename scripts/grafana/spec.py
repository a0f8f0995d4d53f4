"""The dashboards' vocabulary: panels as named rows of PromQL, and PromQL helpers."""

from __future__ import annotations

from dataclasses import dataclass

RI = "[$__rate_interval]"
ALL_MODELS = ".+"


@dataclass(frozen=True)
class Query:
    """One PromQL expression and its legend."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class PanelSpec:
    """One panel: a time series unless ``stat``."""

    title: str
    unit: str
    queries: tuple[Query, ...]
    description: str = ""
    stat: bool = False


@dataclass(frozen=True)
class DashboardSpec:
    """One dashboard: rows of panels, optionally a ``model`` variable."""

    uid: str
    title: str
    rows: tuple[tuple[str, tuple[PanelSpec, ...]], ...]
    model_variable: bool = False


def rate(metric: str, selector: str = "") -> str:
    """``rate(metric{selector}[$__rate_interval])``."""
    return f"rate({metric}{{{selector}}}{RI})" if selector else f"rate({metric}{RI})"


def quantiles(metric: str, by: str = "", selector: str = "") -> tuple[Query, ...]:
    """p50 and p95 of a histogram."""
    group = f"le, {by}" if by else "le"
    suffix = f" {{{{{by}}}}}" if by else ""
    return tuple(
        Query(
            f"histogram_quantile({q}, sum by ({group}) ({rate(metric + '_bucket', selector)}))",
            f"p{int(q * 100)}{suffix}",
        )
        for q in (0.5, 0.95)
    )


SPEND = f"sum({rate('paretoroute_cost_usd_total')}) * 3600"
REFERENCE = f"sum({rate('paretoroute_reference_cost_usd_total')}) * 3600"
OK = 'outcome="ok"'
NOT_OK = 'outcome!="ok"'
COMPLETION = 'kind="completion"'
M = 'model=~"$model"'
