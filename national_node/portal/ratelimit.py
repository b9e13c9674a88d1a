"""Per-client rate limits: a token bucket per client address and kind of request."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

__all__ = ["RateLimiter"]


class RateLimiter:
    """``rate`` requests a second per client, with bursts of ``burst``; remembers at most
    ``max_clients`` clients (the least recently seen are forgotten first, with a full bucket)."""

    def __init__(self, rate: float, burst: int, *, max_clients: int = 100_000) -> None:
        self.rate, self.burst, self.max_clients = rate, burst, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str, now: float | None = None) -> float:
        """Take one request for ``client``: 0 when allowed, else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, at = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.rate)
            if tokens >= 1:
                wait, tokens = 0.0, tokens - 1
            else:
                wait = (1 - tokens) / self.rate
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            return wait
