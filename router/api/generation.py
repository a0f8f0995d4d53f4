"""``POST /v1/chat/completions`` and ``POST /v1/completions``: plan, forward, relay."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from router.api.openapi import ERROR_RESPONSES
from router.errors import RouterError, UpstreamResponseError
from router.observe import RequestWatch, watch_of
from router.planning import Plan
from router.requestlog.capture import remember_plan
from router.resilience.calls import close_quietly
from router.schemas import ChatCompletionRequest, CompletionRequest
from router.services import Services
from router.upstream.base import ChunkBatch, Endpoint, Payload
from router.upstream.fields import DROPPED_HEADER, UnknownFields, check_fields, forwardable
from router.upstream.json_safe import check_json_safe
from router.upstream.wire import valid_usage

logger = logging.getLogger(__name__)
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
    payload = forwardable(sent, endpoint, translated=False)
    check_json_safe(payload)
    return payload, dropped


def _json(payload: Any, headers: dict[str, str]) -> Response:
    try:
        content = orjson.dumps(payload)
    except TypeError:  # e.g. an integer over 64 bits from the upstream
        raise UpstreamResponseError("The upstream's answer cannot be encoded as JSON.") from None
    return Response(content, media_type="application/json", headers=headers)


def _error_event(error: RouterError) -> bytes:
    return b"data: " + orjson.dumps(error.to_body()) + b"\n\n"


async def _sse(
    services: Services,
    plan: Plan,
    endpoint: Endpoint,
    first: ChunkBatch,
    rest: AsyncIterator[ChunkBatch],
    started: float,
    watch: RequestWatch | None,
) -> AsyncIterator[bytes]:
    name = plan.model.name
    usage: Any = None

    def events(batch: ChunkBatch) -> bytes:
        """The batch's chunks as SSE events, in one piece: one write for the batch."""
        nonlocal usage
        for chunk in batch:
            chunk["model"] = name
            usage = chunk.get("usage") or usage
        return b"".join([b"data: " + orjson.dumps(chunk) + b"\n\n" for chunk in batch])

    yield events(first)
    try:
        async for batch in rest:
            yield events(batch)
    except RouterError as error:
        # Headers are gone; the OpenAI SDK raises on an ``error`` event in the stream.
        if watch is not None:
            watch.failed_midstream(error)
        await services.failover.stream_ended(name, ok=False)
        yield _error_event(error)
    except Exception:
        # Whatever broke, the caller still gets an error event and [DONE], never a cut.
        logger.exception("stream from %s failed", name)
        failed = UpstreamResponseError(f"The stream from model {name!r} failed.")
        if watch is not None:
            watch.failed_midstream(failed)
        await services.failover.stream_ended(name, ok=False)
        yield _error_event(failed)
    else:
        await services.failover.stream_ended(name, ok=True)
        services.learning.served(plan, endpoint, valid_usage(usage), time.perf_counter() - started)
    finally:
        # A caller that disconnects mid-stream must not leave the upstream stream open.
        await close_quietly(rest)
    yield _DONE


def _served_by(request: Request, watch: RequestWatch | None, plan: Plan) -> None:
    """After a fallback, later counts and the request log name the model that answered."""
    if watch is not None:
        watch.model = plan.model.name
    remember_plan(request, plan)


async def generate(
    request: Request, body: ChatCompletionRequest | CompletionRequest, endpoint: Endpoint
) -> Response:
    services: Services = request.app.state.services
    payload, dropped = forward_body(body, endpoint, services.settings.unknown_fields)
    watch = watch_of(request)
    if watch is not None:
        watch.requested(body.model, services.catalog)
    plan = await services.planner.plan(body, request.headers)
    if watch is not None:
        watch.planned(plan)
    remember_plan(request, plan)
    await services.callers.reserve(plan.predicted_cost_usd)
    started = time.perf_counter()
    if body.stream:
        opened = await services.failover.stream(plan, endpoint, payload)
        _served_by(request, watch, opened.plan)
        if watch is not None:
            watch.first_chunk()
        first, rest = opened.value
        response: Response = StreamingResponse(
            _sse(services, opened.plan, endpoint, first, rest, started, watch),
            media_type="text/event-stream",
            headers=opened.headers(),
        )
    else:
        served = await services.failover.complete(plan, endpoint, payload)
        _served_by(request, watch, served.plan)
        result = served.value
        usage = valid_usage(result.get("usage"))
        latency_s = time.perf_counter() - started
        result["model"] = served.plan.model.name
        response = _json(result, served.headers())
        # Metrics, spend and the runtime fit learn from it once the answer is on its way:
        # this task writes the response before it next yields to the loop, and the loop
        # runs the callback then, before it reads any other request. Scheduled now, it
        # runs even if this task is cancelled or its client is gone by then.
        asyncio.get_running_loop().call_soon(
            services.learning.served, served.plan, endpoint, usage, latency_s
        )
    if dropped:
        response.headers[DROPPED_HEADER] = ",".join(dropped)
    return response


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
    return await generate(request, body, "chat")


@api.post("/v1/completions", responses=ERROR_RESPONSES)
async def completions(request: Request, body: CompletionRequest) -> Response:
    """Legacy text completions, routed like chat completions."""
    return await generate(request, body, "text")
