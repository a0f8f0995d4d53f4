"""The plain-ASCII structure counts equal the regular expressions they stand for, and a
long text's counts equal the sum of its pieces' counts."""

from __future__ import annotations

import numpy as np

from predictors.blocks import split_blocks
from predictors.prompts import last_user_text, prompt_text
from predictors.structure import (
    BLOCK_COUNTS,
    SPLIT_MIN_CHARS,
    ascii_block_counts,
    ascii_counts,
    ascii_row,
    count_units,
    regex_row,
    structure_features,
)
from tests.predictors.texts import fuzz_texts, routerbench_texts

EDGES = [
    "", "def f(): return 1", "DEF x", "_function", "function_", "functions", "xfunction",
    "return;\n", "{ \n  }\t\r\n;", "1 + 2 + 3", "1+2solve", "SOLVE it", "Solve_",
    "\\FRAC{1}{2}", "```````", "class A:\n", "subclass B", "A) x\n(B) y\nC. z", "python3",
    " Python ", "calculated", "equation.", "a;\x0b\n", "; \x0c", "}\x1c", "deflate def  def",
]  # fmt: skip
PIECES = [
    "def ", "function", "python", "return", "class ", "solve", "Equation", "CALCULATE",
    "\\frac", "`", ";", "{", "}", " ", "\n", "\t", "_", "x", "1", "+", "=", "A) ", "?",
]  # fmt: skip


def _ascii_texts() -> list[str]:
    texts = routerbench_texts(last_user_text, prompt_text)
    fuzz = fuzz_texts(PIECES, 5000, 0, 15)
    return [t for t in texts + EDGES + fuzz if t.isascii()]


def test_ascii_counts_equal_the_regexes() -> None:
    texts = _ascii_texts()
    assert len(texts) > 9000
    fast = np.array([ascii_row(t) for t in texts])
    reference = np.array([regex_row(t) for t in texts])
    np.testing.assert_array_equal(fast, reference)
    assert reference[:, 7].max() > 3 and reference[:, 8].max() > 3  # markers were exercised


def test_non_ascii_text_goes_through_the_regexes() -> None:
    text = "Résous l'équation 2 + 2 = x ; def f(): return 1\nA) oui"
    np.testing.assert_array_equal(structure_features([text])[0], regex_row(text))
    assert structure_features([text])[0, 5] > 0  # non-ASCII fraction


def test_log_sizes_equal_one_log1p_call_each() -> None:
    # ``_common`` takes the three logs in one elementwise call; each must equal its own call.
    sizes = list(range(0, 5000)) + [10**k + d for k in range(4, 9) for d in (-1, 0, 1)]
    batched = np.log1p(np.array(sizes, dtype=np.float64)).tolist()
    for size, value in zip(sizes, batched, strict=True):
        assert value == float(np.log1p(size))
    for text in ["", "a", "a b\nc", "x " * 999 + "\n" * 77]:
        row = ascii_row(text)
        expected = [float(np.log1p(n)) for n in (len(text), len(text.split()), text.count("\n"))]
        assert row[:3] == expected


BLOCK_PIECES = [
    *PIECES, "\n\n", "\n\n", "\n\n\n", " \n\n", "7", "3 ", "-", "*", "/", "^", "(", ")",
    "(C) ", "B. ", "\x0b", "\x1c", "\r\n", "Q: ", "#### 42", "\\frac{1}{2}", "a. ",
]  # fmt: skip


def _summed(pieces: list[str]) -> tuple[int, ...]:
    return tuple(map(sum, zip(*map(ascii_counts, pieces), strict=True)))


def test_counts_add_up_over_the_pieces_of_a_text() -> None:
    texts = _ascii_texts() + fuzz_texts(BLOCK_PIECES, 6000, 1, 60)
    joined = 0
    for text in texts:
        units = count_units(text)
        assert "".join(units) == text
        joined += len(units) < len(split_blocks(text))
        assert _summed(units) == ascii_counts(text), repr(text)
    assert joined > 100  # arithmetic across a cut was exercised


def test_long_texts_are_counted_by_remembered_pieces() -> None:
    texts = [t for t in _ascii_texts() if len(t) >= SPLIT_MIN_CHARS]
    texts += fuzz_texts(BLOCK_PIECES, 1500, 150, 400)
    assert len(texts) > 5000
    for _ in range(2):  # the second round finds every piece remembered
        for text in texts:
            assert ascii_block_counts(text) == ascii_counts(text), repr(text)
    rows = structure_features(texts[:50])
    np.testing.assert_array_equal(rows, np.array([regex_row(t) for t in texts[:50]]))


def test_cuts_inside_arithmetic_keep_their_sides_together() -> None:
    """Without the joins, a marker across a cut would be lost or counted twice."""
    padding = "Worked example, nothing to count here at all.\n\n" * 12
    for tail in ["12\n\n+ 5 is asked", "3 *\n\n4 then", "x = 9\n\n\n-1 more"]:
        text = padding + tail
        naive = _summed(split_blocks(text))
        assert naive != ascii_counts(text)  # the cut does hold a marker
        assert ascii_block_counts(text) == ascii_counts(text)


def test_examples_seen_before_are_not_counted_again() -> None:
    examples = "".join(
        f"Question {n}: a shop sells {n} boxes of {n + 3} pens. How many pens?\nAnswer: "
        f"{n * (n + 3)} pens.\n\n"
        for n in range(8)
    )
    ascii_block_counts(examples + "Question: what is 7 * 8?\nAnswer:")
    hits = BLOCK_COUNTS.hits
    second = examples + "Question: what is 6 * 9?\nAnswer:"
    assert ascii_block_counts(second) == ascii_counts(second)
    assert BLOCK_COUNTS.hits - hits == 8  # the worked examples; the new question is counted
