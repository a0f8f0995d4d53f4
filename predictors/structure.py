"""Structure features of a prompt text: 12 columns of length, character mix and markers.

log length in characters, words and lines, digit / upper-case / non-ASCII / punctuation
fractions, code markers (``CODE``), math markers (``MATH``), multiple-choice options
(``OPTION``), question mark, blank-line-separated blocks (few-shot examples).

The markers are defined by the regular expressions below (``regex_row`` evaluates them
as written). For plain-ASCII text, ``ascii_row`` counts the same matches without the
regex engine, which spends most of its time trying ``\\b`` at every position: each
alternative of ``CODE`` and ``MATH`` starts with a different character and none can
start inside another's match, so the count of the alternation is the sum of the
alternatives' counts; a word alternative is a ``str.find`` plus the ASCII ``\\b`` test,
``re.I`` is a ``str.lower()``, and the character classes are one ``bincount`` of the
bytes. The two agree on every RouterBench prompt (``tests/predictors``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
CODE = re.compile(r"```|\bdef |\bfunction\b|\bpython\b|\breturn\b|[{};]\s*$|\bclass ", re.M)
MATH = re.compile(r"\d\s*[-+*/^=]\s*\d|\\frac|\bsolve\b|\bequation\b|\bcalculate\b", re.I)
OPTION = re.compile(r"^\s*\(?[A-E][).:]\s", re.M)
STRUCTURE_NAMES = (
    "log_chars", "log_words", "log_lines", "digit_frac", "upper_frac", "non_ascii_frac",
    "punct_frac", "code_markers", "math_markers", "n_options", "has_question", "n_blocks",
)  # fmt: skip

PUNCT = ",.;:!?()[]{}\"'"
_PUNCT_CODES = tuple(PUNCT.encode())
_WORD_CHARS = frozenset(string.ascii_letters + string.digits + "_")
#: The word alternatives of ``CODE`` (case-sensitive) and ``MATH`` (lower-cased text), and
#: whether each ends in ``\b``. None of them can overlap itself.
_CODE_WORDS = (("def ", False), ("function", True), ("python", True), ("return", True),
               ("class ", False))  # fmt: skip
_MATH_WORDS = (("solve", True), ("equation", True), ("calculate", True))
_CODE_BRACE = re.compile(r"[{};]\s*$", re.M)
_MATH_ARITHMETIC = re.compile(r"\d\s*[-+*/^=]\s*\d")


def _bounded(text: str, word: str, end_bounded: bool) -> int:
    """Matches of ``\\bword`` (``\\bword\\b`` when ``end_bounded``) in ASCII ``text``."""
    count, start = 0, text.find(word)
    while start >= 0:
        end = start + len(word)
        if (start == 0 or text[start - 1] not in _WORD_CHARS) and (
            not end_bounded or end == len(text) or text[end] not in _WORD_CHARS
        ):
            count += 1
        start = text.find(word, start + 1)
    return count


def _code_markers(text: str) -> int:
    words = sum(_bounded(text, word, end) for word, end in _CODE_WORDS if word in text)
    braces = len(_CODE_BRACE.findall(text)) if any(c in text for c in "{};") else 0
    return text.count("```") + words + braces


def _math_markers(text: str, has_digits: bool = True) -> int:
    lower = text.lower()
    words = sum(_bounded(lower, word, end) for word, end in _MATH_WORDS if word in lower)
    arithmetic = len(_MATH_ARITHMETIC.findall(text)) if has_digits else 0  # needs a digit
    return lower.count("\\frac") + words + arithmetic


def _common(text: str, code: int, math: int, counts: tuple[int, int, int, int]) -> list[float]:
    n = max(len(text), 1)
    digits, upper, non_ascii, punct = counts
    sizes = [len(text), len(text.split()), text.count("\n")]
    # One elementwise call for the three logs: the same value for each as its own call.
    log_chars, log_words, log_lines = np.log1p(np.array(sizes, dtype=np.float64)).tolist()
    return [
        log_chars,
        log_words,
        log_lines,
        digits / n,
        upper / n,
        non_ascii / n,
        punct / n,
        float(code),
        float(math),
        float(len(OPTION.findall(text))),
        float("?" in text),
        float(len([b for b in text.split("\n\n") if b.strip()])),
    ]


def ascii_row(text: str) -> list[float]:
    """The structure features of plain-ASCII ``text`` (see the module docstring)."""
    codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    counts = np.bincount(codes, minlength=128).tolist()
    digits = sum(counts[48:58])
    classes = (digits, sum(counts[65:91]), 0, sum(counts[c] for c in _PUNCT_CODES))
    return _common(text, _code_markers(text), _math_markers(text, digits > 0), classes)


def regex_row(text: str) -> list[float]:
    """The structure features of any ``text``, by the regular expressions and ``str`` tests."""
    punct = sum(text.count(c) for c in PUNCT)
    digits = sum(c.isdigit() for c in text)
    upper = sum(c.isupper() for c in text)
    classes = (digits, upper, sum(ord(c) > 127 for c in text), punct)
    return _common(text, len(CODE.findall(text)), len(MATH.findall(text)), classes)


def structure_features(texts: Sequence[str]) -> FloatArray:
    """(n, 12) length and structure features of the full prompt texts."""
    rows = [ascii_row(t) if t.isascii() else regex_row(t) for t in texts]
    return np.array(rows, dtype=np.float64).reshape(len(texts), -1)
