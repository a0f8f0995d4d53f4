"""Per model (``model`` variable): share, quality, cost, tokens, latency, errors."""

from __future__ import annotations

from scripts.grafana.spec import (
    OK,
    DashboardSpec,
    M,
    PanelSpec,
    Query,
    quantiles,
    rate,
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
