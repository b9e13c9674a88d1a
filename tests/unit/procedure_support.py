"""Test harness for the registration procedure: a node in-process, a fake clock and a fake code source.

:class:`Node` drives :class:`~common.registration.service.RegistrationServicer` in-process, as the gRPC
boundary does (each call gets its request message and a :class:`~common.rpc.call.Call` naming the
actor), and runs :class:`Duties` on demand.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from google.type import date_pb2

from common import codes
from common.calendar import WorkingCalendar
from common.clock import CHINA, china_date
from common.db import Database, migrate
from common.errors import RegistryError, Unavailable
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.paging import PageTokens
from common.registration.content import canonical_json
from common.registration.duties import Duties
from common.registration.procedure import Procedure
from common.registration.service import RegistrationServicer
from common.settings import TimeLimits
from provincial_node.jurisdiction import ProvincialJurisdiction
from provincial_node.server import MIGRATIONS
from tests.factories import acting, make_uscc

REGION = "320000"
PARENT = f"nodes/{REGION}"
START = date(2026, 9, 28)  # a Monday, three days before the National Day holidays

Reg = r.Registration
App = r.Application

# -- time ---------------------------------------------------------------------------------------


class FakeClock:
    """Time stands still until the test moves it; today() is the date in China."""

    def __init__(self, day: date = START) -> None:
        self.t = datetime(2000, 1, 1, tzinfo=UTC)
        self.set(day)

    def now(self) -> datetime:
        return self.t

    def today(self) -> date:
        return china_date(self.t)

    def set(self, day: date, hour: int = 10) -> None:
        """Move to ``hour`` o'clock China time on ``day`` (time only moves forward)."""
        moment = datetime.combine(day, time(hour), tzinfo=CHINA).astimezone(UTC)
        assert moment >= self.t, "the fake clock only moves forward"
        self.t = moment

    def tick(self, seconds: int = 1) -> None:
        self.t += timedelta(seconds=seconds)


# -- reference working-day calendar (independent of common.calendar) ----------------------------

# The State Council's 2026 schedule from September on: Mid-Autumn 25-27 Sep, National Day 1-7 Oct,
# with Sunday 20 Sep and Saturday 10 Oct worked in exchange.
HOLIDAYS_2026 = frozenset([date(2026, 9, d) for d in (25, 26, 27)] + [date(2026, 10, d) for d in range(1, 8)])
WORKDAYS_2026 = frozenset({date(2026, 9, 20), date(2026, 10, 10)})


def add_working_days(
    start: date,
    n: int,
    holidays: Iterable[date] = HOLIDAYS_2026,
    workdays: Iterable[date] = WORKDAYS_2026,
) -> date:
    """The n-th working day after ``start``; valid for dates from September 2026 on."""
    off, on = set(holidays), set(workdays)
    day = start
    while n:
        day += timedelta(days=1)
        if day in on or (day.weekday() < 5 and day not in off):
            n -= 1
    return day


def days_before(end: date, n: int) -> date:
    """The day from which exactly ``n`` working days remain up to ``end``, for years without holidays."""
    day, left = end, 0
    while True:
        left += day.weekday() < 5
        if left == n and day.weekday() < 5:
            return day - timedelta(days=1)
        day -= timedelta(days=1)


def d(value: date_pb2.Date) -> date:
    return date(value.year, value.month, value.day)


def states_of(reg: r.Registration) -> tuple[int, int]:
    """The registration's state and its current application's."""
    return reg.state, reg.current_application.state


# -- content builders ---------------------------------------------------------------------------


def document(title: str = "文档", sha: str = "a" * 64) -> r.Document:
    return r.Document(title=title, uri=f"https://docs.example.cn/{uuid.uuid4().hex}", sha256=sha)


def term(start: date, end: date) -> r.OperationTerm:
    return r.OperationTerm(
        start=date_pb2.Date(year=start.year, month=start.month, day=start.day),
        end=date_pb2.Date(year=end.year, month=end.month, day=end.day),
    )


def content(
    *,
    uscc: str | None = None,
    data_name: str = "南京市 交通 流量",
    operation_term: r.OperationTerm | None = None,
    **fields: Any,
) -> r.RegistrationContent:
    """Valid content for a subject of Jiangsu; ``fields`` override any top-level field."""
    values: dict[str, Any] = {
        "subject": r.Subject(name="南京市交通运输局", uscc=uscc or make_uscc("320106")),
        "data_name": data_name,
        "data_type": "结构化数据",
        "data_format": "CSV",
        "storage": r.Storage(location="江苏省政务云", method="关系型数据库"),
        "update_frequency": "每日",
        "legal_source": "依法履职产生",
        "evidence_deposit": "已存证",
        "application_scenarios": ["交通规划"],
        "security_assessment": document("数据安全风险评估报告"),
        "description": document("说明文档"),
        "commitment": document("登记承诺书"),
        "summary": "全市道路交通流量统计",
    }
    message = r.RegistrationContent(**(values | fields))
    if operation_term is not None:
        message.operation_term.CopyFrom(operation_term)
    return message


def product(end: date = date(2035, 12, 31), **fields: Any) -> r.RegistrationContent:
    return content(operation_term=term(date(2026, 1, 1), end), **fields)


def changed(old: r.RegistrationContent, **fields: Any) -> r.RegistrationContent:
    new = r.RegistrationContent()
    new.CopyFrom(old)
    new.subject.region = ""  # output only
    for key, value in fields.items():
        setattr(new, key, value)
    return new


def with_region(body: r.RegistrationContent) -> r.RegistrationContent:
    """``body`` as the registry keeps it: the subject's region filled in from the USCC."""
    kept = r.RegistrationContent()
    kept.CopyFrom(body)
    kept.subject.region = REGION
    return kept


def sha256_of(body: r.RegistrationContent) -> str:
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def refused(call: Callable[[], object], error: type[RegistryError], reason: str) -> RegistryError:
    """Assert ``call`` raises ``error`` with ``reason``; the error is returned for more checks."""
    with pytest.raises(error) as caught:
        call()
    assert caught.value.reason == reason, caught.value
    return caught.value


# -- the code source ----------------------------------------------------------------------------


@dataclass
class FakeCodes:
    """The national node: hands out valid codes, records every call, can be told to be unreachable."""

    clock: FakeClock
    failing: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)
    issued: dict[str, str] = field(default_factory=dict)

    def assign(self, *, registration: str, object_type: int, subject_uscc: str, request_id: str) -> str:
        self.calls.append(
            {"registration": registration, "object_type": object_type, "request_id": request_id}
        )
        if self.failing:
            raise Unavailable("NATIONAL_NODE_UNAVAILABLE", "the national node cannot be reached")
        if request_id not in self.issued:  # like the national node: a retried request gets its code
            serial = len(self.issued) + 1
            self.issued[request_id] = codes.generate(object_type, REGION, self.clock.today().year, serial)
        return self.issued[request_id]


# -- the node -----------------------------------------------------------------------------------


#: The reads of the tests are made as this caller.
READER = acting("reader")


def rid() -> str:
    return str(uuid.uuid4())


class Node:
    """One provincial node (320000) on a SQLite file, driven in-process."""

    def __init__(
        self,
        path: Path,
        *,
        limits: TimeLimits | None = None,
        calendar: WorkingCalendar | None = None,
        separation_of_duties: bool = False,
    ) -> None:
        self.clock = FakeClock()
        self.db = Database(f"sqlite:///{path / 'node.db'}")
        migrate(self.db.engine, MIGRATIONS)
        self.procedure = Procedure(
            node=REGION,
            calendar=calendar or WorkingCalendar(),
            limits=limits or TimeLimits(),
            clock=self.clock,
            jurisdiction=ProvincialJurisdiction(REGION),
            separation_of_duties=separation_of_duties,
        )
        self.codes = FakeCodes(self.clock)
        self.duties = Duties(self.db, self.procedure, self.codes)
        self.service = RegistrationServicer(
            self.db, self.procedure, self.clock, PageTokens(self.db.secret("pages"))
        )

    def close(self) -> None:
        self.db.dispose()

    # -- writes: one request message each, as the servicer passes them ---------------------------

    def send(self, req: Any, actor: str = "operator") -> Any:
        """Perform the write ``req`` as ``actor``; the servicer's answer is returned."""
        method = type(req).__name__.removesuffix("Request")
        if not hasattr(req, "request_id"):
            raise TypeError(f"not a write: {type(req).__name__}")
        return getattr(self.service, method)(req, acting(actor))

    def create(self, body: r.RegistrationContent | None = None, object_type: int = 1) -> Reg:
        registration = Reg(object_type=object_type, content=body or content())
        req = rs.CreateRegistrationRequest(parent=PARENT, registration=registration, request_id=rid())
        return self.send(req, actor="subject")

    def submit(self, name: str, kind: int, body: r.RegistrationContent | None = None, **kw: Any) -> Reg:
        reason = kw.pop("reason", "内容有变")
        req = rs.SubmitApplicationRequest(name=name, type=kind, content=body, reason=reason, request_id=rid())
        return self.send(req, actor="subject")

    def resubmit(self, name: str, body: r.RegistrationContent) -> Reg:
        req = rs.ResubmitApplicationRequest(name=name, content=body, request_id=rid())
        return self.send(req, actor="subject")

    def withdraw(self, name: str, reason: str = "不再登记") -> Reg:
        return self.send(rs.WithdrawApplicationRequest(name=name, reason=reason, request_id=rid()), "subject")

    def accept(self, name: str, etag: str = "") -> Reg:
        return self.send(rs.AcceptApplicationRequest(name=name, request_id=rid(), etag=etag))

    def return_(self, name: str, *defects: tuple[str, str]) -> Reg:
        listed = [r.Defect(field=f, description=text) for f, text in defects]
        return self.send(rs.ReturnApplicationRequest(name=name, defects=listed, request_id=rid()))

    def refuse(self, name: str, reason: str) -> Reg:
        return self.send(rs.RefuseApplicationRequest(name=name, reason=reason, request_id=rid()))

    def approve(self, name: str, etag: str = "") -> Reg:
        return self.send(rs.ApproveApplicationRequest(name=name, request_id=rid(), etag=etag))

    def request_correction(self, name: str, *defects: tuple[str, str]) -> Reg:
        listed = [r.Defect(field=f, description=text) for f, text in defects]
        return self.send(rs.RequestCorrectionRequest(name=name, defects=listed, request_id=rid()))

    def reject(self, name: str, reason: str) -> Reg:
        return self.send(rs.RejectApplicationRequest(name=name, reason=reason, request_id=rid()))

    def announce(self, name: str) -> Reg:
        return self.send(rs.AnnounceApplicationRequest(name=name, request_id=rid()))

    def object(
        self, name: str, reason: str = "数据来源有误", evidence: Iterable[r.Document] = ()
    ) -> r.Objection:
        objection = r.Objection(objector="张三 zhangsan@example.cn", reason=reason, evidence=list(evidence))
        return self.send(
            rs.CreateObjectionRequest(parent=name, objection=objection, request_id=rid()), "public"
        )

    def resolve(self, objection: str, outcome: int, resolution: str = "经核查") -> Reg:
        req = rs.ResolveObjectionRequest(
            name=objection, outcome=outcome, resolution=resolution, request_id=rid()
        )
        return self.send(req)

    def renew(self, name: str) -> Reg:
        return self.send(rs.RenewRegistrationRequest(name=name, request_id=rid()), "subject")

    # -- reads ----------------------------------------------------------------------------------

    def get(self, name: str) -> Reg:
        return self.service.GetRegistration(rs.GetRegistrationRequest(name=name), READER)

    def history(self, name: str) -> list[r.HistoryEntry]:
        return list(self.service.ListHistory(rs.ListHistoryRequest(parent=name), READER).entries)

    def actions(self, name: str) -> list[str]:
        """The history as ``actor:action`` entries, oldest first."""
        return [f"{e.actor}:{e.action}" for e in self.history(name)]

    def snapshot(self, name: str) -> tuple[Reg, int]:
        """What a caller sees of a registration: the message (with its etag) and its history length."""
        return self.get(name), len(self.history(name))

    def confirmation(self, code: str) -> r.Confirmation:
        return self.service.GetConfirmation(rs.GetConfirmationRequest(code=code), READER)

    def list(self, **filters: Any) -> rs.ListRegistrationsResponse:
        return self.service.ListRegistrations(rs.ListRegistrationsRequest(parent=PARENT, **filters), READER)

    def due(self, **kw: Any) -> list[rs.DueItem]:
        return list(self.service.ListDueItems(rs.ListDueItemsRequest(parent=PARENT, **kw), READER).items)

    # -- time and the node's own work -----------------------------------------------------------

    def on(self, day: date) -> Node:
        self.clock.set(day)
        return self

    def run_duties(self) -> dict[str, int]:
        return self.duties.run_once()

    # -- whole stretches of the procedure -------------------------------------------------------

    def announced(self, body: r.RegistrationContent | None = None, object_type: int = 1) -> Reg:
        """A new registration, accepted, approved and announced today."""
        name = self.create(body, object_type).name
        self.accept(name)
        self.approve(name)
        return self.announce(name)

    def close_announcement(self, reg: Reg) -> dict[str, int]:
        """Move to the day after the announcement and run the node's duties."""
        self.clock.set(d(reg.current_application.announcement_end) + timedelta(days=1))
        return self.run_duties()

    def active(self, body: r.RegistrationContent | None = None, object_type: int = 1) -> Reg:
        """A registration taken through the whole procedure to ACTIVE."""
        reg = self.announced(body, object_type)
        self.close_announcement(reg)
        return self.get(reg.name)

    def through_change(self, name: str, kind: int, body: r.RegistrationContent | None = None) -> Reg:
        """A change, correction or deregistration from submission to its end."""
        reg = self.submit(name, kind, body)
        self.accept(name)
        reg = self.approve(name)
        if kind == r.DEREGISTRATION:
            return reg
        self.close_announcement(self.announce(name))
        return self.get(name)


# -- write requests (without request id) for tables of retries ---------------------------------


def create_request(object_type: int = 1, **fields: Any) -> rs.CreateRegistrationRequest:
    registration = Reg(object_type=object_type, content=content(**fields))
    return rs.CreateRegistrationRequest(parent=PARENT, registration=registration)


def objection_request(name: str, reason: str) -> rs.CreateObjectionRequest:
    return rs.CreateObjectionRequest(parent=name, objection=r.Objection(objector="甲", reason=reason))


def resolution_request(name: str, outcome: int) -> rs.ResolveObjectionRequest:
    return rs.ResolveObjectionRequest(name=name, outcome=outcome, resolution="经核查")


def resubmission_request(name: str, summary: str) -> rs.ResubmitApplicationRequest:
    return rs.ResubmitApplicationRequest(name=name, content=content(uscc=SUBJECT, summary=summary))


def deregistration_request(name: str, reason: str) -> rs.SubmitApplicationRequest:
    return rs.SubmitApplicationRequest(name=name, type=r.DEREGISTRATION, reason=reason)


# -- registrations in a given state (each returns the registration's name) ----------------------


def submitted(node: Node) -> str:
    return node.create().name


def under_review(node: Node) -> str:
    name = node.create().name
    node.accept(name)
    return name


def approved(node: Node) -> str:
    name = under_review(node)
    node.approve(name)
    return name


def announced(node: Node) -> str:
    return node.announced().name


SUBJECT = make_uscc("320106")


def returned(node: Node) -> str:
    """An initial application of SUBJECT returned with one defect."""
    return node.return_(node.create(content(uscc=SUBJECT)).name, ("summary", "过短")).name


def objection(node: Node) -> str:
    """The name of a pending objection to an announced registration."""
    return node.object(announced(node)).name


def window_passed(node: Node) -> str:
    """Announced, and the announcement's last day is over, but the duties have not run yet."""
    reg = node.announced()
    node.on(d(reg.current_application.announcement_end) + timedelta(days=1))
    return reg.name


def objections_pending(node: Node) -> str:
    reg = node.announced()
    node.object(reg.name)
    node.close_announcement(reg)
    return reg.name


def active(node: Node) -> str:
    return node.active().name


def closed(node: Node) -> str:
    name = node.create().name
    node.refuse(name, "不予受理")
    return name


def deregistered(node: Node) -> str:
    name = node.active().name
    node.through_change(name, r.DEREGISTRATION)
    return name


def change_in_progress(node: Node) -> str:
    reg = node.active()
    node.submit(reg.name, r.CHANGE, changed(reg.content, summary="新摘要"))
    return reg.name
