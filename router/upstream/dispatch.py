"""Choose, per target, between in-process apps, direct OpenAI forwarding and litellm.

Rule: an ``api_base`` naming an in-process app (``builtin:replay``) goes to that app; a
target whose litellm provider prefix is an OpenAI-compatible one (``openai``,
``hosted_vllm``, ``llamacpp``, ``lm_studio``, ``openai_compatible``) goes straight over
HTTP; everything else (``anthropic/``, ``bedrock/``, ``together_ai/``, ...) goes through
litellm, which is only imported if some catalog model needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping

from router.catalog import BUILTIN_REPLAY
from router.upstream.base import ChunkBatch, Endpoint, Payload, Upstream, UpstreamTarget

OPENAI_COMPATIBLE_PREFIXES = frozenset(
    {
        "openai",
        "hosted_vllm",
        "llamacpp",
        "lm_studio",
        "openai_compatible",
        "text-completion-openai",
    }
)


def speaks_openai(litellm_model: str, api_base: str | None) -> bool:
    """True when the target can take the OpenAI wire format as-is."""
    if api_base == BUILTIN_REPLAY:
        return True
    prefix = litellm_model.split("/", 1)[0] if "/" in litellm_model else "openai"
    return prefix in OPENAI_COMPATIBLE_PREFIXES


class DispatchingUpstream:
    """Routes each call to an in-process app, ``direct``, or a lazily built translator."""

    def __init__(
        self,
        direct: Upstream,
        translating: Callable[[], Upstream],
        in_process: Mapping[str, Upstream] | None = None,
    ) -> None:
        self._direct = direct
        self._make_translating = translating
        self._translating: Upstream | None = None
        self._in_process = dict(in_process or {})

    def _pick(self, target: UpstreamTarget) -> Upstream:
        app = self._in_process.get(target.api_base or "")
        if app is not None:
            return app
        if speaks_openai(target.litellm_model, target.api_base):
            return self._direct
        if self._translating is None:
            self._translating = self._make_translating()
        return self._translating

    async def complete(self, target: UpstreamTarget, endpoint: Endpoint, body: Payload) -> Payload:
        return await self._pick(target).complete(target, endpoint, body)

    def stream(
        self, target: UpstreamTarget, endpoint: Endpoint, body: Payload
    ) -> AsyncIterator[ChunkBatch]:
        return self._pick(target).stream(target, endpoint, body)

    async def aclose(self) -> None:
        await self._direct.aclose()
        for app in self._in_process.values():
            await app.aclose()
        if self._translating is not None:
            await self._translating.aclose()
