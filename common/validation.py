"""Request-field validation shared by every service: collect every bad field, then fail once.

A :class:`Checker` gathers field violations so that a caller learns about every bad field of a
request in one reply (like the one-time notice of the procedure), and nothing is written unless the
whole request is valid::

    check = Checker()
    issuer = check.region("issuer", request.issuer)
    check.request_id("request_id", request.request_id)
    check.done()  # raises InvalidArgument listing every violation, if any
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol, TypeVar

from common import codes, names, regions, uscc
from common.errors import FieldViolation, InvalidArgument, InvalidValue

__all__ = ["REQUEST_ID", "Checker", "parse_code"]

T = TypeVar("T")

#: A request id: 1-64 characters of letters, digits and ``-_.:`` (a UUID fits).
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


class _EnumType(Protocol):
    """A generated proto enum's wrapper (``registry.v1.Registration.State``, ...)."""

    def Name(self, number: int) -> str: ...  # protobuf spells it so
    def values(self) -> list[int]: ...


def parse_code(value: str, *, field: str = "code") -> str:
    """A unified registration code from a request field, or INVALID_ARGUMENT saying what is wrong."""
    try:
        return str(codes.parse(value))
    except InvalidValue as error:
        raise InvalidArgument.for_field(field, error) from None


class Checker:
    """Collects the violations of one request."""

    def __init__(self) -> None:
        self.violations: list[FieldViolation] = []

    def fail(self, field: str, reason: str, description: str) -> None:
        self.violations.append(FieldViolation(field, description, reason))

    def value(self, field: str, raw: str, parse: Callable[[str], T]) -> T | None:
        """Run a value parser; record its failure against ``field``."""
        try:
            return parse(raw)
        except InvalidValue as error:
            self.fail(field, error.reason, error.message)
            return None

    def text(self, field: str, value: str, *, max_length: int, required: bool = True) -> str:
        """A free-text field: present if required, at most ``max_length`` characters."""
        stripped = value.strip()
        if required and not stripped:
            self.fail(field, "FIELD_REQUIRED", "is required")
        elif len(value) > max_length:
            self.fail(field, "FIELD_TOO_LONG", f"is {len(value)} characters long; the limit is {max_length}")
        return stripped

    def pattern(self, field: str, value: str, regex: re.Pattern[str], shape: str) -> re.Match[str] | None:
        """A field that must match ``regex`` whole; ``shape`` tells people what it should look like."""
        if not value:
            self.fail(field, "FIELD_REQUIRED", "is required")
            return None
        if len(value) > 256:
            self.fail(field, "FIELD_TOO_LONG", f"is {len(value)} characters long; the limit is 256")
            return None
        match = regex.fullmatch(value)
        if match is None:
            self.fail(field, "FIELD_MALFORMED", f"must look like {shape}")
        return match

    def request_id(self, field: str, value: str) -> str:
        if len(value) > 64:
            self.fail(field, "FIELD_TOO_LONG", f"is {len(value)} characters long; the limit is 64")
            return value
        self.pattern(field, value, REQUEST_ID, "1-64 letters, digits, '-', '_', '.' or ':' (a UUID)")
        return value

    def region(self, field: str, value: str) -> regions.Region | None:
        if not value:
            self.fail(field, "FIELD_REQUIRED", "is required")
            return None
        return self.value(field, value, regions.get)

    def node_name(self, field: str, value: str) -> str | None:
        """``nodes/{region}``: returns the region code if well formed (existence is checked later)."""
        match = self.pattern(field, value, names.NODE, names.SHAPES["node"])
        return match.group(1) if match else None

    def uscc(self, field: str, value: str) -> uscc.USCC | None:
        if not value.strip():
            self.fail(field, "FIELD_REQUIRED", "is required")
            return None
        return self.value(field, value, uscc.parse)

    def enum_name(self, field: str, number: int, enum: _EnumType, *, required: bool = True) -> str | None:
        """The name of an enum value; an unknown number (proto3 enums are open) is refused."""
        if number == 0:
            if required:
                self.fail(field, "FIELD_REQUIRED", "is required")
            return None
        if number not in enum.values():
            self.fail(field, "FIELD_OUT_OF_RANGE", f"{number} is not a value of this enum")
            return None
        return enum.Name(number)

    def page_size(self, field: str, requested: int, *, default: int, maximum: int) -> int:
        """0 means the default; more than the maximum is cut to it; negative is refused."""
        if requested < 0:
            self.fail(field, "FIELD_OUT_OF_RANGE", "must not be negative")
            return default
        return default if requested == 0 else min(requested, maximum)

    def done(self) -> None:
        """Raise one INVALID_ARGUMENT listing every violation, if there are any."""
        if self.violations:
            raise InvalidArgument.from_violations(self.violations)
