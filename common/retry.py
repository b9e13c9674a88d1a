"""Retries and backoff for calls between nodes (tenacity), and for loops that never give up.

Retried: UNAVAILABLE; RESOURCE_EXHAUSTED when the server says when to try again (a
``google.rpc.RetryInfo`` in the status: its database was busy, or it was saturated; without one, as for
a message over the size limit, a retry would fail the same way); and DEADLINE_EXCEEDED for calls that
are idempotent (every write here carries a request id, which makes it so). Backoff is exponential with
full jitter: the n-th wait is uniform in ``[0, min(maximum, initial * 2**(n-1))]``, added to the
server's ``retry_delay`` when it gave one (so a caller never comes back sooner than asked, and the
callers it turned away together do not all come back at once). One :class:`Backoff` gives both
tenacity's wait (for a bounded :func:`retrying`) and the delay of a loop that retries for as long as
the node runs (the sync daemon, the coding loop). gRPC's own channel retry policy is left off so the
two do not stack.

The default ceiling is 2 s: a loop tries again about once a second on average, so it notices a peer
that came back within seconds. That does not hammer a peer that is down: a call on a channel with no
connection fails at once, locally, and the connection attempts are the channel's own, at most one
a second (:data:`common.rpc.channels.RECONNECT_MAX`).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from tenacity import (
    RetryCallState,
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

__all__ = ["DEFAULT_BACKOFF", "Backoff", "is_retryable", "retry_delay", "retry_delay_of", "retrying"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter."""

    initial: float = 0.1
    maximum: float = 2.0

    def delay(self, failures: int, error: BaseException | None = None) -> float:
        """How long to wait after the ``failures``-th failure in a row (1, 2, ...), ``error`` the last:
        the server's :func:`retry_delay` (if it gave one) plus the jittered backoff."""
        ceiling = min(self.maximum, self.initial * 2 ** max(0, min(failures - 1, 30)))
        return (retry_delay(error) or 0.0) + random.uniform(0, ceiling)

    def tenacity_wait(self) -> Callable[[RetryCallState], float]:
        jitter = wait_random_exponential(multiplier=self.initial, max=self.maximum)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome is not None else None
            return (retry_delay(error) or 0.0) + jitter(state)

        return wait


DEFAULT_BACKOFF = Backoff()


def retry_delay_of(status: status_pb2.Status) -> float | None:
    """The ``retry_delay`` of the ``google.rpc.RetryInfo`` among a status's details, in seconds."""
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return max(0.0, float(info.retry_delay.ToNanoseconds()) / 1e9)
    return None


def retry_delay(error: BaseException | None) -> float | None:
    """Seconds the server asked the caller of a failed call to wait before trying again, if it did."""
    if not isinstance(error, grpc.RpcError) or not isinstance(error, grpc.Call):
        return None
    try:
        status: status_pb2.Status | None = rpc_status.from_call(error)
    except ValueError:  # a status that contradicts the call's own code
        return None
    return retry_delay_of(status) if status is not None else None


def is_retryable(error: BaseException, *, idempotent: bool) -> bool:
    """Whether a failed call may be tried again."""
    if not isinstance(error, grpc.RpcError) or not isinstance(error, grpc.Call):
        return False
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        return True
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return retry_delay(error) is not None
    return idempotent and code == grpc.StatusCode.DEADLINE_EXCEEDED


def retrying(
    *,
    idempotent: bool,
    max_attempts: int = 8,
    max_seconds: float = 30.0,
    backoff: Backoff = DEFAULT_BACKOFF,
) -> Retrying:
    """A tenacity ``Retrying`` for one logical call: ``for attempt in retrying(...): with attempt: ...``."""
    return Retrying(
        retry=retry_if_exception(lambda e: is_retryable(e, idempotent=idempotent)),
        wait=backoff.tenacity_wait(),
        stop=stop_after_attempt(max_attempts) | stop_after_delay(max_seconds),
        before_sleep=before_sleep_log(logger, logging.WARNING),
        reraise=True,
    )
