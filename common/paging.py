"""Page tokens (AIP-158): opaque to callers and tamper-evident.

A token is the position to resume from, the method it was issued by and a digest of the request's
filters, sealed with AES-256-GCM under a key of the node (kept in its database, so every process of
the node shares it): a caller can neither read nor forge one, a token of another node or another
method does not open, and a token reused with other filters is refused instead of returning a wrong
page. Each failure is INVALID_ARGUMENT naming ``page_token``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from datetime import datetime
from typing import Any, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import and_, or_
from sqlmodel.sql.expression import SelectOfScalar

from common.errors import InvalidArgument, InvalidValue

__all__ = ["MAX_TOKEN_LENGTH", "PageTokens", "newest_first", "newest_position"]

Row = TypeVar("Row")

#: Tokens this module issues are far shorter; anything longer is refused before decoding.
MAX_TOKEN_LENGTH = 1024
_NONCE = 12


def _filters_digest(filters: Any) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _refused(field: str, reason: str, message: str) -> InvalidArgument:
    return InvalidArgument.for_field(field, InvalidValue(reason, message))


class PageTokens:
    """Seals and opens the page tokens of one node."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a page-token key has 32 bytes")
        self._aead = AESGCM(key)

    def encode(self, method: str, position: Any, filters: Any = None) -> str:
        """A token that resumes ``method`` at ``position`` for a request with these ``filters``."""
        plain = json.dumps({"p": position, "f": _filters_digest(filters)}, separators=(",", ":")).encode()
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, plain, method.encode())
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def decode(self, method: str, token: str, filters: Any = None, *, field: str = "page_token") -> Any:
        """The position a token resumes from (None for an empty token)."""
        if not token:
            return None
        not_ours = "is not a page token this service issued"
        if len(token) > MAX_TOKEN_LENGTH:
            raise _refused(field, "PAGE_TOKEN_INVALID", not_ours)
        try:
            sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            if len(sealed) <= _NONCE:
                raise ValueError("too short")
            plain = self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], method.encode())
            payload = json.loads(plain)
            position, issued_for = payload["p"], payload["f"]
        except (ValueError, binascii.Error, InvalidTag, KeyError, TypeError) as error:
            raise _refused(field, "PAGE_TOKEN_INVALID", not_ours) from error
        if issued_for != _filters_digest(filters):
            raise _refused(field, "PAGE_TOKEN_MISMATCH", "was issued for a request with other filters")
        return position


def newest_first(statement: SelectOfScalar[Row], at: Any, key: Any, after: Any) -> SelectOfScalar[Row]:
    """``statement`` ordered newest first by its ``at`` column, then by ``key`` (both descending),
    resuming after ``after``: the position :func:`newest_position` made of the last row of the previous
    page (None on the first page)."""
    if after is not None:
        when, last = datetime.fromisoformat(str(after[0])), str(after[1])
        statement = statement.where(or_(at < when, and_(at == when, key < last)))
    return statement.order_by(at.desc(), key.desc())


def newest_position(at: datetime, key: str) -> list[str]:
    """The page-token position of a row in :func:`newest_first` order."""
    return [at.isoformat(), key]
