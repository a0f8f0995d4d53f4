"""Make upstream text safe to show a caller: no credentials, addresses or tracebacks.

An upstream's error text is relayed so callers can fix their request, but it is not
trusted: a provider (or a misconfigured proxy) may echo the ``Authorization`` header,
name internal hosts, or append a Python traceback (litellm does). ``scrub`` removes all
of that on every path (direct, in-process and litellm) before any message leaves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_MESSAGE_CHARS = 500
REDACTED = "[redacted]"
ADDRESS = "[upstream]"

#: Credential shapes, most specific first; each match becomes ``[redacted]``.
_SECRETS = (
    re.compile(r"(?i)\b(bearer|basic|token)\s+[^\s\"',;}]+"),
    re.compile(
        r"(?i)\b(api[-_]?key|x-api-key|authorization|secret|password)(\"?\s*[:=]\s*\"?)[^\s\"',;}]+"
    ),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{12,}"),
    re.compile(r"\bAIza[0-9A-Za-z_\-]{20,}"),
    re.compile(r"\b[0-9a-fA-F]{32,}\b"),
    re.compile(r"[A-Za-z0-9+/_\-]{40,}={0,2}"),
)
#: Internal addresses: URLs, IPv4/IPv6 literals, ``host:port``.
_ADDRESSES = (
    re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s\"'<>)]+"),
    re.compile(r"\[[0-9a-fA-F:]+\](?::\d+)?"),
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),
    re.compile(r"(?i)\b(?:[a-z0-9\-]+\.)*[a-z0-9\-]+:\d{2,5}\b"),
)
_TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
_FRAME = re.compile(r"File \"[^\"]*\", line \d+[^\n]*")
_SPACE = re.compile(r"\s+")


def _label(match: re.Match[str]) -> str:
    # Keep the word that says what was removed ("Bearer", "api_key="), drop the value.
    groups = [g for g in match.groups() if g]
    return "".join(groups) + (" " if len(groups) == 1 else "") + REDACTED


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` without credentials, addresses, tracebacks; one line, at most 500 chars.

    ``secrets`` are exact strings to remove too (the target's own API key), whatever
    their shape.
    """
    cut = _TRACEBACK.search(text)
    if cut is not None:
        text = text[: cut.start()]
    text = _FRAME.sub("", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    for pattern in _SECRETS:
        text = pattern.sub(_label, text)
    for pattern in _ADDRESSES:
        text = pattern.sub(ADDRESS, text)
    text = _SPACE.sub(" ", text).strip()
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 3] + "..."
    return text
