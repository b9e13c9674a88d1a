"""Streams whose caller is checked again while they last, not only when they open.

A call is authenticated once, when it starts (:mod:`common.rpc.auth`); a stream of interconnection
(``PushChanges`` upward, ``PullChanges`` downward) may then stay open for hours. What its caller rests
on (a :class:`~common.rpc.auth.Proof`: the certificate's serial and end, the token's end) is checked
again

* by the boundary before every message it applies and every chunk it sends (:class:`Guard`), so that
  nothing a stream receives after its certificate is revoked is applied or acknowledged, and
* by :class:`StreamWatch` four times a second for every open stream, so that a stream that is idle, or
  blocked writing to a reader that does not read, ends too.

A stream whose caller no longer holds ends with UNAUTHENTICATED and the reason (``CERT_REVOKED``,
``CERT_EXPIRED``, ``TOKEN_EXPIRED``): with the revocation list looked at twice a second, within a
second of the list's change.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from common.errors import Unauthenticated
from common.rpc.auth import Authenticator, Proof
from common.rpc.call import Stream

__all__ = ["Guard", "StreamWatch"]

logger = logging.getLogger(__name__)

#: Seconds between two checks of every open stream.
WATCH_INTERVAL = 0.25


class Guard:
    """One stream's caller, checked again on demand (from any thread); the first refusal is logged,
    and every check after it refuses the same way."""

    def __init__(self, method: str, who: str, authenticator: Authenticator, proof: Proof) -> None:
        self.method, self.who = method, who
        self.authenticator, self.proof = authenticator, proof
        self._failure: Unauthenticated | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        """UNAUTHENTICATED if the caller's credentials no longer hold."""
        if self._failure is not None:
            raise self._failure
        try:
            self.authenticator.check(self.proof)
        except Unauthenticated as error:
            with self._lock:
                first, self._failure = self._failure is None, self._failure or error
            if first:
                logger.warning("%s of %s ends: %s (%s)", self.method, self.who, error.message, error.reason)
            raise self._failure from None


class StreamWatch:
    """The open streams of a server and their guards, checked every ``interval`` seconds on the
    server's event loop while any is open (one timer for all of them, none while there is none)."""

    def __init__(self, interval: float = WATCH_INTERVAL) -> None:
        self.interval = interval
        self._watched: dict[int, tuple[Stream, Guard]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def add(self, stream: Stream, guard: Guard) -> None:
        """Watch ``stream`` (on the event loop) until :meth:`discard`."""
        self._watched[stream.id] = (stream, guard)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self._sweep)

    def discard(self, stream: Stream) -> None:
        self._watched.pop(stream.id, None)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        self._timer = None
        for stream, guard in list(self._watched.values()):
            try:
                guard()
            except Unauthenticated as error:
                self._watched.pop(stream.id, None)
                stream.fail(error)
        if self._watched:
            self._timer = loop.call_later(self.interval, self._sweep)
