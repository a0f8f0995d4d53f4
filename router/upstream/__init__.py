"""Upstreams: how a routed request reaches a model (see ``base.Upstream``)."""
