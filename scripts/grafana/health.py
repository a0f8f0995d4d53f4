"""Router health: decision, streams, prediction error, fallbacks, spend control."""

from __future__ import annotations

from scripts.grafana.spec import (
    COMPLETION,
    DashboardSpec,
    PanelSpec,
    Query,
    quantiles,
    rate,
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
