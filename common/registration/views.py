"""Rows as the contract's messages: what a registration, its history and its confirmation look like
on the wire. The only module of the procedure that builds ``registry.v1`` messages from rows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlmodel import Session, col, select

from common import names
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.registration.content import content_from_json, to_date
from common.registration.domain import DueItem, DueKind
from common.registration.duplicates import candidates_from_json
from common.registration.models import ApplicationRow, HistoryRow, ObjectionRow, RegistrationRow, VersionRow
from common.registration.queries import current_application

__all__ = [
    "application_message",
    "confirmation_message",
    "due_item_message",
    "history_message",
    "objection_message",
    "registration_message",
    "timestamp",
]

#: ``Session.info`` key of the messages built in a transaction, by registration and revision: the
#: change feed and the answer to a write build the same message once.
_BUILT = "registration_messages"


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _name(reg: RegistrationRow) -> str:
    return names.registration_name(reg.node, reg.id)


def history_message(registration_name: str, row: HistoryRow) -> r.HistoryEntry:
    return r.HistoryEntry(
        name=names.history_name(registration_name, row.sequence),
        sequence=row.sequence,
        time=timestamp(row.time),
        actor=row.actor,
        action=row.action,
        reason=row.reason,
        application_id=row.application_id,
        registration_state=row.registration_state,
        application_state=row.application_state,
        version=row.version,
    )


def objection_message(reg: RegistrationRow, row: ObjectionRow) -> r.Objection:
    return r.Objection(
        name=names.objection_name(_name(reg), row.id),
        objector=row.objector,
        reason=row.reason,
        evidence=[r.Document(**d) for d in json.loads(row.evidence)],
        state=row.state,
        outcome=row.outcome,
        resolution=row.resolution,
        resolve_by=to_date(row.resolve_by),
        resolve_by_provisional=row.resolve_by_provisional,
        create_time=timestamp(row.created_at),
        resolve_time=timestamp(row.resolved_at),
    )


def application_message(
    reg: RegistrationRow, app: ApplicationRow, objections: Sequence[ObjectionRow]
) -> r.Application:
    return r.Application(
        id=app.id,
        name=names.application_name(_name(reg), app.id),
        type=app.type,
        state=app.state,
        content=content_from_json(app.content),
        reason=app.reason,
        defects=[r.Defect(**d) for d in json.loads(app.defects)],
        decision_reason=app.decision_reason,
        acceptance_due=to_date(app.acceptance_due),
        review_due=to_date(app.review_due),
        announcement_start=to_date(app.announcement_start),
        announcement_end=to_date(app.announcement_end),
        deadlines_provisional=app.deadlines_provisional,
        acceptance_due_provisional=app.acceptance_due_provisional,
        review_due_provisional=app.review_due_provisional,
        announcement_end_provisional=app.announcement_end_provisional,
        initial_registration_due=to_date(app.initial_registration_due),
        initial_registration_due_provisional=app.initial_registration_due_provisional,
        initial_registration_late=app.initial_registration_late,
        objections=[objection_message(reg, o) for o in objections],
        submit_time=timestamp(app.submitted_at),
        update_time=timestamp(app.updated_at),
        possible_duplicates=candidates_from_json(app.possible_duplicates),
        duplicates_checked=app.duplicates_checked,
        duplicate_check_error=app.duplicate_check_error,
    )


def registration_message(session: Session, reg: RegistrationRow) -> r.Registration:
    """The registration as the contract shows it, with its current application and objections."""
    built: dict[tuple[str, int, datetime], r.Registration] = session.info.setdefault(_BUILT, {})
    key = (reg.id, reg.revision, reg.updated_at)
    if key in built:
        copy = r.Registration()
        copy.CopyFrom(built[key])
        return copy
    message = r.Registration(
        name=_name(reg),
        uid=reg.uid,
        code=reg.code or "",
        object_type=r.ObjectType.Name(reg.object_type),
        state=reg.state,
        content=content_from_json(reg.content),
        version=reg.version,
        valid_from=to_date(reg.valid_from),
        valid_until=to_date(reg.valid_until),
        managing_node=names.node_name(reg.node),
        create_time=timestamp(reg.created_at),
        update_time=timestamp(reg.updated_at),
        etag=f"r{reg.revision}",
    )
    app = current_application(session, reg)
    if app is not None:
        objections = session.exec(
            select(ObjectionRow)
            .where(ObjectionRow.registration_id == reg.id, ObjectionRow.application_id == app.id)
            .order_by(col(ObjectionRow.created_at))
        ).all()
        message.current_application.CopyFrom(application_message(reg, app, objections))
    built[key] = message
    copy = r.Registration()
    copy.CopyFrom(message)
    return copy


def confirmation_message(session: Session, reg: RegistrationRow) -> r.Confirmation:
    version = session.get(VersionRow, (reg.id, reg.version))
    assert version is not None, "a coded registration has its confirmed version"
    content = content_from_json(version.content)
    return r.Confirmation(
        code=reg.code or "",
        registration=_name(reg),
        object_type=r.ObjectType.Name(reg.object_type),
        subject=content.subject,
        data_name=content.data_name,
        version=reg.version,
        state=reg.state,
        valid_from=to_date(reg.valid_from),
        valid_until=to_date(reg.valid_until),
        issue_time=timestamp(version.confirmed_at),
        content_sha256=version.content_sha256,
    )


def due_item_message(item: DueItem) -> rs.DueItem:
    return rs.DueItem(
        registration=item.registration,
        kind=item.kind,
        due=to_date(item.due),
        overdue=item.overdue,
        provisional=item.provisional,
        data_name=item.data_name,
        demand=item.concerns if item.kind == DueKind.DEMAND else "",
        share_request=item.concerns if item.kind in (DueKind.SHARE_REPLY, DueKind.SHARE_DELIVERY) else "",
        disclosure=item.concerns if item.kind == DueKind.PRODUCT_REGISTRATION else "",
        subject_uscc=item.subject_uscc,
    )
