"""Exact, fast token ids of plain-ASCII text for a BERT WordPiece tokenizer.

The static embedder's cost was the Hugging Face tokenizer itself: its Unicode
normaliser and pre-tokeniser took ~0.4 ms for an 800-character prompt, ten times the
embedding lookup. For text made only of printable ASCII plus tab, newline and carriage
return (almost every prompt) the BERT pipeline reduces to three exact steps:

* ``BertNormalizer`` (clean text, CJK padding, accent stripping, lower case) only lower-cases
  and turns tab, newline and carriage return into spaces;
* ``BertPreTokenizer`` splits on whitespace and makes every ASCII punctuation character
  its own word, leaving runs of ``[a-z0-9]``;
* WordPiece maps each word independently of its neighbours, so a word's ids can be
  cached: words that are whole vocabulary entries map to their own id (greedy
  longest-match takes the whole word). Others (numbers, names, rare words) are split
  here by the same greedy longest-match over the vocabulary, ~10x cheaper than a call
  into the tokenizer, and remembered; a word that cannot be split, or is longer than
  the tokenizer's word limit, is asked of the tokenizer (it answers ``[UNK]``).

Any other text returns ``None`` and goes through the tokenizer. The equivalence with
the tokenizer on every RouterBench prompt is checked in ``tests/predictors``.
"""

from __future__ import annotations

import json
import re
from itertools import chain
from typing import Any

#: Words of a lower-cased plain-ASCII text: alphanumeric runs and single punctuation marks.
_WORDS = re.compile(r"[a-z0-9]+|[!-/:-@\[-`{-~]")
#: Characters outside printable ASCII, tab, newline and carriage return.
_NOT_PLAIN = re.compile(r"[^\t\n\r -~]")
#: Most words remembered beyond the vocabulary (a bound on memory, not on correctness).
MAX_CACHED_WORDS = 200_000


def is_bert_wordpiece(tokenizer: Any) -> bool:
    """True when ``tokenizer`` is an uncased BERT WordPiece pipeline with no extra steps."""
    config = json.loads(tokenizer.to_str())
    normalizer, pre = config.get("normalizer") or {}, config.get("pre_tokenizer") or {}
    return bool(
        config.get("model", {}).get("type") == "WordPiece"
        and normalizer.get("type") == "BertNormalizer"
        and normalizer.get("lowercase") is True
        and normalizer.get("clean_text") is True
        and pre.get("type") == "BertPreTokenizer"
        and not config.get("post_processor")
    )


class AsciiWordPiece:
    """Token ids of plain-ASCII text, identical to ``tokenizer.encode(text).ids``."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        vocab: dict[str, int] = tokenizer.get_vocab()
        model = json.loads(tokenizer.to_str())["model"]
        longest = model.get("max_input_chars_per_word", 100)
        self._vocab = vocab
        self._longest = longest
        self._continuing = model.get("continuing_subword_prefix", "##")
        self._words: dict[str, tuple[int, ...]] = {
            token: (index,)
            for token, index in vocab.items()
            if len(token) <= longest and _WORDS.fullmatch(token)
        }
        self._limit = len(self._words) + MAX_CACHED_WORDS

    def ids(self, text: str) -> list[int] | None:
        """Token ids without special tokens, or ``None`` when ``text`` is not plain ASCII."""
        # ``isprintable`` (a C scan) settles single-line text; tab, newline and carriage
        # return are plain too, so other text asks the expression.
        if not text.isascii() or (not text.isprintable() and _NOT_PLAIN.search(text)):
            return None
        found = _WORDS.findall(text.lower())
        known = list(map(self._words.get, found))  # a C loop: most words are known
        if None in known:
            pieces = [self._words.get(word) or self._encode_word(word) for word in found]
            return list(chain.from_iterable(pieces))
        return list(chain.from_iterable(known))  # type: ignore[arg-type]

    def _split(self, word: str) -> tuple[int, ...] | None:
        """WordPiece's greedy longest-match-first split of ``word``; None if it fails."""
        if len(word) > self._longest:
            return None
        vocab, pieces, start = self._vocab, [], 0
        while start < len(word):
            prefix = self._continuing if start else ""
            for end in range(len(word), start, -1):
                found = vocab.get(prefix + word[start:end])
                if found is not None:
                    pieces.append(found)
                    start = end
                    break
            else:
                return None
        return tuple(pieces)

    def _encode_word(self, word: str) -> tuple[int, ...]:
        pieces = self._split(word)
        if pieces is None:
            pieces = tuple(self._tokenizer.encode(word, add_special_tokens=False).ids)
        if len(self._words) < self._limit:
            self._words[word] = pieces
        return pieces
