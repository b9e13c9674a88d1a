"""Retry policies for calls between nodes (tenacity).

Only UNAVAILABLE is retried, plus DEADLINE_EXCEEDED for calls that are idempotent (every write here
carries a request id, which makes it so). Backoff is exponential with jitter and bounded both in
attempts and in total time. gRPC's own channel retry policy is left off so the two do not stack.
"""

from __future__ import annotations

import logging

import grpc
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

__all__ = ["is_retryable", "retrying"]

logger = logging.getLogger(__name__)


def is_retryable(error: BaseException, *, idempotent: bool) -> bool:
    """Whether a failed call may be tried again."""
    if not isinstance(error, grpc.RpcError) or not hasattr(error, "code"):
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
    initial_wait: float = 0.1,
    max_wait: float = 5.0,
) -> Retrying:
    """A tenacity ``Retrying`` for one logical call: ``for attempt in retrying(...): with attempt: ...``."""
    return Retrying(
        retry=retry_if_exception(lambda e: is_retryable(e, idempotent=idempotent)),
        wait=wait_random_exponential(multiplier=initial_wait, max=max_wait),
        stop=stop_after_attempt(max_attempts) | stop_after_delay(max_seconds),
        before_sleep=before_sleep_log(logger, logging.WARNING),
        reraise=True,
    )
