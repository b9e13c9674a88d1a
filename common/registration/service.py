"""RegistrationService: the procedure at the edge, for any node.

Each method checks its request's fields all at once (one INVALID_ARGUMENT listing every bad field,
``request_id`` included), converts them to domain values, runs the procedure in one transaction through
:class:`~common.registration.idempotency.IdempotentWrites` (so a retried write returns its first answer)
and converts the result back to the contract's messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import grpc
from google.protobuf.message import Message
from sqlmodel import Session

from common import names, uscc
from common.clock import Clock
from common.codes import ObjectType
from common.db import Database
from common.errors import NotFound, PermissionDenied, RegistryError
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.paging import PageTokens
from common.registration import queries, views
from common.registration.content import (
    content_from_json,
    materials,
    validate_content,
    validate_document,
    validate_for_object_type,
)
from common.registration.domain import Defect, DocumentRef, Materials, ObjectionFiling, Target
from common.registration.duplicates import DuplicateCheck, DuplicateSource
from common.registration.idempotency import IdempotentWrites
from common.registration.models import RegistrationRow
from common.registration.procedure import Procedure
from common.registration.states import ApplicationState, ApplicationType, ObjectionOutcome
from common.rpc.call import Call
from common.security.scope import require_own_subject, visible_subjects
from common.validation import Checker, parse_code

__all__ = ["ConfirmationFile", "ConfirmationProofs", "RegistrationServicer", "check_objection"]

logger = logging.getLogger(__name__)

_MAX_DEFECTS = 100
_MAX_EVIDENCE = 50
_REASON = 2000
_SUBMITTABLE = {
    r.CHANGE: ApplicationType.CHANGE,
    r.CORRECTION: ApplicationType.CORRECTION,
    r.DEREGISTRATION: ApplicationType.DEREGISTRATION,
}
_OBJECT_TYPES = frozenset(int(t) for t in ObjectType)
_OUTCOMES = {
    r.Objection.DISMISS: ObjectionOutcome.DISMISS,
    r.Objection.UPHOLD_TERMINATE: ObjectionOutcome.UPHOLD_TERMINATE,
    r.Objection.UPHOLD_RETURN: ObjectionOutcome.UPHOLD_RETURN,
}


@dataclass(frozen=True)
class ConfirmationFile:
    """A confirmation's file from the national log, who cosigned its checkpoint and whose
    cosignatures are pending (``nodes/{region}``); or no file, and why (``status``)."""

    tlog_proof: str = ""
    status: str = ""
    cosigned_by: tuple[str, ...] = ()
    witnesses_pending: tuple[str, ...] = ()
    #: The code lease the node gave the code from while the national node could not be reached.
    code_lease: str = ""


class ConfirmationProofs(Protocol):
    """Where a node gets a confirmation's proof from the national log (the national node: its own log;
    a province: the national node)."""

    def tlog_proof(self, code: str, revision: int) -> ConfirmationFile:
        """The confirmation file, or why there is none now; never raises."""
        ...


def check_objection(
    check: Checker, objection: r.Objection, field: str = "objection", *, hash_required: bool = False
) -> ObjectionFiling:
    """An objection's fields as filed (who, why, evidence), each checked; failures go to ``check``.
    Evidence is a link with its SHA-256 when the objector has it (``hash_required``: always)."""
    objector = check.text(f"{field}.objector", objection.objector, max_length=200)
    reason = check.text(f"{field}.reason", objection.reason, max_length=_REASON)
    evidence = objection.evidence
    if len(evidence) > _MAX_EVIDENCE:
        check.fail(f"{field}.evidence", "FIELD_TOO_LONG", f"lists more than {_MAX_EVIDENCE} documents")
    documents: list[DocumentRef] = []
    for i, doc in enumerate(evidence[:_MAX_EVIDENCE]):
        ref = validate_document(check, f"{field}.evidence[{i}]", doc, hash_required=hash_required)
        if ref is not None:
            documents.append(ref)
    return ObjectionFiling(objector=objector, reason=reason, evidence=tuple(documents))


def _why(error: BaseException) -> str:
    """Why a call failed, for people: ``CODE: details`` of a gRPC or registry error."""
    if isinstance(error, RegistryError):
        return f"{error.code.name}: {error.message}"
    if isinstance(error, grpc.RpcError) and isinstance(error, grpc.Call):
        return f"{error.code().name}: {error.details()}"
    return f"{type(error).__name__}: {error}"


class RegistrationServicer:
    """``registry.v1.RegistrationService`` on one node."""

    def __init__(
        self,
        db: Database,
        procedure: Procedure,
        clock: Clock,
        tokens: PageTokens,
        proofs: ConfirmationProofs | None = None,
        duplicates: DuplicateSource | None = None,
    ) -> None:
        self.db, self.procedure, self.clock, self.tokens = db, procedure, clock, tokens
        self.proofs = proofs
        #: Asked for possible duplicates at an application's first acceptance (none: not asked).
        self.duplicates = duplicates
        self.node = procedure.node
        self.writes = IdempotentWrites(db, clock)
        #: What GetBusinessRules publishes (the node's settings: common.registration.node.business_rules).
        self.business_rules = rs.BusinessRules(name=f"nodes/{self.node}/businessRules")

    # -- the edge -------------------------------------------------------------------------------

    def _parent(self, check: Checker, parent: str) -> None:
        region = check.node_name("parent", parent)
        if region is not None and region != self.node:
            raise PermissionDenied(
                "NOT_MANAGED_HERE",
                f"this is nodes/{self.node}; ask nodes/{region} for its registrations",
                metadata={"field": "parent"},
            )

    def _target(self, check: Checker, name: str, etag: str = "") -> Target:
        """The registration (or application) a transition names; checked with the other fields."""
        if not check.pattern("name", name, names.ANY_REGISTRATION, names.SHAPES["registration"]):
            return Target("")
        local_id, application = names.application_target(name, self.node)
        return Target(local_id, application, etag)

    def _materials(
        self, check: Checker, content: r.RegistrationContent, object_type: int, field: str
    ) -> Materials | None:
        subject = validate_content(check, content, object_type, field, today=self.clock.today())
        return None if subject is None else materials(content, subject, field)

    @staticmethod
    def _defects(check: Checker, defects: Sequence[r.Defect]) -> list[Defect]:
        if not defects:
            check.fail("defects", "FIELD_REQUIRED", "list at least one defect")
        if len(defects) > _MAX_DEFECTS:
            check.fail("defects", "FIELD_TOO_LONG", f"lists more than {_MAX_DEFECTS} defects")
        listed = []
        for i, defect in enumerate(defects[:_MAX_DEFECTS]):
            field = check.text(f"defects[{i}].field", defect.field, max_length=200)
            text = check.text(f"defects[{i}].description", defect.description, max_length=1000)
            listed.append(Defect(field, text))
        return listed

    def _write(
        self,
        method: str,
        request: Message,
        request_id: str,
        transition: Callable[[Session], RegistrationRow],
        *,
        call: Call | None = None,
        target: Target | None = None,
    ) -> r.Registration:
        """A transition in one transaction, once per request id; with ``call`` and ``target``, the
        caller must act for the registration's subject if its grant is limited to its own subjects."""

        def body(session: Session) -> r.Registration:
            if call is not None and target is not None:
                self._mine(call, queries.load(session, self.node, target.registration))
            return views.registration_message(session, transition(session))

        return self.writes.run(method, request, request_id, r.Registration, body)

    @staticmethod
    def _mine(call: Call, reg: RegistrationRow, field: str = "name") -> RegistrationRow:
        require_own_subject(call.principal, call.grant, reg.subject_uscc, field=field)
        return reg

    # -- applying -------------------------------------------------------------------------------

    def CreateRegistration(self, request: rs.CreateRegistrationRequest, call: Call) -> r.Registration:
        check = Checker()
        self._parent(check, request.parent)
        object_type = request.registration.object_type
        if object_type not in _OBJECT_TYPES:
            check.fail("registration.object_type", "FIELD_REQUIRED", "must be 1, 2 or 3")
        content = self._materials(check, request.registration.content, object_type, "registration.content")
        check.request_id("request_id", request.request_id)
        check.done()
        assert content is not None
        require_own_subject(
            call.principal, call.grant, content.subject.value, field="registration.content.subject.uscc"
        )
        return self._write(
            "CreateRegistration",
            request,
            request.request_id,
            lambda s: self.procedure.create(s, ObjectType(object_type), content, actor=call.actor),
        )

    def _term_checked(
        self, session: Session, target: Target, content: r.RegistrationContent, subject: uscc.USCC
    ) -> Materials:
        """The operation-term and fee rules depend on the registration's object type: checked in the
        write."""
        reg = queries.load(session, self.node, target.registration)
        check = Checker()
        validate_for_object_type(check, content, reg.object_type, "content", today=self.clock.today())
        check.done()
        return materials(content, subject, "content")

    def SubmitApplication(self, request: rs.SubmitApplicationRequest, call: Call) -> r.Registration:
        check = Checker()
        target = self._target(check, request.name, request.etag)
        kind = _SUBMITTABLE.get(request.type)
        if kind is None:
            check.fail("type", "FIELD_OUT_OF_RANGE", "must be CHANGE, CORRECTION or DEREGISTRATION")
        check.text("reason", request.reason, max_length=_REASON)
        new_content = kind in (ApplicationType.CHANGE, ApplicationType.CORRECTION)
        subject = validate_content(check, request.content, None, "content") if new_content else None
        check.request_id("request_id", request.request_id)
        check.done()
        assert kind is not None

        def transition(session: Session) -> RegistrationRow:
            new = self._term_checked(session, target, request.content, subject) if subject else None
            return self.procedure.submit(session, target, kind, new, request.reason, actor=call.actor)

        return self._write(
            "SubmitApplication", request, request.request_id, transition, call=call, target=target
        )

    def ResubmitApplication(self, request: rs.ResubmitApplicationRequest, call: Call) -> r.Registration:
        check = Checker()
        target = self._target(check, request.name, request.etag)
        subject = validate_content(check, request.content, None, "content")
        check.request_id("request_id", request.request_id)
        check.done()
        assert subject is not None

        def transition(session: Session) -> RegistrationRow:
            content = self._term_checked(session, target, request.content, subject)
            return self.procedure.resubmit(session, target, content, actor=call.actor)

        return self._write(
            "ResubmitApplication", request, request.request_id, transition, call=call, target=target
        )

    def WithdrawApplication(self, request: rs.WithdrawApplicationRequest, call: Call) -> r.Registration:
        check = Checker()
        target = self._target(check, request.name, request.etag)
        check.text("reason", request.reason, max_length=_REASON, required=False)
        check.request_id("request_id", request.request_id)
        check.done()
        return self._write(
            "WithdrawApplication",
            request,
            request.request_id,
            lambda s: self.procedure.withdraw(s, target, request.reason, actor=call.actor),
            call=call,
            target=target,
        )

    # -- acceptance and review ------------------------------------------------------------------

    def _simple(
        self,
        method: str,
        request: rs.AcceptApplicationRequest | rs.ApproveApplicationRequest | rs.AnnounceApplicationRequest,
        transition: Callable[[Session, Target], RegistrationRow],
    ) -> r.Registration:
        check = Checker()
        target = self._target(check, request.name, request.etag)
        check.request_id("request_id", request.request_id)
        check.done()
        return self._write(method, request, request.request_id, lambda s: transition(s, target))

    def _reasoned(
        self,
        method: str,
        request: rs.RefuseApplicationRequest | rs.RejectApplicationRequest,
        transition: Callable[[Session, Target, str], RegistrationRow],
    ) -> r.Registration:
        check = Checker()
        target = self._target(check, request.name, request.etag)
        check.text("reason", request.reason, max_length=_REASON)
        check.request_id("request_id", request.request_id)
        check.done()
        return self._write(
            method, request, request.request_id, lambda s: transition(s, target, request.reason)
        )

    def _with_defects(
        self,
        method: str,
        request: rs.ReturnApplicationRequest | rs.RequestCorrectionRequest,
        transition: Callable[[Session, Target, list[Defect]], RegistrationRow],
    ) -> r.Registration:
        check = Checker()
        target = self._target(check, request.name, request.etag)
        defects = self._defects(check, request.defects)
        check.request_id("request_id", request.request_id)
        check.done()
        return self._write(method, request, request.request_id, lambda s: transition(s, target, defects))

    def AcceptApplication(self, request: rs.AcceptApplicationRequest, call: Call) -> r.Registration:
        """受理, after the duplicate check of the application's first acceptance: the source is asked
        outside any transaction; candidates the clerk has not acknowledged are kept in a change of
        their own, committed, and the acceptance is refused (POSSIBLE_DUPLICATES) by the write that
        follows, which changes nothing; a retry with the same request id gets the same refusal, or the
        first acceptance's answer."""
        check = Checker()
        target = self._target(check, request.name, request.etag)
        check.request_id("request_id", request.request_id)
        check.done()
        found = self._duplicate_check(target, request.request_id)
        acknowledged = request.acknowledge_duplicates
        if found is not None and found.candidates and not acknowledged:
            with self.db.transaction() as session:
                self.procedure.keep_duplicates(session, target, found, actor=call.actor)
        return self._write(
            "AcceptApplication",
            request,
            request.request_id,
            lambda s: self.procedure.accept(
                s, target, actor=call.actor, duplicates=found, acknowledge_duplicates=acknowledged
            ),
        )

    def _duplicate_check(self, target: Target, request_id: str) -> DuplicateCheck | None:
        """What the duplicate source finds for the application ``target`` names, if it is submitted
        and was never checked (None otherwise, or for a retry of a write already done). A source that
        cannot answer gives a check with its error: acceptance goes on without it."""
        if self.duplicates is None:
            return None
        with self.db.transaction(write=False) as session:
            if self.writes.done(session, request_id):
                return None
            reg = queries.load(session, self.node, target.registration)
            app = queries.current_application(session, reg)
            if (
                app is None
                or app.state != ApplicationState.SUBMITTED
                or app.type == ApplicationType.DEREGISTRATION
                or app.duplicates_checked
                or target.application not in (None, app.id)
            ):
                return None
            content = content_from_json(app.content)
            name, uid = names.registration_name(reg.node, reg.id), reg.uid
        try:
            found = self.duplicates.find_duplicates(content, registration=name, uid=uid)
        except Exception as error:  # whatever went wrong, acceptance does not wait on it
            why = _why(error)
            logger.warning("duplicate check of %s not done: %s", name, why)
            return DuplicateCheck(error=why)
        return DuplicateCheck(candidates=tuple(found))

    def ReturnApplication(self, request: rs.ReturnApplicationRequest, call: Call) -> r.Registration:
        return self._with_defects(
            "ReturnApplication", request, lambda s, t, d: self.procedure.return_(s, t, d, actor=call.actor)
        )

    def RefuseApplication(self, request: rs.RefuseApplicationRequest, call: Call) -> r.Registration:
        return self._reasoned(
            "RefuseApplication", request, lambda s, t, why: self.procedure.refuse(s, t, why, actor=call.actor)
        )

    def ApproveApplication(self, request: rs.ApproveApplicationRequest, call: Call) -> r.Registration:
        return self._simple(
            "ApproveApplication", request, lambda s, t: self.procedure.approve(s, t, actor=call.actor)
        )

    def RequestCorrection(self, request: rs.RequestCorrectionRequest, call: Call) -> r.Registration:
        return self._with_defects(
            "RequestCorrection",
            request,
            lambda s, t, d: self.procedure.request_correction(s, t, d, actor=call.actor),
        )

    def RejectApplication(self, request: rs.RejectApplicationRequest, call: Call) -> r.Registration:
        return self._reasoned(
            "RejectApplication", request, lambda s, t, why: self.procedure.reject(s, t, why, actor=call.actor)
        )

    # -- announcement and objections ------------------------------------------------------------

    def AnnounceApplication(self, request: rs.AnnounceApplicationRequest, call: Call) -> r.Registration:
        return self._simple(
            "AnnounceApplication", request, lambda s, t: self.procedure.announce(s, t, actor=call.actor)
        )

    def CreateObjection(self, request: rs.CreateObjectionRequest, call: Call) -> r.Objection:
        check = Checker()
        local_id = ""
        if check.pattern("parent", request.parent, names.REGISTRATION, names.SHAPES["registration"]):
            local_id = names.local_registration(request.parent, self.node, field="parent")
        filing = check_objection(check, request.objection)
        check.request_id("request_id", request.request_id)
        check.done()

        def body(session: Session) -> r.Objection:
            reg, row = self.procedure.object(session, Target(local_id), filing, actor=call.actor)
            return views.objection_message(reg, row)

        return self.writes.run("CreateObjection", request, request.request_id, r.Objection, body)

    def ResolveObjection(self, request: rs.ResolveObjectionRequest, call: Call) -> r.Registration:
        check = Checker()
        match = check.pattern("name", request.name, names.OBJECTION, names.SHAPES["objection"])
        outcome = _OUTCOMES.get(request.outcome)
        if outcome is None:
            check.fail("outcome", "FIELD_REQUIRED", "must be DISMISS, UPHOLD_TERMINATE or UPHOLD_RETURN")
        check.text("resolution", request.resolution, max_length=_REASON)
        check.request_id("request_id", request.request_id)
        check.done()
        assert match is not None and outcome is not None
        local_id = names.local_registration(match.group(1), self.node)
        return self._write(
            "ResolveObjection",
            request,
            request.request_id,
            lambda s: self.procedure.resolve(
                s, local_id, match.group(2), outcome, request.resolution, actor=call.actor
            ),
        )

    def RenewRegistration(self, request: rs.RenewRegistrationRequest, call: Call) -> r.Registration:
        check = Checker()
        target = self._target(check, request.name, request.etag)
        check.request_id("request_id", request.request_id)
        check.done()
        return self._write(
            "RenewRegistration",
            request,
            request.request_id,
            lambda s: self.procedure.renew(s, target, actor=call.actor),
            call=call,
            target=target,
        )

    # -- reads ----------------------------------------------------------------------------------

    def GetRegistration(self, request: rs.GetRegistrationRequest, call: Call) -> r.Registration:
        local_id = names.local_registration(request.name, self.node)
        with self.db.transaction(write=False) as session:
            reg = self._mine(call, queries.load(session, self.node, local_id))
            return views.registration_message(session, reg)

    def LookupRegistration(self, request: rs.LookupRegistrationRequest, call: Call) -> r.Registration:
        code = parse_code(request.code)
        with self.db.transaction(write=False) as session:
            reg = self._mine(call, queries.by_code(session, self.node, code), field="code")
            return views.registration_message(session, reg)

    def GetBusinessRules(self, request: rs.GetBusinessRulesRequest, call: Call) -> rs.BusinessRules:
        """The node's business rules (set by :func:`common.registration.node.build_registration`)."""
        rules = self.business_rules
        if request.name != rules.name:
            raise NotFound(
                "NODE_NOT_FOUND",
                f"this node publishes {rules.name}, not {request.name!r} (ask that node itself)",
                metadata={"field": "name", "name": rules.name},
            )
        return rules

    def GetConfirmation(self, request: rs.GetConfirmationRequest, call: Call) -> r.Confirmation:
        code = parse_code(request.code)
        with self.db.transaction(write=False) as session:
            reg = queries.by_code(session, self.node, code)
            confirmation = views.confirmation_message(session, reg)
            revision = reg.revision
        if self.proofs is not None:
            found = self.proofs.tlog_proof(code, revision)
            confirmation.tlog_proof, confirmation.tlog_proof_status = found.tlog_proof, found.status
            confirmation.cosigned_by.extend(found.cosigned_by)
            confirmation.witnesses_pending.extend(found.witnesses_pending)
            confirmation.code_lease = found.code_lease
        return confirmation

    def ListRegistrations(
        self, request: rs.ListRegistrationsRequest, call: Call
    ) -> rs.ListRegistrationsResponse:
        check = Checker()
        self._parent(check, request.parent)
        state = check.enum_name("state", request.state, r.Registration.State, required=False)
        if request.object_type and request.object_type not in _OBJECT_TYPES:
            check.fail("object_type", "FIELD_OUT_OF_RANGE", "must be 1, 2 or 3 when set")
        subject = check.uscc("subject_uscc", request.subject_uscc) if request.subject_uscc else None
        check.text("query", request.query, max_length=200, required=False)
        size = check.page_size("page_size", request.page_size, default=50, maximum=500)
        check.done()
        if subject is not None:
            require_own_subject(call.principal, call.grant, subject.value, field="subject_uscc")
        filters = [request.state, request.object_type, request.subject_uscc, request.query]
        after = self.tokens.decode("ListRegistrations", request.page_token, filters)
        where = queries.RegistrationFilter(
            state=state or "",
            object_type=request.object_type,
            subject_uscc=subject.value if subject else "",
            words=tuple(request.query.split()),
            subjects=visible_subjects(call.principal, call.grant),
        )
        position = None if after is None else (datetime.fromisoformat(after[0]), str(after[1]))
        with self.db.transaction(write=False) as session:
            rows = queries.list_registrations(session, self.node, where, after=position, limit=size + 1)
            messages = [views.registration_message(session, row) for row in rows[:size]]
        token = ""
        if len(rows) > size:
            last = rows[size - 1]
            token = self.tokens.encode("ListRegistrations", [last.created_at.isoformat(), last.id], filters)
        return rs.ListRegistrationsResponse(registrations=messages, next_page_token=token)

    def ListHistory(self, request: rs.ListHistoryRequest, call: Call) -> rs.ListHistoryResponse:
        local_id = names.local_registration(request.parent, self.node, field="parent")
        check = Checker()
        size = check.page_size("page_size", request.page_size, default=100, maximum=1000)
        check.done()
        after = self.tokens.decode("ListHistory", request.page_token, request.parent) or 0
        with self.db.transaction(write=False) as session:
            reg = self._mine(call, queries.load(session, self.node, local_id), field="parent")
            rows = queries.history_page(session, reg, after=int(after), limit=size + 1)
        entries = [views.history_message(request.parent, row) for row in rows[:size]]
        token = (
            self.tokens.encode("ListHistory", rows[size - 1].sequence, request.parent)
            if len(rows) > size
            else ""
        )
        return rs.ListHistoryResponse(entries=entries, next_page_token=token)

    def ListDueItems(self, request: rs.ListDueItemsRequest, call: Call) -> rs.ListDueItemsResponse:
        check = Checker()
        self._parent(check, request.parent)
        size = check.page_size("page_size", request.page_size, default=100, maximum=1000)
        check.done()
        with self.db.transaction(write=False) as session:
            items = queries.due_items(
                session,
                self.node,
                today=self.clock.today(),
                calendar=self.procedure.calendar,
                reminder_days=self.procedure.limits.expiry_reminder_days,
                overdue_only=request.overdue_only,
                subjects=visible_subjects(call.principal, call.grant),
                products_registered=self.procedure.limits.product_registration_days is not None,
            )
        after = self.tokens.decode("ListDueItems", request.page_token, request.overdue_only)
        if after is not None:
            items = [i for i in items if list(i.sort_key()) > after]
        page = items[:size]
        token = ""
        if len(items) > size:
            token = self.tokens.encode("ListDueItems", list(page[-1].sort_key()), request.overdue_only)
        return rs.ListDueItemsResponse(items=[views.due_item_message(i) for i in page], next_page_token=token)
