"""A registration as one self-contained record: exported from a node's rows, imported into another's.

The record is what travels between the tiers (upward changes, downward handovers and transfers,
repairs). Its digest is what the proof of agreement compares.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from common import names
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from common.registration import views
from common.registration.content import canonical_json, content_sha256, from_date
from common.registration.duplicates import candidates_json
from common.registration.models import (
    ApplicationRow,
    HistoryRow,
    ObjectionRow,
    RegistrationRow,
    VersionRow,
)

__all__ = ["bucket_digests", "digests", "export_record", "import_record", "record_digest", "rename"]


def export_record(session: Session, reg: RegistrationRow) -> sync_pb2.RegistrationRecord:
    name = names.registration_name(reg.node, reg.id)
    history = session.exec(
        select(HistoryRow).where(HistoryRow.registration_id == reg.id).order_by(col(HistoryRow.sequence))
    ).all()
    record = sync_pb2.RegistrationRecord(
        registration=views.registration_message(session, reg),
        history=[views.history_message(name, row) for row in history],
        revision=reg.revision,
    )
    if reg.code and session.get(VersionRow, (reg.id, reg.version)) is not None:
        record.confirmation.CopyFrom(views.confirmation_message(session, reg))
    return record


@functools.lru_cache(maxsize=4096)
def _content_digest(content: bytes) -> str:
    """The content's SHA-256 (of its canonical form), by its serialised bytes: most changes of a
    registration (announced, coded, ...) keep its content, and the national ledger digests each."""
    return content_sha256(canonical_json(r.RegistrationContent.FromString(content)))


def record_digest(record: sync_pb2.RegistrationRecord) -> str:
    """SHA-256 over what two copies of a registration must agree on."""
    return digests(record)[0]


def digests(record: sync_pb2.RegistrationRecord) -> tuple[str, str]:
    """(:func:`record_digest`, the content's SHA-256 as a confirmation states it), computed together."""
    reg = record.registration
    until = reg.valid_until
    content = _content_digest(reg.content.SerializeToString(deterministic=True))
    parts = [
        reg.uid,
        str(record.revision),
        r.Registration.State.Name(reg.state),
        reg.code,
        str(reg.version),
        f"{until.year:04d}-{until.month:02d}-{until.day:02d}",
        content,
        r.Application.State.Name(reg.current_application.state),
        str(len(record.history)),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest(), content


def rename(record: sync_pb2.RegistrationRecord, node: str) -> sync_pb2.RegistrationRecord:
    """The same record named under another managing node (codes and uids never change)."""
    copy = sync_pb2.RegistrationRecord()
    copy.CopyFrom(record)
    local_id = record.registration.name.rsplit("/", 1)[1]
    name = names.registration_name(node, local_id)
    copy.registration.name = name
    copy.registration.managing_node = names.node_name(node)
    if copy.HasField("confirmation"):
        copy.confirmation.registration = name
    for entry in copy.history:
        entry.name = names.history_name(name, entry.sequence)
    application = copy.registration.current_application
    if application.name:
        application.name = names.application_name(name, application.id)
    for objection in application.objections:
        objection.name = names.objection_name(name, objection.name.rsplit("/", 1)[1])
    return copy


def _number(identifier: str) -> int:
    return int(identifier.split("-", 1)[1]) if identifier else 0


def _assign(row: SQLModel, fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        setattr(row, key, value)


def import_record(session: Session, record: sync_pb2.RegistrationRecord, *, node: str) -> RegistrationRow:
    """Create or overwrite this node's rows of a registration from a record; ``node`` manages it."""
    message = record.registration
    app = message.current_application if message.HasField("current_application") else None
    reg = session.exec(select(RegistrationRow).where(RegistrationRow.uid == message.uid)).first()
    objection_ids = [_number(o.name.rsplit("/", 1)[1]) for o in (app.objections if app else [])]
    fields: dict[str, Any] = {
        "node": node,
        "code": message.code or None,
        "object_type": message.object_type,
        "state": r.Registration.State.Name(message.state),
        "version": message.version,
        "subject_uscc": message.content.subject.uscc,
        "subject_region": message.content.subject.region,
        "data_name": message.content.data_name,
        "content": canonical_json(message.content),
        "current_application": app.id if app else None,
        "applications": max(reg.applications if reg else 0, _number(app.id) if app else 0),
        "objections": max([reg.objections if reg else 0, *objection_ids]),
        "valid_from": from_date(message.valid_from),
        "valid_until": from_date(message.valid_until),
        "revision": record.revision,
        "updated_at": message.update_time.ToDatetime(tzinfo=UTC),
    }
    if reg is None:
        reg = RegistrationRow(
            id=message.name.rsplit("/", 1)[1],
            uid=message.uid,
            created_at=message.create_time.ToDatetime(tzinfo=UTC),
            **fields,
        )
    else:
        _assign(reg, fields)
    session.add(reg)
    session.flush()
    if app is not None:
        _import_application(session, reg, app)
    known = set(session.exec(select(HistoryRow.sequence).where(HistoryRow.registration_id == reg.id)))
    for entry in record.history:
        if entry.sequence in known:
            continue
        session.add(
            HistoryRow(
                registration_id=reg.id,
                sequence=entry.sequence,
                time=entry.time.ToDatetime(tzinfo=UTC),
                actor=entry.actor,
                action=entry.action,
                reason=entry.reason,
                application_id=entry.application_id,
                registration_state=r.Registration.State.Name(entry.registration_state),
                application_state=r.Application.State.Name(entry.application_state),
                version=entry.version,
            )
        )
    if record.HasField("confirmation") and session.get(VersionRow, (reg.id, reg.version)) is None:
        session.add(
            VersionRow(
                registration_id=reg.id,
                version=reg.version,
                content=reg.content,
                content_sha256=record.confirmation.content_sha256,
                confirmed_at=record.confirmation.issue_time.ToDatetime(tzinfo=UTC),
            )
        )
    session.flush()
    return reg


def _import_application(session: Session, reg: RegistrationRow, app: r.Application) -> None:
    fields: dict[str, Any] = {
        "type": r.RegistrationType.Name(app.type),
        "state": r.Application.State.Name(app.state),
        "content": canonical_json(app.content),
        "reason": app.reason,
        "defects": json.dumps(
            [{"field": d.field, "description": d.description} for d in app.defects], ensure_ascii=False
        ),
        "decision_reason": app.decision_reason,
        "acceptance_due": from_date(app.acceptance_due),
        "review_due": from_date(app.review_due),
        "announcement_start": from_date(app.announcement_start),
        "announcement_end": from_date(app.announcement_end),
        "deadlines_provisional": app.deadlines_provisional,
        "acceptance_due_provisional": app.acceptance_due_provisional,
        "review_due_provisional": app.review_due_provisional,
        "announcement_end_provisional": app.announcement_end_provisional,
        "initial_registration_due": from_date(app.initial_registration_due),
        "initial_registration_due_provisional": app.initial_registration_due_provisional,
        "initial_registration_late": app.initial_registration_late,
        "submitted_at": app.submit_time.ToDatetime(tzinfo=UTC),
        "updated_at": app.update_time.ToDatetime(tzinfo=UTC),
        # The duplicate check goes with the application (to a transfer's new node, in a restore).
        "duplicates_checked": app.duplicates_checked,
        "possible_duplicates": candidates_json(app.possible_duplicates),
        "duplicate_check_error": app.duplicate_check_error,
    }
    row = session.get(ApplicationRow, (reg.id, app.id))
    if row is None:
        row = ApplicationRow(registration_id=reg.id, id=app.id, **fields)
    else:
        _assign(row, fields)
    session.add(row)
    for objection in app.objections:
        oid = objection.name.rsplit("/", 1)[1]
        values: dict[str, Any] = {
            "application_id": app.id,
            "objector": objection.objector,
            "reason": objection.reason,
            "evidence": json.dumps(
                [{"title": d.title, "uri": d.uri, "sha256": d.sha256} for d in objection.evidence],
                ensure_ascii=False,
            ),
            "state": r.Objection.State.Name(objection.state),
            "outcome": r.Objection.Outcome.Name(objection.outcome),
            "resolution": objection.resolution,
            "resolve_by": from_date(objection.resolve_by),
            "resolve_by_provisional": objection.resolve_by_provisional,
            "created_at": objection.create_time.ToDatetime(tzinfo=UTC),
            "resolved_at": (
                objection.resolve_time.ToDatetime(tzinfo=UTC) if objection.HasField("resolve_time") else None
            ),
        }
        found = session.get(ObjectionRow, (reg.id, oid))
        if found is None:
            found = ObjectionRow(registration_id=reg.id, id=oid, **values)
        else:
            _assign(found, values)
        session.add(found)


def bucket_digests(leaves: Iterable[tuple[str, str]]) -> dict[str, tuple[str, int]]:
    """Range digests: per two-hex-digit uid prefix, SHA-256 over ``uid:digest`` lines in uid order."""
    buckets: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for uid, digest in leaves:
        buckets[uid[:2]].append((uid, digest))
    result = {}
    for prefix, items in buckets.items():
        text = "\n".join(f"{uid}:{digest}" for uid, digest in sorted(items))
        result[prefix] = (hashlib.sha256(text.encode()).hexdigest(), len(items))
    return result
