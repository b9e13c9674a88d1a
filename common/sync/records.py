"""A registration as one self-contained record: exported from a node's rows, imported into another's.

The record is what travels between the tiers (upward changes, downward handovers and transfers,
repairs). Its digest is what the proof of agreement compares.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC

from sqlmodel import Session, select

from common import names
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from common.registration import views
from common.registration.content import canonical_json, content_sha256, from_date
from common.registration.models import (
    ApplicationRow,
    HistoryRow,
    ObjectionRow,
    RegistrationRow,
    VersionRow,
)

__all__ = ["bucket_digests", "export_record", "import_record", "record_digest", "rename"]


def export_record(session: Session, reg: RegistrationRow) -> sync_pb2.RegistrationRecord:
    name = names.registration_name(reg.node, reg.id)
    history = session.exec(
        select(HistoryRow).where(HistoryRow.registration_id == reg.id).order_by(HistoryRow.sequence)
    ).all()
    record = sync_pb2.RegistrationRecord(
        registration=views.registration_message(session, reg),
        history=[views.history_message(name, row) for row in history],
        revision=reg.revision,
    )
    if reg.code and session.get(VersionRow, (reg.id, reg.version)) is not None:
        record.confirmation.CopyFrom(views.confirmation_message(session, reg))
    return record


def record_digest(record: sync_pb2.RegistrationRecord) -> str:
    """SHA-256 over what two copies of a registration must agree on."""
    reg = record.registration
    until = reg.valid_until
    parts = [
        reg.uid,
        str(record.revision),
        r.Registration.State.Name(reg.state),
        reg.code,
        str(reg.version),
        f"{until.year:04d}-{until.month:02d}-{until.day:02d}",
        content_sha256(canonical_json(reg.content)),
        r.Application.State.Name(reg.current_application.state),
        str(len(record.history)),
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


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


def import_record(session: Session, record: sync_pb2.RegistrationRecord, *, node: str) -> RegistrationRow:
    """Create or overwrite this node's rows of a registration from a record; ``node`` manages it."""
    message = record.registration
    local_id = message.name.rsplit("/", 1)[1]
    reg = session.exec(select(RegistrationRow).where(RegistrationRow.uid == message.uid)).first()
    if reg is None:
        reg = RegistrationRow(
            id=local_id, uid=message.uid, created_at=message.create_time.ToDatetime(tzinfo=UTC)
        )
    app = message.current_application if message.HasField("current_application") else None
    reg.node, reg.code = node, message.code or None
    reg.object_type, reg.state, reg.version = (
        message.object_type,
        r.Registration.State.Name(message.state),
        message.version,
    )
    reg.subject_uscc, reg.subject_region = message.content.subject.uscc, message.content.subject.region
    reg.data_name, reg.content = message.content.data_name, canonical_json(message.content)
    reg.current_application = app.id if app else None
    reg.applications = max(reg.applications or 0, _number(app.id) if app else 0)
    reg.objections = max(
        [reg.objections or 0, *(_number(o.name.rsplit("/", 1)[1]) for o in (app.objections if app else []))]
    )
    reg.valid_from, reg.valid_until = from_date(message.valid_from), from_date(message.valid_until)
    reg.revision = record.revision
    reg.updated_at = message.update_time.ToDatetime(tzinfo=UTC)
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
    row = session.get(ApplicationRow, (reg.id, app.id)) or ApplicationRow(registration_id=reg.id, id=app.id)
    row.type, row.state = r.RegistrationType.Name(app.type), r.Application.State.Name(app.state)
    row.content, row.reason = canonical_json(app.content), app.reason
    row.defects = json.dumps(
        [{"field": d.field, "description": d.description} for d in app.defects], ensure_ascii=False
    )
    row.decision_reason = app.decision_reason
    row.acceptance_due, row.review_due = from_date(app.acceptance_due), from_date(app.review_due)
    row.announcement_start = from_date(app.announcement_start)
    row.announcement_end = from_date(app.announcement_end)
    row.deadlines_provisional = app.deadlines_provisional
    row.submitted_at = app.submit_time.ToDatetime(tzinfo=UTC)
    row.updated_at = app.update_time.ToDatetime(tzinfo=UTC)
    session.add(row)
    for objection in app.objections:
        oid = objection.name.rsplit("/", 1)[1]
        o = session.get(ObjectionRow, (reg.id, oid)) or ObjectionRow(registration_id=reg.id, id=oid)
        o.application_id, o.objector, o.reason = app.id, objection.objector, objection.reason
        o.evidence = json.dumps(
            [{"title": d.title, "uri": d.uri, "sha256": d.sha256} for d in objection.evidence],
            ensure_ascii=False,
        )
        o.state, o.outcome = (
            r.Objection.State.Name(objection.state),
            r.Objection.Outcome.Name(objection.outcome),
        )
        o.resolution = objection.resolution
        o.resolve_by = from_date(objection.resolve_by)
        o.created_at = objection.create_time.ToDatetime(tzinfo=UTC)
        o.resolved_at = (
            objection.resolve_time.ToDatetime(tzinfo=UTC) if objection.HasField("resolve_time") else None
        )
        session.add(o)


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
