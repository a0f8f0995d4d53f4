"""Token counts of chat messages already seen, so a conversation's history is counted once.

A chat client resends the whole history every turn, and counting it again is the bulk of
a long conversation's decision: at turn 20 of a real conversation (39 messages, 10,183
tokens) counting took 5.9 ms of a 7.9 ms decision, on the event loop
(``bench/chat_history_tokens.py``). ``CountCache`` remembers the counts of long texts and
drops the least recently used first.

It keeps no text: a count is filed under the text's length and Python's string hash
(SipHash with a per-process random key), so the cache holds no prompt content and costs
~100 bytes per entry. Two different texts of the same length would have to collide on 64
bits for a count to be wrong: with the table full, about one chance in 10^9. The event
loop and the scorer thread both count, so a lock guards the table; the count itself runs
outside it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

#: Texts shorter than this are counted every time (a few microseconds; not worth a slot).
MIN_CHARS = 256
#: Entries kept at most (about 10 MB per process when full).
MAX_ENTRIES = 100_000


class CountCache:
    """``count(text)`` for long texts, remembered; least recently used dropped first."""

    def __init__(
        self,
        counter: Callable[[str], int],
        *,
        min_chars: int = MIN_CHARS,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.counter = counter
        self.min_chars = min_chars
        self.max_entries = max_entries
        self.hits = 0
        self._counts: OrderedDict[tuple[int, int], int] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._counts)

    def count(self, text: str) -> int:
        """``counter(text)``, from the table when ``text`` was counted before."""
        if len(text) < self.min_chars:
            return self.counter(text)
        key = (len(text), hash(text))
        with self._lock:
            found = self._counts.get(key)
            if found is not None:
                self._counts.move_to_end(key)
                self.hits += 1
                return found
        counted = self.counter(text)
        with self._lock:
            self._counts[key] = counted
            while len(self._counts) > self.max_entries:
                self._counts.popitem(last=False)
        return counted
