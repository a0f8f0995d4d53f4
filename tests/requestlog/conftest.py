"""Fixtures: the router tests' fake upstream on loopback and its three-model catalog."""

from tests.router.conftest import _reset_upstream, catalog, upstream_state, upstream_url

__all__ = ["_reset_upstream", "catalog", "upstream_state", "upstream_url"]
