"""Share requests (共享申请) under 《政务数据共享条例》 (``registry.v1.ShareService``).

A government department (role ``department``, its USCC in the token) asks for a registration's data
under the sharing attribute its access terms state. The national node checks the registration in its
ledger: it must be active; data that are 不予共享 are refused at once with the legal basis the terms
give, and nothing is written. The supplying department (an applicant for the registration's subject)
then replies and delivers within the regulation's limits, in working days on the national node's
calendar:

* reply within 1 working day for 无条件共享, within 10 for 有条件共享 (and when the terms state no sharing
  attribute: the supplier decides, so the longer limit) (Art. 21);
* one extension of a conditional request's reply, by at most 10 working days, with the sharing
  authority's approval (Art. 21);
* incomplete materials: the supplier says at once everything to add, and may not refuse for that
  (Art. 21); the reply limit runs again from the day the requester supplements;
* a refusal states its reasons (Art. 21); a delivery follows within 20 working days of agreeing (Art. 22);
* the requester keeps usage records of the delivered data, at least three years (Art. 29): each record
  says until when, and nothing in the node deletes one.

Each step is one transaction, keyed by its request id (``share_writes``), that also puts the request as
it now stands into the feed of the node that manages the registration (:mod:`national_node.notices`),
where its due items follow; a refused step writes nothing.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import cast

from google.protobuf.message import Message
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from common import names
from common.calendar import WorkingCalendar
from common.clock import Clock
from common.db import Database
from common.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import share_pb2 as sh
from common.gen.registry.v1 import share_service_pb2 as ss
from common.gen.registry.v1 import sync_pb2
from common.paging import PageTokens, newest_first, newest_position
from common.registration.content import NAME, TEXT, from_date, to_date
from common.registration.idempotency import method_digest
from common.registration.validity import add_years
from common.rpc.call import Call
from common.security.policy import Scope
from common.security.scope import require_own_subject
from common.validation import Checker
from national_node.models import LedgerRow, ShareEventRow, ShareRequestRow, ShareWriteRow, UsageRecordRow
from national_node.notices import Notices

#: A step on a locked share request: checks it, changes the row, and says (action, note).
_Step = Callable[[Session, ShareRequestRow, datetime], tuple[str, str]]

__all__ = ["DELIVERY_DAYS", "MAX_EXTENSION_DAYS", "REPLY_DAYS", "USAGE_RECORD_YEARS", "ShareDesk"]

logger = logging.getLogger(__name__)

#: Working days for the reply: unconditional, conditional (Art. 21).
REPLY_DAYS = {False: 1, True: 10}
#: At most this many working days of extension, once (Art. 21).
MAX_EXTENSION_DAYS = 10
#: Working days from agreeing to delivering (Art. 22).
DELIVERY_DAYS = 20
#: Years a usage record is kept at least (Art. 29).
USAGE_RECORD_YEARS = 3

_S = sh.ShareRequest.State
_D = ss.ReplyShareRequestRequest.Decision
_SHARE = re.compile(r"^shareRequests/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
_SHARING = r.AccessTerms.SharingAttribute


class ShareDesk:
    """The national node's share requests: one instance per process, safe to share between threads."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        tokens: PageTokens,
        calendar: WorkingCalendar,
        notices: Notices | None = None,
        *,
        usage_record_years: int = USAGE_RECORD_YEARS,
    ) -> None:
        if usage_record_years < USAGE_RECORD_YEARS:
            raise ValueError(f"usage records are kept at least {USAGE_RECORD_YEARS} years")
        self.db, self.clock, self.tokens, self.calendar = db, clock, tokens, calendar
        self.notices, self.usage_record_years = notices, usage_record_years

    # -- writes -----------------------------------------------------------------------------------

    def create(self, request: ss.CreateShareRequestRequest, call: Call) -> sh.ShareRequest:
        given = request.share_request
        check = Checker()
        registration = self._registration_name(check, "share_request.registration", given.registration)
        found = check.uscc("share_request.requester.uscc", given.requester.uscc)
        asked = sh.ShareRequest(
            registration=registration,
            basis=check.text("share_request.basis", given.basis, max_length=TEXT),
            scenario=check.text("share_request.scenario", given.scenario, max_length=TEXT),
            scope=check.text("share_request.scope", given.scope, max_length=TEXT),
        )
        asked.requester.name = check.text(
            "share_request.requester.name", given.requester.name, max_length=NAME
        )
        if found is not None:
            asked.requester.uscc = found.value
        method = check.enum_name("share_request.method", given.method, sh.ShareRequest.Method)
        if method is not None:
            asked.method = cast("sh.ShareRequest.Method", sh.ShareRequest.Method.Value(method))
        today = self.clock.today()
        if not given.HasField("use_until"):
            check.fail("share_request.use_until", "FIELD_REQUIRED", "is required")
        else:
            until = from_date(given.use_until)
            if until is None:
                check.fail("share_request.use_until", "FIELD_MALFORMED", "is not a day of the calendar")
            elif until < today:
                check.fail("share_request.use_until", "FIELD_OUT_OF_RANGE", f"is before today ({today})")
            else:
                asked.use_until.CopyFrom(to_date(until))
        check.request_id("request_id", request.request_id)
        check.done()
        require_own_subject(
            call.principal, call.grant, asked.requester.uscc, field="share_request.requester.uscc"
        )
        digest = method_digest("CreateShareRequest", request)
        replay = self._replayed(request.request_id, digest)
        if replay is not None:
            return self._view(replay, call)
        now = self.clock.now()
        share_id = str(uuid.uuid4())
        with self._writing(request.request_id, digest) as session:
            ledger = session.exec(select(LedgerRow).where(LedgerRow.name == registration)).first()
            if ledger is None:
                raise NotFound(
                    "REGISTRATION_NOT_FOUND",
                    f"the national ledger holds no registration {registration}",
                    metadata={"field": "share_request.registration"},
                )
            record = sync_pb2.RegistrationRecord.FromString(ledger.record)
            reg = record.registration
            terms = reg.content.access_terms
            if terms.sharing_attribute == _SHARING.NOT_SHARED:
                raise FailedPrecondition(
                    "NOT_SHARED",
                    f"{registration} is not shared (不予共享): {terms.not_shared_basis}",
                    metadata={"field": "share_request.registration", "basis": terms.not_shared_basis},
                )
            if reg.state != r.Registration.State.ACTIVE:
                raise FailedPrecondition(
                    "REGISTRATION_NOT_ACTIVE",
                    f"{registration} is {r.Registration.State.Name(reg.state)}: only an active "
                    "registration's data are requested",
                    metadata={"field": "share_request.registration"},
                )
            conditional = terms.sharing_attribute != _SHARING.UNCONDITIONALLY_SHARED
            asked.sharing_conditions = terms.sharing_conditions
            asked.data_name, asked.code = reg.content.data_name, ledger.code or ""
            due = self.calendar.add_working_days(today, REPLY_DAYS[conditional])
            row = ShareRequestRow(
                id=share_id,
                registration=registration,
                node=names.parse_registration(registration).node,
                requester_uscc=asked.requester.uscc,
                requester_name=asked.requester.name,
                supplier_uscc=reg.content.subject.uscc,
                supplier_name=reg.content.subject.name,
                state="SUBMITTED",
                conditional=conditional,
                reply_due=due.date,
                due_provisional=due.provisional,
                body=asked.SerializeToString(deterministic=True),
                created_at=now,
                updated_at=now,
            )
            asked_note = f"{asked.requester.name} asked; reply due {due.date}"
            session.add(ShareWriteRow(request_id=request.request_id, digest=digest, share_id=share_id))
            session.add(row)
            self._event(session, share_id, "SUBMITTED", asked.requester.uscc, call, now, asked_note)
            self._tell(session, row)
        # A concurrent retry of the same request may have committed first: its request is the one.
        share_id = self._replayed(request.request_id, digest) or share_id
        logger.info("share request %s for %s by %s", share_id, registration, asked.requester.uscc)
        return self._view(share_id, call)

    def reply(self, request: ss.ReplyShareRequestRequest, call: Call) -> sh.ShareRequest:
        check = Checker()
        share_id = self._share_id(check, request.name)
        decision = check.enum_name("decision", request.decision, _D)
        note = check.text(
            "note", request.note, max_length=TEXT, required=decision in ("REFUSE", "NEEDS_MATERIALS")
        )
        check.request_id("request_id", request.request_id)
        check.done()

        def step(session: Session, row: ShareRequestRow, now: datetime) -> tuple[str, str]:
            self._as(call, row.supplier_uscc)
            _in(row, "SUBMITTED")
            if decision == "AGREE":
                due = self.calendar.add_working_days(self.clock.today(), DELIVERY_DAYS)
                row.state, row.reply_due, row.delivery_due = "AGREED", None, due.date
                row.due_provisional = due.provisional
                return "AGREED", f"{note}\ndelivery due {due.date}".strip()
            row.reply_due, row.due_provisional = None, False
            row.state = "REFUSED" if decision == "REFUSE" else "NEEDS_MATERIALS"
            return row.state, note

        return self._step("ReplyShareRequest", request, share_id, call, step, supplier=True)

    def extend(self, request: ss.ExtendShareRequestRequest, call: Call) -> sh.ShareRequest:
        check = Checker()
        share_id = self._share_id(check, request.name)
        if not 1 <= request.days <= MAX_EXTENSION_DAYS:
            check.fail("days", "FIELD_OUT_OF_RANGE", f"must be 1 to {MAX_EXTENSION_DAYS} working days")
        approval = check.text("approval", request.approval, max_length=TEXT)
        check.request_id("request_id", request.request_id)
        check.done()

        def step(session: Session, row: ShareRequestRow, now: datetime) -> tuple[str, str]:
            self._as(call, row.supplier_uscc)
            _in(row, "SUBMITTED")
            if not row.conditional:
                raise FailedPrecondition(
                    "SHARE_REQUEST_STATE",
                    "only a conditional request's reply may be extended (Art. 21)",
                    metadata={"state": row.state},
                )
            if row.extended:
                raise FailedPrecondition(
                    "EXTENSION_USED",
                    "the reply time was extended once already",
                    metadata={"state": row.state},
                )
            assert row.reply_due is not None
            due = self.calendar.add_working_days(row.reply_due, request.days)
            row.reply_due, row.extended = due.date, True
            row.due_provisional = row.due_provisional or due.provisional
            return "EXTENDED", f"{approval}\nreply due {due.date}"

        return self._step("ExtendShareRequest", request, share_id, call, step, supplier=True)

    def supplement(self, request: ss.SupplementShareRequestRequest, call: Call) -> sh.ShareRequest:
        check = Checker()
        share_id = self._share_id(check, request.name)
        note = check.text("note", request.note, max_length=TEXT)
        check.request_id("request_id", request.request_id)
        check.done()

        def step(session: Session, row: ShareRequestRow, now: datetime) -> tuple[str, str]:
            self._as(call, row.requester_uscc)
            _in(row, "NEEDS_MATERIALS")
            due = self.calendar.add_working_days(self.clock.today(), REPLY_DAYS[row.conditional])
            row.state, row.reply_due, row.due_provisional = "SUBMITTED", due.date, due.provisional
            return "SUPPLEMENTED", f"{note}\nreply due {due.date}"

        return self._step("SupplementShareRequest", request, share_id, call, step, supplier=False)

    def deliver(self, request: ss.DeliverShareRequestRequest, call: Call) -> sh.ShareRequest:
        check = Checker()
        share_id = self._share_id(check, request.name)
        note = check.text("note", request.note, max_length=TEXT)
        check.request_id("request_id", request.request_id)
        check.done()

        def step(session: Session, row: ShareRequestRow, now: datetime) -> tuple[str, str]:
            self._as(call, row.supplier_uscc)
            _in(row, "AGREED")
            row.state, row.delivery_due, row.due_provisional = "DELIVERED", None, False
            return "DELIVERED", note

        return self._step("DeliverShareRequest", request, share_id, call, step, supplier=True)

    def record_usage(self, request: ss.RecordUsageRequest, call: Call) -> sh.ShareRequest:
        check = Checker()
        share_id = self._share_id(check, request.name)
        kind = check.enum_name("record.kind", request.record.kind, sh.UsageRecord.Kind)
        note = check.text("record.note", request.record.note, max_length=TEXT)
        check.request_id("request_id", request.request_id)
        check.done()
        assert kind is not None

        def step(session: Session, row: ShareRequestRow, now: datetime) -> tuple[str, str]:
            self._as(call, row.requester_uscc)
            _in(row, "DELIVERED")
            today = self.clock.today()
            session.add(
                UsageRecordRow(
                    share_id=row.id,
                    kind=kind,
                    note=note,
                    actor=call.actor,
                    recorded_at=now,
                    keep_until=add_years(today, self.usage_record_years),
                )
            )
            return "USAGE_RECORDED", kind

        return self._step("RecordUsage", request, share_id, call, step, supplier=False)

    # -- reads ------------------------------------------------------------------------------------

    def get(self, request: ss.GetShareRequestRequest, call: Call) -> sh.ShareRequest:
        check = Checker()
        share_id = self._share_id(check, request.name)
        check.done()
        return self._view(share_id, call)

    def list_requests(self, request: ss.ListShareRequestsRequest, call: Call) -> ss.ListShareRequestsResponse:
        check = Checker()
        size = check.page_size("page_size", request.page_size, default=20, maximum=100)
        state = check.enum_name("state", request.state, _S, required=False)
        node = ""
        if request.node:
            if len(request.node) > 20 or not re.fullmatch(r"nodes/[0-9]{6}", request.node):
                check.fail("node", "FIELD_MALFORMED", "must be nodes/{region}")
            else:
                node = request.node.removeprefix("nodes/")
        check.done()
        subjects = self._visible(call)
        filters = [
            state or "",
            node,
            request.overdue_only,
            sorted(subjects) if subjects is not None else None,
        ]
        after = self.tokens.decode("ListShareRequests", request.page_token, filters)
        today = self.clock.today()
        statement = select(ShareRequestRow)
        if subjects is not None:
            statement = statement.where(
                or_(
                    col(ShareRequestRow.requester_uscc).in_(sorted(subjects)),
                    col(ShareRequestRow.supplier_uscc).in_(sorted(subjects)),
                )
            )
        if state:
            statement = statement.where(ShareRequestRow.state == state)
        if node:
            statement = statement.where(ShareRequestRow.node == node)
        if request.overdue_only:
            statement = statement.where(_overdue(today))
        statement = newest_first(statement, col(ShareRequestRow.created_at), col(ShareRequestRow.id), after)
        with self.db.transaction(write=False) as session:
            rows = list(session.exec(statement.limit(size + 1)).all())
        more = len(rows) > size
        rows = rows[:size]
        token = ""
        if more:
            token = self.tokens.encode(
                "ListShareRequests", newest_position(rows[-1].created_at, rows[-1].id), filters
            )
        return ss.ListShareRequestsResponse(
            share_requests=[_message(row) for row in rows], next_page_token=token
        )

    def count(self) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
        """Share requests by managing node and state, and the overdue ones by node (the national
        statistics: the node's metrics)."""
        with self.db.transaction(write=False) as session:
            by_state = session.exec(
                select(ShareRequestRow.node, ShareRequestRow.state, func.count()).group_by(
                    ShareRequestRow.node, ShareRequestRow.state
                )
            ).all()
            overdue = session.exec(
                select(ShareRequestRow.node, func.count())
                .where(_overdue(self.clock.today()))
                .group_by(ShareRequestRow.node)
            ).all()
        return {(n, s): c for n, s, c in by_state}, dict(overdue)

    # -- the parts --------------------------------------------------------------------------------

    @staticmethod
    def _registration_name(check: Checker, field: str, value: str) -> str:
        value = value.strip()
        if len(value) > NAME:
            check.fail(field, "FIELD_TOO_LONG", f"is longer than {NAME} characters")
        else:
            check.pattern(field, value, names.REGISTRATION, names.SHAPES["registration"])
        return value

    @staticmethod
    def _share_id(check: Checker, name: str) -> str:
        if len(name) > 100:
            check.fail("name", "FIELD_TOO_LONG", "is longer than 100 characters")
            return ""
        match = check.pattern("name", name, _SHARE, "shareRequests/{uuid}")
        return match.group(1) if match else ""

    @staticmethod
    def _as(call: Call, uscc: str) -> None:
        """The caller acts for the department ``uscc`` (under an ``own_subjects`` grant)."""
        require_own_subject(call.principal, call.grant, uscc, field="name")

    @staticmethod
    def _visible(call: Call) -> frozenset[str] | None:
        """The departments whose requests the caller sees (None: all); refused for a caller whose
        grant is limited to its subjects and who names none."""
        if call.grant is not None and call.grant.scope == Scope.OWN_SUBJECTS:
            if not call.principal.subjects:
                raise PermissionDenied(
                    "NOT_YOUR_SUBJECT",
                    f"{call.principal.subject} acts for no department (its token names none)",
                    metadata={"principal": call.principal.subject},
                )
            return frozenset(call.principal.subjects)
        return None

    def _step(
        self,
        method: str,
        request: Message,
        share_id: str,
        call: Call,
        step: _Step,
        *,
        supplier: bool,
    ) -> sh.ShareRequest:
        digest = method_digest(method, request)
        request_id = cast("str", request.request_id)  # type: ignore[attr-defined]
        replay = self._replayed(request_id, digest)
        if replay is not None:
            return self._view(replay, call)
        now = self.clock.now()
        with self._writing(request_id, digest) as session:
            row = session.get(ShareRequestRow, share_id, with_for_update=True)
            if row is None:
                raise _not_found(share_id)
            action, note = step(session, row, now)
            row.updated_at = now
            session.add(row)
            session.add(ShareWriteRow(request_id=request_id, digest=digest, share_id=share_id))
            party = row.supplier_uscc if supplier else row.requester_uscc
            self._event(session, share_id, action, party, call, now, note)
            self._tell(session, row)
        return self._view(share_id, call)

    def _tell(self, session: Session, row: ShareRequestRow) -> None:
        if self.notices is not None:
            session.flush()
            self.notices.share_request(session, row.node, _message(row))

    def _replayed(self, request_id: str, digest: str) -> str | None:
        with self.db.transaction(write=False) as session:
            earlier = session.get(ShareWriteRow, request_id)
        if earlier is None:
            return None
        if earlier.digest != digest:
            raise AlreadyExists(
                "REQUEST_ID_REUSED",
                f"request id {request_id} was used for another request",
                metadata={"field": "request_id"},
            )
        return earlier.share_id

    @contextmanager
    def _writing(self, request_id: str, digest: str) -> Iterator[Session]:
        """One write's transaction; losing the insert of its request id to a concurrent retry of the
        same request is answered as the retry."""
        try:
            with self.db.transaction() as session:
                yield session
        except IntegrityError:
            if self._replayed(request_id, digest) is None:
                raise

    @staticmethod
    def _event(
        session: Session, share_id: str, action: str, party: str, call: Call, at: datetime, note: str
    ) -> None:
        session.add(
            ShareEventRow(
                share_id=share_id, action=action, on_behalf_of=party, actor=call.actor, note=note, at=at
            )
        )

    def _view(self, share_id: str, call: Call) -> sh.ShareRequest:
        with self.db.transaction(write=False) as session:
            row = session.get(ShareRequestRow, share_id)
            if row is None:
                raise _not_found(share_id)
            subjects = self._visible(call)
            if subjects is not None and not subjects & {row.requester_uscc, row.supplier_uscc}:
                # Not one of its two departments: as if there were none (no existence oracle).
                raise _not_found(share_id)
            events = session.exec(
                select(ShareEventRow)
                .where(ShareEventRow.share_id == share_id)
                .order_by(col(ShareEventRow.id))
            ).all()
            usage = session.exec(
                select(UsageRecordRow)
                .where(UsageRecordRow.share_id == share_id)
                .order_by(col(UsageRecordRow.id))
            ).all()
        message = _message(row)
        for e in events:
            event = sh.ShareEvent(action=e.action, on_behalf_of=e.on_behalf_of, actor=e.actor, note=e.note)
            event.time.FromDatetime(e.at.astimezone(UTC))
            message.history.append(event)
        for u in usage:
            record = sh.UsageRecord(
                kind=cast("sh.UsageRecord.Kind", sh.UsageRecord.Kind.Value(u.kind)),
                note=u.note,
                actor=u.actor,
                keep_until=to_date(u.keep_until),
            )
            record.record_time.FromDatetime(u.recorded_at.astimezone(UTC))
            message.usage_records.append(record)
        return message


def _in(row: ShareRequestRow, state: str) -> None:
    if row.state != state:
        raise FailedPrecondition(
            "SHARE_REQUEST_STATE",
            f"shareRequests/{row.id} is {row.state}; this step needs it {state}",
            metadata={"state": row.state},
        )


def _overdue(today: date) -> ColumnElement[bool]:
    return or_(
        (col(ShareRequestRow.state) == "SUBMITTED") & (col(ShareRequestRow.reply_due) < today),
        (col(ShareRequestRow.state) == "AGREED") & (col(ShareRequestRow.delivery_due) < today),
    )


def _message(row: ShareRequestRow) -> sh.ShareRequest:
    message = sh.ShareRequest.FromString(row.body)
    message.name = f"shareRequests/{row.id}"
    message.supplier.uscc, message.supplier.name = row.supplier_uscc, row.supplier_name
    message.state = cast("sh.ShareRequest.State", _S.Value(row.state))
    message.conditional, message.extended = row.conditional, row.extended
    message.due_provisional = row.due_provisional
    if row.reply_due is not None:
        message.reply_due.CopyFrom(to_date(row.reply_due))
    if row.delivery_due is not None:
        message.delivery_due.CopyFrom(to_date(row.delivery_due))
    message.create_time.FromDatetime(row.created_at.astimezone(UTC))
    message.update_time.FromDatetime(row.updated_at.astimezone(UTC))
    return message


def _not_found(share_id: str) -> NotFound:
    name = f"shareRequests/{share_id}"
    return NotFound("SHARE_REQUEST_NOT_FOUND", f"there is no share request {name}", metadata={"name": name})
