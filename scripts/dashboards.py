"""Generate the Grafana dashboards in ``deploy/grafana/dashboards/`` (``make dashboards``).

The dashboards are tables of named panels (title, unit, PromQL with legends) turned
into Grafana JSON by grafana-foundation-sdk. The JSON is committed; a test checks it is
what this script writes, and the Prometheus proof test runs every expression in it.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

OUT = Path(__file__).resolve().parents[1] / "deploy" / "grafana" / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="paretoroute-prometheus")
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

OVERVIEW = DashboardSpec(
    "paretoroute-overview",
    "paretoroute / Overview",
    (
        (
            "Traffic and spend",
            (
                PanelSpec(
                    "Requests/s by outcome",
                    "reqps",
                    (
                        Query(
                            f"sum by (outcome) ({rate('paretoroute_requests_total')})",
                            "{{outcome}}",
                        ),
                    ),
                ),
                PanelSpec(
                    "Spend per hour",
                    "currencyUSD",
                    (Query(SPEND, "spend"), Query(REFERENCE, "all on reference model")),
                ),
                PanelSpec(
                    "Savings vs the reference model, per hour",
                    "currencyUSD",
                    (Query(f"{REFERENCE} - {SPEND}", "saved"),),
                    "Reference: the catalog's reference_model, else the highest predicted "
                    "quality (routed) or the most expensive model (named).",
                ),
                PanelSpec(
                    "Savings in range",
                    "percentunit",
                    (
                        Query(
                            "1 - sum(increase(paretoroute_cost_usd_total[$__range])) / "
                            "sum(increase(paretoroute_reference_cost_usd_total[$__range]))",
                            "saved",
                        ),
                    ),
                    stat=True,
                ),
            ),
        ),
        (
            "Models, latency, errors",
            (
                PanelSpec(
                    "Model mix (served requests/s)",
                    "reqps",
                    (
                        Query(
                            f"sum by (model) ({rate('paretoroute_requests_total', OK)})",
                            "{{model}}",
                        ),
                    ),
                ),
                PanelSpec("End-to-end latency", "s", quantiles("paretoroute_request_seconds")),
                PanelSpec("Upstream latency", "s", quantiles("paretoroute_upstream_seconds")),
                PanelSpec(
                    "Error rate",
                    "percentunit",
                    (
                        Query(
                            f"sum({rate('paretoroute_requests_total', NOT_OK)})"
                            f" / sum({rate('paretoroute_requests_total')})",
                            "errors / requests",
                        ),
                    ),
                ),
                PanelSpec(
                    "Errors by status and code",
                    "reqps",
                    (
                        Query(
                            f"sum by (status, code) ({rate('paretoroute_errors_total')})",
                            "{{status}} {{code}}",
                        ),
                    ),
                ),
            ),
        ),
    ),
)

PER_MODEL = DashboardSpec(
    "paretoroute-per-model",
    "paretoroute / Per model",
    (
        (
            "Traffic and quality",
            (
                PanelSpec(
                    "Traffic share",
                    "percentunit",
                    (
                        Query(
                            f"sum by (model) ({rate('paretoroute_requests_total', OK + ',' + M)})"
                            f" / scalar(sum({rate('paretoroute_requests_total', OK)}))",
                            "{{model}}",
                        ),
                    ),
                ),
                PanelSpec(
                    "Predicted quality of routed requests (mean)",
                    "percentunit",
                    (
                        Query(
                            f"sum by (model) ({rate('paretoroute_predicted_quality_sum', M)})"
                            f" / sum by (model) ({rate('paretoroute_predicted_quality_count', M)})",
                            "{{model}}",
                        ),
                    ),
                ),
                PanelSpec(
                    "Cost per hour: predicted vs realized",
                    "currencyUSD",
                    (
                        Query(
                            f"sum by (model) ({rate('paretoroute_predicted_cost_usd_total', M)})"
                            " * 3600",
                            "predicted {{model}}",
                        ),
                        Query(
                            f"sum by (model) ({rate('paretoroute_cost_usd_total', M)}) * 3600",
                            "realized {{model}}",
                        ),
                    ),
                ),
                PanelSpec(
                    "Tokens/s",
                    "short",
                    (
                        Query(
                            f"sum by (model, kind) ({rate('paretoroute_tokens_total', M)})",
                            "{{kind}} {{model}}",
                        ),
                        Query(
                            "sum by (model) "
                            f"({rate('paretoroute_predicted_completion_tokens_total', M)})",
                            "predicted completion {{model}}",
                        ),
                    ),
                ),
            ),
        ),
        (
            "Latency and errors",
            (
                PanelSpec(
                    "End-to-end latency",
                    "s",
                    quantiles("paretoroute_request_seconds", "model", M),
                ),
                PanelSpec(
                    "Upstream latency",
                    "s",
                    quantiles("paretoroute_upstream_seconds", "model", M),
                ),
                PanelSpec(
                    "Errors by code",
                    "reqps",
                    (
                        Query(
                            f"sum by (model, status, code) ({rate('paretoroute_errors_total', M)})",
                            "{{model}} {{status}} {{code}}",
                        ),
                    ),
                ),
            ),
        ),
    ),
    model_variable=True,
)

HEALTH = DashboardSpec(
    "paretoroute-health",
    "paretoroute / Router health",
    (
        (
            "Decision and streams",
            (
                PanelSpec("Decision latency", "s", quantiles("paretoroute_decision_seconds")),
                PanelSpec(
                    "Time to first token",
                    "s",
                    quantiles("paretoroute_time_to_first_token_seconds", "model"),
                ),
                PanelSpec(
                    "In flight and workers",
                    "short",
                    (
                        Query("sum(paretoroute_in_flight_requests)", "in flight"),
                        Query("sum(paretoroute_workers)", "workers"),
                    ),
                ),
            ),
        ),
        (
            "Prediction error",
            (
                PanelSpec(
                    "Completion tokens: realized / predicted",
                    "short",
                    (
                        Query(
                            "sum by (model) "
                            f"({rate('paretoroute_tokens_total', COMPLETION)})"
                            " / sum by (model) "
                            f"({rate('paretoroute_predicted_completion_tokens_total')})",
                            "{{model}}",
                        ),
                        Query(
                            "histogram_quantile(0.5, sum by (le) "
                            f"({rate('paretoroute_completion_tokens_ratio_bucket')}))",
                            "median per request",
                        ),
                    ),
                ),
                PanelSpec(
                    "Cost: realized / predicted",
                    "short",
                    (
                        Query(
                            f"sum by (model) ({rate('paretoroute_cost_usd_total')})"
                            f" / sum by (model) ({rate('paretoroute_predicted_cost_usd_total')})",
                            "{{model}}",
                        ),
                    ),
                ),
            ),
        ),
        (
            "Fallbacks, upstreams, spend control",
            (
                PanelSpec(
                    "Fallbacks by reason",
                    "reqps",
                    (
                        Query(
                            f"sum by (reason) ({rate('paretoroute_fallbacks_total')})",
                            "{{reason}}",
                        ),
                    ),
                ),
                PanelSpec(
                    "Upstream errors by class",
                    "reqps",
                    (
                        Query(
                            "sum by (model, error_class) "
                            f"({rate('paretoroute_upstream_errors_total')})",
                            "{{model}} {{error_class}}",
                        ),
                    ),
                ),
                PanelSpec(
                    "Spend controllers: target vs actual",
                    "currencyUSD",
                    (
                        Query(
                            "sum by (profile) (paretoroute_spend_target_usd_per_hour)",
                            "target {{profile}}",
                        ),
                        Query(
                            "sum by (profile) (paretoroute_spend_rate_usd_per_hour)",
                            "actual {{profile}}",
                        ),
                    ),
                ),
                PanelSpec(
                    "Spend controllers: cost_weight",
                    "short",
                    (
                        Query("avg by (profile) (paretoroute_spend_cost_weight)", "{{profile}}"),
                        Query(
                            "max by (profile) (paretoroute_spend_cost_weight)", "max {{profile}}"
                        ),
                    ),
                    "One controller per worker; mean and max over workers.",
                ),
                PanelSpec(
                    "Loaded artifact and catalog",
                    "short",
                    (
                        Query(
                            "max by (artifact, catalog_hash) (paretoroute_build_info)",
                            "{{artifact}} {{catalog_hash}}",
                        ),
                    ),
                    stat=True,
                ),
            ),
        ),
    ),
)

DASHBOARDS = (OVERVIEW, PER_MODEL, HEALTH)


def _target(query: Query, ref: str) -> prometheus.Dataquery:
    return (
        prometheus.Dataquery()
        .expr(query.expr)
        .legend_format(query.legend or "__auto")
        .ref_id(ref)
        .datasource(DATASOURCE)
    )


def _panel(spec: PanelSpec) -> Any:
    panel = stat.Panel() if spec.stat else timeseries.Panel()
    panel = panel.title(spec.title).unit(spec.unit).datasource(DATASOURCE).height(8).span(8)
    if spec.description:
        panel = panel.description(spec.description)
    for index, query in enumerate(spec.queries):
        panel = panel.with_target(_target(query, chr(ord("A") + index)))
    return panel


def _model_variable() -> dashboard.QueryVariable:
    return (
        dashboard.QueryVariable("model")
        .label("model")
        .datasource(DATASOURCE)
        .query('label_values(paretoroute_requests_total{model!=""}, model)')
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .multi(True)
        .include_all(True)
        .all_value(ALL_MODELS)
    )


def build(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard's JSON model."""
    builder = (
        dashboard.Dashboard(spec.title)
        .uid(spec.uid)
        .tags(["paretoroute", "generated"])
        .refresh("30s")
        .time("now-1h", "now")
    )
    if spec.model_variable:
        builder = builder.with_variable(_model_variable())
    for title, panels in spec.rows:
        builder = builder.with_row(dashboard.Row(title))
        for panel in panels:
            builder = builder.with_panel(_panel(panel))
    encoded = JSONEncoder(sort_keys=True, indent=2).encode(builder.build())
    document: dict[str, Any] = json.loads(encoded)
    return document


def render(spec: DashboardSpec) -> str:
    """The file text for one dashboard."""
    return json.dumps(build(spec), indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Write every dashboard; ``--check`` fails if a committed file is stale."""
    check = "--check" in sys.argv[1:]
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for spec in DASHBOARDS:
        path = OUT / f"{spec.uid}.json"
        text = render(spec)
        if check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
            print(f"wrote {path}")
    if stale:
        sys.exit(f"stale dashboards (run make dashboards): {', '.join(stale)}")


if __name__ == "__main__":
    main()
