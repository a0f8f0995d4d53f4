"""The plain-ASCII structure counts equal the regular expressions they stand for."""

from __future__ import annotations

import numpy as np

from predictors.prompts import last_user_text, prompt_text
from predictors.structure import ascii_row, regex_row, structure_features
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
