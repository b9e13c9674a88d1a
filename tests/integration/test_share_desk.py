"""Share requests under 《政务数据共享条例》 at the national node's desk (ShareService), on SQLite and
PostgreSQL with a clock the test sets: each limit on the working-day calendar (1 and 10 working days
to reply, one extension of at most 10, 20 to deliver), a not-shared resource refused with its legal
basis, every attempt to act for another department refused, nothing half-written, every write
idempotent, usage records kept three years, the managing node told of each step, and the overdue
ones counted for the national statistics."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from common.calendar import WorkingCalendar
from common.db import Database
from common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import share_pb2 as sh
from common.gen.registry.v1 import share_service_pb2 as ss
from common.gen.registry.v1 import sync_pb2
from common.paging import PageTokens
from common.registration.content import from_date, to_date
from common.rpc.call import Call
from common.security.policy import Grant, Scope
from common.security.tokens import Principal
from common.settings import TimeLimits
from national_node.models import DownwardRow, LedgerRow, ShareEventRow, ShareRequestRow, ShareWriteRow
from national_node.notices import Notices
from national_node.shares import ShareDesk
from tests.factories import make_uscc
from tests.integration.test_objection_desk import Clock
from tests.integration.test_search import record

pytestmark = pytest.mark.integration

SUPPLIER = make_uscc("320106")
REQUESTER = make_uscc("320106")
STRANGER = make_uscc("110105")
#: The day before China's National Day holiday of 2026 (1-7 October off, on the published schedule).
EVE = date(2026, 9, 30)
_T = r.AccessTerms


def _call(uscc: str, role: str, name: str = "zhao.liu") -> Call:
    principal = Principal(
        subject=name,
        name=name,
        roles=frozenset({role}),
        subjects=frozenset({uscc}),
        issuer="https://id.registry.data.gov.cn",
        expires=datetime.now(UTC) + timedelta(hours=1),
    )
    return Call(method="ShareService.Test", principal=principal, grant=Grant(role, Scope.OWN_SUBJECTS))


DEPARTMENT = _call(REQUESTER, "department")
SUPPLIER_STAFF = _call(SUPPLIER, "applicant", "wang.wu")
COORDINATOR = Call(
    method="ShareService.Test",
    principal=Principal(
        subject="chen.qi",
        name="chen.qi",
        roles=frozenset({"coordinator"}),
        subjects=frozenset(),
        issuer="https://id.registry.data.gov.cn",
        expires=datetime.now(UTC) + timedelta(hours=1),
    ),
    grant=Grant("coordinator", Scope.ANY),
)


def _ledger(db: Database, data_name: str, sharing: int, **terms: str) -> str:
    rec: sync_pb2.RegistrationRecord = record(data_name, uscc=SUPPLIER)
    access = rec.registration.content.access_terms
    access.sharing_attribute = sharing  # type: ignore[assignment]
    for field, value in terms.items():
        setattr(access, field, value)
    reg = rec.registration
    with db.transaction() as session:
        session.add(
            LedgerRow(
                uid=reg.uid,
                node="320000",
                name=reg.name,
                code="132000026PHTXAX732G",
                state="ACTIVE",
                revision=1,
                digest="0" * 64,
                bucket=reg.uid[:2],
                record=rec.SerializeToString(),
                updated_at=datetime.now(UTC),
            )
        )
    return reg.name


def _ask(registration: str, request_id: str = "s-1", **changes: Any) -> ss.CreateShareRequestRequest:
    asked = sh.ShareRequest(
        registration=registration,
        requester=sh.Department(uscc=REQUESTER, name="江苏省医疗保障局"),
        basis="《中华人民共和国社会保险法》第八十一条",
        scenario="医保待遇资格核验",
        scope="本局待遇审核处",
        method=sh.ShareRequest.API,
        use_until=to_date(EVE + timedelta(days=365)),
    )
    for field, value in changes.items():
        setattr(asked, field, value)
    return ss.CreateShareRequestRequest(share_request=asked, request_id=request_id)


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


def _desk(db: Database, day: date, calendar: WorkingCalendar) -> ShareDesk:
    clock = Clock(day)
    return ShareDesk(db, clock, PageTokens(b"k" * 32), calendar, Notices(clock, calendar, TimeLimits()))


def _rows(db: Database, table: type) -> int:
    with db.transaction(write=False) as session:
        return len(session.exec(select(table)).all())


def _feed(db: Database) -> list[sh.ShareRequest]:
    with db.transaction(write=False) as session:
        rows = session.exec(select(DownwardRow).where(DownwardRow.kind == "SHARE_REQUEST")).all()
    assert {row.node for row in rows} <= {"320000"}
    return [sh.ShareRequest.FromString(row.notice or b"") for row in rows]


def test_each_limit_runs_on_the_working_day_calendar(
    national_database: Database, calendar: WorkingCalendar
) -> None:
    db = national_database
    unconditional = _ledger(db, "全省社会保险参保人员名单", _T.UNCONDITIONALLY_SHARED)
    conditional = _ledger(
        db, "全省医疗保障定点机构结算数据", _T.CONDITIONALLY_SHARED, sharing_conditions="仅限医保部门"
    )
    desk = _desk(db, EVE, calendar)
    one = desk.create(_ask(unconditional, "s-1"), DEPARTMENT)
    ten = desk.create(_ask(conditional, "s-2"), DEPARTMENT)
    # 1 and 10 working days from the eve of the holiday: the week off does not count.
    assert (one.conditional, from_date(one.reply_due)) == (False, calendar.add_working_days(EVE, 1).date)
    assert from_date(one.reply_due) > date(2026, 10, 7)
    assert (ten.conditional, ten.sharing_conditions) == (True, "仅限医保部门")
    assert from_date(ten.reply_due) == calendar.add_working_days(EVE, 10).date
    assert ten.supplier.uscc == SUPPLIER and ten.code == "132000026PHTXAX732G"
    # An unconditional request's reply is not extended; a conditional one's once, by at most 10.
    with pytest.raises(FailedPrecondition) as refused:
        desk.extend(
            ss.ExtendShareRequestRequest(name=one.name, days=5, approval="批复", request_id="e-0"),
            SUPPLIER_STAFF,
        )
    assert refused.value.reason == "SHARE_REQUEST_STATE"
    with pytest.raises(InvalidArgument):
        desk.extend(
            ss.ExtendShareRequestRequest(name=ten.name, days=11, approval="批复", request_id="e-1"),
            SUPPLIER_STAFF,
        )
    extension = ss.ExtendShareRequestRequest(
        name=ten.name, days=10, approval="省数据局同意延期（苏数函〔2026〕12号）", request_id="e-2"
    )
    extended = desk.extend(extension, SUPPLIER_STAFF)
    assert extended.extended
    assert from_date(extended.reply_due) == calendar.add_working_days(from_date(ten.reply_due), 10).date
    assert desk.extend(extension, SUPPLIER_STAFF).reply_due == extended.reply_due  # a retry, once
    extension.request_id = "e-3"
    with pytest.raises(FailedPrecondition) as twice:
        desk.extend(extension, SUPPLIER_STAFF)
    assert twice.value.reason == "EXTENSION_USED"
    # Agreeing starts the 20 working days of the delivery, from the day of the reply.
    later = EVE + timedelta(days=14)
    agreed = _desk(db, later, calendar).reply(
        ss.ReplyShareRequestRequest(
            name=ten.name, decision=ss.ReplyShareRequestRequest.AGREE, request_id="r-1"
        ),
        SUPPLIER_STAFF,
    )
    assert agreed.state == sh.ShareRequest.AGREED and not agreed.HasField("reply_due")
    assert from_date(agreed.delivery_due) == calendar.add_working_days(later, 20).date
    # The managing node was told of every step, the newest last.
    told = [s for s in _feed(db) if s.name == ten.name]
    assert [s.state for s in told] == [sh.ShareRequest.SUBMITTED] * 2 + [sh.ShareRequest.AGREED]
    assert told[1].extended and told[-1].delivery_due == agreed.delivery_due


def test_incomplete_materials_are_asked_for_at_once_and_the_limit_runs_again_from_the_supplement(
    national_database: Database, calendar: WorkingCalendar
) -> None:
    db = national_database
    name = (
        _desk(db, EVE, calendar)
        .create(
            _ask(_ledger(db, "全省不动产登记数据", _T.CONDITIONALLY_SHARED, sharing_conditions="用于履职")),
            DEPARTMENT,
        )
        .name
    )
    desk = _desk(db, EVE + timedelta(days=3), calendar)
    reply = ss.ReplyShareRequestRequest(
        name=name, decision=ss.ReplyShareRequestRequest.NEEDS_MATERIALS, request_id="r-1"
    )
    with pytest.raises(InvalidArgument) as bare:
        desk.reply(reply, SUPPLIER_STAFF)  # the materials to add must be named
    assert [v.field for v in bare.value.violations] == ["note"]
    reply.note = "请补充：部门负责人签批的申请函；数据使用安全承诺书"
    asked = desk.reply(reply, SUPPLIER_STAFF)
    assert asked.state == sh.ShareRequest.NEEDS_MATERIALS and not asked.HasField("reply_due")
    # Only the requester supplements; then the reply is due 10 working days from that day.
    supplement = ss.SupplementShareRequestRequest(name=name, note="已补充申请函与承诺书", request_id="p-1")
    with pytest.raises(PermissionDenied):
        desk.supplement(supplement, _call(STRANGER, "department"))
    day = EVE + timedelta(days=20)
    again = _desk(db, day, calendar).supplement(supplement, DEPARTMENT)
    assert again.state == sh.ShareRequest.SUBMITTED
    assert from_date(again.reply_due) == calendar.add_working_days(day, 10).date
    refusal = ss.ReplyShareRequestRequest(
        name=name, decision=ss.ReplyShareRequestRequest.REFUSE, request_id="r-2"
    )
    with pytest.raises(InvalidArgument):
        desk.reply(refusal, SUPPLIER_STAFF)  # a refusal states its reasons
    refusal.note = "申请的使用范围超出履职需要（条例第二十条）"
    refused = desk.reply(refusal, SUPPLIER_STAFF)
    assert refused.state == sh.ShareRequest.REFUSED
    assert [e.action for e in refused.history] == ["SUBMITTED", "NEEDS_MATERIALS", "SUPPLEMENTED", "REFUSED"]
    assert refused.history[-1].note == refusal.note and refused.history[-1].on_behalf_of == SUPPLIER


def test_a_not_shared_resource_is_refused_with_its_legal_basis_and_nothing_is_written(
    national_database: Database, calendar: WorkingCalendar
) -> None:
    db = national_database
    basis = "《中华人民共和国统计法》第九条：统计调查中获得的单个统计调查对象的资料不得对外提供"
    secret = _ledger(db, "全省企业统计调查原始资料", _T.NOT_SHARED, not_shared_basis=basis)
    desk = _desk(db, EVE, calendar)
    with pytest.raises(FailedPrecondition) as refused:
        desk.create(_ask(secret), DEPARTMENT)
    assert refused.value.reason == "NOT_SHARED" and refused.value.metadata["basis"] == basis
    assert basis in refused.value.message
    with pytest.raises(NotFound):
        desk.create(_ask("nodes/320000/registrations/r-nowhere", "s-2"), DEPARTMENT)
    # Asking in another department's name is refused before anything is looked up.
    with pytest.raises(PermissionDenied):
        desk.create(_ask(secret, "s-3"), _call(STRANGER, "department"))
    with pytest.raises(InvalidArgument) as bad:
        desk.create(ss.CreateShareRequestRequest(share_request=sh.ShareRequest(registration="x")), DEPARTMENT)
    assert {v.field for v in bad.value.violations} >= {
        "share_request.registration",
        "share_request.requester.uscc",
        "share_request.basis",
        "share_request.method",
        "share_request.use_until",
        "request_id",
    }
    for table in (ShareRequestRow, ShareEventRow, ShareWriteRow, DownwardRow):
        assert _rows(db, table) == 0, table


def test_only_the_two_departments_act_and_see_and_a_refused_step_writes_nothing(
    national_database: Database, calendar: WorkingCalendar
) -> None:
    db = national_database
    desk = _desk(db, EVE, calendar)
    made = desk.create(_ask(_ledger(db, "全省社会保险参保人员名单", _T.UNCONDITIONALLY_SHARED)), DEPARTMENT)
    assert desk.create(_ask(made.registration), DEPARTMENT).name == made.name  # a retry: the same request
    with pytest.raises(AlreadyExists):
        desk.create(_ask(made.registration, scope="全局"), DEPARTMENT)  # the id, reused for another
    events = _rows(db, ShareEventRow)
    stranger = _call(STRANGER, "applicant")
    agree = ss.ReplyShareRequestRequest(
        name=made.name, decision=ss.ReplyShareRequestRequest.AGREE, request_id="r-1"
    )
    # The requester cannot answer its own request; another subject's staff cannot either.
    for caller in (stranger, _call(REQUESTER, "applicant")):
        with pytest.raises(PermissionDenied):
            desk.reply(agree, caller)
    with pytest.raises(PermissionDenied):
        desk.deliver(ss.DeliverShareRequestRequest(name=made.name, note="x", request_id="d-0"), stranger)
    # Delivering before agreeing, or recording use before delivery, is out of order.
    with pytest.raises(FailedPrecondition):
        desk.deliver(
            ss.DeliverShareRequestRequest(name=made.name, note="接口已开通", request_id="d-1"), SUPPLIER_STAFF
        )
    usage = ss.RecordUsageRequest(
        name=made.name,
        record=sh.UsageRecord(kind=sh.UsageRecord.SCENARIO, note="待遇资格核验"),
        request_id="u-1",
    )
    with pytest.raises(FailedPrecondition):
        desk.record_usage(usage, DEPARTMENT)
    assert _rows(db, ShareEventRow) == events and _rows(db, ShareWriteRow) == 1
    # A third department neither reads it nor finds it in a list; the coordinators see all.
    with pytest.raises(NotFound):
        desk.get(ss.GetShareRequestRequest(name=made.name), _call(STRANGER, "department"))
    assert (
        desk.list_requests(ss.ListShareRequestsRequest(), _call(STRANGER, "department")).share_requests == []
    )
    assert [
        s.name for s in desk.list_requests(ss.ListShareRequestsRequest(), COORDINATOR).share_requests
    ] == [made.name]
    # The whole way: agreed, delivered, used; each usage record kept three years.
    desk.reply(agree, SUPPLIER_STAFF)
    delivered = desk.deliver(
        ss.DeliverShareRequestRequest(
            name=made.name, note="接口已开通：https://api.example.cn/si", request_id="d-2"
        ),
        SUPPLIER_STAFF,
    )
    assert delivered.state == sh.ShareRequest.DELIVERED
    with pytest.raises(PermissionDenied):
        desk.record_usage(usage, SUPPLIER_STAFF)  # the supplier keeps no usage records
    used = desk.record_usage(usage, DEPARTMENT)
    assert [(u.kind, from_date(u.keep_until)) for u in used.usage_records] == [
        (sh.UsageRecord.SCENARIO, date(2029, 9, 30))
    ]


def test_overdue_requests_are_listed_and_counted_for_the_national_statistics(
    national_database: Database, calendar: WorkingCalendar
) -> None:
    db = national_database
    desk = _desk(db, EVE, calendar)
    late = desk.create(_ask(_ledger(db, "全省社会保险参保人员名单", _T.UNCONDITIONALLY_SHARED)), DEPARTMENT)
    desk.create(
        _ask(
            _ledger(db, "全省医疗保障结算数据", _T.CONDITIONALLY_SHARED, sharing_conditions="用于履职"), "s-2"
        ),
        DEPARTMENT,
    )
    assert desk.count() == ({("320000", "SUBMITTED"): 2}, {})
    # Two days after the holiday: the unconditional reply (1 working day) is late, the other is not.
    after = _desk(db, date(2026, 10, 10), calendar)
    overdue = after.list_requests(ss.ListShareRequestsRequest(overdue_only=True), COORDINATOR)
    assert [s.name for s in overdue.share_requests] == [late.name]
    assert after.count() == ({("320000", "SUBMITTED"): 2}, {"320000": 1})
