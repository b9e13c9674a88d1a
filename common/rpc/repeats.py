"""Logging a state once, not at every poll that finds it again.

A client that polls (a witness asking for a checkpoint the log does not have yet, an operator's
monitor, a misconfigured node refused at every retry) repeats the same call and gets the same answer.
:class:`Repeats` lets the first of a kind be logged, counts the repeats, and lets it be logged again,
with their count, once ``window`` seconds have passed: one line per state and window, whatever the
polling rate. What is remembered is bounded (the oldest kinds are forgotten first).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["Repeats"]


class Repeats:
    """Not thread-safe: one per event loop (the gRPC boundary's) or under the caller's lock."""

    def __init__(self, window: float, *, size: int = 4096) -> None:
        self.window, self.size = window, size
        self._seen: OrderedDict[Hashable, tuple[float, int]] = OrderedDict()

    def seen(self, kind: Hashable) -> int | None:
        """None when ``kind`` was logged less than ``window`` seconds ago (this one is counted);
        otherwise it is to be logged now, and the number is how many were counted since the last
        time (0 for a kind not seen within the window)."""
        now = time.monotonic()
        found = self._seen.get(kind)
        if found is not None and now - found[0] < self.window:
            self._seen[kind] = (found[0], found[1] + 1)
            return None
        self._seen[kind] = (now, 0)
        self._seen.move_to_end(kind)
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return found[1] if found is not None else 0
