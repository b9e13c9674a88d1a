"""Building a province's backlog fast: the real procedure, in-process, on the province's database;
registrations waiting for their code in the national ledger, as the provinces' feeds would put them;
a downward feed made through a national node process."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import count
from typing import Any

from sqlalchemy import event, insert
from sqlmodel import col, select

from common import codes
from common.calendar import WorkingCalendar
from common.clock import SystemClock
from common.db import Database, migrate
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.gen.registry.v1 import sync_pb2
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from common.paging import PageTokens
from common.registration.procedure import Procedure
from common.registration.service import RegistrationServicer
from common.settings import TimeLimits
from national_node.models import LedgerRow
from national_node.server import MIGRATIONS as NATIONAL_MIGRATIONS
from provincial_node.changelog import ChangeLog, ChangeRow
from provincial_node.jurisdiction import ProvincialJurisdiction
from provincial_node.server import MIGRATIONS
from tests.factories import acting, make_content, make_uscc
from tests.nodes import NodeProcess

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


def seeded_changes(database_url: str, region: str, *, registrations: int) -> list[sync_pb2.Change]:
    """:func:`seed` the province's database, then its change log as the province's feed pushes it."""
    seed(database_url, region, registrations=registrations)
    db = Database(database_url)
    try:
        with db.transaction(write=False) as session:
            changes = []
            for row in session.exec(select(ChangeRow).order_by(col(ChangeRow.sequence))).all():
                change = sync_pb2.Change(sequence=row.sequence)
                change.record.ParseFromString(row.record)
                change.commit_time.FromDatetime(row.committed_at)
                changes.append(change)
            return changes
    finally:
        db.dispose()


def fake_code(region: str, object_type: int) -> str:
    return codes.generate(object_type, region, 2026, next(_serials))


def awaiting_code(
    name: str, *, object_type: int = 1, subject_uscc: str = "", revision: int = 5
) -> sync_pb2.RegistrationRecord:
    """The record of registration ``name`` (``nodes/{region}/registrations/{id}``) as its node sends it
    up when its announcement is over: PENDING, its initial application AWAITING_CODE."""
    region = name.split("/")[1]
    body = make_content(subject_uscc or make_uscc(region[:2] + "0106"))
    application = r.Application(
        name=f"{name}/applications/a-1", id="a-1", type=r.INITIAL, state=r.Application.AWAITING_CODE
    )
    application.content.CopyFrom(body)
    registration = r.Registration(
        name=name,
        uid=str(uuid.uuid4()),
        managing_node=f"nodes/{region}",
        object_type=object_type,
        state=r.Registration.PENDING,
        content=body,
        current_application=application,
    )
    return sync_pb2.RegistrationRecord(registration=registration, revision=revision)


def activated(record: sync_pb2.RegistrationRecord, code: str) -> sync_pb2.RegistrationRecord:
    """The next revision of a registration :func:`awaiting_code` made: active with ``code``, version 1,
    as its node sends it up once coded."""
    coded = sync_pb2.RegistrationRecord()
    coded.CopyFrom(record)
    coded.revision = record.revision + 1
    reg = coded.registration
    reg.code, reg.state, reg.version = code, r.Registration.ACTIVE, 1
    reg.current_application.state = r.Application.COMPLETED
    return coded


def waiting_for_code(national_database_url: str, requests: Iterable[ns.AssignCodeRequest]) -> None:
    """Put the registrations these AssignCode requests name into the national ledger, waiting for their
    code (written straight into the database, in bulk: for tests and benchmarks of the coding
    authority, not of the feeds)."""
    db = Database(national_database_url)
    migrate(db.engine, NATIONAL_MIGRATIONS)
    now = datetime.now(UTC)
    rows = []
    for request in requests:
        record = awaiting_code(
            request.registration, object_type=request.object_type, subject_uscc=request.subject_uscc
        )
        reg = record.registration
        rows.append(
            {
                "uid": reg.uid,
                "node": reg.name.split("/")[1],
                "name": reg.name,
                "state": "PENDING",
                "revision": record.revision,
                "digest": "",
                "bucket": reg.uid[:2],
                "record": record.SerializeToString(deterministic=True),
                "updated_at": now,
            }
        )
    try:
        with db.transaction() as session:
            for start in range(0, len(rows), 5000):
                session.execute(insert(LedgerRow), rows[start : start + 5000])
    finally:
        db.dispose()


def feed_for_sichuan(national: NodeProcess, registrations: int) -> None:
    """Registrations by proxy for Sichuan, handed over when it onboards: a downward feed to pull."""
    stub = rs_grpc.RegistrationServiceStub(national.channel())
    for i in range(registrations):
        stub.CreateRegistration(
            rs.CreateRegistrationRequest(
                parent="nodes/100000",
                registration=r.Registration(
                    object_type=1, content=make_content(make_uscc("510104"), data_name=f"四川数据 {i}")
                ),
                request_id=str(uuid.uuid4()),
            ),
            timeout=10,
        )
    sync = ss_grpc.SyncServiceStub(national.channel())
    assert (
        sync.OnboardNode(ss.OnboardNodeRequest(node="nodes/510000"), timeout=10).handed_over == registrations
    )
