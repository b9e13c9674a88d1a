"""What a servicer learns about the call it serves, besides the request: who makes it.

Servicers take ``(request, call)`` and never see gRPC's context; the boundary
(:mod:`common.rpc.handlers`) builds the :class:`Call` from the request metadata before the servicer
runs, so reading and checking the caller's identity happens in one place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from common.errors import InvalidArgument, InvalidValue

__all__ = ["ACTOR_KEY", "ANONYMOUS", "MAX_ACTOR_LENGTH", "Call", "Stream", "actor_from_metadata"]

#: The metadata key naming who performs a write; names outside ASCII travel UTF-8 encoded in
#: ``registry-actor-bin`` (gRPC metadata values are ASCII).
ACTOR_KEY = "registry-actor"
#: At most this many characters.
MAX_ACTOR_LENGTH = 100
#: Recorded when a call names no actor.
ANONYMOUS = "anonymous"


@dataclass(eq=False)
class Stream:
    """An open stream, as its servicer sees it: it can end the stream (from any thread), and be told
    when the stream has ended."""

    id: int
    close: Callable[[str], None]
    is_open: bool = True
    _on_end: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def when_ended(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the stream has ended (at once if it has)."""
        with self._lock:
            if self.is_open:
                self._on_end.append(callback)
                return
        callback()

    def ended(self) -> None:
        """The boundary's note that the stream is over."""
        with self._lock:
            self.is_open = False
            callbacks, self._on_end = self._on_end, []
        for callback in callbacks:
            callback()


@dataclass(frozen=True, slots=True)
class Call:
    """One call: the method's full name, who performs it, and its stream if it is one."""

    method: str = ""
    actor: str = ANONYMOUS
    stream: Stream | None = None


def actor_from_metadata(metadata: Iterable[tuple[str, Any]]) -> str:
    """Who performs a write, from ``registry-actor`` (or ``registry-actor-bin``); ``anonymous`` if unset."""
    for key, raw in metadata:
        if key in (ACTOR_KEY, ACTOR_KEY + "-bin"):
            try:
                value = (raw.decode() if isinstance(raw, bytes) else str(raw)).strip()
            except UnicodeDecodeError:
                raise InvalidArgument.for_field(
                    key, InvalidValue("FIELD_MALFORMED", "is not UTF-8 text")
                ) from None
            if len(value) > MAX_ACTOR_LENGTH:
                raise InvalidArgument.for_field(
                    ACTOR_KEY,
                    InvalidValue("FIELD_TOO_LONG", f"is longer than {MAX_ACTOR_LENGTH} characters"),
                )
            return value or ANONYMOUS
    return ANONYMOUS
