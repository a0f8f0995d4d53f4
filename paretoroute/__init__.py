"""paretoroute's Python SDK: a thin client of the router's HTTP API (httpx + pydantic only).

::

    from paretoroute import Client

    client = Client("http://127.0.0.1:8000")
    result = client.chat([{"role": "user", "content": "hi"}], max_cost_usd=0.001)
    print(result.choices[0].message.content, result.routing.model)

``Client`` blocks, ``AsyncClient`` awaits; both raise the exceptions drawn in
``paretoroute.errors``. This package imports nothing of the server (``router``,
``predictors``, ``policies``), so ``pip install paretoroute`` is enough to call one.
"""

from paretoroute.async_client import AsyncClient
from paretoroute.client import Client
from paretoroute.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConnectionError,
    InternalServerError,
    NoFeasibleModelError,
    NotFoundError,
    ParetorouteError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    TimeoutError,
    UpstreamError,
)
from paretoroute.preferences import RouterPreferences
from paretoroute.streaming import AsyncStream, Stream
from paretoroute.types import (
    ChatCompletion,
    ChatCompletionChunk,
    Completion,
    FeedbackResult,
    Health,
    Model,
    ModelList,
    ModelScore,
    RouteDecision,
    Routing,
    Usage,
)

__all__ = [
    "APIStatusError",
    "AsyncClient",
    "AsyncStream",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletion",
    "ChatCompletionChunk",
    "Client",
    "Completion",
    "ConnectionError",
    "FeedbackResult",
    "Health",
    "InternalServerError",
    "Model",
    "ModelList",
    "ModelScore",
    "NoFeasibleModelError",
    "NotFoundError",
    "ParetorouteError",
    "PermissionDeniedError",
    "RateLimitError",
    "RouteDecision",
    "RouterPreferences",
    "Routing",
    "ServiceUnavailableError",
    "Stream",
    "TimeoutError",
    "UpstreamError",
    "Usage",
]
