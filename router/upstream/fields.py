"""Request hygiene: which caller fields may reach an upstream, on every path.

The router holds the provider keys, so nothing a caller sends may choose where or how an
upstream is called. Three sets decide each top-level body field:

- ``PROVIDER_FIELDS``: fields that steer the upstream call itself (``api_base``,
  ``base_url``, ``api_key``, ``extra_headers``, ``mock_response``,
  ``custom_llm_provider``, litellm's own keyword arguments, ...). Never taken from a
  caller: always a 400, whatever the unknown-field setting says.
- ``CHAT_FIELDS`` / ``TEXT_FIELDS``: the OpenAI request fields of chat and legacy
  completions, forwarded as sent (``model`` is rewritten, ``router`` is ours).
- anything else: rejected with a 400 naming it (``unknown_fields="reject"``, the default,
  as OpenAI itself answers) or dropped (``unknown_fields="drop"``, reported in the
  ``x-paretoroute-dropped-fields`` response header).

``TRANSLATED_EXCLUDED`` are OpenAI fields that litellm reads as its own keyword
arguments (``metadata`` feeds its logging callbacks), so the translating path drops them.
``forwardable`` is applied again inside each upstream, so a body that bypassed the HTTP
edge still cannot steer a call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from router.errors import InvalidRequestError
from router.upstream.base import Endpoint, Payload

UnknownFields = Literal["reject", "drop"]

_COMMON = frozenset(
    {
        "model",
        "stream",
        "stream_options",
        "max_tokens",
        "temperature",
        "top_p",
        "n",
        "stop",
        "seed",
        "user",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
    }
)

CHAT_FIELDS = _COMMON | {
    "messages",
    "max_completion_tokens",
    "top_logprobs",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "functions",
    "function_call",
    "response_format",
    "reasoning_effort",
    "verbosity",
    "modalities",
    "audio",
    "prediction",
    "web_search_options",
    "service_tier",
    "store",
    "metadata",
    "prompt_cache_key",
    "safety_identifier",
}

TEXT_FIELDS = _COMMON | {"prompt", "best_of", "echo", "suffix"}

#: Never from a caller: each one redirects, re-authenticates, fakes or reconfigures the
#: upstream call (most are litellm keyword arguments that ``acompletion`` honours).
PROVIDER_FIELDS = frozenset(
    {
        "api_base",
        "base_url",
        "api_key",
        "api_version",
        "api_type",
        "organization",
        "project",
        "deployment_id",
        "azure_ad_token",
        "azure_ad_token_provider",
        "extra_headers",
        "extra_body",
        "extra_query",
        "headers",
        "mock_response",
        "mock_tool_calls",
        "mock_timeout",
        "custom_llm_provider",
        "litellm_params",
        "litellm_metadata",
        "litellm_call_id",
        "litellm_logging_obj",
        "model_list",
        "fallbacks",
        "context_window_fallback_dict",
        "timeout",
        "num_retries",
        "max_retries",
        "client",
        "callbacks",
        "success_callback",
        "failure_callback",
        "logger_fn",
        "input_cost_per_token",
        "output_cost_per_token",
        "drop_params",
        "additional_drop_params",
        "allowed_openai_params",
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_region_name",
        "aws_profile_name",
        "aws_role_name",
        "aws_bedrock_runtime_endpoint",
        "vertex_project",
        "vertex_location",
        "vertex_credentials",
        "region_name",
        "proxy_server_request",
        "caching",
        "cache",
    }
)

#: OpenAI fields litellm treats as its own arguments; not sent down the translating path.
TRANSLATED_EXCLUDED = frozenset({"metadata"})

DROPPED_HEADER = "x-paretoroute-dropped-fields"


def allowed_fields(endpoint: Endpoint) -> frozenset[str]:
    """The OpenAI request fields of one endpoint."""
    return CHAT_FIELDS if endpoint == "chat" else TEXT_FIELDS


def check_fields(
    names: Iterable[str], endpoint: Endpoint, unknown: UnknownFields
) -> tuple[str, ...]:
    """Fields to drop from a caller's body; raises ``InvalidRequestError`` for a refused one.

    Provider fields are always refused; other unknown fields are refused or dropped per
    ``unknown``. ``router`` is the router's own object and is never forwarded.
    """
    allowed = allowed_fields(endpoint)
    dropped: list[str] = []
    for name in names:
        if name == "router" or name in allowed:
            continue
        if name in PROVIDER_FIELDS:
            raise InvalidRequestError(
                f"Request argument {name!r} is not accepted: the router decides where and "
                "how upstream models are called.",
                param=name,
                code="forbidden_parameter",
            )
        if unknown == "reject":
            raise InvalidRequestError(
                f"Unrecognized request argument supplied: {name!r}.",
                param=name,
                code="unknown_parameter",
            )
        dropped.append(name)
    return tuple(sorted(dropped))


def forwardable(body: Mapping[str, Any], endpoint: Endpoint, *, translated: bool) -> Payload:
    """Only the allowed OpenAI fields of ``body`` (minus litellm's own on that path)."""
    allowed = allowed_fields(endpoint)
    if translated:
        allowed = allowed - TRANSLATED_EXCLUDED
    return {name: value for name, value in body.items() if name in allowed}
