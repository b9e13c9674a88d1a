"""Hypothesis strategies for any message of the contract, read from its descriptor.

Values lean towards what breaks servers: the edges of each integer type, enum numbers the contract
does not define, timestamps and dates out of range, names and codes that look right (and nearly
right), very long strings, non-ASCII text, and nested messages a few levels deep.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

__all__ = ["message_bytes", "mutated", "raw_bytes"]

F = FieldDescriptor

_INTS = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1),
    F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    F.TYPE_INT64: (-(2**63), 2**63 - 1),
    F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1),
    F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1),
    F.TYPE_FIXED64: (0, 2**64 - 1),
}
#: Strings that look like what the contract's fields hold, right and nearly right.
_LIKELY = [
    "",
    " ",
    "nodes/320000",
    "nodes/440000",
    "nodes/100000",
    "nodes/999999",
    "nodes/320000/registrations/r-1",
    "nodes/320000/registrations/r-000000000000",
    "nodes/320000/registrations/r-1/objections/o-1",
    "nodes/320000/registrations/r-1/applications/a-1",
    "nodes/440000/registrations/r-1",
    "codes/132000026000000001D",
    "132000026000000001D",
    "132000026000000001E",
    "91320106MA1XY0000X",
    "9132010600000002XP",
    "320000",
    "100000",
    "00000000-0000-0000-0000-000000000000",
    "https://docs.example.cn/a",
    "a" * 64,
    "x" * 300,
    "张三",
    "\u0000",
    "\ud7ff\ue000",
]


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type in _INTS:
        low, high = _INTS[field.type]
        return st.one_of(st.sampled_from([0, 1, -1 if low < 0 else 2, low, high]), st.integers(low, high))
    if field.type == F.TYPE_BOOL:
        return st.booleans()
    if field.type in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32 if field.type == F.TYPE_FLOAT else 64)
    if field.type == F.TYPE_STRING:
        return st.one_of(st.sampled_from(_LIKELY), st.text(max_size=40))
    if field.type == F.TYPE_BYTES:
        return st.binary(max_size=40)
    if field.type == F.TYPE_ENUM:
        assert field.enum_type is not None
        defined = sorted(field.enum_type.values_by_number)
        return st.one_of(st.sampled_from(defined), st.integers(-(2**31), 2**31 - 1))
    raise TypeError(field.type)


def _message(descriptor: Descriptor, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.message_type is not None:
            if field.message_type.GetOptions().map_entry or depth >= 3:
                continue
            value: st.SearchStrategy[Any] = _message(field.message_type, depth + 1)
        else:
            value = _scalar(field)
        fields[field.name] = st.lists(value, max_size=3) if field.is_repeated else value
    return st.fixed_dictionaries({}, optional=fields)


def _build(message_class: type[Message], values: dict[str, Any]) -> Message:
    message = message_class()
    _fill(message, values)
    return message


def _fill(message: Message, values: dict[str, Any]) -> None:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        if field.message_type is not None:
            if field.is_repeated:
                for item in value:
                    _fill(getattr(message, name).add(), item)
            else:
                _fill(getattr(message, name), value)
                getattr(message, name).SetInParent()
        elif field.is_repeated:
            getattr(message, name).extend(value)
        else:
            try:
                setattr(message, name, value)
            except (ValueError, TypeError):
                pass  # e.g. a surrogate in a str: not representable, so not sendable either


def message_bytes(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """Serialised messages of ``descriptor``'s type, with any field set to anything."""
    message_class = message_factory.GetMessageClass(descriptor)
    return _message(descriptor, 0).map(lambda values: _build(message_class, values).SerializeToString())


def mutated(descriptor: Descriptor) -> st.SearchStrategy[bytes]:
    """Well-formed messages with bytes flipped, cut off, or spliced."""

    def mutate(data: bytes, flips: list[tuple[int, int]], cut: int | None) -> bytes:
        out = bytearray(data)
        for position, value in flips:
            if out:
                out[position % len(out)] = value
        return bytes(out[:cut] if cut is not None else out)

    return st.builds(
        mutate,
        message_bytes(descriptor),
        st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=4),
        st.one_of(st.none(), st.integers(0, 200)),
    )


def raw_bytes() -> st.SearchStrategy[bytes]:
    return st.binary(max_size=200)
