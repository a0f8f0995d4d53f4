"""Offline token counting.

tiktoken normally downloads its encodings; here nothing may be downloaded. litellm ships
the ``cl100k_base`` ranks file inside its package, so we build the encoding from that
file directly (without importing litellm or touching ``TIKTOKEN_CACHE_DIR``).

One documented approximation: every model's tokens are counted with ``cl100k_base``
(GPT-3.5/GPT-4's tokenizer). For Claude, Llama and Mistral families this is within
about ±15 % on English text, which is well inside the uncertainty of the predicted
completion length that dominates the cost estimate.
"""

from __future__ import annotations

import base64
import importlib.util
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import tiktoken

from predictors.blocks import SPLIT_MIN_CHARS, split_blocks
from predictors.prompts import content_text
from predictors.text_memo import TextMemo

ENCODING_NAME = "cl100k_base"
# tiktoken caches a URL's content under sha1(url); litellm ships that cache file.
_CL100K_FILE = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++"""
    r"""[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}
#: Tokens OpenAI adds per chat message (role markers) and to prime the reply.
TOKENS_PER_MESSAGE = 3
TOKENS_PER_REPLY = 3


class TokenizerUnavailableError(RuntimeError):
    """The bundled encoding file could not be found on disk."""


def _ranks_file() -> Path:
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        raise TokenizerUnavailableError("litellm is not installed; its bundled cl100k is needed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    path = folder / "litellm_core_utils" / "tokenizers" / _CL100K_FILE
    if not path.is_file():
        raise TokenizerUnavailableError(f"bundled cl100k_base ranks not found at {path}")
    return path


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The offline ``cl100k_base`` encoding (built once per process)."""
    ranks: dict[bytes, int] = {}
    for line in _ranks_file().read_bytes().splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name=ENCODING_NAME,
        pat_str=_CL100K_PATTERN,
        mergeable_ranks=ranks,
        special_tokens=_SPECIAL_TOKENS,
    )


def count_tokens(text: str) -> int:
    """Number of tokens in ``text`` (special-token strings counted as plain text)."""
    return len(encoding().encode_ordinary(text))


def truncate_tokens(text: str, max_tokens: int) -> str:
    """The longest prefix of ``text`` that has at most ``max_tokens`` tokens."""
    tokens = encoding().encode_ordinary(text)
    return text if len(tokens) <= max_tokens else encoding().decode(tokens[:max_tokens])


#: Counts of blocks already seen: few-shot examples, system prompts, templates.
BLOCK_COUNTS = TextMemo(count_tokens, min_chars=64)


def count_blocks(text: str) -> int:
    """``count_tokens(text)``, block by block, each block's count remembered.

    Prompts repeat most of their text: a few-shot prompt's worked examples, a system
    prompt, a template around the user's question (in the RouterBench replay data 82-85 %
    of the characters of the few-shot tasks are blocks seen in other prompts). The text
    is cut at the start of each block (``predictors.blocks``), and only blocks not seen
    before are counted.

    Exact: no piece of ``cl100k_base``'s pre-tokeniser (``_CL100K_PATTERN``; BPE works
    inside one piece) spans a cut. A piece holding the newline before a cut would have to
    go on with the non-space character after it: the whitespace alternatives hold only
    whitespace, the letter, number and contraction alternatives hold no newline, and the
    punctuation alternative ends with its newlines. At the end of a block its trailing
    whitespace run is one piece (``\\s++$`` there, ``\\s*[\\r\\n]`` in the whole text,
    both ending at the run's last newline), as it is in the whole text. Checked on every
    RouterBench prompt and on random texts (``tests/predictors``).
    """
    if len(text) < SPLIT_MIN_CHARS:
        return count_tokens(text)
    return sum(map(BLOCK_COUNTS.get, split_blocks(text)))


#: Counts of chat messages already seen (a conversation resends its history every turn).
MESSAGE_COUNTS = TextMemo(count_blocks)


def count_message_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """Prompt tokens of an OpenAI ``messages`` list, following OpenAI's chat accounting.

    Long messages' counts are remembered (``MESSAGE_COUNTS``): a history is counted once.
    """
    total = TOKENS_PER_REPLY
    for message in messages:
        total += TOKENS_PER_MESSAGE + MESSAGE_COUNTS.get(content_text(message.get("content")))
        if message.get("name"):
            total += 1
    return total


def count_prompt_tokens(prompt: str | Iterable[Mapping[str, Any]]) -> int:
    """Prompt tokens of plain text, or of a chat with OpenAI's per-message overhead."""
    return count_blocks(prompt) if isinstance(prompt, str) else count_message_tokens(prompt)
