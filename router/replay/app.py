"""The replay server: a real OpenAI-compatible HTTP app answering from RouterBench.

``create_replay_app(dataset)`` returns a Starlette app with ``POST /v1/chat/completions``
(plain and SSE streaming), ``POST /v1/completions`` (plain and streaming),
``GET /v1/models`` and ``GET /healthz``. The router mounts it in-process behind
``api_base: builtin:replay``; ``python -m router.replay`` serves it on its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from router.replay.answers import ReplayAnswer, answer
from router.replay.data import ReplayDataset
from router.replay.requests import ReplayRequest, ReplayRequestError, parse_request
from router.replay.wire import Kind, error_body, full_body, stream_events

REASON_HEADER = "x-paretoroute-reason"
JSON = "application/json"
_MODELS_CREATED = 1_700_000_000  # RouterBench's models predate this; a fixed, honest bound


def _error_response(error: ReplayRequestError) -> Response:
    body = error_body(error.message, kind=error.kind, param=error.param, code=error.code)
    return Response(body, status_code=error.status, media_type=JSON)


def _answers(request: ReplayRequest, reason: str | None) -> list[ReplayAnswer]:
    return [
        answer(
            request.model,
            prompt.record,
            prompt_tokens=prompt.prompt_tokens,
            reason=reason,
            max_tokens=request.max_tokens,
        )
        for prompt in request.prompts
        for _ in range(request.n)
    ]


def _prompt_tokens(answers: Sequence[ReplayAnswer], n: int) -> int:
    # Each prompt's n answers share its prompt tokens; count every prompt once.
    return sum(a.prompt_tokens for a in answers[::n])


async def _replay_events(events: list[bytes]) -> AsyncIterator[bytes]:
    for event in events:
        yield event


def _endpoint(dataset: ReplayDataset, kind: Kind) -> Callable[[Request], Awaitable[Response]]:
    async def handle(http_request: Request) -> Response:
        try:
            request = parse_request(dataset, kind, await http_request.body())
        except ReplayRequestError as error:
            return _error_response(error)
        answers = _answers(request, http_request.headers.get(REASON_HEADER))
        prompt_tokens = _prompt_tokens(answers, request.n)
        if not request.stream:
            body = full_body(kind, request.model, answers, prompt_tokens)
            return Response(body, media_type=JSON)
        events = stream_events(
            kind, request.model, answers, prompt_tokens, include_usage=request.include_usage
        )
        return StreamingResponse(_replay_events(events), media_type="text/event-stream")

    return handle


def _models_body(dataset: ReplayDataset) -> bytes:
    data = [
        {"id": model, "object": "model", "created": _MODELS_CREATED, "owned_by": "routerbench"}
        for model in dataset.models
    ]
    return orjson.dumps({"object": "list", "data": data})


async def _http_error(_: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    error = ReplayRequestError(str(detail), status=status, code=str(status))
    return _error_response(error)


def create_replay_app(dataset: ReplayDataset) -> Starlette:
    """An OpenAI-compatible app that replays ``dataset``'s recorded answers."""
    models_body = _models_body(dataset)

    async def list_models(_: Request) -> Response:
        return Response(models_body, media_type=JSON)

    async def healthz(_: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type=JSON)

    routes = [
        Route("/v1/chat/completions", _endpoint(dataset, "chat"), methods=["POST"]),
        Route("/v1/completions", _endpoint(dataset, "text"), methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
