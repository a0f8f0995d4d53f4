"""The ``Upstream`` protocol and the value types that cross it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Endpoint = Literal["chat", "text"]
#: An OpenAI response or stream chunk, exactly as it goes on the wire.
Payload = dict[str, Any]
#: The chunks of a stream that arrived together (never empty): relayed in one write, so
#: a stream costs the relay one pass per network read, not one per token.
ChunkBatch = list[Payload]


@dataclass(frozen=True, slots=True)
class UpstreamTarget:
    """Where and how to call one catalog model."""

    model: str
    litellm_model: str
    api_base: str | None
    api_key: str | None
    #: Bounds a whole non-streaming call, and each wait between chunks of a stream.
    timeout_s: float
    headers: tuple[tuple[str, str], ...] = field(default=())
    #: Bounds opening the connection (None: ``timeout_s``).
    connect_timeout_s: float | None = None
    #: Bounds the wait for the response head / first stream chunk (None: ``timeout_s``).
    first_byte_timeout_s: float | None = None

    @property
    def connect_s(self) -> float:
        """The connect timeout in effect."""
        return min(self.connect_timeout_s or self.timeout_s, self.timeout_s)

    @property
    def first_byte_s(self) -> float:
        """The first-byte (first-token) timeout in effect."""
        return min(self.first_byte_timeout_s or self.timeout_s, self.timeout_s)


class Upstream(Protocol):
    """Calls a model. Raises ``router.errors.UpstreamError`` (or its timeout subclass)."""

    async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> Payload:
        """One non-streaming call; returns the OpenAI response object."""
        ...

    def stream(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload
    ) -> AsyncIterator[ChunkBatch]:
        """A streaming call; yields OpenAI chunk objects, in batches of those that arrived
        together, until the stream ends."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
