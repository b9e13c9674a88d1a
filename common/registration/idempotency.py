"""Request-id replay (AIP-155) for the writes of RegistrationService: the one place it is done.

A write runs in one transaction together with a row recording its request id, which method it was, a
fingerprint of the request (every field but ``request_id``) and the answer sent. A repeat with the same
id and the same request gets that answer back and changes nothing; the same id with another method or
other fields is ALREADY_EXISTS (``REQUEST_ID_REUSED``). The scope of a request id is the node: one id
names one write on one node, whatever the method.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from common.clock import Clock
from common.db import Database
from common.errors import AlreadyExists
from common.registration.models import RequestRow

__all__ = ["IdempotentWrites", "fingerprint", "method_digest"]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)


def fingerprint(request: Message) -> str:
    """SHA-256 of the request's deterministic serialisation without its ``request_id``."""
    copy = type(request)()
    copy.CopyFrom(request)
    if "request_id" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def method_digest(method: str, request: Message) -> str:
    """SHA-256 of a method's name and its whole request (request id included): what a desk keeping
    its own table of request ids stores, to tell a retry from another request under a used id."""
    return hashlib.sha256(method.encode() + b"\0" + request.SerializeToString(deterministic=True)).hexdigest()


class IdempotentWrites:
    """Runs each write once per request id, in one transaction with the record of its answer."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db, self.clock = db, clock

    @staticmethod
    def done(session: Session, request_id: str) -> bool:
        """Whether a write with this request id was done (a repeat gets its first answer)."""
        return session.get(RequestRow, request_id) is not None

    def run(
        self, method: str, request: Message, request_id: str, answer: type[M], body: Callable[[Session], M]
    ) -> M:
        """``body`` in one transaction, once per ``request_id`` (validated by the caller, and the
        request's own ``request_id`` field); a repeat gets the first answer."""
        digest = fingerprint(request)
        for _attempt in range(3):
            try:
                with self.db.transaction() as session:
                    done = session.get(RequestRow, request_id)
                    if done is not None:
                        if (done.method, done.fingerprint) != (method, digest):
                            raise AlreadyExists(
                                "REQUEST_ID_REUSED",
                                f"request id {request_id} was already used for a different request",
                                metadata={"field": "request_id"},
                            )
                        return answer.FromString(done.response)
                    response = body(session)
                    session.add(
                        RequestRow(
                            request_id=request_id,
                            method=method,
                            fingerprint=digest,
                            response=response.SerializeToString(deterministic=True),
                            created_at=self.clock.now(),
                        )
                    )
                    return response
            except IntegrityError:
                logger.debug("request %s raced a repeat of itself; reading its answer", request_id)
        raise AlreadyExists("REQUEST_IN_PROGRESS", f"request id {request_id} is being processed; retry")
