"""Checks every request must pass before a servicer sees it, read from the message descriptors.

proto3 accepts on the wire what no servicer can use: enum numbers the contract does not define (enums
are open), timestamps outside 0001-9999 or with negative nanoseconds, dates that are no day, repeated
fields of any length. :func:`violations` walks a decoded request and lists each such field by its path
(``changes[3].record.registration.state``), so that the boundary answers INVALID_ARGUMENT naming them
instead of a servicer failing half-way. What a field means (which values a method accepts) is the
servicer's business; this module only checks what no field of its type can be.

For speed, each message type's plan (which of its fields can hold something to check) is computed once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from common.errors import FieldViolation

__all__ = ["MAX_REPEATED", "REPEATED_LIMITS", "violations"]

#: Items a repeated field may hold unless :data:`REPEATED_LIMITS` says otherwise.
MAX_REPEATED = 1000
#: Repeated fields allowed more items, by full name.
REPEATED_LIMITS = {
    "registry.v1.ChangeBatch.changes": 5000,
    "registry.v1.RegistrationRecord.history": 10_000,
    "registry.v1.CompareDigestsRequest.ranges": 65_536,
}
_MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
_MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
_TIMESTAMP = "google.protobuf.Timestamp"
_DATE = "google.type.Date"


@dataclass(frozen=True, slots=True)
class _Field:
    descriptor: FieldDescriptor
    repeated: bool
    limit: int
    enum_values: frozenset[int] | None  # for an enum field
    kind: str  # "enum", "timestamp", "date", "message", "other"


@cache
def _plan(descriptor: Descriptor) -> tuple[_Field, ...]:
    """The fields of a message type that need a look: enums, timestamps, dates, repeated fields, and
    messages whose own plan is not empty."""
    fields = []
    for field in descriptor.fields:
        repeated = field.is_repeated
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            continue  # no request of the contract has a map
        enum_values = None
        if field.type == FieldDescriptor.TYPE_ENUM:
            kind = "enum"
            assert field.enum_type is not None
            enum_values = frozenset(field.enum_type.values_by_number)
        elif field.message_type is not None and field.message_type.full_name == _TIMESTAMP:
            kind = "timestamp"
        elif field.message_type is not None and field.message_type.full_name == _DATE:
            kind = "date"
        elif field.message_type is not None and _plan(field.message_type):
            kind = "message"
        else:
            kind = "other"
        if kind == "other" and not repeated:
            continue
        fields.append(
            _Field(field, repeated, REPEATED_LIMITS.get(field.full_name, MAX_REPEATED), enum_values, kind)
        )
    return tuple(fields)


def violations(message: Message) -> list[FieldViolation]:
    """Every field of ``message`` (and of the messages in it) that no request may hold.

    A quick pass answers for the usual, well-formed request; only a request with something wrong is
    walked again to name each field at fault.
    """
    if _ok(message):
        return []
    return list(_walk(message, ""))


def _good(kind: str, allowed: frozenset[int] | None, item: Any) -> bool:
    if kind == "enum":
        return allowed is not None and item in allowed
    if kind == "message":
        return _ok(item)
    if kind == "timestamp":
        return bool(_MIN_SECONDS <= item.seconds <= _MAX_SECONDS and 0 <= item.nanos <= 999_999_999)
    if kind == "date":
        if item.year == item.month == item.day == 0:
            return True
        try:
            date(item.year, item.month, item.day)
        except (ValueError, OverflowError):
            return False
    return True


def _ok(message: Message) -> bool:
    for field in _plan(message.DESCRIPTOR):
        name, kind = field.descriptor.name, field.kind
        if field.repeated:
            items = getattr(message, name)
            if len(items) > field.limit:
                return False
            if kind != "other":
                for item in items:
                    if not _good(kind, field.enum_values, item):
                        return False
        elif (kind == "enum" or message.HasField(name)) and not _good(
            kind, field.enum_values, getattr(message, name)
        ):
            return False
    return True


def _walk(message: Message, prefix: str) -> Iterator[FieldViolation]:
    plan = _plan(message.DESCRIPTOR)
    if not plan:
        return
    for field in plan:
        name = prefix + field.descriptor.name
        if field.repeated:
            items = getattr(message, field.descriptor.name)
            if len(items) > field.limit:
                yield FieldViolation(
                    name, f"holds {len(items)} items; at most {field.limit}", "FIELD_TOO_LONG"
                )
                continue
            if field.kind != "other":
                for i, item in enumerate(items):
                    yield from _check(field, item, f"{name}[{i}]")
        elif field.kind == "enum" or message.HasField(field.descriptor.name):
            yield from _check(field, getattr(message, field.descriptor.name), name)


def _check(field: _Field, value: object, name: str) -> Iterator[FieldViolation]:
    if field.kind == "enum":
        assert field.enum_values is not None
        if value not in field.enum_values:
            enum = field.descriptor.enum_type.full_name if field.descriptor.enum_type else "the enum"
            yield FieldViolation(name, f"{value} is not a value of {enum}", "FIELD_OUT_OF_RANGE")
    elif field.kind == "timestamp":
        stamp: Any = value
        seconds, nanos = stamp.seconds, stamp.nanos
        if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos <= 999_999_999):
            yield FieldViolation(
                name,
                "is not a valid timestamp (0001-01-01 to 9999-12-31, nanos 0-999999999)",
                "FIELD_OUT_OF_RANGE",
            )
    elif field.kind == "date":
        day_value: Any = value
        year, month, day = day_value.year, day_value.month, day_value.day
        if (year, month, day) != (0, 0, 0):
            try:
                date(year, month, day)
            except (ValueError, OverflowError):
                yield FieldViolation(
                    name, f"{year:04d}-{month:02d}-{day:02d} is not a day", "FIELD_OUT_OF_RANGE"
                )
    elif field.kind == "message":
        assert isinstance(value, Message)
        yield from _walk(value, name + ".")
