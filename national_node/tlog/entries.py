"""What the national log appends: a code assignment or a ledger change, as an RFC 8785 entry.

The layout of each kind is documented in ``proto/registry/v1/log_service.proto`` and checked by
:func:`common.transparency.entry.parse_entry`. An entry waits in a :class:`Pending` until its
transaction commits (:mod:`national_node.tlog.append`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any

from common.transparency.entry import CODE_ASSIGNMENT, ENTRY_VERSION, REGISTRATION, canonical

__all__ = [
    "Pending",
    "code_assignment_pending",
    "entry_time",
    "registration_entry",
    "registration_entry_bytes",
    "registration_pending",
    "set_log_index",
]


@dataclass(frozen=True, slots=True)
class Pending:
    """An entry waiting for its transaction's commit; ``on_index`` is told the index it gets (the
    ledger keeps it on its row, which is written in the same flush)."""

    data: bytes
    on_index: Callable[[int], None] | None = None


def entry_time(at: datetime) -> str:
    """An entry's ``time``: RFC 3339, UTC, microseconds (``2026-12-01T10:00:00.123456Z``)."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")[:26] + "Z"


def code_assignment_pending(row: Any) -> Pending:
    """The entry of a code assignment (a ``CodeAssignmentRow``)."""
    entry = {
        "v": ENTRY_VERSION,
        "kind": CODE_ASSIGNMENT,
        "time": entry_time(row.assigned_at),
        "code": row.code,
        "issuer": row.issuer,
        "object_type": _object_type(row.object_type),
        "year": row.year % 100,
        "serial": row.serial,
        "registration": row.registration,
        "subject_uscc": row.subject_uscc,
        "requested_by": f"nodes/{row.requested_by}",
    }
    if getattr(row, "code_lease", None):
        entry["code_lease"] = row.code_lease
        entry["sequence"] = row.sequence
    return Pending(canonical(entry, checked=False))


def registration_pending(fields: dict[str, Any], at: datetime, row: Any = None) -> Pending:
    """The entry of a ledger change whose registration ``fields`` :func:`registration_entry` made;
    ``row`` (its ``LedgerRow``) records the index the entry gets."""
    full = {"v": ENTRY_VERSION, "kind": REGISTRATION, "time": entry_time(at), **fields}
    return Pending(canonical(full, checked=False), set_log_index(row) if row is not None else None)


def set_log_index(row: Any) -> Callable[[int], None]:
    """What tells a ledger row the index of its entry."""

    def set_index(index: int) -> None:
        row.log_index = index

    return set_index


def registration_entry(record: Any, record_sha256: str, content_sha256: str) -> dict[str, Any]:
    """The fields of a ``registration`` entry for a ledger record (``sync_pb2.RegistrationRecord``)."""
    from common.gen.registry.v1 import registration_pb2

    reg = record.registration
    content = reg.content
    entry: dict[str, Any] = {
        "uid": reg.uid,
        "registration": reg.name,
        "managing_node": reg.managing_node,
        "revision": record.revision,
        "state": registration_pb2.Registration.State.Name(reg.state),
        "object_type": registration_pb2.ObjectType.Name(reg.object_type),
        "version": reg.version,
        "data_name": content.data_name,
        "subject": {
            "central": content.subject.central,
            "name": content.subject.name,
            "uscc": content.subject.uscc,
        },
        "content_sha256": content_sha256,
        "record_sha256": record_sha256,
    }
    if reg.code:
        entry["code"] = reg.code
    for field in ("valid_from", "valid_until"):
        if reg.HasField(field):
            day = getattr(reg, field)
            entry[field] = f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    return entry


_STATES: dict[int, str] = {}
_TYPES: dict[int, str] = {}


def registration_entry_bytes(record: Any, record_sha256: str, content_sha256: str, at: datetime) -> bytes:
    """The canonical bytes of the ``registration`` entry of a ledger record: the same bytes as
    ``canonical({"v": 1, "kind": "registration", "time": ..., **registration_entry(...)})`` (a test
    holds them to it), written out directly because the ledger makes one for every change it takes:
    the keys in their sorted order, each string escaped as RFC 8785 (and ``json``) escapes it."""
    from common.gen.registry.v1 import registration_pb2

    reg = record.registration
    content = reg.content
    subject = content.subject
    state = _STATES.get(reg.state) or _STATES.setdefault(
        reg.state, registration_pb2.Registration.State.Name(reg.state)
    )
    object_type = _TYPES.get(reg.object_type) or _TYPES.setdefault(
        reg.object_type, registration_pb2.ObjectType.Name(reg.object_type)
    )
    q = encode_basestring
    parts = ["{"]
    if reg.code:
        parts.append(f'"code":{q(reg.code)},')
    parts.append(
        f'"content_sha256":{q(content_sha256)},"data_name":{q(content.data_name)},"kind":"registration",'
        f'"managing_node":{q(reg.managing_node)},"object_type":"{object_type}",'
        f'"record_sha256":{q(record_sha256)},"registration":{q(reg.name)},"revision":{int(record.revision)},'
        f'"state":"{state}","subject":{{"central":{"true" if subject.central else "false"},'
        f'"name":{q(subject.name)},"uscc":{q(subject.uscc)}}},"time":"{entry_time(at)}",'
        f'"uid":{q(reg.uid)},"v":{ENTRY_VERSION}'
    )
    for field in ("valid_from", "valid_until"):
        if reg.HasField(field):
            day = getattr(reg, field)
            parts.append(f',"{field}":"{day.year:04d}-{day.month:02d}-{day.day:02d}"')
    parts.append(f',"version":{int(reg.version)}}}')
    return "".join(parts).encode("utf-8")


def _object_type(number: int) -> str:
    from common.gen.registry.v1 import registration_pb2

    return registration_pb2.ObjectType.Name(number)
