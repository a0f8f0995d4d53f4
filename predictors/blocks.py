"""Blocks of a prompt: the parts that start after a blank line.

Prompts repeat themselves block by block: a few-shot prompt's worked examples, a system
prompt, a template around the user's question. A block starts where a blank line
(``\\n\\n``) is followed by a printable, non-space ASCII character; the blank line ends
the block before it. Tokenisers that split on whitespace (cl100k's pre-tokeniser,
BERT's) never carry a token across such a cut, so counts and token ids of a text are
those of its blocks put together (``predictors.tokens``, ``predictors.embedders``).
"""

from __future__ import annotations

import re

_BLOCK_END = re.compile(r"\n\n(?=[!-~])")  # [!-~]: printable, non-space ASCII
#: Texts shorter than this are handled whole: looking for their blocks costs more than
#: it saves (token counts, the embedder's remembered prompt starts).
SPLIT_MIN_CHARS = 512


def split_blocks(text: str) -> list[str]:
    """``text`` cut at the start of every block (the pieces join back to ``text``)."""
    cuts = [match.end() for match in _BLOCK_END.finditer(text)]
    if not cuts:
        return [text]
    return [text[start:end] for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def last_block_start(text: str) -> int:
    """Where the last block of ``text`` starts (0: the text is one block)."""
    end = len(text)
    while (found := text.rfind("\n\n", 0, end)) >= 0:
        start = found + 2
        if start < len(text) and "!" <= text[start] <= "~":
            return start
        end = found + 1  # a run of newlines: look for the blank line that ends earlier
    return 0
