"""Grafana dashboards as code: ``python -m scripts.grafana.build`` (``make dashboards``)."""
