"""Building a province's backlog fast: the real procedure, in-process, on the province's database."""

from __future__ import annotations

import uuid
from itertools import count
from typing import Any

from sqlalchemy import event

from common import codes
from common.calendar import WorkingCalendar
from common.clock import SystemClock
from common.db import Database, migrate
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.paging import PageTokens
from common.registration.procedure import Procedure
from common.registration.service import RegistrationServicer
from common.settings import TimeLimits
from provincial_node.changelog import ChangeLog
from provincial_node.jurisdiction import ProvincialJurisdiction
from provincial_node.server import MIGRATIONS
from tests.factories import acting, make_content, make_uscc

_serials = count(1)


def _unsafe_fast(dbapi_connection: Any, _record: object) -> None:
    # Seeding only: a crash while seeding just means seeding again, so skip the fsyncs.
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def seed(database_url: str, region: str, *, registrations: int, division: str = "") -> int:
    """Apply for, accept, approve, announce and withdraw ``registrations`` registrations: five
    changes each in the change log. Returns the log's length."""
    db = Database(database_url)
    if db.is_sqlite:
        event.listen(db.engine, "connect", _unsafe_fast)
    migrate(db.engine, MIGRATIONS)
    clock = SystemClock()
    log = ChangeLog(clock)
    procedure = Procedure(
        node=region,
        calendar=WorkingCalendar(),
        limits=TimeLimits(),
        clock=clock,
        jurisdiction=ProvincialJurisdiction(region),
        on_change=log.record,
        separation_of_duties=False,  # the seeder accepts and approves alike
    )
    service = RegistrationServicer(db, procedure, clock, PageTokens(db.secret("page_tokens")))
    seeder = acting("seed")
    subject = make_uscc(division or region[:2] + "0106")
    for i in range(registrations):
        request = rs.CreateRegistrationRequest(
            parent=f"nodes/{region}",
            registration=r.Registration(
                object_type=3 if i % 3 == 2 else 1,  # resources and open data (no operation term)
                content=make_content(subject, data_name=f"数据资源 {i}"),
            ),
            request_id=str(uuid.uuid4()),
        )
        name = service.CreateRegistration(request, seeder).name
        service.AcceptApplication(
            rs.AcceptApplicationRequest(name=name, request_id=str(uuid.uuid4())), seeder
        )
        service.ApproveApplication(
            rs.ApproveApplicationRequest(name=name, request_id=str(uuid.uuid4())), seeder
        )
        service.AnnounceApplication(
            rs.AnnounceApplicationRequest(name=name, request_id=str(uuid.uuid4())), seeder
        )
        service.WithdrawApplication(
            rs.WithdrawApplicationRequest(name=name, reason="seeded", request_id=str(uuid.uuid4())), seeder
        )
    with db.transaction(write=False) as session:
        total = ChangeLog.count(session)
    db.dispose()
    return total


def fake_code(region: str, object_type: int) -> str:
    return codes.generate(object_type, region, 2026, next(_serials))
