"""The national node's code leases in process, on SQLite and PostgreSQL, with clocks the test sets.

What the process tests cannot reach in seconds: the year a lease may be taken for, a code given after
its lease ran out, and the settlement of a lease that ran out, whose unused serials around the used
ones are recorded never used once the node has reported everything it committed until then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from common import codes
from common.db import Database
from common.errors import InvalidArgument
from common.gen.registry.v1 import sync_pb2
from common.transparency import Signer
from common.transparency.entry import ORIGIN, open_lease
from national_node.code_leases import CodeLeases, unused_ranges
from national_node.directory import sync_directory
from national_node.ledger import Ledger
from national_node.models import CodeAssignmentRow, CodeLeaseRow
from national_node.settings import CodeLeaseSettings, ProvincialNodeEntry
from national_node.tlog import TransparencyLog
from tests.sync_support import activated, awaiting_code

pytestmark = [pytest.mark.integration]


class Clock:
    """The node's clock and the real time, both set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def today(self):  # type: ignore[no-untyped-def]
        return self.at.date()


def _desk(db: Database, clock: Clock, **settings: float) -> tuple[CodeLeases, Ledger, Signer]:
    sync_directory(db, national_address="127.0.0.1:1", nodes=[ProvincialNodeEntry(region="320000")])
    signer = Signer.generate(ORIGIN)
    log = TransparencyLog(db, clock, signer)
    config = CodeLeaseSettings(
        size=10, term_hours=24, offline_after_seconds=30, silence_grace_seconds=0, **settings
    )
    leases = CodeLeases(db, clock, log.appender, signer, config, real_time=clock.now)
    ledger = Ledger(db, clock, log.appender)
    ledger.code_leases = leases
    return leases, ledger, signer


def _push(
    ledger: Ledger, *changes: tuple[int, sync_pb2.RegistrationRecord, datetime], head: int = 0
) -> sync_pb2.ChangeAck:
    batch = sync_pb2.ChangeBatch(node="nodes/320000", head_sequence=head or max(c[0] for c in changes))
    for sequence, record, committed in changes:
        change = batch.changes.add(sequence=sequence, record=record)
        change.commit_time.FromDatetime(committed)
    return ledger.apply_batch(batch)


def test_unused_ranges_are_the_serials_around_the_used_ones() -> None:
    assert unused_ranges(1, 10, []) == [(1, 10)]
    assert unused_ranges(1, 10, [1, 2, 5, 10]) == [(3, 4), (6, 9)]
    assert unused_ranges(1, 3, [3, 2, 1, 2]) == []
    assert unused_ranges(5, 7, [4, 8]) == [(5, 7)]  # serials of other leases do not count


def test_leases_are_for_this_year_and_in_december_the_next(national_database: Database) -> None:
    clock = Clock(datetime(2026, 6, 1, 2, tzinfo=UTC))
    leases, _, signer = _desk(national_database, clock)
    with pytest.raises(InvalidArgument) as refused:
        leases.grant("320000", codes.ObjectType.PUBLIC_DATA_RESOURCE, 2027, "next-year")
    assert refused.value.violations[0].reason == "CODE_LEASE_YEAR"
    lease = leases.grant("320000", codes.ObjectType.PUBLIC_DATA_RESOURCE, 2026, "this-year")
    assert (lease.first_serial, lease.last_serial) == (1, 10)
    assert lease.valid_until - lease.valid_from == timedelta(hours=24)
    entry = open_lease(lease.signed, [signer.verifier().verifier_key()])
    assert entry["code_lease"] == lease.name == "codeLeases/320000-1-2026-1"
    clock.at = datetime(2026, 12, 20, 2, tzinfo=UTC)
    december = leases.grant("320000", codes.ObjectType.PUBLIC_DATA_RESOURCE, 2027, "next-year")
    # Valid from the new year in China, never before.
    assert december.valid_from == datetime(2026, 12, 31, 16, tzinfo=UTC)
    assert december.first_serial == 1  # a namespace of its own
    # A lease's term ends with its year.
    clock.at = datetime(2026, 12, 31, 10, tzinfo=UTC)
    late = leases.grant("320000", codes.ObjectType.DATA_PRODUCT_OR_SERVICE, 2026, "late")
    assert late.valid_until == datetime(2026, 12, 31, 16, tzinfo=UTC)


def test_a_code_given_after_its_lease_ran_out_is_refused_and_the_lease_settles_with_its_unused_serials(
    national_database: Database,
) -> None:
    start = datetime(2026, 6, 1, 2, tzinfo=UTC)
    clock = Clock(start)
    leases, ledger, _ = _desk(national_database, clock, clock_tolerance_seconds=60)
    lease = leases.grant("320000", codes.ObjectType.PUBLIC_DATA_RESOURCE, 2026, "a")
    a = awaiting_code("nodes/320000/registrations/a")
    b = awaiting_code("nodes/320000/registrations/b")
    assert _push(ledger, (1, a, start), (2, b, start)).acknowledged_sequence == 2
    # The node is cut off for an hour; it gives serial 3 of the lease within the term, and serial 4
    # after the term (its clock says so): the second is refused, and nothing of it is written.
    clock.at = start + timedelta(hours=1)
    in_term = activated(a, codes.generate(1, "320000", 2026, 3))
    late = activated(b, codes.generate(1, "320000", 2026, 4))
    ack = _push(ledger, (3, in_term, start + timedelta(minutes=30)), (4, late, start + timedelta(hours=25)))
    assert ack.acknowledged_sequence == 3
    assert "outside codeLeases/320000-1-2026-1's term" in ack.refused[0]
    with national_database.transaction(write=False) as session:
        assert [row.code for row in session.exec(select(CodeAssignmentRow)).all()] == [
            in_term.registration.code
        ]

    # Not settled while the lease runs, nor after it before the node reported everything it committed.
    assert leases.settle() == 0
    clock.at = start + timedelta(hours=25)
    assert leases.settle() == 0  # the node's last report is from before the end
    clock.at = start + timedelta(hours=26)
    # The node reports again, its change 4 now one the ledger takes (the registration unchanged).
    assert _push(ledger, (4, b, start + timedelta(hours=26)), head=4).acknowledged_sequence == 4
    assert leases.settle() == 1
    with national_database.transaction(write=False) as session:
        settled = session.get(CodeLeaseRow, lease.name)
        assert settled is not None and (settled.used, settled.unused) == (1, 9)
