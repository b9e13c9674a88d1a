"""The registration procedure, written once and run by every node.

apply -> accept (or return with a one-time notice, or refuse) -> review (pass, return for correction,
or reject) -> announce -> objections -> code and confirmation; then change, correction, renewal,
deregistration and expiry.

Every transition runs on a ``Session`` the caller opened (one transaction): it locks the
registration, checks that its state allows the transition (FAILED_PRECONDITION otherwise, before
anything is changed), applies it, appends to the history and calls the node's change hook, all in that
transaction. Transitions take and return domain values and rows; the gRPC servicer
(:mod:`common.registration.service`) converts requests and answers and makes retries safe.

What the node does by itself (closing announcements, obtaining codes, expiry, reminders) is in
:mod:`common.registration.duties`, through the public methods at the end of :class:`Procedure`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Collection, Sequence
from datetime import date
from typing import TYPE_CHECKING, Protocol

from sqlmodel import Session, col, select

from common import names, uscc
from common.calendar import WorkingCalendar, WorkingCount, WorkingDate
from common.clock import Clock, china_date
from common.codes import ObjectType
from common.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    InvalidValue,
    NotFound,
    PermissionDenied,
)
from common.registration import queries, validity
from common.registration.domain import Defect, Materials, ObjectionFiling, Target, content_sha256
from common.registration.duplicates import (
    DuplicateCheck,
    candidate_metadata,
    candidates_from_json,
    candidates_json,
    describe_candidates,
)
from common.registration.models import (
    ApplicationRow,
    HistoryRow,
    ObjectionRow,
    RegistrationRow,
    VersionRow,
)
from common.registration.states import (
    FINAL,
    OBJECTION_WINDOW,
    WITHDRAWABLE,
    ApplicationState,
    ApplicationType,
    ObjectionOutcome,
    ObjectionState,
    RegistrationState,
)
from common.security.actors import SYSTEM, identity_key
from common.settings import TimeLimits

if TYPE_CHECKING:
    from common.gen.registry.v1.registration_pb2 import DuplicateCandidate

__all__ = ["SYSTEM", "ChangeHook", "Jurisdiction", "Procedure"]

logger = logging.getLogger(__name__)

A, R = ApplicationState, RegistrationState

#: Called in the transaction of every change, after its history entry: the change feed's hook.
ChangeHook = Callable[[Session, RegistrationRow], None]


class Jurisdiction(Protocol):
    """Where a subject's FIRST registration is made (locality, 属地): each tier provides its own.

    Only initial applications are checked against it. An existing registration is in the jurisdiction
    of the node that manages it (a transfer or an onboarding moves it, its subject's USCC never
    changes): its changes, corrections, renewal and deregistration are made there, and the procedure
    finds only the registrations this node manages (NOT_MANAGED_HERE otherwise)."""

    def check_subject(self, subject: uscc.USCC, *, central: bool, field: str) -> None:
        """Raise PERMISSION_DENIED when the subject registers with another node."""
        ...


def _any_provisional(app: ApplicationRow) -> bool:
    """Whether any date the application has now was computed on weekends alone."""
    return (
        (app.acceptance_due is not None and app.acceptance_due_provisional)
        or (app.review_due is not None and app.review_due_provisional)
        or (app.announcement_end is not None and app.announcement_end_provisional)
        or (app.initial_registration_due is not None and app.initial_registration_due_provisional)
    )


def _defects_json(defects: Sequence[Defect]) -> str:
    return json.dumps([{"field": d.field, "description": d.description} for d in defects], ensure_ascii=False)


class Procedure:
    """One node's registrations and the transitions of their procedure."""

    def __init__(
        self,
        *,
        node: str,
        calendar: WorkingCalendar,
        limits: TimeLimits,
        clock: Clock,
        jurisdiction: Jurisdiction,
        on_change: ChangeHook | None = None,
        separation_of_duties: bool = True,
    ) -> None:
        self.node, self.calendar, self.limits, self.clock = node, calendar, limits, clock
        self.jurisdiction = jurisdiction
        self.on_change = on_change
        #: Whoever accepted an application makes no review decision on it (see _separate_duties).
        self.separation_of_duties = separation_of_duties

    # -- applying -------------------------------------------------------------------------------

    def create(
        self, session: Session, object_type: ObjectType, materials: Materials, *, actor: str
    ) -> RegistrationRow:
        """An initial registration (首次登记): PENDING, with an application SUBMITTED."""
        self._check_subject(materials)
        now = self.clock.now()
        reg = RegistrationRow(
            id=f"r-{uuid.uuid4().hex[:12]}",
            node=self.node,
            uid=str(uuid.uuid4()),
            object_type=int(object_type),
            state=R.PENDING,
            subject_uscc=materials.subject.value,
            subject_region=materials.subject.province.code,
            data_name=materials.data_name,
            content=materials.canonical,
            created_at=now,
            updated_at=now,
        )
        session.add(reg)
        session.flush()
        app = self._new_application(session, reg, ApplicationType.INITIAL, materials.canonical, "")
        self._initial_registration_due(reg, app, materials)
        late = ""
        if app.initial_registration_late:
            late = (
                f"late: the initial registration was due by {app.initial_registration_due}"
                f" ({self.limits.initial_registration_days} working days after authorised operation"
                f" started on {materials.term_start})"
            )
        return self.record(session, reg, app, actor=actor, action="submit", reason=late)

    def submit(
        self,
        session: Session,
        target: Target,
        kind: ApplicationType,
        materials: Materials | None,
        reason: str,
        *,
        actor: str,
    ) -> RegistrationRow:
        """A change, correction (``materials`` is the new content) or deregistration (none)."""
        reg = self._locked(session, target)
        if reg.state != R.ACTIVE:
            raise FailedPrecondition(
                "REGISTRATION_NOT_ACTIVE",
                f"cannot apply for {kind.lower()}: the registration is {reg.state}",
                metadata={"registration_state": reg.state},
            )
        app = queries.current_application(session, reg)
        if app is not None and app.state not in FINAL:
            raise FailedPrecondition(
                "APPLICATION_IN_PROGRESS",
                f"application {app.id} ({app.type}) is still {app.state}; finish or withdraw it first",
                metadata={"state": app.state},
            )
        if kind == ApplicationType.DEREGISTRATION or materials is None:
            canonical = reg.content
        else:
            self._same_subject(reg, materials, registered=True)
            canonical = materials.canonical
        app = self._new_application(session, reg, kind, canonical, reason.strip())
        return self.record(session, reg, app, actor=actor, action=f"submit_{kind.lower()}", reason=reason)

    def resubmit(
        self, session: Session, target: Target, materials: Materials, *, actor: str
    ) -> RegistrationRow:
        """The corrected content of a RETURNED or CORRECTION_REQUESTED application; the acceptance
        clock restarts."""
        reg = self._locked(session, target)
        app = self._application(session, reg, target, "resubmit", {A.RETURNED, A.CORRECTION_REQUESTED})
        self._same_subject(reg, materials)
        if app.type == ApplicationType.INITIAL:
            self._check_subject(materials)
        due = self._deadline(self.limits.acceptance_days)
        app.state, app.content = A.SUBMITTED, materials.canonical
        app.acceptance_due, app.acceptance_due_provisional = due.date, due.provisional
        app.review_due, app.review_due_provisional = None, False
        app.submitted_at = self.clock.now()
        # New content is checked for duplicates anew when it is next offered for acceptance.
        app.duplicates_checked, app.possible_duplicates, app.duplicate_check_error = False, "[]", ""
        if app.type == ApplicationType.INITIAL:
            reg.content, reg.data_name = app.content, materials.data_name
        self._initial_registration_due(reg, app, materials)
        return self.record(session, reg, app, actor=actor, action="resubmit")

    def withdraw(self, session: Session, target: Target, reason: str, *, actor: str) -> RegistrationRow:
        reg = self._locked(session, target)
        app = self._application(session, reg, target, "withdraw", WITHDRAWABLE)
        app.state = A.WITHDRAWN
        if app.type == ApplicationType.INITIAL:
            reg.state = R.CLOSED
        self._close_objections(session, reg, app, "the application was withdrawn")
        return self.record(session, reg, app, actor=actor, action="withdraw", reason=reason)

    # -- acceptance -----------------------------------------------------------------------------

    def accept(
        self,
        session: Session,
        target: Target,
        *,
        actor: str,
        duplicates: DuplicateCheck | None = None,
        acknowledge_duplicates: bool = False,
    ) -> RegistrationRow:
        """受理: review starts, with its deadline.

        ``duplicates``: what the duplicate check found, kept if the application has none kept yet.
        An application with possible duplicates kept is refused (FAILED_PRECONDITION
        ``POSSIBLE_DUPLICATES``, before the etag is compared, so that a retry gets the same answer)
        unless the clerk acknowledges them; the history entry then names them."""
        reg = self._locked(session, Target(target.registration, target.application))
        current = queries.current_application(session, reg)
        candidates: list[DuplicateCandidate] = []
        if current is not None and current.state == A.SUBMITTED and target.application in (None, current.id):
            if duplicates is not None and not current.duplicates_checked:
                self._keep_check(current, duplicates)
            candidates = candidates_from_json(current.possible_duplicates)
            if candidates and not acknowledge_duplicates:
                raise FailedPrecondition(
                    "POSSIBLE_DUPLICATES",
                    f"application {current.id} has {describe_candidates(candidates)}; look at its"
                    " possible_duplicates (registryctl show) and accept with acknowledge_duplicates"
                    " (--acknowledge-duplicates), or return or refuse it",
                    metadata=candidate_metadata(candidates),
                )
        if target.etag:
            self._locked(session, target)  # compares the etag (the row is locked already)
        app = self._application(session, reg, target, "accept", {A.SUBMITTED})
        due = self._deadline(self.limits.review_days)
        app.state, app.review_due, app.review_due_provisional = A.UNDER_REVIEW, due.date, due.provisional
        app.defects = "[]"
        if candidates:
            reason = f"acknowledged {describe_candidates(candidates)}"
        elif app.duplicate_check_error:
            reason = f"duplicate check not done: {app.duplicate_check_error}"
        else:
            reason = ""
        return self.record(session, reg, app, actor=actor, action="accept", reason=reason)

    def keep_duplicates(
        self, session: Session, target: Target, duplicates: DuplicateCheck, *, actor: str
    ) -> RegistrationRow | None:
        """Keep the possible duplicates found for a submitted application that has none kept yet, in a
        change of its own (the acceptance they stop is then refused); None when there is nothing to
        keep them on (another acceptance came first, or the application moved on)."""
        reg = self._locked(session, Target(target.registration, target.application))
        app = queries.current_application(session, reg)
        if (
            app is None
            or app.state != A.SUBMITTED
            or app.duplicates_checked
            or (target.application is not None and app.id != target.application)
        ):
            return None
        self._keep_check(app, duplicates)
        return self.record(
            session,
            reg,
            app,
            actor=actor,
            action="find_duplicates",
            reason=describe_candidates(duplicates.candidates),
        )

    @staticmethod
    def _keep_check(app: ApplicationRow, duplicates: DuplicateCheck) -> None:
        app.duplicates_checked = True
        app.possible_duplicates = candidates_json(duplicates.candidates)
        app.duplicate_check_error = duplicates.error

    def return_(
        self, session: Session, target: Target, defects: Sequence[Defect], *, actor: str
    ) -> RegistrationRow:
        """Back to the subject with every defect listed at once (the one-time notice, 一次性告知)."""
        return self._send_back(session, target, defects, "return", A.SUBMITTED, A.RETURNED, actor)

    def refuse(self, session: Session, target: Target, reason: str, *, actor: str) -> RegistrationRow:
        """不予受理, with a reason."""
        return self._decide(session, target, reason, "refuse", A.SUBMITTED, A.NOT_ACCEPTED, actor)

    # -- review ---------------------------------------------------------------------------------

    def approve(self, session: Session, target: Target, *, actor: str) -> RegistrationRow:
        reg = self._locked(session, target)
        app = self._application(session, reg, target, "approve", {A.UNDER_REVIEW})
        self._separate_duties(session, reg, app, actor, "approve")
        if app.type == ApplicationType.DEREGISTRATION:
            # Deregistration needs no announcement: approving it retires the code.
            app.state, reg.state = A.COMPLETED, R.DEREGISTERED
            return self.record(session, reg, app, actor=actor, action="deregister", reason=app.reason)
        app.state = A.APPROVED
        return self.record(session, reg, app, actor=actor, action="approve")

    def request_correction(
        self, session: Session, target: Target, defects: Sequence[Defect], *, actor: str
    ) -> RegistrationRow:
        return self._send_back(
            session,
            target,
            defects,
            "request_correction",
            A.UNDER_REVIEW,
            A.CORRECTION_REQUESTED,
            actor,
            review=True,
        )

    def reject(self, session: Session, target: Target, reason: str, *, actor: str) -> RegistrationRow:
        return self._decide(session, target, reason, "reject", A.UNDER_REVIEW, A.REJECTED, actor, review=True)

    def _separate_duties(
        self, session: Session, reg: RegistrationRow, app: ApplicationRow, actor: str, verb: str
    ) -> None:
        """SEPARATION_OF_DUTIES: whoever accepted the application, in any of its rounds (a correction
        sends it back to acceptance), makes no review decision on it. People are compared by
        :func:`~common.security.actors.identity_key`, so another spelling of the same subject is the
        same person."""
        if not self.separation_of_duties:
            return
        accepted_by = session.exec(
            select(HistoryRow.actor).where(
                HistoryRow.registration_id == reg.id,
                HistoryRow.application_id == app.id,
                HistoryRow.action == "accept",
            )
        ).all()
        who = identity_key(actor)
        if any(identity_key(accepter) == who for accepter in accepted_by):
            raise PermissionDenied(
                "SEPARATION_OF_DUTIES",
                f"{actor} accepted application {app.id}; another reviewer must {verb.replace('_', ' ')} it",
                metadata={"application": app.id, "principal": actor},
            )

    # -- announcement and objections ------------------------------------------------------------

    def announce(self, session: Session, target: Target, *, actor: str) -> RegistrationRow:
        """登记公示: the announcement runs for the configured number of working days."""
        reg = self._locked(session, target)
        app = self._application(session, reg, target, "announce", {A.APPROVED})
        end = self._deadline(self.limits.announcement_days)
        app.state, app.announcement_start, app.announcement_end = A.ANNOUNCED, self.clock.today(), end.date
        app.announcement_end_provisional = end.provisional
        return self.record(session, reg, app, actor=actor, action="announce")

    def object(
        self,
        session: Session,
        target: Target,
        filing: ObjectionFiling,
        *,
        actor: str,
        filed_on: date | None = None,
    ) -> tuple[RegistrationRow, ObjectionRow]:
        """An objection (异议) while the announcement is open; ``filed_on``: the day another node took
        it (the national node's public window), when that was before today."""
        reg = self._locked(session, target)
        app = self._application(session, reg, target, "object", {A.ANNOUNCED})
        if app.announcement_end is not None and (filed_on or self.clock.today()) > app.announcement_end:
            raise FailedPrecondition(
                "ANNOUNCEMENT_CLOSED",
                f"the announcement closed on {app.announcement_end}; objections are no longer taken",
                metadata={"announcement_end": str(app.announcement_end)},
            )
        due = self._deadline(self.limits.objection_days)
        reg.objections += 1
        row = ObjectionRow(
            registration_id=reg.id,
            id=f"o-{reg.objections}",
            application_id=app.id,
            objector=filing.objector.strip(),
            reason=filing.reason.strip(),
            evidence=json.dumps(
                [{"title": d.title, "uri": d.uri, "sha256": d.sha256} for d in filing.evidence],
                ensure_ascii=False,
            ),
            state=ObjectionState.PENDING,
            resolve_by=due.date,
            resolve_by_provisional=due.provisional,
            created_at=self.clock.now(),
        )
        session.add(row)
        self.record(session, reg, app, actor=actor, action="object", reason=filing.reason)
        return reg, row

    def resolve(
        self,
        session: Session,
        local_id: str,
        objection_id: str,
        outcome: ObjectionOutcome,
        resolution: str,
        *,
        actor: str,
    ) -> RegistrationRow:
        """Decide a PENDING objection: dismiss it, or uphold it and terminate or return the application."""
        reg = self._locked(session, Target(local_id))
        objection = session.get(ObjectionRow, (reg.id, objection_id))
        name = names.objection_name(names.registration_name(self.node, local_id), objection_id)
        if objection is None:
            raise NotFound("OBJECTION_NOT_FOUND", f"{name} does not exist", metadata={"name": name})
        if objection.state != ObjectionState.PENDING:
            raise FailedPrecondition(
                "OBJECTION_RESOLVED",
                f"{name} was already resolved ({objection.state})",
                metadata={"state": objection.state},
            )
        app = queries.current_application(session, reg)
        if app is None or app.id != objection.application_id or app.state not in OBJECTION_WINDOW:
            raise FailedPrecondition(
                "APPLICATION_ENDED",
                "the application this objection concerns has ended",
                metadata={"state": app.state if app else "none"},
            )
        resolution = resolution.strip()
        dismissed = outcome == ObjectionOutcome.DISMISS
        objection.state = ObjectionState.DISMISSED if dismissed else ObjectionState.UPHELD
        objection.outcome, objection.resolution = outcome, resolution
        objection.resolved_at = self.clock.now()
        session.add(objection)
        if outcome == ObjectionOutcome.UPHOLD_TERMINATE:
            app.state, app.decision_reason = A.TERMINATED, resolution
            if app.type == ApplicationType.INITIAL:
                reg.state = R.CLOSED
            self._close_objections(session, reg, app, f"the application was terminated ({objection.id})")
        elif outcome == ObjectionOutcome.UPHOLD_RETURN:
            app.state = A.CORRECTION_REQUESTED
            app.defects = _defects_json([Defect("content", resolution)])
            app.announcement_start = app.announcement_end = None
            app.announcement_end_provisional = False
            self._close_objections(
                session, reg, app, f"the application was returned for correction ({objection.id})"
            )
        session.flush()
        action = "dismiss_objection" if dismissed else "uphold_objection"
        self.record(session, reg, app, actor=actor, action=action, reason=resolution)
        if (
            dismissed
            and app.state == A.OBJECTIONS_PENDING
            and not queries.pending_objections(session, reg, app)
        ):
            self.finish_announcement(session, reg, app)
        return reg

    # -- after registration ---------------------------------------------------------------------

    def renew(self, session: Session, target: Target, *, actor: str) -> RegistrationRow:
        """Three more years (from today, for a lapsed registration), never past an operation term."""
        reg = self._locked(session, target)
        if reg.state not in (R.ACTIVE, R.EXPIRED):
            raise FailedPrecondition(
                "REGISTRATION_NOT_RENEWABLE",
                f"cannot renew: the registration is {reg.state}",
                metadata={"registration_state": reg.state},
            )
        today = self.clock.today()
        assert reg.valid_until is not None
        term_end = Materials.from_canonical(reg.content).term_end
        until = validity.renewed_term(
            reg.valid_until, today=today, lapsed=reg.state == R.EXPIRED, term_end=term_end
        )
        if until <= reg.valid_until or until < today:
            raise FailedPrecondition(
                "OPERATION_TERM_ENDS",
                f"validity cannot go past the operation term's end ({until});"
                " apply for a change of the operation term first",
            )
        if reg.state == R.ACTIVE and reg.valid_until > validity.latest_renewable(today):
            raise FailedPrecondition(
                "RENEWAL_TOO_EARLY",
                f"valid until {reg.valid_until}, more than three years ahead: renewed already",
                metadata={"valid_until": str(reg.valid_until)},
            )
        reg.valid_until, reg.state = until, R.ACTIVE
        app = queries.current_application(session, reg)
        return self.record(session, reg, app, actor=actor, action="renew", reason=f"valid until {until}")

    # -- what the node does by itself (used by the duties) ----------------------------------------

    def close_announcement(self, session: Session, reg: RegistrationRow, app: ApplicationRow) -> None:
        """The announcement's last day is over: wait for pending objections, or finish it."""
        if queries.pending_objections(session, reg, app):
            app.state = A.OBJECTIONS_PENDING
            self.record(
                session, reg, app, actor=SYSTEM, action="close_announcement", reason="objections to resolve"
            )
            return
        self.record(session, reg, app, actor=SYSTEM, action="close_announcement")
        self.finish_announcement(session, reg, app)

    def finish_announcement(self, session: Session, reg: RegistrationRow, app: ApplicationRow) -> None:
        """The announcement is over and no objection stands: code it, or put the new version in force."""
        if app.type == ApplicationType.INITIAL:
            app.state = A.AWAITING_CODE
            self.record(session, reg, app, actor=SYSTEM, action="await_code")
            return
        materials = Materials.from_canonical(app.content)
        reg.version += 1
        reg.content, reg.data_name = app.content, materials.data_name
        if reg.valid_until is not None:
            reg.valid_until = validity.clamp(reg.valid_until, materials.term_end)
        app.state = A.COMPLETED
        self._confirm(session, reg, app.content)
        self.record(session, reg, app, actor=SYSTEM, action=f"new_version_{app.type.lower()}")

    def activate(
        self, session: Session, reg: RegistrationRow, app: ApplicationRow, code: str, *, code_lease: str = ""
    ) -> None:
        """The national node assigned ``code`` (or the node gave it from ``code_lease`` while the
        national node could not be reached): the registration is active, version 1, confirmed."""
        today = self.clock.today()
        reg.code, reg.state, reg.version = code, R.ACTIVE, 1
        reg.valid_from = today
        reg.valid_until = validity.first_term(today, Materials.from_canonical(reg.content).term_end)
        app.state = A.COMPLETED
        self._confirm(session, reg, reg.content)
        if code_lease:
            reason = f"{code} from {code_lease} (the national node could not be reached)"
            self.record(session, reg, app, actor=SYSTEM, action="assign_code_from_lease", reason=reason)
        else:
            self.record(session, reg, app, actor=SYSTEM, action="assign_code", reason=code)

    def expire(self, session: Session, reg: RegistrationRow) -> None:
        reg.state = R.EXPIRED
        app = queries.current_application(session, reg)
        self.record(
            session, reg, app, actor=SYSTEM, action="expire", reason=f"validity ended {reg.valid_until}"
        )

    def remind(self, session: Session, reg: RegistrationRow, left: WorkingCount) -> None:
        """The expiry reminder; the count of working days left is marked provisional when it is."""
        reg.reminded_for = reg.valid_until
        app = queries.current_application(session, reg)
        days = f"{left.days} working days left" + (", provisional" if left.provisional else "")
        self.record(
            session,
            reg,
            app,
            actor=SYSTEM,
            action="remind",
            reason=f"validity ends {reg.valid_until} ({days}); renew before",
        )

    def record(
        self,
        session: Session,
        reg: RegistrationRow,
        app: ApplicationRow | None,
        *,
        actor: str,
        action: str,
        reason: str = "",
    ) -> RegistrationRow:
        """A change is done: new revision, a history entry, the change hook; returns the registration."""
        now = self.clock.now()
        reg.revision += 1
        reg.updated_at = now
        session.add(reg)
        if app is not None:
            app.updated_at = now
            app.deadlines_provisional = _any_provisional(app)
            session.add(app)
        session.flush()
        last = session.exec(
            select(HistoryRow.sequence)
            .where(HistoryRow.registration_id == reg.id)
            .order_by(col(HistoryRow.sequence).desc())
            .limit(1)
        ).first()
        session.add(
            HistoryRow(
                registration_id=reg.id,
                sequence=(last or 0) + 1,
                time=now,
                actor=actor,
                action=action,
                reason=reason,
                application_id=app.id if app else "",
                registration_state=reg.state,
                application_state=app.state if app else "STATE_UNSPECIFIED",
                version=reg.version,
            )
        )
        session.flush()
        if self.on_change is not None:
            self.on_change(session, reg)
            session.flush()
        return reg

    # -- helpers --------------------------------------------------------------------------------

    def _deadline(self, working_days: int) -> WorkingDate:
        return self.calendar.add_working_days(self.clock.today(), working_days)

    def _initial_registration_due(
        self, reg: RegistrationRow, app: ApplicationRow, materials: Materials
    ) -> None:
        """Fujian's rule, where the node sets it: the subject's initial registration of a product or
        service is due ``initial_registration_days`` working days after authorised operation starts
        (the operation term's start); late when first submitted after that day."""
        days, start = self.limits.initial_registration_days, materials.term_start
        if app.type != ApplicationType.INITIAL or days is None or start is None:
            app.initial_registration_due, app.initial_registration_due_provisional = None, False
            app.initial_registration_late = False
            return
        due = self.calendar.add_working_days(start, days)
        app.initial_registration_due, app.initial_registration_due_provisional = due.date, due.provisional
        app.initial_registration_late = china_date(reg.created_at) > due.date

    def _locked(self, session: Session, target: Target) -> RegistrationRow:
        reg = queries.load(session, self.node, target.registration, for_update=True)
        if target.etag and target.etag != f"r{reg.revision}":
            name = names.registration_name(self.node, reg.id)
            raise Aborted(
                "ETAG_MISMATCH",
                f"{name} changed since it was read (etag {target.etag}, now r{reg.revision}); read it again",
                metadata={"field": "etag"},
            )
        return reg

    @staticmethod
    def _application(
        session: Session, reg: RegistrationRow, target: Target, verb: str, allowed: Collection[str]
    ) -> ApplicationRow:
        app = queries.current_application(session, reg)
        if target.application is not None and (app is None or app.id != target.application):
            current = app.id if app else "none"
            raise FailedPrecondition(
                "NOT_CURRENT_APPLICATION",
                f"cannot {verb}: {target.application} is not the current application ({current})",
                metadata={"field": "name", "current_application": current},
            )
        if app is None or app.state not in allowed:
            state = app.state if app else "none"
            raise FailedPrecondition(
                "INVALID_TRANSITION",
                f"cannot {verb}: the application is {state}; {verb} needs {' or '.join(sorted(allowed))}",
                metadata={"state": state, "registration_state": reg.state},
            )
        return app

    def _confirm(self, session: Session, reg: RegistrationRow, canonical: str) -> None:
        """The confirmed version: what the confirmation (登记结果确认单) of this version certifies."""
        session.add(
            VersionRow(
                registration_id=reg.id,
                version=reg.version,
                content=canonical,
                content_sha256=content_sha256(canonical),
                confirmed_at=self.clock.now(),
            )
        )

    def _check_subject(self, materials: Materials) -> None:
        self.jurisdiction.check_subject(
            materials.subject, central=materials.central, field=f"{materials.field}.subject.uscc"
        )

    @staticmethod
    def _same_subject(reg: RegistrationRow, materials: Materials, *, registered: bool = False) -> None:
        """A registration's subject cannot change; once ``registered``, neither can whether it is a
        central body (that would move it to another tier: a central body registers anew with the
        national node). Where it is managed is the managing node's matter, not its USCC's."""
        if materials.subject.value != reg.subject_uscc:
            raise InvalidArgument.for_field(
                f"{materials.field}.subject.uscc",
                InvalidValue(
                    "SUBJECT_CHANGED",
                    f"must stay {reg.subject_uscc}: a registration's subject cannot change"
                    " (a new subject registers anew; a move between provinces is a transfer)",
                ),
            )
        central = Materials.from_canonical(reg.content).central
        if registered and materials.central != central:
            raise InvalidArgument.for_field(
                f"{materials.field}.subject.central",
                InvalidValue(
                    "SUBJECT_CHANGED",
                    f"must stay {str(central).lower()}: whether the subject is a central body cannot"
                    " change (a central body registers anew with the national node)",
                ),
            )

    def _new_application(
        self, session: Session, reg: RegistrationRow, kind: ApplicationType, canonical: str, reason: str
    ) -> ApplicationRow:
        now = self.clock.now()
        due = self._deadline(self.limits.acceptance_days)
        reg.applications += 1
        app = ApplicationRow(
            registration_id=reg.id,
            id=f"a-{reg.applications}",
            type=kind,
            state=A.SUBMITTED,
            content=canonical,
            reason=reason,
            acceptance_due=due.date,
            acceptance_due_provisional=due.provisional,
            submitted_at=now,
            updated_at=now,
        )
        session.add(app)
        reg.current_application = app.id
        return app

    def _send_back(
        self,
        session: Session,
        target: Target,
        defects: Sequence[Defect],
        verb: str,
        allowed: ApplicationState,
        new_state: ApplicationState,
        actor: str,
        *,
        review: bool = False,
    ) -> RegistrationRow:
        reg = self._locked(session, target)
        app = self._application(session, reg, target, verb.replace("_", " "), {allowed})
        if review:
            self._separate_duties(session, reg, app, actor, verb)
        app.state, app.defects = new_state, _defects_json(defects)
        summary = "; ".join(f"{d.field}: {d.description}" for d in defects)
        return self.record(session, reg, app, actor=actor, action=verb, reason=summary)

    def _decide(
        self,
        session: Session,
        target: Target,
        reason: str,
        verb: str,
        allowed: ApplicationState,
        outcome: ApplicationState,
        actor: str,
        *,
        review: bool = False,
    ) -> RegistrationRow:
        reg = self._locked(session, target)
        app = self._application(session, reg, target, verb, {allowed})
        if review:
            self._separate_duties(session, reg, app, actor, verb)
        app.state, app.decision_reason = outcome, reason.strip()
        if app.type == ApplicationType.INITIAL:
            reg.state = R.CLOSED
        return self.record(session, reg, app, actor=actor, action=verb, reason=reason)

    def _close_objections(
        self, session: Session, reg: RegistrationRow, app: ApplicationRow, why: str
    ) -> None:
        """Objections still pending when their application ends or is returned have nothing to decide."""
        pending = session.exec(
            select(ObjectionRow).where(
                ObjectionRow.registration_id == reg.id,
                ObjectionRow.application_id == app.id,
                ObjectionRow.state == ObjectionState.PENDING,
            )
        ).all()
        for objection in pending:
            objection.state, objection.resolution = ObjectionState.CLOSED, f"closed without decision: {why}"
            objection.resolved_at = self.clock.now()
            session.add(objection)
