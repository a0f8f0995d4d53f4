"""The static embedder's fast path gives model2vec's own vectors, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from predictors.embedders import StaticEmbedder
from predictors.embedders.base import normalise
from predictors.prompts import embedding_text, prompt_text
from tests.predictors.texts import routerbench_texts

ROOT = Path(__file__).resolve().parents[2]
EMBEDDER = ROOT / "predictors" / "default_artifact" / "embedder"
ODD_TEXTS = [
    "", "   ", "\x7f", "\x00abc", "A" * 150, "a" * 101 + " b", "x" * 5000, "word " * 700,
    "Hello\tWorld\r\n!!", "naïve café", "日本語のテキスト", "e\u0301", "ZZZ###qqq 3.14159",
    "don't stop_me now-ish", "`code` {x: [1, 2]} ~/path\\to", "Zeb\x0bra\x0cfish",
]  # fmt: skip


@pytest.fixture(scope="module")
def embedder() -> StaticEmbedder:
    return StaticEmbedder(EMBEDDER)


def _routerbench_texts() -> list[str]:
    return routerbench_texts(embedding_text, prompt_text)


def _reference(embedder: StaticEmbedder, texts: list[str]) -> np.ndarray:
    model = embedder._model
    vectors = model.encode(texts, show_progress_bar=False, use_multiprocessing=False)
    array = np.asarray(vectors, dtype=np.float32)
    return array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)


def test_normalise_equals_linalg_norm() -> None:
    rng = np.random.default_rng(0)
    for dtype in (np.float16, np.float32, np.float64):
        vectors: np.ndarray = rng.normal(size=(50, 128)).astype(dtype)
        vectors[3] = 0.0
        array = np.asarray(vectors, dtype=np.float32)
        expected = array / np.maximum(np.linalg.norm(array, axis=1, keepdims=True), 1e-12)
        np.testing.assert_array_equal(normalise(vectors), expected)


def test_fast_path_is_taken(embedder: StaticEmbedder) -> None:
    assert embedder._wordpiece is not None
    assert embedder._wordpiece.ids("Plain ASCII, please!") is not None
    assert embedder._wordpiece.ids("naïve") is None
    assert embedder._wordpiece.ids("bell\x07") is None


def test_token_ids_match_the_tokenizer(embedder: StaticEmbedder) -> None:
    tokenizer = embedder._model.tokenizer
    texts = _routerbench_texts() + ODD_TEXTS
    checked = 0
    for text in texts:
        fast = embedder._wordpiece.ids(text) if embedder._wordpiece else None
        if fast is not None:
            assert fast[:512] == tokenizer.encode(text, add_special_tokens=False).ids, text
            checked += 1
    assert checked > 0.95 * len(texts)


def test_vectors_equal_model2vec_on_routerbench(embedder: StaticEmbedder) -> None:
    texts = _routerbench_texts() + ODD_TEXTS
    np.testing.assert_array_equal(embedder.embed(texts), _reference(embedder, texts))
    for text in texts[:50] + ODD_TEXTS:  # one at a time, as the server embeds
        np.testing.assert_array_equal(embedder.embed([text]), _reference(embedder, [text]))


def test_words_outside_the_vocabulary_split_as_the_tokenizer_splits(
    embedder: StaticEmbedder,
) -> None:
    from predictors.embedders.wordpiece import AsciiWordPiece

    tokenizer = embedder._model.tokenizer
    wordpiece = AsciiWordPiece(tokenizer)  # nothing remembered yet: every word is split
    rng = np.random.default_rng(7)
    letters = list("abcdefghijklmnopqrstuvwxyz0123456789")
    words = ["".join(rng.choice(letters, size=n)) for n in rng.integers(1, 40, size=3000)]
    words += [str(n) for n in rng.integers(0, 10**12, size=500)]
    words += ["a" * 100, "b" * 101, "q" * 250, "zzzzxq9", "unbelievably", "tokenization"]
    split_here = 0
    for word in words:
        expected = tokenizer.encode(word, add_special_tokens=False).ids
        assert wordpiece.ids(word) == expected, word
        split_here += wordpiece._split(word) is not None
    assert split_here > 0.95 * len(words)  # the tokenizer is asked only for the rest


def _prompts_sharing_starts() -> list[str]:
    """RouterBench prompts (few-shot: most share their start) and made-up ones that put
    the cut next to truncation, unknown words and non-ASCII text."""
    texts = [t for t in _routerbench_texts() if len(t) >= 512]
    examples = "\n\n".join(f"Example {n}: " + "lorem ipsum dolor " * 6 for n in range(8))
    made = [
        f"{examples}\n\nQuestion: which is it?",
        f"{examples}\n\nQuestión: ¿cuál?",  # a start that is plain, a last block that is not
        f"{examples}\n\n" + "zq" * 60 + " unknown word",  # [UNK] in the last block
        "a" * 120 + f" start\n\n{examples}\n\nQuestion: and now?",  # [UNK] in the start
        "word " * 600 + "\n\nQuestion: past the token limit?",  # truncated inside the start
        "word " * 505 + "\n\nQuestion: cut inside the last block, " + "more " * 20,
        "naïve " * 100 + "\n\nQuestion: a start that is not plain?",
        "word " * 600 + "\n\nQuestión: ¿past the limit, and not plain?",
        "zq" * 60 + " word" * 600 + "\n\nQuestion: [UNK] in a truncated start?",
        "zq" * 60 + " word" * 600 + "\n\nQuestión: ¿and a last block that is not plain?",
        "\n\n" + examples,  # a blank first line: no block ends before the text's end
    ]
    return texts + made


def test_remembered_starts_give_the_same_bits(embedder: StaticEmbedder) -> None:
    fresh = StaticEmbedder(EMBEDDER)
    texts = _prompts_sharing_starts()
    rng = np.random.default_rng(3)
    order = [texts[i] for i in rng.permutation(len(texts))] * 2
    for text in order:  # one at a time, as the server embeds
        np.testing.assert_array_equal(fresh.embed([text]), _reference(fresh, [text]))
    assert fresh.prefixes.hits > len(texts)  # the starts were taken from the memo
