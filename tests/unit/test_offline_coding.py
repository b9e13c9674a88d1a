"""A province gives codes from its leases only as each lease allows (provincial_node.code_leases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import codes
from common.db import Database, migrate
from provincial_node.code_leases import OPEN, REVOKED, HeldLeaseRow, LeasedCodeRow, OfflineCoding
from provincial_node.server import MIGRATIONS

NOW = datetime(2026, 6, 1, 2, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW

    def today(self):  # type: ignore[no-untyped-def]
        return NOW.date()


def _lease(name: str, first: int, last: int, **changes: object) -> HeldLeaseRow:
    fields: dict[str, object] = {
        "name": f"codeLeases/320000-1-2026-{first}",
        "object_type": 1,
        "year": 2026,
        "first_serial": first,
        "last_serial": last,
        "next_serial": first,
        "valid_from": NOW - timedelta(hours=1),
        "valid_until": NOW + timedelta(hours=1),
        "offline_after": 30.0,
        "state": OPEN,
        "signed": name,
    }
    fields.update(changes)
    return HeldLeaseRow(**fields)  # type: ignore[arg-type]


def test_codes_come_from_the_lease_that_runs_out_first_in_order_and_only_as_each_lease_allows(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'province.db'}")
    migrate(db.engine, MIGRATIONS)
    coding = OfflineCoding("320000", Clock())
    with db.transaction() as session:
        session.add(_lease("later", 1, 2, valid_until=NOW + timedelta(hours=5)))
        session.add(_lease("sooner", 11, 12))
        session.add(_lease("revoked", 21, 30, state=REVOKED, valid_until=NOW + timedelta(minutes=1)))
        session.add(_lease("not yet", 31, 40, valid_from=NOW + timedelta(minutes=1)))
        session.add(_lease("patient", 41, 50, offline_after=600.0, valid_until=NOW + timedelta(minutes=2)))
        session.add(_lease("other year", 51, 60, year=2025, valid_until=NOW + timedelta(minutes=3)))
    given = []
    with db.transaction() as session:
        # Unreachable for 10 s only: no lease allows it yet.
        assert coding.take(session, object_type=1, uid="u0", offline_for=10.0) is None
        for i in range(5):
            given.append(coding.take(session, object_type=1, uid=f"u{i}", offline_for=60.0))
    serials = [codes.parse(code).serial if code else None for code, _ in (g or (None, None) for g in given)]
    assert serials == [11, 12, 1, 2, None]  # the lease that runs out first, then the next; then none
    with db.transaction(write=False) as session:
        assert (
            OfflineCoding.lease_of(session, codes.generate(1, "320000", 2026, 11))
            == "codeLeases/320000-1-2026-11"
        )
        assert session.get(LeasedCodeRow, codes.generate(1, "320000", 2026, 1)) is not None
        assert OfflineCoding.lease_of(session, codes.generate(1, "320000", 2026, 21)) == ""
    db.dispose()
