"""Backup and restore of the national node, drilled with real processes on PostgreSQL.

Two provinces register steadily (each registration applied for, accepted, approved and announced;
the announcement closes by itself and the province obtains its code), their sync daemons pushing to
the national node. While they write, the national database is dumped with ``pg_dump``; the load goes
on; then the national node is stopped, the dump restored with ``pg_restore`` into a new database and
the national node started on it where it was, so the provinces find it again by themselves.

The national node lost what it took after the dump: changes, code assignments, log entries. What it
acknowledged the provinces still hold, so

* with the one setting the runbook names for the restart (``recover_lost_codes``: the coding
  authority records again the codes it lost, as their provinces send them), the provinces send again
  by themselves what the restored node no longer acknowledges,
  and every province's registrations equal the national ledger's (the proof of agreement holds), with
  every code the provinces hold known to the coding authority and no code given twice;
* the witnesses judge the restored log by what they cosigned: a restore that lost only entries no
  checkpoint had signed yet (the dump taken just after a checkpoint, the node stopped before the next)
  raises no alarm; one that lost entries of a checkpoint the witnesses had cosigned raises the alarm,
  with its kind and reason, on every province that cosigned it.

The figures (dump size and time, restore time, time until the federation agrees) are reported.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import psycopg
import pytest
from sqlalchemy.engine import make_url

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
from tests.postgres import fresh_database

pytestmark = [pytest.mark.integration, pytest.mark.postgres, pytest.mark.slow, pytest.mark.alone]

PROVINCES = ("320000", "440000")
#: Seconds until every province agrees with the restored ledger, asserted with room for a loaded
#: machine (the figure is reported).
AGREEMENT_BOUND = 60.0


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Writer:
    """Registers on a province until stopped, about four a second."""

    def __init__(self, province: NodeProcess, region: str) -> None:
        self.stub = rs_grpc.RegistrationServiceStub(province.channel())
        self.region = region
        self.registered = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        subject = make_uscc(self.region[:2] + "0106")
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                name = self.stub.CreateRegistration(
                    rs.CreateRegistrationRequest(
                        parent=f"nodes/{self.region}",
                        registration=r.Registration(object_type=1, content=make_content(subject)),
                        request_id=str(uuid.uuid4()),
                    ),
                    timeout=10,
                ).name
                for method, kind in (
                    ("AcceptApplication", rs.AcceptApplicationRequest),
                    ("ApproveApplication", rs.ApproveApplicationRequest),
                    ("AnnounceApplication", rs.AnnounceApplicationRequest),
                ):
                    request = kind(name=name, request_id=str(uuid.uuid4()))
                    if method == "AcceptApplication":
                        request.acknowledge_duplicates = True  # the same data again, on purpose
                    getattr(self.stub, method)(request, timeout=10)
                self.registered += 1
            except grpc.RpcError as error:
                self.failures.append(f"{error.code().name}: {error.details()}")  # type: ignore[attr-defined]
            self._stop.wait(max(0.0, 0.25 - (time.monotonic() - started)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)


def _national_rows(url: str, query: str) -> list[tuple[object, ...]]:
    with psycopg.connect(_libpq(url)) as conn:
        return list(conn.execute(query).fetchall())  # type: ignore[arg-type]


def _log_size(url: str) -> int:
    return int(_national_rows(url, "SELECT count(*) FROM log_entries")[0][0])  # type: ignore[call-overload]


def _witnessed(province: NodeProcess) -> ps.WitnessStatus:
    stub = ps_grpc.ProvincialServiceStub(province.channel())
    return stub.GetSyncStatus(ps.GetSyncStatusRequest(), timeout=5).witness


class Federation:
    """A national node on PostgreSQL and two provinces (SQLite), registering."""

    def __init__(self, cluster: Cluster, database_url: str, **national_env: str) -> None:
        cluster.own_nodes = PROVINCES
        self.cluster = cluster
        self.national = cluster.national()
        self.national.env |= {"REGISTRY_DATABASE_URL": database_url, "REGISTRY_CLOCK_SPEED": "864000"}
        self.national.env |= national_env
        self.national.start()
        self.provinces = {}
        for region in PROVINCES:
            province = cluster.province(region)
            province.env["REGISTRY_CLOCK_SPEED"] = "864000"  # an announcement closes within 2 s
            self.provinces[region] = province.start()
        wait_until(
            lambda: all(cluster.state(p).HasField("last_contact_time") for p in PROVINCES),
            message="both links are up",
        )
        self.writers = [Writer(p, region) for region, p in self.provinces.items()]

    def stop_writing(self) -> None:
        for writer in self.writers:
            writer.stop()

    def province_db(self, region: str) -> Database:
        return Database(self.cluster.db_url(region))

    def converged(self, region: str) -> bool:
        """Nothing left that changes by itself (no announcement open, no code awaited), and every
        change of the province acknowledged by the national node."""
        db_file = str(self.cluster.root / f"{region}.db")
        import sqlite3

        with sqlite3.connect(db_file) as conn:
            open_ = conn.execute(
                "SELECT count(*) FROM applications WHERE state IN ('ANNOUNCED', 'AWAITING_CODE')"
            ).fetchone()[0]
        if open_:
            return False
        status = ps_grpc.ProvincialServiceStub(self.provinces[region].channel()).GetSyncStatus(
            ps.GetSyncStatusRequest(), timeout=5
        )
        return not status.lag_changes and (
            self.cluster.state(region).acknowledged_sequence == status.head_sequence
        )

    def agreement(self, region: str) -> ps.AgreementReport:
        db = self.province_db(region)
        try:
            return check_agreement(db, region, self.cluster.sync(), ChangeLog(SystemClock()), repair=False)
        finally:
            db.dispose()

    def province_codes(self) -> set[str]:
        import sqlite3

        codes: set[str] = set()
        for region in PROVINCES:
            with sqlite3.connect(str(self.cluster.root / f"{region}.db")) as conn:
                codes |= {c for (c,) in conn.execute("SELECT code FROM registrations WHERE code IS NOT NULL")}
        return codes


def _dump(url: str, file: Path) -> float:
    started = time.monotonic()
    subprocess.run(["pg_dump", "--format=custom", "--file", str(file), _libpq(url)], check=True, timeout=120)
    return time.monotonic() - started


def _restore(file: Path, url: str) -> float:
    started = time.monotonic()
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--dbname", _libpq(url), str(file)],
        check=True,
        timeout=120,
    )
    return time.monotonic() - started


@pytest.fixture
def second_database(postgres_server_url: str) -> Iterator[str]:
    with fresh_database(postgres_server_url) as url:
        yield url


def _check_recovery(federation: Federation, restored_url: str, restarted: float) -> float:
    """Every province agrees with the restored ledger; returns the seconds it took from the restart."""
    for region in PROVINCES:
        wait_until(
            lambda region=region: federation.converged(region),
            timeout=AGREEMENT_BOUND,
            interval=0.2,
            message=f"{region} converged with the restored national node",
        )
    for region in PROVINCES:
        report = federation.agreement(region)
        assert report.in_agreement, f"{region}: {report}"
    took = time.monotonic() - restarted
    codes = federation.province_codes()
    assigned = {c for (c,) in _national_rows(restored_url, "SELECT code FROM code_assignments")}
    assert codes <= assigned, f"codes the authority forgot: {sorted(codes - assigned)[:5]}"
    doubled = _national_rows(
        restored_url,
        "SELECT code, count(*) FROM ledger WHERE code IS NOT NULL GROUP BY code HAVING count(*) > 1",
    )
    assert doubled == [], f"codes given twice: {doubled[:5]}"
    for writer in federation.writers:
        assert writer.failures == [], writer.failures[:3]
        assert writer.registered >= 10, "the province kept registering"
    return took


def test_a_restore_that_lost_only_unsigned_entries_recovers_without_an_alarm(
    cluster: Cluster,
    postgres_url: str,
    second_database: str,
    tmp_path: Path,
    report: Callable[[str], None],
) -> None:
    # A checkpoint at most every 15 s: the dump is taken right after one, the node stopped before the
    # next (about seven seconds later: a second of load, the dump, a second of load, the graceful stop).
    federation = Federation(cluster, postgres_url, REGISTRY_TRANSPARENCY__CHECKPOINT_MIN_INTERVAL="15")
    try:
        # The newest checkpoint, verified by every witness; a few seconds more of load, then the dump.
        wait_until(
            lambda: all(_witnessed(p).verified_size > 0 for p in federation.provinces.values()),
            timeout=40,
            message="both witnesses verified a checkpoint",
        )
        time.sleep(1.0)  # load that no checkpoint signs yet
        dump = tmp_path / "national.dump"
        dump_seconds = _dump(postgres_url, dump)
        dumped_size = _log_size(postgres_url)
        time.sleep(1.0)  # the load goes on: the national node takes what the dump lacks
        lost = _log_size(postgres_url) - dumped_size
        assert lost > 0, "the national node took nothing after the dump: nothing to lose"
        assert federation.national.stop() == 0
        verified = {region: _witnessed(p).verified_size for region, p in federation.provinces.items()}
        assert max(verified.values()) <= dumped_size, "a checkpoint beyond the dump was cosigned: too slow"
        restore_seconds = _restore(dump, second_database)
        federation.national.env["REGISTRY_DATABASE_URL"] = second_database
        federation.national.env["REGISTRY_RECOVER_LOST_CODES"] = "true"  # as the runbook's restore says
        restarted = time.monotonic()
        federation.national.start()
        time.sleep(2.0)  # the load goes on against the restored node
        federation.stop_writing()
        took = _check_recovery(federation, second_database, restarted)
        for region, province in federation.provinces.items():
            witness = _witnessed(province)
            assert not witness.HasField("alarm"), f"{region}: {witness.alarm}"
        report(
            f"restore drill (nothing signed lost): dump {dump.stat().st_size / 1024:.0f} KiB in"
            f" {dump_seconds:.2f} s, log {dumped_size} entries ({lost} taken after it, lost);"
            f" restore {restore_seconds:.2f} s; federation in agreement {took:.1f} s after the restart;"
            f" witnesses had verified {verified}"
        )
    finally:
        federation.stop_writing()


def test_a_restore_that_lost_cosigned_entries_raises_the_witness_alarm(
    cluster: Cluster,
    postgres_url: str,
    second_database: str,
    tmp_path: Path,
    report: Callable[[str], None],
) -> None:
    federation = Federation(cluster, postgres_url)
    try:
        wait_until(
            lambda: all(_witnessed(p).verified_size > 0 for p in federation.provinces.values()),
            timeout=30,
            message="both witnesses verified a checkpoint",
        )
        dump = tmp_path / "national.dump"
        _dump(postgres_url, dump)
        dumped_size = _log_size(postgres_url)
        # The witnesses cosign checkpoints of entries the dump does not hold.
        wait_until(
            lambda: all(_witnessed(p).verified_size > dumped_size for p in federation.provinces.values()),
            timeout=30,
            message="both witnesses cosigned beyond the dump",
        )
        federation.national.stop()
        _restore(dump, second_database)
        federation.national.env["REGISTRY_DATABASE_URL"] = second_database
        federation.national.env["REGISTRY_RECOVER_LOST_CODES"] = "true"  # as the runbook's restore says
        restarted = time.monotonic()
        federation.national.start()
        time.sleep(2.0)  # the load goes on against the restored node
        federation.stop_writing()
        took = _check_recovery(federation, second_database, restarted)
        alarms = {}
        for region, province in federation.provinces.items():
            alarm = wait_until(
                lambda province=province: (
                    _witnessed(province).alarm if _witnessed(province).HasField("alarm") else None
                ),
                timeout=30,
                message=f"{region}'s witness alarm",
            )
            alarms[region] = alarm
            assert alarm.source == "national"
            assert ps.LogAlarm.Kind.Name(alarm.kind) in ("TRUNCATED", "FORKED", "INCONSISTENT"), alarm
            assert alarm.message and alarm.verified_checkpoint and alarm.conflicting_checkpoint
        report(
            "restore drill (cosigned entries lost): "
            + "; ".join(f"{r} {ps.LogAlarm.Kind.Name(a.kind)}: {a.message}" for r, a in alarms.items())
            + f"; federation in agreement {took:.1f} s after the restart"
        )
    finally:
        federation.stop_writing()
