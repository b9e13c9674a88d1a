"""Reading and writing registration rows: loading by name, history, and the proto views."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func
from sqlmodel import Session, select

from common.errors import InvalidArgument, InvalidValue, NotFound, PermissionDenied
from common.gen.registry.v1 import registration_pb2 as r
from common.registration.content import content_from_json, to_date
from common.registration.models import (
    ApplicationRow,
    HistoryRow,
    ObjectionRow,
    RegistrationRow,
    VersionRow,
)

__all__ = [
    "application_message",
    "append_history",
    "confirmation_message",
    "current_application",
    "history_message",
    "load",
    "parse_name",
    "registration_message",
]

NAME = re.compile(r"nodes/(\d{6})/registrations/([a-z0-9][a-z0-9-]{0,62})")
OBJECTION_NAME = re.compile(r"(nodes/\d{6}/registrations/[a-z0-9][a-z0-9-]{0,62})/objections/(o-\d{1,9})")

#: Application states in which the application is finished.
FINAL = frozenset({"NOT_ACCEPTED", "REJECTED", "COMPLETED", "TERMINATED", "WITHDRAWN"})


def _ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def parse_name(name: str, node: str, *, field: str = "name") -> str:
    """The local id of ``nodes/{node}/registrations/{id}``; another node's name is PERMISSION_DENIED."""
    match = NAME.fullmatch(name)
    if match is None:
        raise InvalidArgument.for_field(
            field, InvalidValue("FIELD_MALFORMED", "must look like nodes/{region}/registrations/{id}")
        )
    if match.group(1) != node:
        raise PermissionDenied(
            "NOT_MANAGED_HERE",
            f"{name} is managed by nodes/{match.group(1)}, not by this node (nodes/{node})",
            metadata={"field": field, "node": f"nodes/{match.group(1)}"},
        )
    return match.group(2)


def load(session: Session, node: str, local_id: str, *, for_update: bool = False) -> RegistrationRow:
    statement = select(RegistrationRow).where(RegistrationRow.id == local_id, RegistrationRow.node == node)
    if for_update:
        statement = statement.with_for_update()
    row = session.exec(statement).first()
    if row is None:
        name = f"nodes/{node}/registrations/{local_id}"
        raise NotFound("REGISTRATION_NOT_FOUND", f"{name} does not exist", metadata={"name": name})
    return row


def current_application(session: Session, reg: RegistrationRow) -> ApplicationRow | None:
    if reg.current_application is None:
        return None
    return session.get(ApplicationRow, (reg.id, reg.current_application))


def append_history(
    session: Session,
    reg: RegistrationRow,
    *,
    time: datetime,
    actor: str,
    action: str,
    reason: str = "",
    application: ApplicationRow | None = None,
) -> None:
    last = session.exec(
        select(func.max(HistoryRow.sequence)).where(HistoryRow.registration_id == reg.id)
    ).one()
    session.add(
        HistoryRow(
            registration_id=reg.id,
            sequence=(last or 0) + 1,
            time=time,
            actor=actor,
            action=action,
            reason=reason,
            application_id=application.id if application else "",
            registration_state=reg.state,
            application_state=application.state if application else "STATE_UNSPECIFIED",
            version=reg.version,
        )
    )


def history_message(registration_name: str, row: HistoryRow) -> r.HistoryEntry:
    return r.HistoryEntry(
        name=f"{registration_name}/history/{row.sequence}",
        sequence=row.sequence,
        time=_ts(row.time),
        actor=row.actor,
        action=row.action,
        reason=row.reason,
        application_id=row.application_id,
        registration_state=r.Registration.State.Value(row.registration_state),
        application_state=r.Application.State.Value(row.application_state),
        version=row.version,
    )


def objection_message(reg: RegistrationRow, row: ObjectionRow) -> r.Objection:
    return r.Objection(
        name=f"nodes/{reg.node}/registrations/{reg.id}/objections/{row.id}",
        objector=row.objector,
        reason=row.reason,
        evidence=[r.Document(**d) for d in json.loads(row.evidence)],
        state=r.Objection.State.Value(row.state),
        outcome=r.Objection.Outcome.Value(row.outcome),
        resolution=row.resolution,
        resolve_by=to_date(row.resolve_by),
        create_time=_ts(row.created_at),
        resolve_time=_ts(row.resolved_at),
    )


def application_message(
    reg: RegistrationRow, app: ApplicationRow, objections: Sequence[ObjectionRow]
) -> r.Application:
    return r.Application(
        id=app.id,
        type=r.RegistrationType.Value(app.type),
        state=r.Application.State.Value(app.state),
        content=content_from_json(app.content),
        reason=app.reason,
        defects=[r.Defect(**d) for d in json.loads(app.defects)],
        decision_reason=app.decision_reason,
        acceptance_due=to_date(app.acceptance_due),
        review_due=to_date(app.review_due),
        announcement_start=to_date(app.announcement_start),
        announcement_end=to_date(app.announcement_end),
        deadlines_provisional=app.deadlines_provisional,
        objections=[objection_message(reg, o) for o in objections],
        submit_time=_ts(app.submitted_at),
        update_time=_ts(app.updated_at),
    )


def registration_message(session: Session, reg: RegistrationRow) -> r.Registration:
    message = r.Registration(
        name=f"nodes/{reg.node}/registrations/{reg.id}",
        uid=reg.uid,
        code=reg.code or "",
        object_type=reg.object_type,
        state=r.Registration.State.Value(reg.state),
        content=content_from_json(reg.content),
        version=reg.version,
        valid_from=to_date(reg.valid_from),
        valid_until=to_date(reg.valid_until),
        managing_node=f"nodes/{reg.node}",
        create_time=_ts(reg.created_at),
        update_time=_ts(reg.updated_at),
        etag=f"r{reg.revision}",
    )
    app = current_application(session, reg)
    if app is not None:
        objections = session.exec(
            select(ObjectionRow)
            .where(ObjectionRow.registration_id == reg.id, ObjectionRow.application_id == app.id)
            .order_by(ObjectionRow.created_at)
        ).all()
        message.current_application.CopyFrom(application_message(reg, app, objections))
    return message


def confirmation_message(session: Session, reg: RegistrationRow) -> r.Confirmation:
    version = session.get(VersionRow, (reg.id, reg.version))
    assert version is not None, "a coded registration has its confirmed version"
    content = content_from_json(version.content)
    return r.Confirmation(
        code=reg.code or "",
        registration=f"nodes/{reg.node}/registrations/{reg.id}",
        object_type=reg.object_type,
        subject=content.subject,
        data_name=content.data_name,
        version=reg.version,
        state=r.Registration.State.Value(reg.state),
        valid_from=to_date(reg.valid_from),
        valid_until=to_date(reg.valid_until),
        issue_time=_ts(version.confirmed_at),
        content_sha256=version.content_sha256,
    )
