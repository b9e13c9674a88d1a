"""Opaque page tokens (AIP-158): the position to resume from, plus a check of the request's filters.

A token is URL-safe base64 of JSON. It is opaque to callers by contract; it carries a hash of the
filters it was issued for, so a token reused with other filters is rejected instead of returning
a wrong page.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from common.errors import InvalidArgument, InvalidValue

__all__ = ["decode_token", "encode_token", "page_size"]

#: Tokens this module issues are far shorter; anything longer is refused before decoding.
_MAX_TOKEN = 1024


def _filters_hash(filters: Any) -> str:
    return hashlib.sha256(json.dumps(filters, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_token(position: Any, filters: Any = None) -> str:
    raw = json.dumps({"p": position, "f": _filters_hash(filters)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, filters: Any = None, *, field: str = "page_token") -> Any:
    """The position a token resumes from (None for an empty token)."""
    if not token:
        return None
    if len(token) > _MAX_TOKEN:
        raise InvalidArgument.for_field(
            field, InvalidValue("PAGE_TOKEN_INVALID", "is not a page token this service issued")
        )
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        position, issued_for = payload["p"], payload["f"]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise InvalidArgument.for_field(
            field, InvalidValue("PAGE_TOKEN_INVALID", "is not a page token this service issued")
        ) from error
    if issued_for != _filters_hash(filters):
        raise InvalidArgument.for_field(
            field, InvalidValue("PAGE_TOKEN_MISMATCH", "was issued for a request with other filters")
        )
    return position


def page_size(requested: int, *, default: int, maximum: int, field: str = "page_size") -> int:
    if requested < 0:
        raise InvalidArgument.for_field(field, InvalidValue("FIELD_OUT_OF_RANGE", "must not be negative"))
    return default if requested == 0 else min(requested, maximum)
