"""What was worked out from a text, remembered: token counts of messages and blocks
already seen, the embedder's sums over prompt prefixes already seen.

A chat client resends the whole history every turn, and counting it again is the bulk of
a long conversation's decision: at turn 20 of a real conversation (39 messages, 10,183
tokens) counting took 5.9 ms of a 7.9 ms decision, on the event loop
(``bench/chat_history_tokens.py``). Prompts also repeat blocks (few-shot examples,
system prompts; ``predictors.blocks``). ``TextMemo`` remembers ``compute(text)`` for
long texts and drops the least recently used first.

It keeps no text: a value is filed under the text's length and Python's string hash
(SipHash with a per-process random key), so the memo holds no prompt content and costs
~100 bytes per entry plus the value. Two different texts of the same length would have
to collide on 64 bits for a value to be wrong: with the table full, about one chance in
10^9. The event loop and the scorer thread both ask, so a lock guards the table; the
computation itself runs outside it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

#: Texts shorter than this are computed every time (a few microseconds; not worth a slot).
MIN_CHARS = 256
#: Entries kept at most (about 10 MB per process when full).
MAX_ENTRIES = 100_000


class TextMemo(Generic[T]):
    """``compute(text)`` for long texts, remembered; least recently used dropped first."""

    def __init__(
        self,
        compute: Callable[[str], T],
        *,
        min_chars: int = MIN_CHARS,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.compute = compute
        self.min_chars = min_chars
        self.max_entries = max_entries
        self.hits = 0
        self._values: OrderedDict[tuple[int, int], T] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def get(self, text: str) -> T:
        """``compute(text)``, from the table when ``text`` was seen before."""
        if len(text) < self.min_chars:
            return self.compute(text)
        key = (len(text), hash(text))
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values.move_to_end(key)
                self.hits += 1
                return found
        value = self.compute(text)
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)
        return value
