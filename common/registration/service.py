"""RegistrationService over gRPC: the procedure (writes) and its views (reads), for any node."""

from __future__ import annotations

import logging
from datetime import date, datetime

import grpc
from sqlmodel import and_, col, or_, select

from common.errors import InvalidArgument, InvalidValue, NotFound, PermissionDenied
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.paging import decode_token, encode_token, page_size
from common.registration import store
from common.registration.content import to_date
from common.registration.models import ApplicationRow, HistoryRow, ObjectionRow, RegistrationRow
from common.registration.procedure import Registry
from common.validation import Checker, parse_code

__all__ = ["RegistrationServicer", "actor_of"]

logger = logging.getLogger(__name__)

ACTOR_HEADER = "registry-actor"


def actor_of(context: grpc.ServicerContext) -> str:
    """Who performs a write: the ``registry-actor`` metadata (authentication comes later).

    Names outside ASCII (张三) arrive UTF-8 encoded in ``registry-actor-bin``.
    """
    for key, raw in context.invocation_metadata() or ():
        if key in (ACTOR_HEADER, ACTOR_HEADER + "-bin"):
            try:
                value = (raw.decode() if isinstance(raw, bytes) else str(raw)).strip()
            except UnicodeDecodeError:
                raise InvalidArgument.for_field(
                    key, InvalidValue("FIELD_MALFORMED", "is not UTF-8 text")
                ) from None
            if len(value) > 100:
                raise InvalidArgument.for_field(
                    ACTOR_HEADER, InvalidValue("FIELD_TOO_LONG", "is longer than 100 characters")
                )
            return value or "anonymous"
    return "anonymous"


class RegistrationServicer(rs_grpc.RegistrationServiceServicer):
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.node = registry.node

    def _parent(self, parent: str) -> None:
        if parent != f"nodes/{self.node}":
            check = Checker()
            region = check.node_name("parent", parent)
            check.done()
            raise PermissionDenied(
                "NOT_MANAGED_HERE",
                f"this is nodes/{self.node}; ask nodes/{region} for its registrations",
                metadata={"field": "parent"},
            )

    # -- writes ---------------------------------------------------------------------------------

    def CreateRegistration(self, request: rs.CreateRegistrationRequest, context):
        self._parent(request.parent)
        return self.registry.create(request.registration, request.request_id, actor_of(context), request)

    def SubmitApplication(self, request: rs.SubmitApplicationRequest, context):
        return self.registry.submit(
            request.name,
            request.type,
            request.content,
            request.reason,
            request.request_id,
            request.etag,
            actor_of(context),
            request,
        )

    def ResubmitApplication(self, request, context):
        return self.registry.resubmit(
            request.name, request.content, request.request_id, request.etag, actor_of(context), request
        )

    def WithdrawApplication(self, request, context):
        return self.registry.withdraw(
            request.name, request.reason, request.request_id, request.etag, actor_of(context), request
        )

    def AcceptApplication(self, request, context):
        return self.registry.accept(
            request.name, request.request_id, request.etag, actor_of(context), request
        )

    def ReturnApplication(self, request, context):
        return self.registry.return_(
            request.name, list(request.defects), request.request_id, request.etag, actor_of(context), request
        )

    def RefuseApplication(self, request, context):
        return self.registry.refuse(
            request.name, request.reason, request.request_id, request.etag, actor_of(context), request
        )

    def ApproveApplication(self, request, context):
        return self.registry.approve(
            request.name, request.request_id, request.etag, actor_of(context), request
        )

    def RequestCorrection(self, request, context):
        return self.registry.request_correction(
            request.name, list(request.defects), request.request_id, request.etag, actor_of(context), request
        )

    def RejectApplication(self, request, context):
        return self.registry.reject(
            request.name, request.reason, request.request_id, request.etag, actor_of(context), request
        )

    def AnnounceApplication(self, request, context):
        return self.registry.announce(
            request.name, request.request_id, request.etag, actor_of(context), request
        )

    def CreateObjection(self, request, context):
        return self.registry.object(
            request.parent, request.objection, request.request_id, actor_of(context), request
        )

    def ResolveObjection(self, request, context):
        return self.registry.resolve(
            request.name, request.outcome, request.resolution, request.request_id, actor_of(context), request
        )

    def RenewRegistration(self, request, context):
        return self.registry.renew(request.name, request.request_id, request.etag, actor_of(context), request)

    # -- reads ----------------------------------------------------------------------------------

    def GetRegistration(self, request, context):
        local_id = store.parse_name(request.name, self.node)
        with self.registry.db.transaction(write=False) as session:
            return store.registration_message(session, store.load(session, self.node, local_id))

    def _by_code(self, session, code: str) -> RegistrationRow:  # noqa: ANN001
        row = session.exec(select(RegistrationRow).where(RegistrationRow.code == code)).first()
        if row is None:
            raise NotFound(
                "REGISTRATION_NOT_FOUND", f"no registration here has code {code}", metadata={"code": code}
            )
        return row

    def LookupRegistration(self, request, context):
        code = parse_code(request.code)
        with self.registry.db.transaction(write=False) as session:
            return store.registration_message(session, self._by_code(session, code))

    def GetConfirmation(self, request, context):
        code = parse_code(request.code)
        with self.registry.db.transaction(write=False) as session:
            return store.confirmation_message(session, self._by_code(session, code))

    def ListRegistrations(self, request: rs.ListRegistrationsRequest, context):
        self._parent(request.parent)
        check = Checker()
        if request.subject_uscc:
            check.uscc("subject_uscc", request.subject_uscc)
        check.text("query", request.query, max_length=200, required=False)
        check.done()
        size = page_size(request.page_size, default=50, maximum=500)
        filters = [request.state, request.object_type, request.subject_uscc, request.query]
        after = decode_token(request.page_token, filters)
        statement = select(RegistrationRow).where(RegistrationRow.node == self.node)
        if request.state:
            statement = statement.where(RegistrationRow.state == r.Registration.State.Name(request.state))
        if request.object_type:
            statement = statement.where(RegistrationRow.object_type == request.object_type)
        if request.subject_uscc:
            statement = statement.where(RegistrationRow.subject_uscc == request.subject_uscc.strip().upper())
        for word in request.query.split():
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(col(RegistrationRow.data_name).like(f"%{escaped}%", escape="\\"))
        if after is not None:
            created, last_id = after
            created_at = datetime.fromisoformat(created)
            statement = statement.where(
                or_(
                    RegistrationRow.created_at < created_at,
                    and_(RegistrationRow.created_at == created_at, RegistrationRow.id < last_id),
                )
            )
        statement = statement.order_by(col(RegistrationRow.created_at).desc(), col(RegistrationRow.id).desc())
        with self.registry.db.transaction(write=False) as session:
            rows = list(session.exec(statement.limit(size + 1)))
            messages = [store.registration_message(session, row) for row in rows[:size]]
        token = ""
        if len(rows) > size:
            last = rows[size - 1]
            token = encode_token([last.created_at.isoformat(), last.id], filters)
        return rs.ListRegistrationsResponse(registrations=messages, next_page_token=token)

    def ListHistory(self, request: rs.ListHistoryRequest, context):
        local_id = store.parse_name(request.parent, self.node, field="parent")
        size = page_size(request.page_size, default=100, maximum=1000)
        after = decode_token(request.page_token, request.parent) or 0
        with self.registry.db.transaction(write=False) as session:
            store.load(session, self.node, local_id)
            rows = list(
                session.exec(
                    select(HistoryRow)
                    .where(HistoryRow.registration_id == local_id, HistoryRow.sequence > int(after))
                    .order_by(HistoryRow.sequence)
                    .limit(size + 1)
                )
            )
        entries = [store.history_message(request.parent, row) for row in rows[:size]]
        token = encode_token(rows[size - 1].sequence, request.parent) if len(rows) > size else ""
        return rs.ListHistoryResponse(entries=entries, next_page_token=token)

    def ListDueItems(self, request: rs.ListDueItemsRequest, context):
        self._parent(request.parent)
        size = page_size(request.page_size, default=100, maximum=1000)
        items = self.due_items(overdue_only=request.overdue_only)
        after = decode_token(request.page_token, request.overdue_only)
        if after is not None:
            items = [i for i in items if _sort_key(i) > tuple(after)]
        page = items[:size]
        token = encode_token(list(_sort_key(page[-1])), request.overdue_only) if len(items) > size else ""
        return rs.ListDueItemsResponse(items=page, next_page_token=token)

    def due_items(self, *, overdue_only: bool) -> list[rs.DueItem]:
        """Everything the registry owes, overdue first, then by date."""
        today = self.registry.clock.today()
        calendar = self.registry.calendar
        items: list[rs.DueItem] = []

        def add(reg: RegistrationRow, kind: int, due: date | None, provisional: bool) -> None:
            overdue = due is not None and due < today
            if overdue_only and not overdue:
                return
            items.append(
                rs.DueItem(
                    registration=f"nodes/{reg.node}/registrations/{reg.id}",
                    kind=kind,
                    due=to_date(due),
                    overdue=overdue,
                    provisional=provisional,
                    data_name=reg.data_name,
                )
            )

        with self.registry.db.transaction(write=False) as session:
            live = session.exec(
                select(RegistrationRow, ApplicationRow)
                .join(
                    ApplicationRow,
                    (RegistrationRow.id == ApplicationRow.registration_id)
                    & (RegistrationRow.current_application == ApplicationRow.id),
                )
                .where(
                    RegistrationRow.node == self.node,
                    col(ApplicationRow.state).in_(["SUBMITTED", "UNDER_REVIEW", "APPROVED", "AWAITING_CODE"]),
                )
            ).all()
            for reg, app in live:
                if app.state == "SUBMITTED":
                    add(reg, rs.DueItem.ACCEPTANCE, app.acceptance_due, app.deadlines_provisional)
                elif app.state == "UNDER_REVIEW":
                    add(reg, rs.DueItem.REVIEW, app.review_due, app.deadlines_provisional)
                elif app.state == "APPROVED":
                    add(reg, rs.DueItem.ANNOUNCEMENT, None, False)
                else:
                    add(reg, rs.DueItem.CODING, app.announcement_end, app.deadlines_provisional)
            objections = session.exec(
                select(RegistrationRow, ObjectionRow)
                .join(ObjectionRow, RegistrationRow.id == ObjectionRow.registration_id)
                .join(
                    ApplicationRow,
                    (ApplicationRow.registration_id == ObjectionRow.registration_id)
                    & (ApplicationRow.id == ObjectionRow.application_id)
                    & col(ApplicationRow.state).in_(["ANNOUNCED", "OBJECTIONS_PENDING"]),
                )
                .where(
                    RegistrationRow.node == self.node,
                    ObjectionRow.state == "PENDING",
                    RegistrationRow.current_application == ObjectionRow.application_id,
                )
            ).all()
            for reg, objection in objections:
                add(reg, rs.DueItem.OBJECTION, objection.resolve_by, objection.resolve_by_provisional)
            window = self.registry.limits.expiry_reminder_days
            expiring = session.exec(
                select(RegistrationRow).where(
                    RegistrationRow.node == self.node,
                    RegistrationRow.state == "ACTIVE",
                    col(RegistrationRow.valid_until) <= date.fromordinal(today.toordinal() + 2 * window + 30),
                )
            ).all()
            for reg in expiring:
                assert reg.valid_until is not None
                left = calendar.working_days_between(today, reg.valid_until)
                if left.days <= window:
                    add(reg, rs.DueItem.EXPIRY, reg.valid_until, left.provisional)
        items.sort(key=_sort_key)
        return items


def _sort_key(item: rs.DueItem) -> tuple:
    due = (item.due.year, item.due.month, item.due.day) if item.HasField("due") else (9999, 12, 31)
    return (not item.overdue, *due, item.registration, item.kind)
