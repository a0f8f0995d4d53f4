"""Overview: traffic, spend and savings, model mix, latency, errors."""

from __future__ import annotations

from scripts.grafana.spec import (
    NOT_OK,
    OK,
    REFERENCE,
    SPEND,
    DashboardSpec,
    PanelSpec,
    Query,
    quantiles,
    rate,
)

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
