"""Retries and backoff for calls between nodes (tenacity), and for loops that never give up.

Only UNAVAILABLE is retried, plus DEADLINE_EXCEEDED for calls that are idempotent (every write here
carries a request id, which makes it so). Backoff is exponential with full jitter: the n-th wait is
uniform in ``[0, min(maximum, initial * 2**(n-1))]``. One :class:`Backoff` gives both tenacity's wait
(for a bounded :func:`retrying`) and the delay of a loop that retries for as long as the node runs
(the sync daemon). gRPC's own channel retry policy is left off so the two do not stack.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

import grpc
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

__all__ = ["DEFAULT_BACKOFF", "Backoff", "is_retryable", "retrying"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter."""

    initial: float = 0.1
    maximum: float = 5.0

    def delay(self, failures: int) -> float:
        """How long to wait after the ``failures``-th failure in a row (1, 2, ...)."""
        ceiling = min(self.maximum, self.initial * 2 ** max(0, min(failures - 1, 30)))
        return random.uniform(0, ceiling)

    def tenacity_wait(self) -> wait_random_exponential:
        return wait_random_exponential(multiplier=self.initial, max=self.maximum)


DEFAULT_BACKOFF = Backoff()


def is_retryable(error: BaseException, *, idempotent: bool) -> bool:
    """Whether a failed call may be tried again."""
    if not isinstance(error, grpc.RpcError) or not isinstance(error, grpc.Call):
        return False
    code = error.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        return True
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
