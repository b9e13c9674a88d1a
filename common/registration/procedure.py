"""The registration procedure, written once and served by every node.

apply -> accept (or return with a one-time notice, or refuse) -> review (pass, return for correction,
or reject) -> announce -> objections -> code and confirmation; then change, correction, renewal,
deregistration and expiry. Each transition runs in one database transaction that locks the
registration, checks the state allows it (FAILED_PRECONDITION otherwise, with nothing changed),
applies it, appends to the history, and records the request id with the answer, so that a retried
write returns its first answer and changes nothing more.

What the node does by itself (closing announcements, obtaining codes, expiry, reminders) is in
:mod:`common.registration.duties`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Protocol, TypeVar

from google.protobuf.message import Message
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from common import uscc
from common.calendar import WorkingCalendar
from common.clock import Clock
from common.db import Database
from common.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, InvalidValue, NotFound
from common.gen.registry.v1 import registration_pb2 as r
from common.registration import store
from common.registration.content import (
    canonical_json,
    content_from_json,
    content_sha256,
    from_date,
    validate_content,
    validate_document,
)
from common.registration.models import ApplicationRow, ObjectionRow, RegistrationRow, RequestRow, VersionRow
from common.settings import TimeLimits
from common.validation import Checker

__all__ = ["Jurisdiction", "Registry", "add_years"]

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)

#: Application states from which the subject may still withdraw.
WITHDRAWABLE = frozenset(
    {
        "SUBMITTED",
        "RETURNED",
        "UNDER_REVIEW",
        "CORRECTION_REQUESTED",
        "APPROVED",
        "ANNOUNCED",
        "OBJECTIONS_PENDING",
    }
)


class Jurisdiction(Protocol):
    """Which subjects a node may register (locality, 属地)."""

    def check_subject(self, subject: uscc.USCC, *, central: bool, field: str) -> None:
        """Raise PERMISSION_DENIED when the subject belongs to another node."""
        ...


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _fingerprint(request: Message) -> str:
    copy = type(request)()
    copy.CopyFrom(request)
    if "request_id" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("request_id")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def _defects(check: Checker, field: str, defects: list[r.Defect]) -> list[dict[str, str]]:
    if not defects:
        check.fail(field, "FIELD_REQUIRED", "list at least one defect")
    for i, defect in enumerate(defects[:100]):
        check.text(f"{field}[{i}].field", defect.field, max_length=200)
        check.text(f"{field}[{i}].description", defect.description, max_length=1000)
    if len(defects) > 100:
        check.fail(field, "FIELD_TOO_LONG", "lists more than 100 defects")
    return [{"field": d.field.strip(), "description": d.description.strip()} for d in defects]


class Registry:
    """One node's registrations and the transitions of their procedure."""

    def __init__(
        self,
        db: Database,
        *,
        node: str,
        calendar: WorkingCalendar,
        limits: TimeLimits,
        clock: Clock,
        jurisdiction: Jurisdiction,
        on_change: Callable[[Session, RegistrationRow], r.Registration | None] | None = None,
    ) -> None:
        self.db, self.node, self.calendar, self.limits, self.clock = db, node, calendar, limits, clock
        self.jurisdiction = jurisdiction
        #: Called in the transaction of every change, after its history entry: the change feed's hook.
        #: It may return the registration's message, which the write then answers with.
        self.on_change = on_change

    # -- the write envelope ---------------------------------------------------------------------

    def write(self, method: str, request: Message, request_id: str, body: Callable[[Session], M]) -> M:
        """Run ``body`` in one transaction, once per request id; a repeat gets the first answer."""
        check = Checker()
        check.request_id("request_id", request_id)
        check.done()
        fingerprint = _fingerprint(request)
        for _attempt in range(3):
            try:
                with self.db.transaction() as session:
                    done = session.get(RequestRow, request_id)
                    if done is not None:
                        if (done.method, done.fingerprint) != (method, fingerprint):
                            raise AlreadyExists(
                                "REQUEST_ID_REUSED",
                                f"request id {request_id} was already used for a different request",
                                metadata={"field": "request_id"},
                            )
                        return RESPONSE_TYPES[method].FromString(done.response)  # type: ignore[return-value]
                    response = body(session)
                    session.add(
                        RequestRow(
                            request_id=request_id,
                            method=method,
                            fingerprint=fingerprint,
                            response=response.SerializeToString(deterministic=True),
                            created_at=self.clock.now(),
                        )
                    )
                    return response
            except IntegrityError:
                logger.debug("request %s raced a repeat of itself; reading its answer", request_id)
        raise AlreadyExists("REQUEST_IN_PROGRESS", f"request id {request_id} is being processed; retry")

    # -- helpers --------------------------------------------------------------------------------

    def _deadline(self, working_days: int) -> tuple[date, bool]:
        due = self.calendar.add_working_days(self.clock.today(), working_days)
        return due.date, due.provisional

    def _locked(self, session: Session, name: str, etag: str = "") -> RegistrationRow:
        reg = store.load(session, self.node, store.parse_name(name, self.node), for_update=True)
        if etag and etag != f"r{reg.revision}":
            raise Aborted(
                "ETAG_MISMATCH",
                f"{name} changed since it was read (etag {etag}, now r{reg.revision}); read it again",
                metadata={"field": "etag"},
            )
        return reg

    def _application(
        self, session: Session, reg: RegistrationRow, verb: str, allowed: set[str]
    ) -> ApplicationRow:
        app = store.current_application(session, reg)
        if app is None or app.state not in allowed:
            state = app.state if app else "none"
            raise FailedPrecondition(
                "INVALID_TRANSITION",
                f"cannot {verb}: the application is {state}; {verb} needs {' or '.join(sorted(allowed))}",
                metadata={"state": state, "registration_state": reg.state},
            )
        return app

    def _touch(
        self,
        session: Session,
        reg: RegistrationRow,
        app: ApplicationRow | None,
        *,
        actor: str,
        action: str,
        reason: str = "",
    ) -> r.Registration:
        now = self.clock.now()
        reg.revision += 1
        reg.updated_at = now
        session.add(reg)
        if app is not None:
            app.updated_at = now
            session.add(app)
        session.flush()
        store.append_history(
            session, reg, time=now, actor=actor, action=action, reason=reason, application=app
        )
        session.flush()
        if self.on_change is not None:
            message = self.on_change(session, reg)
            session.flush()
            if message is not None:
                return message  # the hook built the registration already
        return store.registration_message(session, reg)

    def _checked_content(
        self, check: Checker, content: r.RegistrationContent, object_type: int, field: str
    ) -> tuple[uscc.USCC | None, r.RegistrationContent]:
        subject = validate_content(check, content, object_type, field)
        end = from_date(content.operation_term.end)
        if object_type == 2 and end is not None and end < self.clock.today():
            check.fail(f"{field}.operation_term.end", "FIELD_OUT_OF_RANGE", f"the term ended on {end}")
        clean = r.RegistrationContent()
        clean.CopyFrom(content)
        if subject is not None:
            clean.subject.uscc = subject.value
            clean.subject.region = subject.province.code
        return subject, clean

    def _new_application(
        self, session: Session, reg: RegistrationRow, kind: str, content: r.RegistrationContent, reason: str
    ) -> ApplicationRow:
        now = self.clock.now()
        due, provisional = self._deadline(self.limits.acceptance_days)
        reg.applications += 1
        app = ApplicationRow(
            registration_id=reg.id,
            id=f"a-{reg.applications}",
            type=kind,
            state="SUBMITTED",
            content=canonical_json(content),
            reason=reason,
            acceptance_due=due,
            deadlines_provisional=provisional,
            submitted_at=now,
            updated_at=now,
        )
        session.add(app)
        reg.current_application = app.id
        return app

    # -- applying -------------------------------------------------------------------------------

    def create(
        self, request: r.Registration, request_id: str, actor: str, method_request: Message
    ) -> r.Registration:
        check = Checker()
        if request.object_type not in (1, 2, 3):
            check.fail("registration.object_type", "FIELD_REQUIRED", "must be 1, 2 or 3")
        subject, content = self._checked_content(
            check, request.content, request.object_type, "registration.content"
        )
        check.done()
        assert subject is not None
        self.jurisdiction.check_subject(
            subject, central=content.subject.central, field="registration.content.subject.uscc"
        )

        def body(session: Session) -> r.Registration:
            now = self.clock.now()
            reg = RegistrationRow(
                id=f"r-{uuid.uuid4().hex[:12]}",
                node=self.node,
                uid=str(uuid.uuid4()),
                object_type=request.object_type,
                state="PENDING",
                subject_uscc=subject.value,
                subject_region=subject.province.code,
                data_name=content.data_name.strip(),
                content=canonical_json(content),
                created_at=now,
                updated_at=now,
            )
            session.add(reg)
            session.flush()
            app = self._new_application(session, reg, "INITIAL", content, "")
            return self._touch(session, reg, app, actor=actor, action="submit")

        return self.write("CreateRegistration", method_request, request_id, body)

    def submit(
        self,
        name: str,
        kind: int,
        content: r.RegistrationContent,
        reason: str,
        request_id: str,
        etag: str,
        actor: str,
        method_request: Message,
    ) -> r.Registration:
        check = Checker()
        kind_name = r.RegistrationType.Name(kind) if kind in r.RegistrationType.values() else ""
        if kind_name not in ("CHANGE", "CORRECTION", "DEREGISTRATION"):
            check.fail("type", "FIELD_OUT_OF_RANGE", "must be CHANGE, CORRECTION or DEREGISTRATION")
        check.text("reason", reason, max_length=2000)
        check.done()

        def body(session: Session) -> r.Registration:
            reg = self._locked(session, name, etag)
            if reg.state != "ACTIVE":
                raise FailedPrecondition(
                    "REGISTRATION_NOT_ACTIVE",
                    f"cannot apply for {kind_name.lower()}: the registration is {reg.state}",
                    metadata={"registration_state": reg.state},
                )
            app = store.current_application(session, reg)
            if app is not None and app.state not in store.FINAL:
                raise FailedPrecondition(
                    "APPLICATION_IN_PROGRESS",
                    f"application {app.id} ({app.type}) is still {app.state}; finish or withdraw it first",
                    metadata={"state": app.state},
                )
            if kind_name == "DEREGISTRATION":
                new_content = content_from_json(reg.content)
            else:
                check = Checker()
                subject, new_content = self._checked_content(check, content, reg.object_type, "content")
                check.done()
                assert subject is not None
                self._same_subject(reg, subject, "content.subject.uscc")
                self.jurisdiction.check_subject(
                    subject, central=new_content.subject.central, field="content.subject.uscc"
                )
            app = self._new_application(session, reg, kind_name, new_content, reason.strip())
            return self._touch(
                session, reg, app, actor=actor, action=f"submit_{kind_name.lower()}", reason=reason
            )

        return self.write("SubmitApplication", method_request, request_id, body)

    @staticmethod
    def _same_subject(reg: RegistrationRow, subject: uscc.USCC, field: str) -> None:
        if subject.value != reg.subject_uscc:
            raise InvalidArgument.for_field(
                field,
                InvalidValue(
                    "SUBJECT_CHANGED",
                    f"must stay {reg.subject_uscc}: a registration's subject cannot change"
                    " (a new subject registers anew; a move between provinces is a transfer)",
                ),
            )

    def resubmit(
        self,
        name: str,
        content: r.RegistrationContent,
        request_id: str,
        etag: str,
        actor: str,
        method_request: Message,
    ) -> r.Registration:
        def body(session: Session) -> r.Registration:
            reg = self._locked(session, name, etag)
            app = self._application(session, reg, "resubmit", {"RETURNED", "CORRECTION_REQUESTED"})
            check = Checker()
            subject, clean = self._checked_content(check, content, reg.object_type, "content")
            check.done()
            assert subject is not None
            self._same_subject(reg, subject, "content.subject.uscc")
            self.jurisdiction.check_subject(
                subject, central=clean.subject.central, field="content.subject.uscc"
            )
            due, provisional = self._deadline(self.limits.acceptance_days)
            app.state, app.content = "SUBMITTED", canonical_json(clean)
            app.acceptance_due, app.review_due, app.deadlines_provisional = due, None, provisional
            app.submitted_at = self.clock.now()
            if app.type == "INITIAL":
                reg.content, reg.data_name = app.content, clean.data_name.strip()
            return self._touch(session, reg, app, actor=actor, action="resubmit")

        return self.write("ResubmitApplication", method_request, request_id, body)

    def withdraw(
        self, name: str, reason: str, request_id: str, etag: str, actor: str, req: Message
    ) -> r.Registration:
        check = Checker()
        check.text("reason", reason, max_length=2000, required=False)
        check.done()

        def body(session: Session) -> r.Registration:
            reg = self._locked(session, name, etag)
            app = self._application(session, reg, "withdraw", set(WITHDRAWABLE))
            app.state = "WITHDRAWN"
            if app.type == "INITIAL":
                reg.state = "CLOSED"
            self._close_objections(session, reg, app, "the application was withdrawn")
            return self._touch(session, reg, app, actor=actor, action="withdraw", reason=reason)

        return self.write("WithdrawApplication", req, request_id, body)

    # -- acceptance -----------------------------------------------------------------------------

    def accept(self, name: str, request_id: str, etag: str, actor: str, req: Message) -> r.Registration:
        def body(session: Session) -> r.Registration:
            reg = self._locked(session, name, etag)
            app = self._application(session, reg, "accept", {"SUBMITTED"})
            due, provisional = self._deadline(self.limits.review_days)
            app.state, app.review_due = "UNDER_REVIEW", due
            app.deadlines_provisional = app.deadlines_provisional or provisional
            app.defects = "[]"
            return self._touch(session, reg, app, actor=actor, action="accept")

        return self.write("AcceptApplication", req, request_id, body)

    def _send_back(
        self,
        method: str,
        verb: str,
        allowed: str,
        new_state: str,
        name: str,
        defects: list[r.Defect],
        request_id: str,
        etag: str,
        actor: str,
        req: Message,
    ) -> r.Registration:
        """Back to the subject with every defect listed at once (the one-time notice, 一次性告知)."""
        check = Checker()
        listed = _defects(check, "defects", defects)
        check.done()

        def body(session: Session) -> r.Registration:
            reg = self._locked(session, name, etag)
            app = self._application(session, reg, verb.replace("_", " "), {allowed})
            app.state, app.defects = new_state, json.dumps(listed, ensure_ascii=False)
            summary = "; ".join(f"{d['field']}: {d['description']}" for d in listed)
            return self._touch(session, reg, app, actor=actor, action=verb, reason=summary)

        return self.write(method, req, request_id, body)

    def return_(
        self, name: str, defects: list[r.Defect], request_id: str, etag: str, actor: str, req: Message
    ) -> r.Registration:
        return self._send_back(
            "ReturnApplication",
            "return",
            "SUBMITTED",
            "RETURNED",
            name,
            defects,
            request_id,
            etag,
            actor,
            req,
        )

    def _decide(
        self,
        method: str,
        verb: str,
        allowed: str,
        outcome: str,
        name: str,
        reason: str,
        request_id: str,
        etag: str,
        actor: str,
        req: Message,
    ) -> r.Registration:
        check = Checker()
        check.text("reason", reason, max_length=2000)
        check.done()

        def body(session: Session) -> r.Registration:
            reg = self._locked(session, name, etag)
            app = self._application(session, reg, verb, {allowed})
            app.state, app.decision_reason = outcome, reason.strip()
            if app.type == "INITIAL":
                reg.state = "CLOSED"
            return self._touch(session, reg, app, actor=actor, action=verb, reason=reason)

        return self.write(method, req, request_id, body)

    def refuse(
        self, name: str, reason: str, request_id: str, etag: str, actor: str, req: Message
    ) -> r.Registration:
        return self._decide(
            "RefuseApplication",
            "refuse",
            "SUBMITTED",
            "NOT_ACCEPTED",
            name,
            reason,
            request_id,
            etag,
            actor,
            req,
        )

    # -- review ---------------------------------------------------------------------------------

    def approve(self, name: str, request_id: str, etag: str, actor: str, req: Message) -> r.Registration:
        def body(session: Session) -> r.Registration:
            reg = self._locked(session, name, etag)
            app = self._application(session, reg, "approve", {"UNDER_REVIEW"})
            if app.type == "DEREGISTRATION":
                # Deregistration needs no announcement: approving it retires the code.
                app.state, reg.state = "COMPLETED", "DEREGISTERED"
                return self._touch(session, reg, app, actor=actor, action="deregister", reason=app.reason)
            app.state = "APPROVED"
            return self._touch(session, reg, app, actor=actor, action="approve")

        return self.write("ApproveApplication", req, request_id, body)

    def request_correction(
        self, name: str, defects: list[r.Defect], request_id: str, etag: str, actor: str, req: Message
    ) -> r.Registration:
        return self._send_back(
            "RequestCorrection",
            "request_correction",
            "UNDER_REVIEW",
            "CORRECTION_REQUESTED",
            name,
            defects,
            request_id,
            etag,
            actor,
            req,
        )

    def reject(
        self, name: str, reason: str, request_id: str, etag: str, actor: str, req: Message
    ) -> r.Registration:
        return self._decide(
            "RejectApplication",
            "reject",
            "UNDER_REVIEW",
            "REJECTED",
            name,
            reason,
            request_id,
            etag,
            actor,
            req,
        )

    # -- announcement and objections ------------------------------------------------------------

    def announce(self, name: str, request_id: str, etag: str, actor: str, req: Message) -> r.Registration:
        def body(session: Session) -> r.Registration:
            reg = self._locked(session, name, etag)
            app = self._application(session, reg, "announce", {"APPROVED"})
            end, provisional = self._deadline(self.limits.announcement_days)
            app.state, app.announcement_start, app.announcement_end = "ANNOUNCED", self.clock.today(), end
            app.deadlines_provisional = app.deadlines_provisional or provisional
            return self._touch(session, reg, app, actor=actor, action="announce")

        return self.write("AnnounceApplication", req, request_id, body)

    def object(
        self, parent: str, objection: r.Objection, request_id: str, actor: str, req: Message
    ) -> r.Objection:
        check = Checker()
        check.text("objection.objector", objection.objector, max_length=200)
        check.text("objection.reason", objection.reason, max_length=2000)
        if len(objection.evidence) > 50:
            check.fail("objection.evidence", "FIELD_TOO_LONG", "lists more than 50 documents")
        for i, doc in enumerate(objection.evidence[:50]):
            validate_document(check, f"objection.evidence[{i}]", doc)
        check.done()

        def body(session: Session) -> r.Objection:
            reg = self._locked(session, parent)
            app = self._application(session, reg, "object", {"ANNOUNCED"})
            today = self.clock.today()
            if app.announcement_end is not None and today > app.announcement_end:
                raise FailedPrecondition(
                    "ANNOUNCEMENT_CLOSED",
                    f"the announcement closed on {app.announcement_end}; objections are no longer taken",
                    metadata={"announcement_end": str(app.announcement_end)},
                )
            due, provisional = self._deadline(self.limits.objection_days)
            reg.objections += 1
            row = ObjectionRow(
                registration_id=reg.id,
                id=f"o-{reg.objections}",
                application_id=app.id,
                objector=objection.objector.strip(),
                reason=objection.reason.strip(),
                evidence=json.dumps(
                    [{"title": d.title, "uri": d.uri, "sha256": d.sha256} for d in objection.evidence],
                    ensure_ascii=False,
                ),
                state="PENDING",
                resolve_by=due,
                resolve_by_provisional=provisional,
                created_at=self.clock.now(),
            )
            session.add(row)
            self._touch(session, reg, app, actor=actor, action="object", reason=objection.reason)
            return store.objection_message(reg, row)

        return self.write("CreateObjection", req, request_id, body)

    def resolve(
        self, name: str, outcome: int, resolution: str, request_id: str, actor: str, req: Message
    ) -> r.Registration:
        match = store.OBJECTION_NAME.fullmatch(name)
        check = Checker()
        if match is None:
            check.fail(
                "name", "FIELD_MALFORMED", "must look like nodes/{region}/registrations/{id}/objections/o-N"
            )
        if outcome not in (1, 2, 3):
            check.fail("outcome", "FIELD_REQUIRED", "must be DISMISS, UPHOLD_TERMINATE or UPHOLD_RETURN")
        check.text("resolution", resolution, max_length=2000)
        check.done()
        assert match is not None
        outcome_name = r.Objection.Outcome.Name(outcome)

        def body(session: Session) -> r.Registration:
            reg = self._locked(session, match.group(1))
            objection = session.get(ObjectionRow, (reg.id, match.group(2)))
            if objection is None:
                raise NotFound("OBJECTION_NOT_FOUND", f"{name} does not exist", metadata={"name": name})
            if objection.state != "PENDING":
                raise FailedPrecondition(
                    "OBJECTION_RESOLVED",
                    f"{name} was already resolved ({objection.state})",
                    metadata={"state": objection.state},
                )
            app = store.current_application(session, reg)
            live = (
                app is not None
                and app.id == objection.application_id
                and app.state in ("ANNOUNCED", "OBJECTIONS_PENDING")
            )
            if not live:
                raise FailedPrecondition(
                    "APPLICATION_ENDED",
                    "the application this objection concerns has ended",
                    metadata={"state": app.state if app else "none"},
                )
            assert app is not None
            objection.state = "DISMISSED" if outcome_name == "DISMISS" else "UPHELD"
            objection.outcome, objection.resolution = outcome_name, resolution.strip()
            objection.resolved_at = self.clock.now()
            session.add(objection)
            action = "dismiss_objection" if outcome_name == "DISMISS" else "uphold_objection"
            if outcome_name == "UPHOLD_TERMINATE":
                app.state, app.decision_reason = "TERMINATED", resolution.strip()
                if app.type == "INITIAL":
                    reg.state = "CLOSED"
                self._close_objections(session, reg, app, f"the application was terminated ({objection.id})")
            elif outcome_name == "UPHOLD_RETURN":
                app.state = "CORRECTION_REQUESTED"
                app.defects = json.dumps(
                    [{"field": "content", "description": resolution.strip()}], ensure_ascii=False
                )
                app.announcement_start = app.announcement_end = None
                self._close_objections(
                    session, reg, app, f"the application was returned for correction ({objection.id})"
                )
            session.flush()
            message = self._touch(session, reg, app, actor=actor, action=action, reason=resolution)
            if (
                outcome_name == "DISMISS"
                and app.state == "OBJECTIONS_PENDING"
                and not self._pending(session, reg, app)
            ):
                self.finish_announcement(session, reg, app)
                message = store.registration_message(session, reg)
            return message

        return self.write("ResolveObjection", req, request_id, body)

    def _close_objections(
        self, session: Session, reg: RegistrationRow, app: ApplicationRow, why: str
    ) -> None:
        """Objections still pending when their application ends or is returned have nothing to decide."""
        pending = session.exec(
            select(ObjectionRow).where(
                ObjectionRow.registration_id == reg.id,
                ObjectionRow.application_id == app.id,
                ObjectionRow.state == "PENDING",
            )
        ).all()
        for objection in pending:
            objection.state, objection.resolution = "CLOSED", f"closed without decision: {why}"
            objection.resolved_at = self.clock.now()
            session.add(objection)

    @staticmethod
    def _pending(session: Session, reg: RegistrationRow, app: ApplicationRow) -> int:
        return session.exec(
            select(func.count()).where(
                ObjectionRow.registration_id == reg.id,
                ObjectionRow.application_id == app.id,
                ObjectionRow.state == "PENDING",
            )
        ).one()

    def finish_announcement(self, session: Session, reg: RegistrationRow, app: ApplicationRow) -> None:
        """The announcement is over and no objection stands: code it, or put the new version in force."""
        if app.type == "INITIAL":
            app.state = "AWAITING_CODE"
            self._touch(session, reg, app, actor="system", action="await_code")
            return
        content = content_from_json(app.content)
        reg.version += 1
        reg.content, reg.data_name = app.content, content.data_name.strip()
        end = content.operation_term.end
        if content.HasField("operation_term") and reg.valid_until is not None:
            reg.valid_until = min(reg.valid_until, date(end.year, end.month, end.day))
        app.state = "COMPLETED"
        self._confirm(session, reg, app.content)
        self._touch(session, reg, app, actor="system", action=f"new_version_{app.type.lower()}")

    def _confirm(self, session: Session, reg: RegistrationRow, canonical: str) -> None:
        session.add(
            VersionRow(
                registration_id=reg.id,
                version=reg.version,
                content=canonical,
                content_sha256=content_sha256(canonical),
                confirmed_at=self.clock.now(),
            )
        )

    def activate(self, session: Session, reg: RegistrationRow, app: ApplicationRow, code: str) -> None:
        """The national node assigned ``code``: the registration is active, version 1, confirmed."""
        today = self.clock.today()
        content = content_from_json(reg.content)
        until = add_years(today, 3) - timedelta(days=1)  # three years, the first day included
        if content.HasField("operation_term"):
            end = content.operation_term.end
            until = min(until, date(end.year, end.month, end.day))
        reg.code, reg.state, reg.version = code, "ACTIVE", 1
        reg.valid_from, reg.valid_until = today, until
        app.state = "COMPLETED"
        self._confirm(session, reg, reg.content)
        self._touch(session, reg, app, actor="system", action="assign_code", reason=code)

    # -- after registration ---------------------------------------------------------------------

    def renew(self, name: str, request_id: str, etag: str, actor: str, req: Message) -> r.Registration:
        def body(session: Session) -> r.Registration:
            reg = self._locked(session, name, etag)
            if reg.state not in ("ACTIVE", "EXPIRED"):
                raise FailedPrecondition(
                    "REGISTRATION_NOT_RENEWABLE",
                    f"cannot renew: the registration is {reg.state}",
                    metadata={"registration_state": reg.state},
                )
            today = self.clock.today()
            assert reg.valid_until is not None
            if reg.state == "ACTIVE":
                # Three more years after the last day (29 February stays the last day of February).
                until = add_years(reg.valid_until + timedelta(days=1), 3) - timedelta(days=1)
            else:  # lapsed: a new three-year period from today
                until = add_years(today, 3) - timedelta(days=1)
            content = content_from_json(reg.content)
            if content.HasField("operation_term"):
                end = content.operation_term.end
                until = min(until, date(end.year, end.month, end.day))
            if until <= reg.valid_until or until < today:
                raise FailedPrecondition(
                    "OPERATION_TERM_ENDS",
                    f"validity cannot go past the operation term's end ({until});"
                    " apply for a change of the operation term first",
                )
            if reg.state == "ACTIVE" and reg.valid_until > add_years(today, 3) - timedelta(days=1):
                raise FailedPrecondition(
                    "RENEWAL_TOO_EARLY",
                    f"valid until {reg.valid_until}, more than three years ahead: renewed already",
                    metadata={"valid_until": str(reg.valid_until)},
                )
            reg.valid_until, reg.state = until, "ACTIVE"
            return self._touch(
                session,
                reg,
                store.current_application(session, reg),
                actor=actor,
                action="renew",
                reason=f"valid until {until}",
            )

        return self.write("RenewRegistration", req, request_id, body)


RESPONSE_TYPES: dict[str, type[Message]] = {"CreateObjection": r.Objection}
for _method in (
    "CreateRegistration",
    "SubmitApplication",
    "ResubmitApplication",
    "WithdrawApplication",
    "AcceptApplication",
    "ReturnApplication",
    "RefuseApplication",
    "ApproveApplication",
    "RequestCorrection",
    "RejectApplication",
    "AnnounceApplication",
    "ResolveObjection",
    "RenewRegistration",
):
    RESPONSE_TYPES[_method] = r.Registration
