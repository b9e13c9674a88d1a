"""Partitions between a province and the national node, as real faults under load.

A TCP proxy the test controls stands between the province and the national node while the province
keeps registering (about five registrations a second, each applied for, accepted, approved and
announced). For each kind of partition (connections refused; packets dropped; a link that goes silent
with its connections left open and then heals only for new connections), and for a kill -9 of the
national node (restarted where it was):

* the province keeps registering throughout;
* its own duties stay on time: every announcement closes when its last day is over (the simulated
  clock runs two days a second; an announcement lasts four working days, so that many close during
  the partition and the last ones soon after it), whatever the national node does;
* after the heal, with no operator action and the province still registering, what it held at the
  heal reaches the national ledger (every change, and a code for every registration that was waiting
  for one) within a bound; the time is reported. The province runs with the production default of
  its calls' deadline (``national_timeout``): a silent link costs what it costs in production. Then,
  with the registering stopped, the proof of agreement holds.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable

import grpc
import pytest

from common.clock import SystemClock
from common.db import Database
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from provincial_node.agreement import check_agreement
from provincial_node.changelog import ChangeLog
from tests.cluster import Cluster
from tests.factories import make_content, make_uscc
from tests.nodes import NodeProcess, wait_until
from tests.proxy import Proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.alone]

#: Longer than the province's deadline for a call (``national_timeout``, ten seconds by default), so
#: that calls caught by the fault run out during it.
PARTITION_SECONDS = 12.0
#: Seconds of registering before the fault: announcements open when it begins.
BEFORE_SECONDS = 2.0
#: The province's announcements, in working days: four, not the default ten, so that more of them
#: close during the partition and the last ones sooner after it.
ANNOUNCEMENT_DAYS = 4
#: Real seconds after which an announcement must have closed: four working days are at most eight
#: calendar days (a weekend and a holiday), four seconds at two days a second, plus two duty rounds
#: and a margin.
ANNOUNCEMENT_BOUND = 6.0
#: Seconds from the heal until the national ledger holds what the province held then: asserted with
#: room for a loaded machine; the goal (under 10 s) is reported.
HEAL_BOUND = 30.0


class Writer:
    """Registers on the province until stopped, about five a second; remembers when each was announced."""

    def __init__(self, province: NodeProcess) -> None:
        self.stub = rs_grpc.RegistrationServiceStub(province.channel())
        self.announced: list[tuple[str, float]] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _step(self, method: str, request: object) -> r.Registration:
        return getattr(self.stub, method)(request, timeout=10)  # type: ignore[no-any-return]

    def _run(self) -> None:
        subject = make_uscc("320106")
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                name = self._step(
                    "CreateRegistration",
                    rs.CreateRegistrationRequest(
                        parent="nodes/320000",
                        registration=r.Registration(object_type=1, content=make_content(subject)),
                        request_id=str(uuid.uuid4()),
                    ),
                ).name
                for method, kind in (
                    ("AcceptApplication", rs.AcceptApplicationRequest),
                    ("ApproveApplication", rs.ApproveApplicationRequest),
                    ("AnnounceApplication", rs.AnnounceApplicationRequest),
                ):
                    request = kind(name=name, request_id=str(uuid.uuid4()))
                    if method == "AcceptApplication":
                        request.acknowledge_duplicates = True  # the same data again, on purpose
                    self._step(method, request)
                self.announced.append((name, time.monotonic()))
            except grpc.RpcError as error:
                self.failures.append(f"{error.code().name}: {error.details()}")  # type: ignore[attr-defined]
            self._stop.wait(max(0.0, 0.2 - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)


def _late_announcements(db: str, writer: Writer) -> list[str]:
    """Registrations announced more than ANNOUNCEMENT_BOUND ago that are still ANNOUNCED."""
    now = time.monotonic()
    due = {name.rsplit("/", 1)[1] for name, at in writer.announced if now - at > ANNOUNCEMENT_BOUND}
    with sqlite3.connect(db) as conn:
        announced = {
            reg
            for (reg,) in conn.execute(
                "SELECT r.id FROM registrations r JOIN applications a"
                " ON a.registration_id = r.id AND a.id = r.current_application WHERE a.state = 'ANNOUNCED'"
            )
        }
    return sorted(due & announced)


def _awaiting_code(db: str) -> set[str]:
    """The uids of the registrations waiting for a code."""
    with sqlite3.connect(db) as conn:
        return {
            uid
            for (uid,) in conn.execute(
                "SELECT r.uid FROM registrations r JOIN applications a ON a.registration_id = r.id"
                " AND a.id = r.current_application WHERE a.state = 'AWAITING_CODE'"
            )
        }


def _announced(db: str) -> int:
    """How many registrations are under announcement (they close, and change, by themselves)."""
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM applications WHERE state = 'ANNOUNCED'").fetchone()[0])


def _head(db: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT coalesce(max(sequence), 0) FROM changes").fetchone()[0])


def _coded_in_ledger(db: str, uids: set[str]) -> set[str]:
    """Which of ``uids`` the national ledger holds with a code."""
    with sqlite3.connect(db) as conn:
        coded = {uid for (uid,) in conn.execute("SELECT uid FROM ledger WHERE code IS NOT NULL")}
    return uids & coded


FAULTS = ["refuse", "drop", "silent", "kill-9"]


@pytest.mark.parametrize("fault", FAULTS)
def test_the_link_heals_by_itself_and_duties_stay_on_time(
    cluster: Cluster, fault: str, report: Callable[[str], None]
) -> None:
    national = cluster.national().start()
    proxy = Proxy(national.address)
    try:
        province = cluster.province("320000")
        del province.env["REGISTRY_NATIONAL_TIMEOUT"]  # the production default: what a silent link costs
        province.env["REGISTRY_TIME_LIMITS__ANNOUNCEMENT_DAYS"] = str(ANNOUNCEMENT_DAYS)
        if fault != "kill-9":
            province.env["REGISTRY_NATIONAL_ADDRESS"] = proxy.address
        province.start()
        db_file, ledger_file = str(cluster.root / "320000.db"), str(cluster.root / "national.db")
        wait_until(lambda: cluster.state("320000").HasField("last_contact_time"), message="the link is up")
        writer = Writer(province)
        time.sleep(BEFORE_SECONDS)
        if fault == "kill-9":
            national.kill()
        else:
            proxy.set(fault)
        partition_end = time.monotonic() + PARTITION_SECONDS
        late_during: list[str] = []
        while time.monotonic() < partition_end:
            late_during += _late_announcements(db_file, writer)
            time.sleep(0.5)
        if fault == "kill-9":
            national.start()  # where it was: the province's channel finds it again
        else:
            proxy.set("forward")
        healed = time.monotonic()
        # What the province held at the heal: its changes, and the registrations waiting for a code.
        head, waiting = _head(db_file), _awaiting_code(db_file)

        def caught_up() -> bool:
            return (
                cluster.state("320000").acknowledged_sequence >= head
                and _coded_in_ledger(ledger_file, waiting) == waiting
            )

        try:
            wait_until(caught_up, timeout=HEAL_BOUND, interval=0.1, message=f"the heal after {fault}")
        finally:
            took = time.monotonic() - healed
            writer.stop()
        registered = len(writer.announced)
        report(
            f"partition '{fault}' for {PARTITION_SECONDS:.0f} s under load: {registered} registrations"
            f" announced, {len(waiting)} waiting for a code at the heal; heal to the national ledger"
            f" holding them {took:.1f} s"
        )

        # The registering stopped: everything converges, and the proof of agreement holds.
        status = ps_grpc.ProvincialServiceStub(province.channel())

        def converged() -> bool:
            # Nothing left to change by itself (every announcement closed and coded), and all sent.
            if _announced(db_file) or _awaiting_code(db_file):
                return False
            sync = status.GetSyncStatus(ps.GetSyncStatusRequest(), timeout=5)
            if sync.lag_changes:
                return False
            return cluster.state("320000").acknowledged_sequence == sync.head_sequence

        wait_until(converged, timeout=HEAL_BOUND, interval=0.1, message=f"convergence after {fault}")
        db = Database(cluster.db_url("320000"))
        try:
            agreement = check_agreement(db, "320000", cluster.sync(), ChangeLog(SystemClock()), repair=False)
        finally:
            db.dispose()
        assert agreement.in_agreement, agreement
        assert registered >= 40, "the province kept registering"
        assert writer.failures == [], writer.failures[:3]
        assert late_during == [], f"announcements not closed on time during the partition: {late_during[:5]}"
        assert waiting, "the partition held codes back, so the heal had work to do"
    finally:
        proxy.close()
