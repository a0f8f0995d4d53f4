"""Server-sent event streams of chunks, sync and async.

The response headers (and so ``routing``) arrive before the first chunk: a stream has
``.routing`` as soon as the call returns, and every chunk carries the same ``.routing``.
``data: [DONE]`` ends the stream; an ``{"error": ...}`` event (or ``event: error``)
raises the matching ``paretoroute.errors`` exception, a connection lost mid-stream
``ConnectionError``; neither is retried (chunks were already delivered). Use a stream
as a context manager, or iterate it to the end, so the connection is released.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any, Generic, TypeVar

import httpx

from paretoroute._retry import transport_error
from paretoroute.errors import stream_error
from paretoroute.types import RoutedResult, Routing

__all__ = ["AsyncStream", "Stream"]

ChunkT = TypeVar("ChunkT", bound=RoutedResult)


class _EventParser(Generic[ChunkT]):
    """Turns SSE lines into chunks; keeps the event name between lines."""

    def __init__(self, chunk_type: type[ChunkT], routing: Routing) -> None:
        self.chunk_type = chunk_type
        self.routing = routing
        self.event: str | None = None
        self.done = False

    def feed(self, line: str) -> ChunkT | None:
        """The chunk a line completes, if any; raises on an error event."""
        if line.startswith("event:"):
            self.event = line[6:].strip()
            return None
        if not line.startswith("data:"):
            return None
        data = line[5:].strip()
        event, self.event = self.event, None
        if data == "[DONE]":
            self.done = True
            return None
        payload: Any = json.loads(data)
        is_error_body = isinstance(payload, dict) and "error" in payload
        if event == "error" or is_error_body:
            body = payload if is_error_body else {"error": payload}
            raise stream_error(body, request_id=self.routing.request_id)
        chunk = self.chunk_type.model_validate(payload)
        chunk.routing = self.routing
        return chunk


class Stream(Generic[ChunkT]):
    """An iterator of chunks over one streaming response."""

    def __init__(self, response: httpx.Response, chunk_type: type[ChunkT]) -> None:
        self.response = response
        #: The router's decision, known before the first chunk.
        self.routing = Routing.from_headers(response.headers)
        self._parser = _EventParser(chunk_type, self.routing)

    def __iter__(self) -> Iterator[ChunkT]:
        try:
            for line in self.response.iter_lines():
                chunk = self._parser.feed(line)
                if chunk is not None:
                    yield chunk
                if self._parser.done:
                    break
        except httpx.TransportError as error:
            raise transport_error(error, self.response.request) from error
        finally:
            self.close()

    def close(self) -> None:
        """Release the connection (also done at the end of iteration)."""
        self.response.close()

    def __enter__(self) -> Stream[ChunkT]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncStream(Generic[ChunkT]):
    """An async iterator of chunks over one streaming response."""

    def __init__(self, response: httpx.Response, chunk_type: type[ChunkT]) -> None:
        self.response = response
        #: The router's decision, known before the first chunk.
        self.routing = Routing.from_headers(response.headers)
        self._parser = _EventParser(chunk_type, self.routing)

    async def __aiter__(self) -> AsyncIterator[ChunkT]:
        try:
            async for line in self.response.aiter_lines():
                chunk = self._parser.feed(line)
                if chunk is not None:
                    yield chunk
                if self._parser.done:
                    break
        except httpx.TransportError as error:
            raise transport_error(error, self.response.request) from error
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Release the connection (also done at the end of iteration)."""
        await self.response.aclose()

    async def __aenter__(self) -> AsyncStream[ChunkT]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
