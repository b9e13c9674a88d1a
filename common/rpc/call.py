"""What a servicer learns about the call it serves, besides the request: who makes it.

Servicers take ``(request, call)`` and never see gRPC's context; the boundary
(:mod:`common.rpc.handlers`) builds the :class:`Call` from the request metadata before the servicer
runs, so reading and checking the caller's identity happens in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from common.errors import InvalidArgument, InvalidValue

__all__ = ["ACTOR_KEY", "ANONYMOUS", "MAX_ACTOR_LENGTH", "Call", "actor_from_metadata"]

#: The metadata key naming who performs a write; names outside ASCII travel UTF-8 encoded in
#: ``registry-actor-bin`` (gRPC metadata values are ASCII).
ACTOR_KEY = "registry-actor"
#: At most this many characters.
MAX_ACTOR_LENGTH = 100
#: Recorded when a call names no actor.
ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Call:
    """One call: the method's full name and who performs it."""

    method: str = ""
    actor: str = ANONYMOUS


def actor_from_metadata(metadata: Sequence[tuple[str, str | bytes]]) -> str:
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
