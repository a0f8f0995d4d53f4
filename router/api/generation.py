"""``POST /v1/chat/completions`` and ``POST /v1/completions``: plan, forward, relay."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from router.api.openapi import ERROR_RESPONSES
from router.errors import RouterError, UpstreamError
from router.planning import Plan
from router.schemas import ChatCompletionRequest, CompletionRequest
from router.services import Services
from router.upstream.base import Endpoint, Payload
from router.upstream.fields import DROPPED_HEADER, UnknownFields, check_fields, forwardable

api = APIRouter(tags=["generation"])

_DONE = b"data: [DONE]\n\n"


def forward_body(
    body: ChatCompletionRequest | CompletionRequest, endpoint: Endpoint, unknown: UnknownFields
) -> tuple[Payload, tuple[str, ...]]:
    """What the upstream receives (the caller's OpenAI fields) and the fields dropped.

    Provider fields (``api_base``, ``extra_headers``, ``mock_response``, ...) are a 400;
    see ``router.upstream.fields``.
    """
    sent = body.model_dump(exclude_unset=True, exclude={"router"})
    dropped = check_fields(sent, endpoint, unknown)
    return forwardable(sent, endpoint, translated=False), dropped


def _json(payload: Any, headers: dict[str, str]) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json", headers=headers)


async def _sse(
    services: Services,
    plan: Plan,
    endpoint: Endpoint,
    first: Payload,
    rest: AsyncIterator[Payload],
    started: float,
) -> AsyncIterator[bytes]:
    name = plan.model.name
    first["model"] = name
    usage = first.get("usage")
    yield b"data: " + orjson.dumps(first) + b"\n\n"
    try:
        async for chunk in rest:
            chunk["model"] = name
            usage = chunk.get("usage") or usage
            yield b"data: " + orjson.dumps(chunk) + b"\n\n"
    except RouterError as error:
        # Headers are gone; the OpenAI SDK raises on an ``error`` event in the stream.
        services.metrics.errors.labels(str(error.status_code), error.code or "").inc()
        yield b"data: " + orjson.dumps(error.to_body()) + b"\n\n"
    else:
        services.feedback.served(plan, endpoint, usage, time.perf_counter() - started)
    finally:
        # A caller that disconnects mid-stream must not leave the upstream stream open.
        close = getattr(rest, "aclose", None)
        if close is not None:
            await close()
    yield _DONE


async def _stream(
    services: Services, plan: Plan, endpoint: Endpoint, body: Payload, headers: dict[str, str]
) -> Response:
    started = time.perf_counter()
    chunks = services.upstream.stream(plan.target, endpoint, body).__aiter__()
    try:
        first = await chunks.__anext__()
    except StopAsyncIteration:
        raise UpstreamError(f"model {plan.model.name!r} returned an empty stream") from None
    return StreamingResponse(
        _sse(services, plan, endpoint, first, chunks, started),
        media_type="text/event-stream",
        headers=headers,
    )


async def _generate(
    request: Request, body: ChatCompletionRequest | CompletionRequest, endpoint: Endpoint
) -> Response:
    services: Services = request.app.state.services
    payload, dropped = forward_body(body, endpoint, services.settings.unknown_fields)
    plan = await services.planner.plan(body, request.headers)
    await services.callers.reserve(plan.predicted_cost_usd)
    headers = plan.headers()
    if dropped:
        headers[DROPPED_HEADER] = ",".join(dropped)
    if body.stream:
        return await _stream(services, plan, endpoint, payload, headers)
    started = time.perf_counter()
    result = await services.upstream.complete(plan.target, endpoint, payload)
    services.feedback.served(plan, endpoint, result.get("usage"), time.perf_counter() - started)
    result["model"] = plan.model.name
    return _json(result, headers)


@api.post(
    "/v1/chat/completions",
    responses={
        200: {
            "description": "A chat completion, or an SSE stream of chunks when stream=true.",
            "content": {"application/json": {}, "text/event-stream": {}},
        },
        **ERROR_RESPONSES,
    },
)
async def chat_completions(request: Request, body: ChatCompletionRequest) -> Response:
    """Route (``model: "auto"`` or ``"auto:<profile>"``) or forward to a named model."""
    return await _generate(request, body, "chat")


@api.post("/v1/completions", responses=ERROR_RESPONSES)
async def completions(request: Request, body: CompletionRequest) -> Response:
    """Legacy text completions, routed like chat completions."""
    return await _generate(request, body, "text")
