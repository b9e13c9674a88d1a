"""What a servicer learns about the call it serves, besides the request: who makes it, and why it may.

Servicers take ``(request, call)`` and never see gRPC's context; the boundary
(:mod:`common.rpc.handlers`) builds the :class:`Call` before the servicer runs: the verified caller
(:mod:`common.rpc.auth`) and the grant of the policy that lets it call the method
(:mod:`common.security.policy`), whose scope the servicer keeps the call within.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from common.errors import RegistryError
from common.security.actors import ANONYMOUS, node_actor
from common.security.policy import Grant
from common.security.tokens import Principal

__all__ = ["ANONYMOUS", "Call", "Stream"]


@dataclass(eq=False)
class Stream:
    """An open stream, as its servicer sees it: it can end the stream (from any thread), and be told
    when the stream has ended."""

    id: int
    close: Callable[[str], None]
    is_open: bool = True
    #: Why the boundary ended the stream with an error (its caller's credentials no longer hold).
    failure: RegistryError | None = None
    _on_end: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, error: RegistryError) -> None:
        """End the stream with ``error`` as its status (from any thread)."""
        self.failure = error
        self.close(f"{error.reason}: {error.message}")

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


@dataclass(frozen=True)
class Call:
    """One call: the method's name, the verified caller, the grant that allows it, its stream if any."""

    method: str = ""
    principal: Principal = field(default_factory=Principal.anonymous)
    #: None where no policy applies (a caller inside the node itself).
    grant: Grant | None = None
    stream: Stream | None = None

    @property
    def actor(self) -> str:
        """Who acts, as the history records it: a person's subject, ``nodes/{region}``, or anonymous."""
        if self.principal.kind == "node" and self.principal.region is not None:
            return node_actor(self.principal.region)
        if self.principal.kind == "anonymous":
            return ANONYMOUS
        return self.principal.subject
