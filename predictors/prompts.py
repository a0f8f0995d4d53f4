"""Prompt helpers: flatten messages to text and pick the part worth embedding.

Real prompts share long prefixes (system prompts, few-shot examples): in RouterBench
1,300-1,700 characters of identical examples open every ARC and Winogrande prompt, so
embedding the head of a prompt makes them all look alike. We embed what distinguishes a
request instead: the **last user turn** of a chat, and of that turn its **last block**
(the text after the last blank line, which in few-shot prompts is the actual question;
earlier blocks are prepended only while the result is shorter than ``MIN_BLOCK_CHARS``),
cut to its last ``max_chars`` characters so it fits inside MiniLM's 256-token window.
Embedding the plain 800-character tail was measured worse: it still contains parts of
the shared few-shot examples (every Winogrande tail was > 0.95 cosine to another).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from predictors.base import Prompt

#: Characters of the prompt tail that are embedded (≈ 200 tokens of English).
DEFAULT_TAIL_CHARS = 800
#: A last block shorter than this gets the previous block(s) prepended.
MIN_BLOCK_CHARS = 40


def content_text(content: Any) -> str:
    """Text of an OpenAI message ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    return ""


def prompt_text(prompt: Prompt) -> str:
    """The whole prompt as one string (messages joined by blank lines)."""
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(content_text(m.get("content")) for m in prompt)


def last_user_text(prompt: Prompt) -> str:
    """The last user turn of a chat, or the whole text of a plain prompt."""
    if isinstance(prompt, str):
        return prompt
    for message in reversed(list(prompt)):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return prompt_text(prompt)


def tail(text: str, max_chars: int = DEFAULT_TAIL_CHARS) -> str:
    """The last ``max_chars`` characters of ``text``, starting at a word boundary."""
    if len(text) <= max_chars:
        return text
    cut = text[-max_chars:]
    space = cut.find(" ")
    return cut[space + 1 :] if 0 <= space < 40 else cut


def last_block(text: str, min_chars: int = MIN_BLOCK_CHARS) -> str:
    """The text after the last blank line (grown backwards while shorter than min_chars)."""
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    chosen: list[str] = []
    while blocks and sum(len(b) for b in chosen) < min_chars:
        chosen.insert(0, blocks.pop())
    return "\n\n".join(chosen)


def embedding_text(prompt: Prompt, max_chars: int = DEFAULT_TAIL_CHARS) -> str:
    """What the embedder sees for ``prompt``: the tail of the last block of its last turn."""
    return tail(last_block(last_user_text(prompt)), max_chars)
