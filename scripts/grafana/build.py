"""Generate the Grafana dashboards in ``deploy/grafana/dashboards/`` (``make dashboards``).

The dashboards are tables of named panels (title, unit, PromQL with legends; one module
per dashboard beside this one) turned into Grafana JSON by grafana-foundation-sdk. The
JSON is committed; a test checks it is what this writes, and the Prometheus proof test
runs every expression in it.

    python -m scripts.grafana.build [--check]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import common, dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import (
    LegendDisplayMode,
    LegendPlacement,
    SortOrder,
    TooltipDisplayMode,
)
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

from scripts.grafana.health import HEALTH
from scripts.grafana.overview import OVERVIEW
from scripts.grafana.per_model import PER_MODEL
from scripts.grafana.spec import ALL_MODELS, DashboardSpec, PanelSpec, Query

OUT = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="paretoroute-prometheus")
DASHBOARDS = (OVERVIEW, PER_MODEL, HEALTH)


def _target(query: Query, ref: str) -> prometheus.Dataquery:
    return (
        prometheus.Dataquery()
        .expr(query.expr)
        .legend_format(query.legend or "__auto")
        .ref_id(ref)
        .datasource(DATASOURCE)
    )


def _stat() -> stat.Panel:
    return stat.Panel().reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]))


def _timeseries() -> timeseries.Panel:
    legend = (
        common.VizLegendOptions()
        .display_mode(LegendDisplayMode.LIST)
        .placement(LegendPlacement.BOTTOM)
        .show_legend(True)
    )
    tooltip = common.VizTooltipOptions().mode(TooltipDisplayMode.MULTI).sort(SortOrder.NONE)
    return timeseries.Panel().legend(legend).tooltip(tooltip)


def _panel(spec: PanelSpec) -> Any:
    panel = _stat() if spec.stat else _timeseries()
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
