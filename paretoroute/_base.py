"""Settings and parsing shared by ``Client`` and ``AsyncClient``."""

from __future__ import annotations

import os
from typing import TypeVar

import httpx

from paretoroute.types import ChatCompletion, Completion, Routing

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MAX_RETRIES = 2
BASE_URL_ENV = "PARETOROUTE_BASE_URL"
API_KEY_ENV = "PARETOROUTE_API_KEY"

RoutedT = TypeVar("RoutedT", ChatCompletion, Completion)


def resolve_base_url(base_url: str | None) -> str:
    """The server root: the argument, else ``$PARETOROUTE_BASE_URL``, else localhost:8000.

    A trailing ``/v1`` (the form the ``openai`` client takes) is accepted and removed.
    """
    url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    return url.removesuffix("/v1")


def auth_headers(api_key: str | None) -> dict[str, str]:
    """``Authorization: Bearer`` from the argument or ``$PARETOROUTE_API_KEY``, if any."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
    headers = {"user-agent": "paretoroute-python"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    return headers


def routed(result_type: type[RoutedT], response: httpx.Response) -> RoutedT:
    """The response body as ``result_type`` with ``.routing`` from its headers."""
    result = result_type.model_validate(response.json())
    result.routing = Routing.from_headers(response.headers)
    return result
