"""RFC 8785 (JSON Canonicalization Scheme) for JSON without numbers other than integers.

For such values (objects with ASCII keys, arrays, strings, integers within ±2**53, booleans, null),
RFC 8785 is exactly Python's ``json`` with sorted keys, no white space and ``ensure_ascii=False``:
the escapes are the same (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, other control characters as
``\\u00xx``, nothing else), integers print the same, and ASCII keys sort the same by UTF-16 code units
as by code points. What RFC 8785 adds, the ECMAScript number format, only matters for numbers with a
fraction or an exponent, which these values never hold. The tests hold this module to an RFC 8785
implementation (the ``rfc8785`` package) on generated values.

It is what the registry canonicalises with (registration content, the national log's entries), at
C speed. Standard library only: a verifier can copy it.
"""

from __future__ import annotations

import json
from typing import Any

from common.transparency.errors import TransparencyError

__all__ = ["CanonicalError", "canonical"]

_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_LIMIT = 2**53


class CanonicalError(TransparencyError):
    """A value outside what :func:`canonical` handles (``reason`` ``VALUE``)."""


def _check(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if not -_LIMIT < value < _LIMIT:
            raise CanonicalError("VALUE", f"{where}: integers are within ±2**53")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise CanonicalError("VALUE", f"{where}: keys are ASCII strings")
            _check(item, f"{where}.{key}")
        return
    raise CanonicalError("VALUE", f"{where}: only objects, arrays, strings, integers, booleans and null")


def canonical(value: Any, *, checked: bool = True) -> bytes:
    """The RFC 8785 bytes (UTF-8) of ``value``.

    ``checked=False`` skips checking the value is of the kinds above: only for values built from typed
    fields (protobuf messages, the log's own entries), where it saves a third of the time.
    """
    if checked:
        _check(value, "value")
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalError("VALUE", "strings must be Unicode text (no lone surrogates)") from None
