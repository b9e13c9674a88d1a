"""Data demands (数据需求): what a data user needs, matched against the national ledger, and the
suppliers' answers (``registry.v1.DemandService``).

A verified organisation (role ``data_user``, its USCC in the token) posts a demand; the national
node looks for registrations that match it in the portal's search index (:class:`national_node.search.
Search`: every word of the title, or else the registrations that hold most of them, with synonyms,
abbreviations and traditional characters as the portal finds them), among the active registrations of
the demand's region, and records at most :data:`MAX_MATCHES`, best first. A supplier (an applicant for
the registration's subject) answers for one of its registrations; the organisation closes or withdraws
its demand. The state follows: OPEN until an answer, ANSWERED, MATCHED once a supplier can supply,
CLOSED or WITHDRAWN by the organisation, and CLOSED to every reader from the day after its deadline
(China Standard Time) with an ``EXPIRED`` step in its history, without a write.

Every write is one transaction, keyed by its request id (``demand_requests``): a retry of the same
request returns the demand as it is now and changes nothing; another request under the same id is
ALREADY_EXISTS ``REQUEST_ID_REUSED``; a refused request writes nothing.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import cast

from google.type import date_pb2
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from common import names, regions
from common.clock import CHINA, Clock
from common.db import Database
from common.errors import AlreadyExists, FailedPrecondition, NotFound
from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import demand_service_pb2 as ds
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from common.paging import PageTokens, newest_first, newest_position
from common.registration.content import NAME, SHORT, TEXT, from_date, to_date
from common.registration.idempotency import method_digest
from common.rpc.call import Call
from common.security.scope import require_own_subject
from common.validation import Checker
from national_node import words
from national_node.models import (
    DemandAnswerRow,
    DemandEventRow,
    DemandMatchRow,
    DemandRequestRow,
    DemandRow,
    LedgerRow,
)
from national_node.notices import Notices
from national_node.search import Search, SearchQuery

__all__ = ["MAX_MATCHES", "DemandDesk"]

logger = logging.getLogger(__name__)

#: At most this many registrations are matched to a demand.
MAX_MATCHES = 20
#: At most this many data items a demand names.
MAX_FIELDS = 50
#: A demand's deadline is at most this far ahead.
MAX_DEADLINE = timedelta(days=3 * 366)
#: At most this many characters of a list's query.
MAX_QUERY = 100
#: The roles that see who acted in a demand's history, beside the demander's own people.
_READERS_OF_ACTORS = frozenset({"coordinator", "auditor"})

_S = d.Demand.State
_K = d.DemandAnswer.Kind
_P = d.DemandEvent.Party
#: The states in which a demand takes answers (until its deadline).
_LIVE = ("OPEN", "ANSWERED", "MATCHED")
#: What a match holds, in the message and in its row alike.
_MATCH_FIELDS = ("registration", "code", "data_name", "subject_name", "subject_uscc", "complete")
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NP-RTUWXY]{18}")
_DEMAND = re.compile(r"^demands/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


def _stamp(message: d.Demand | d.DemandAnswer | d.DemandEvent, field: str, value: datetime) -> None:
    getattr(message, field).FromDatetime(value.astimezone(UTC))


class DemandDesk:
    """The national node's data demands: one instance per process, safe to share between threads."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        tokens: PageTokens,
        search: Search | None = None,
        notices: Notices | None = None,
    ) -> None:
        self.db, self.clock, self.tokens = db, clock, tokens
        self.search = search if search is not None else Search(db, cached_results=0)
        #: Tells the nodes that manage the matched registrations of each step (None: tells no one).
        self.notices = notices

    # -- writes -----------------------------------------------------------------------------------

    def create(self, request: ds.CreateDemandRequest, call: Call) -> d.Demand:
        demand = request.demand
        check = Checker()
        posted = self._check_demand(check, demand)
        check.request_id("request_id", request.request_id)
        check.done()
        # Whose demand it is: the caller must act for the organisation (its token names the USCC).
        require_own_subject(
            call.principal, call.grant, posted.organisation.uscc, field="demand.organisation.uscc"
        )
        digest = method_digest("CreateDemand", request)
        replay = self._replayed(request.request_id, digest)
        if replay is not None:
            return self._view(replay, call)
        matches = self._match(posted)
        now = self.clock.now()
        demand_id = str(uuid.uuid4())
        row = DemandRow(
            id=demand_id,
            organisation_uscc=posted.organisation.uscc,
            organisation_name=posted.organisation.name,
            region=posted.region,
            state="OPEN",
            deadline=_day(posted.deadline),
            text_key=words.search_text(f"{posted.title}\n{posted.purpose}"),
            body=posted.SerializeToString(deterministic=True),
            created_at=now,
            updated_at=now,
        )
        with self._writing(request.request_id, digest) as session:
            session.add(DemandRequestRow(request_id=request.request_id, digest=digest, demand_id=demand_id))
            session.add(row)
            session.add_all(_match_rows(demand_id, matches))
            self._event(
                session,
                demand_id,
                "POSTED",
                _P.DEMANDER,
                posted.organisation.uscc,
                call,
                now,
                f"{posted.organisation.name} posted it",
            )
            if matches:
                self._event(
                    session,
                    demand_id,
                    "MATCHED",
                    _P.NATIONAL,
                    "",
                    None,
                    now,
                    f"{len(matches)} registration(s) of the national ledger match it",
                )
            self._tell(session, demand_id)
        logger.info("demand %s posted by %s, %d matches", demand_id, posted.organisation.uscc, len(matches))
        return self._view(demand_id, call)

    def answer(self, request: ds.AnswerDemandRequest, call: Call) -> d.Demand:
        check = Checker()
        demand_id = self._demand_id(check, "name", request.name)
        answer = request.answer
        registration = answer.registration.strip()
        if len(registration) > NAME:
            check.fail("answer.registration", "FIELD_TOO_LONG", f"is longer than {NAME} characters")
        else:
            check.pattern(
                "answer.registration", registration, names.REGISTRATION, names.SHAPES["registration"]
            )
        kind = check.enum_name("answer.kind", answer.kind, _K)
        reason = check.text("answer.reason", answer.reason, max_length=TEXT, required=kind == "CANNOT")
        register_by = None
        today = self.clock.today()
        if kind == "COULD_REGISTER":
            if not answer.HasField("register_by"):
                check.fail("answer.register_by", "FIELD_REQUIRED", "is required for COULD_REGISTER")
            else:
                register_by = from_date(answer.register_by)
                if register_by is None:
                    check.fail("answer.register_by", "FIELD_MALFORMED", "is not a day of the calendar")
                elif register_by < today:
                    check.fail("answer.register_by", "FIELD_OUT_OF_RANGE", f"is before today ({today})")
        elif answer.HasField("register_by"):
            check.fail("answer.register_by", "FIELD_OUT_OF_RANGE", "is given only with COULD_REGISTER")
        check.request_id("request_id", request.request_id)
        check.done()
        assert demand_id is not None and kind is not None
        digest = method_digest("AnswerDemand", request)
        replay = self._replayed(request.request_id, digest)
        if replay is not None:
            return self._view(replay, call)
        now = self.clock.now()
        with self._writing(request.request_id, digest) as session:
            row = self._live(session, demand_id, today)
            ledger = session.exec(select(LedgerRow).where(LedgerRow.name == registration)).first()
            if ledger is None:
                raise NotFound(
                    "REGISTRATION_NOT_FOUND",
                    f"the national ledger holds no registration {registration}",
                    metadata={"field": "answer.registration"},
                )
            record = sync_pb2.RegistrationRecord.FromString(ledger.record)
            subject = record.registration.content.subject
            # The supplier acts for the registration's subject (as the ledger has it), whatever it says.
            require_own_subject(call.principal, call.grant, subject.uscc, field="answer.registration")
            if kind == "CAN_SUPPLY" and record.registration.state != r.Registration.State.ACTIVE:
                raise FailedPrecondition(
                    "REGISTRATION_NOT_ACTIVE",
                    f"{registration} is {r.Registration.State.Name(record.registration.state)}: only an "
                    "active registration can supply a demand",
                    metadata={"field": "answer.registration"},
                )
            if session.get(DemandAnswerRow, (demand_id, registration)) is not None:
                raise AlreadyExists(
                    "DEMAND_ANSWERED",
                    f"{registration} has answered this demand already",
                    metadata={"registration": registration},
                )
            session.add(DemandRequestRow(request_id=request.request_id, digest=digest, demand_id=demand_id))
            session.add(
                DemandAnswerRow(
                    demand_id=demand_id,
                    registration=registration,
                    kind=kind,
                    code=ledger.code or "" if kind == "CAN_SUPPLY" else "",
                    register_by=register_by,
                    reason=reason,
                    subject_name=subject.name,
                    subject_uscc=subject.uscc,
                    answered_at=now,
                )
            )
            if kind == "CAN_SUPPLY":
                row.state = "MATCHED"
            elif row.state == "OPEN":
                row.state = "ANSWERED"
            row.updated_at = now
            session.add(row)
            self._event(
                session,
                demand_id,
                "ANSWERED",
                _P.SUPPLIER,
                subject.uscc,
                call,
                now,
                f"{subject.name}: {kind} for {ledger.code or registration}",
            )
            self._tell(session, demand_id)
        return self._view(demand_id, call)

    def close(self, request: ds.CloseDemandRequest, call: Call) -> d.Demand:
        return self._end(request, call, method="CloseDemand", state="CLOSED", action="CLOSED")

    def withdraw(self, request: ds.WithdrawDemandRequest, call: Call) -> d.Demand:
        return self._end(request, call, method="WithdrawDemand", state="WITHDRAWN", action="WITHDRAWN")

    def _end(
        self,
        request: ds.CloseDemandRequest | ds.WithdrawDemandRequest,
        call: Call,
        *,
        method: str,
        state: str,
        action: str,
    ) -> d.Demand:
        check = Checker()
        demand_id = self._demand_id(check, "name", request.name)
        note = check.text("note", request.note, max_length=TEXT, required=False)
        check.request_id("request_id", request.request_id)
        check.done()
        assert demand_id is not None
        digest = method_digest(method, request)
        replay = self._replayed(request.request_id, digest)
        if replay is not None:
            return self._view(replay, call)
        now = self.clock.now()
        with self._writing(request.request_id, digest) as session:
            row = session.get(DemandRow, demand_id, with_for_update=True)
            if row is None:
                raise _not_found(request.name)
            require_own_subject(call.principal, call.grant, row.organisation_uscc, field="name")
            row = self._live(session, demand_id, self.clock.today())
            session.add(DemandRequestRow(request_id=request.request_id, digest=digest, demand_id=demand_id))
            row.state, row.updated_at = state, now
            session.add(row)
            self._event(session, demand_id, action, _P.DEMANDER, row.organisation_uscc, call, now, note)
            self._tell(session, demand_id)
        return self._view(demand_id, call)

    # -- reads ------------------------------------------------------------------------------------

    def get(self, request: ds.GetDemandRequest, call: Call) -> d.Demand:
        check = Checker()
        demand_id = self._demand_id(check, "name", request.name)
        check.done()
        assert demand_id is not None
        return self._view(demand_id, call)

    def list_demands(self, request: ds.ListDemandsRequest) -> ds.ListDemandsResponse:
        check = Checker()
        size = check.page_size("page_size", request.page_size, default=20, maximum=100)
        if len(request.query) > MAX_QUERY:
            check.fail(
                "query",
                "FIELD_TOO_LONG",
                f"is {len(request.query)} characters long; the limit is {MAX_QUERY}",
            )
        region = request.region.strip()
        if region:
            check.region("region", region)
        state = check.enum_name("state", request.state, _S, required=False)
        uscc = request.organisation_uscc.strip()
        if uscc and not _USCC_SHAPE.fullmatch(uscc):
            # (A filter: a code of the right shape that is no subject's finds nothing.)
            check.fail(
                "organisation_uscc",
                "FIELD_MALFORMED",
                "must be 18 characters of 0-9 and A-Y but I, O, S, V, Z",
            )
        check.done()
        tokens = words.query_tokens(request.query) if request.query.strip() else []
        filters = [tokens, region, state or "", uscc]
        after = self.tokens.decode("ListDemands", request.page_token, filters)
        today = self.clock.today()
        statement = select(DemandRow)
        for token in tokens:
            escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(col(DemandRow.text_key).like(f"%{escaped}%", escape="\\"))
        if region:
            statement = statement.where(DemandRow.region == region)
        if uscc:
            statement = statement.where(DemandRow.organisation_uscc == uscc)
        if state in _LIVE:
            statement = statement.where(DemandRow.state == state, DemandRow.deadline >= today)
        elif state == "CLOSED":
            statement = statement.where(
                or_(
                    col(DemandRow.state) == "CLOSED",
                    col(DemandRow.state).in_(_LIVE) & (col(DemandRow.deadline) < today),
                )
            )
        elif state is not None:
            statement = statement.where(DemandRow.state == state)
        statement = newest_first(statement, col(DemandRow.created_at), col(DemandRow.id), after).limit(
            size + 1
        )
        with self.db.transaction(write=False) as session:
            rows = list(session.exec(statement).all())
        more = len(rows) > size
        rows = rows[:size]
        return ds.ListDemandsResponse(
            demands=[self._message(row, today) for row in rows],
            next_page_token=(
                self.tokens.encode("ListDemands", newest_position(rows[-1].created_at, rows[-1].id), filters)
                if more
                else ""
            ),
        )

    def count(self) -> dict[str, int]:
        """Demands by state, as every reader sees them (for the node's metrics and statistics)."""
        today = self.clock.today()
        past_deadline = col(DemandRow.deadline) < today
        with self.db.transaction(write=False) as session:
            rows = session.exec(
                select(DemandRow.state, past_deadline, func.count()).group_by(DemandRow.state, past_deadline)
            ).all()
        counts: dict[str, int] = {}
        for state, past, number in rows:
            shown = "CLOSED" if past and state in _LIVE else state
            counts[shown] = counts.get(shown, 0) + number
        return counts

    # -- the parts --------------------------------------------------------------------------------

    def _check_demand(self, check: Checker, demand: d.Demand) -> d.Demand:
        """The demand as the organisation gave it, checked field by field; output-only fields are
        ignored (AIP-203)."""
        posted = d.Demand(
            title=check.text("demand.title", demand.title, max_length=NAME),
            purpose=check.text("demand.purpose", demand.purpose, max_length=TEXT),
            frequency=check.text("demand.frequency", demand.frequency, max_length=SHORT // 2, required=False),
        )
        region = demand.region.strip()
        if region:
            found = check.region("demand.region", region)
            if found is not None and found.code == regions.NATIONAL:
                check.fail(
                    "demand.region", "FIELD_OUT_OF_RANGE", "must be a province-level region (e.g. 320000)"
                )
            posted.region = region
        if len(demand.fields) > MAX_FIELDS:
            check.fail(
                "demand.fields",
                "FIELD_TOO_LONG",
                f"names {len(demand.fields)} items; the limit is {MAX_FIELDS}",
            )
        for i, item in enumerate(demand.fields[:MAX_FIELDS]):
            posted.fields.append(check.text(f"demand.fields[{i}]", item, max_length=SHORT))
        today = self.clock.today()
        days: dict[str, date | None] = {}
        for field in ("period_start", "period_end", "deadline"):
            if demand.HasField(field):
                days[field] = from_date(getattr(demand, field))
                if days[field] is None:
                    check.fail(f"demand.{field}", "FIELD_MALFORMED", "is not a day of the calendar")
            elif field == "deadline":
                check.fail("demand.deadline", "FIELD_REQUIRED", "is required")
        deadline = days.get("deadline")
        if deadline is not None:
            if deadline < today:
                check.fail("demand.deadline", "FIELD_OUT_OF_RANGE", f"is before today ({today})")
            elif deadline > today + MAX_DEADLINE:
                check.fail("demand.deadline", "FIELD_OUT_OF_RANGE", "is more than three years ahead")
            posted.deadline.CopyFrom(to_date(deadline))
        start, end = days.get("period_start"), days.get("period_end")
        if start is not None:
            posted.period_start.CopyFrom(to_date(start))
        if end is not None:
            posted.period_end.CopyFrom(to_date(end))
            if start is not None and end < start:
                check.fail("demand.period_end", "FIELD_OUT_OF_RANGE", "is before period_start")
        organisation = demand.organisation
        found_uscc = check.uscc("demand.organisation.uscc", organisation.uscc)
        posted.organisation.name = check.text("demand.organisation.name", organisation.name, max_length=NAME)
        if found_uscc is not None:
            posted.organisation.uscc = found_uscc.value
        return posted

    def _match(self, demand: d.Demand) -> list[d.DemandMatch]:
        """The active registrations of the ledger (its search index) that match the demand, best first."""
        filters = {"state": "ACTIVE"}
        if demand.region:
            filters["region"] = demand.region
        try:
            found = self.search.search(SearchQuery(q=demand.title, filters=filters, page_size=MAX_MATCHES))
        except Exception:  # matching helps; a demand is taken without it rather than refused
            logger.exception("matching a demand failed; it is posted without matches")
            return []
        return [
            d.DemandMatch(
                registration=row.name,
                code=row.code or "",
                data_name=row.data_name,
                subject_name=row.subject_name,
                subject_uscc=row.subject_uscc,
                complete=not found.partial,
            )
            for row in found.items[:MAX_MATCHES]
        ]

    @staticmethod
    def _demand_id(check: Checker, field: str, name: str) -> str | None:
        if len(name) > 100:
            check.fail(field, "FIELD_TOO_LONG", "is longer than 100 characters")
            return None
        match = check.pattern(field, name, _DEMAND, "demands/{uuid}")
        return match.group(1) if match else None

    def _replayed(self, request_id: str, digest: str) -> str | None:
        """The demand of an earlier write under this request id (the same request), or None."""
        with self.db.transaction(write=False) as session:
            earlier = session.get(DemandRequestRow, request_id)
        if earlier is None:
            return None
        if earlier.digest != digest:
            raise AlreadyExists(
                "REQUEST_ID_REUSED",
                f"request id {request_id} was used for another request",
                metadata={"field": "request_id"},
            )
        return earlier.demand_id

    def _writing(self, request_id: str, digest: str) -> _Write:
        return _Write(self, request_id, digest)

    def _live(self, session: Session, demand_id: str, today: date) -> DemandRow:
        """The demand, locked, if it still takes answers and steps; DEMAND_ENDED otherwise."""
        row = session.get(DemandRow, demand_id, with_for_update=True)
        if row is None:
            raise _not_found(f"demands/{demand_id}")
        if row.state not in _LIVE or row.deadline < today:
            shown = "CLOSED (past its deadline)" if row.state in _LIVE else row.state
            raise FailedPrecondition(
                "DEMAND_ENDED", f"demands/{demand_id} is {shown}", metadata={"state": shown.split()[0]}
            )
        return row

    @staticmethod
    def _event(
        session: Session,
        demand_id: str,
        action: str,
        party: int,
        on_behalf_of: str,
        call: Call | None,
        at: datetime,
        note: str,
    ) -> None:
        session.add(
            DemandEventRow(
                demand_id=demand_id,
                action=action,
                party=_P.Name(party),
                on_behalf_of=on_behalf_of,
                actor=call.actor if call is not None else "",
                note=note,
                at=at,
            )
        )

    def _message(self, row: DemandRow, today: date) -> d.Demand:
        demand = d.Demand.FromString(row.body)
        demand.name = f"demands/{row.id}"
        past = row.state in _LIVE and row.deadline < today
        demand.state = cast("d.Demand.State", d.Demand.State.Value("CLOSED" if past else row.state))
        _stamp(demand, "create_time", row.created_at)
        _stamp(demand, "update_time", max(row.updated_at, _expiry(row.deadline)) if past else row.updated_at)
        return demand

    def _tell(self, session: Session, demand_id: str) -> None:
        """Send the demand as it now stands (no actors) to each node that manages a matched
        registration, its matches and answers limited to that node's registrations."""
        if self.notices is None:
            return
        demand = self._build(session, demand_id, self.clock.today(), actors=False)
        nodes = sorted({names.parse_registration(m.registration).node for m in demand.matches})
        for node in nodes:
            part = d.Demand()
            part.CopyFrom(demand)
            del part.matches[:], part.answers[:], part.history[:]
            part.matches.extend(m for m in demand.matches if _on(m.registration, node))
            part.answers.extend(a for a in demand.answers if _on(a.registration, node))
            self.notices.demand(session, node, part)

    def _view(self, demand_id: str, call: Call) -> d.Demand:
        with self.db.transaction(write=False) as session:
            row = session.get(DemandRow, demand_id)
            if row is None:
                raise _not_found(f"demands/{demand_id}")
            actors = _sees_actors(call, row.organisation_uscc)
            return self._build(session, demand_id, self.clock.today(), actors=actors)

    def _build(self, session: Session, demand_id: str, today: date, *, actors: bool) -> d.Demand:
        row = session.get(DemandRow, demand_id)
        if row is None:
            raise _not_found(f"demands/{demand_id}")
        matches = session.exec(
            select(DemandMatchRow)
            .where(DemandMatchRow.demand_id == demand_id)
            .order_by(col(DemandMatchRow.rank))
        ).all()
        answers = session.exec(
            select(DemandAnswerRow)
            .where(DemandAnswerRow.demand_id == demand_id)
            .order_by(col(DemandAnswerRow.answered_at), col(DemandAnswerRow.registration))
        ).all()
        events = session.exec(
            select(DemandEventRow)
            .where(DemandEventRow.demand_id == demand_id)
            .order_by(col(DemandEventRow.id))
        ).all()
        demand = self._message(row, today)
        demand.matches.extend(d.DemandMatch(**{f: getattr(m, f) for f in _MATCH_FIELDS}) for m in matches)
        for a in answers:
            answer = d.DemandAnswer(
                registration=a.registration,
                kind=cast("d.DemandAnswer.Kind", d.DemandAnswer.Kind.Value(a.kind)),
                code=a.code,
                reason=a.reason,
                subject_name=a.subject_name,
            )
            if a.register_by is not None:
                answer.register_by.CopyFrom(to_date(a.register_by))
            _stamp(answer, "answer_time", a.answered_at)
            demand.answers.append(answer)
        for e in events:
            event = d.DemandEvent(
                action=e.action,
                party=cast("d.DemandEvent.Party", d.DemandEvent.Party.Value(e.party)),
                on_behalf_of=e.on_behalf_of,
                actor=e.actor if actors else "",
                note=e.note,
            )
            _stamp(event, "time", e.at)
            demand.history.append(event)
        if row.state in _LIVE and row.deadline < today:
            expired = d.DemandEvent(
                action="EXPIRED", party=_P.NATIONAL, note=f"its deadline {row.deadline} passed"
            )
            _stamp(expired, "time", _expiry(row.deadline))
            demand.history.append(expired)
        return demand


class _Write:
    """One write's transaction: an insert of its request id that loses to a concurrent retry of the
    same request is answered as the retry (the demand as it is), never as an error."""

    def __init__(self, desk: DemandDesk, request_id: str, digest: str) -> None:
        self.desk, self.request_id, self.digest = desk, request_id, digest

    def __enter__(self) -> Session:
        self._transaction = self.desk.db.transaction()
        return self._transaction.__enter__()

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> bool:
        try:
            self._transaction.__exit__(kind, error, trace)  # type: ignore[arg-type]
        except IntegrityError:
            # Another call with this request id committed first: the same request is its retry.
            if self.desk._replayed(self.request_id, self.digest) is None:
                raise
            return True
        return False


def _match_rows(demand_id: str, matches: Iterable[d.DemandMatch]) -> list[DemandMatchRow]:
    return [
        DemandMatchRow(demand_id=demand_id, rank=rank, **{f: getattr(m, f) for f in _MATCH_FIELDS})
        for rank, m in enumerate(matches)
    ]


def _day(value: date_pb2.Date) -> date:
    day = from_date(value)
    assert day is not None  # checked
    return day


def _expiry(deadline: date) -> datetime:
    """The first instant after a deadline: the start of the next day in China Standard Time."""
    return datetime.combine(deadline + timedelta(days=1), time(), tzinfo=CHINA).astimezone(UTC)


def _sees_actors(call: Call, organisation: str) -> bool:
    principal = call.principal
    if principal.kind != "person":
        return False
    if principal.roles & _READERS_OF_ACTORS:
        return True
    return "data_user" in principal.roles and organisation in principal.subjects


def _on(registration: str, node: str) -> bool:
    return names.parse_registration(registration).node == node


def _not_found(name: str) -> NotFound:
    return NotFound("DEMAND_NOT_FOUND", f"there is no demand {name}", metadata={"name": name})
