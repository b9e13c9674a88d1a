"""The coding authority keeps the node's time: a code's year is the year of the node's clock, so that a
simulated clock (a demonstration federation) gives codes and validity dates that agree."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from common import codes
from common.db import Database, migrate
from common.gen.registry.v1 import national_service_pb2 as ns
from common.transparency import Signer
from common.transparency.entry import ORIGIN
from national_node.coding import CodingAuthority
from national_node.directory import sync_directory
from national_node.jurisdiction import NationalCodes
from national_node.server import MIGRATIONS
from national_node.tlog import TransparencyLog
from tests.factories import make_uscc
from tests.sync_support import waiting_for_code
from tests.unit.procedure_support import FakeClock


def test_a_code_carries_the_year_of_the_nodes_clock_in_china(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'national.db'}")
    migrate(db.engine, MIGRATIONS)
    sync_directory(db, national_address="127.0.0.1:0", nodes=[])
    clock = FakeClock()
    # 16:30 UTC on the last day of 2026 is half past midnight on 1 January 2027 in China.
    clock.t = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    assert clock.today().year == 2027
    log = TransparencyLog(db, clock, Signer.generate(ORIGIN))
    authority = CodingAuthority(db, clock, log.appender)
    asked = ns.AssignCodeRequest(
        registration="nodes/100000/registrations/r-new-year",
        object_type=1,
        subject_uscc=make_uscc("110105"),
        request_id="new-year",
    )
    waiting_for_code(f"sqlite:///{tmp_path / 'national.db'}", [asked])
    code = NationalCodes(authority).assign(
        registration=asked.registration,
        object_type=asked.object_type,
        subject_uscc=asked.subject_uscc,
        request_id=asked.request_id,
    )
    assert codes.parse(code).year == 27
    assert authority.get(code).assigned_at == clock.t
    # The assignment is in the national log, stamped with the same time.
    [entry] = log.proofs.entries(0, 10)[0]
    assert b'"time":"2026-12-31T16:30:00.000000Z"' in entry.entry and code.encode() in entry.entry
    db.dispose()
