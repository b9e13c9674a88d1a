"""Interconnection, with real processes: crashes (kill -9), outages, restores, handovers, transfers."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import grpc
import pytest
from sqlmodel import select

from common.clock import SystemClock
from common.db import Database, migrate
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.gen.registry.v1 import sync_pb2
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from provincial_node.agreement import check_agreement
from provincial_node.changelog import ChangeLog, ChangeRow
from provincial_node.server import MIGRATIONS
from tests.cluster import Cluster
from tests.factories import make_content, make_uscc
from tests.nodes import ROOT, wait_until
from tests.sync_support import seed

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _head(db_file: Path) -> int:
    with sqlite3.connect(db_file) as conn:
        return conn.execute("SELECT coalesce(max(sequence), 0) FROM changes").fetchone()[0]


def _revisions(db_file: Path, query: str) -> dict[str, int]:
    with sqlite3.connect(db_file) as conn:
        return dict(conn.execute(query).fetchall())


def _in_agreement(cluster: Cluster, region: str, *, repair: bool = False) -> ps.AgreementReport:
    db = Database(cluster.db_url(region))
    try:
        return check_agreement(db, region, cluster.sync(), ChangeLog(SystemClock()), repair=repair)
    finally:
        db.dispose()


def _apply(stub: rs_grpc.RegistrationServiceStub, region: str, **content: object) -> r.Registration:
    return stub.CreateRegistration(
        rs.CreateRegistrationRequest(
            parent=f"nodes/{region}",
            request_id=str(uuid.uuid4()),
            registration=r.Registration(object_type=1, content=make_content(**content)),
        ),
        timeout=10,
    )


def _step(stub: rs_grpc.RegistrationServiceStub, method: str, name: str) -> r.Registration:
    request = getattr(rs, f"{method}Request")(name=name, request_id=str(uuid.uuid4()))
    if method == "AcceptApplication":
        # These tests register the same data for one subject many times, on purpose: the clerk
        # acknowledges the possible duplicates the national node finds.
        request.acknowledge_duplicates = True
    return getattr(stub, method)(request, timeout=10)


# -- upward, through crashes ------------------------------------------------------------------------


def test_kill_9_national_then_daemon_while_10000_changes_stream(cluster: Cluster) -> None:
    province_db = cluster.root / "320000.db"
    db = Database(cluster.db_url("320000"))
    migrate(db.engine, MIGRATIONS)
    db.dispose()
    national = cluster.national().start()
    # The province writes 10,000 changes (2,000 registrations, five steps each) while they stream.
    seeding = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tests.sync_support import seed; "
            f"seed({cluster.db_url('320000')!r}, '320000', registrations=2000)",
        ],
        cwd=ROOT,
    )
    daemon = cluster.daemon("320000")
    rng = random.Random(7)
    national_kills = daemon_kills = 0
    try:
        while seeding.poll() is None:  # kill -9 the national node again and again while it streams
            time.sleep(rng.uniform(1.5, 4))
            national.kill()
            national_kills += 1
            time.sleep(rng.uniform(0, 1))
            national.start()
        assert seeding.returncode == 0
        head = _head(province_db)
        assert head == 10_000
        for _ in range(3):  # then kill -9 the sync daemon while it catches up
            wait_until(lambda: cluster.state("320000").acknowledged_sequence > 0, timeout=30)
            time.sleep(rng.uniform(0.2, 1.5))
            daemon.kill()
            daemon.wait(10)
            daemon.stdout.close()
            daemon_kills += 1
            daemon = cluster.daemon("320000")
        wait_until(
            lambda: cluster.state("320000").acknowledged_sequence == head,
            timeout=180,
            message="the national node to acknowledge every change",
        )
    finally:
        seeding.kill()
        daemon.kill()
        daemon.wait(10)
        daemon.stdout.close()
    assert national_kills >= 3 and daemon_kills == 3
    state = cluster.state("320000")
    # Each change applied exactly once, in order: the acknowledged sequence moves one change at a time.
    assert (state.acknowledged_sequence, state.head_sequence, state.refused_changes) == (head, head, 0)
    province = _revisions(province_db, "SELECT uid, revision FROM registrations")
    ledger = _revisions(
        cluster.root / "national.db", "SELECT uid, revision FROM ledger WHERE node = '320000'"
    )
    assert len(province) == 2000 and ledger == province
    report = _in_agreement(cluster, "320000")
    assert report.in_agreement and not report.ledger_newer and not report.node_newer
    # The national log holds every accepted change exactly once: one entry per change, no gap.
    with sqlite3.connect(cluster.root / "national.db") as conn:
        logged = [
            (index, entry.get("uid"), entry.get("revision"))
            for index, data in conn.execute('SELECT "index", entry FROM log_entries ORDER BY "index"')
            for entry in (json.loads(data),)
        ]
        size = conn.execute("SELECT last FROM sequence_counters WHERE name = 'log'").fetchone()[0]
    with sqlite3.connect(province_db) as conn:
        changes = set(conn.execute("SELECT uid, revision FROM changes").fetchall())
    assert [index for index, _, _ in logged] == list(range(size))
    entries = [(uid, revision) for _, uid, revision in logged if uid is not None]
    assert len(entries) == len(set(entries)) == len(changes) == head and set(entries) == changes


def test_provinces_keep_registering_while_the_national_node_is_away(cluster: Cluster) -> None:
    national = cluster.national().start()
    province = cluster.province("320000").start()
    stub = rs_grpc.RegistrationServiceStub(province.channel())
    first = _apply(stub, "320000")
    wait_until(lambda: cluster.state("320000").acknowledged_sequence >= 1, timeout=30)
    national.kill()
    names = [first.name] + [_apply(stub, "320000").name for _ in range(5)]
    for name in names:
        _step(stub, "AcceptApplication", name)
    status = ps_grpc.ProvincialServiceStub(province.channel()).GetSyncStatus(
        ps.GetSyncStatusRequest(), timeout=5
    )
    assert status.lag_changes >= 10  # visible to the operator while the link is down
    national.start()  # no operator action on the province
    head = _head(cluster.root / "320000.db")
    wait_until(
        lambda: cluster.state("320000").acknowledged_sequence == head,
        timeout=60,
        message="the province to catch up",
    )
    report = ps_grpc.ProvincialServiceStub(province.channel()).CheckAgreement(
        ps.CheckAgreementRequest(), timeout=30
    )
    assert report.in_agreement
    wait_until(
        lambda: (
            ps_grpc.ProvincialServiceStub(province.channel())
            .GetSyncStatus(ps.GetSyncStatusRequest(), timeout=5)
            .lag_changes
            == 0
        ),
        timeout=30,
    )


# -- the national node's side of the protocol ------------------------------------------------------


def _batches(cluster: Cluster, registrations: int) -> list[sync_pb2.Change]:
    seed(cluster.db_url("320000"), "320000", registrations=registrations)
    db = Database(cluster.db_url("320000"))
    try:
        with db.transaction(write=False) as session:
            rows = session.exec(select(ChangeRow).order_by(ChangeRow.sequence)).all()
            changes = []
            for row in rows:
                change = sync_pb2.Change(sequence=row.sequence)
                change.record.ParseFromString(row.record)
                change.commit_time.FromDatetime(row.committed_at)
                changes.append(change)
            return changes
    finally:
        db.dispose()


def _push(stub: ss_grpc.SyncServiceStub, *batches: list[sync_pb2.Change]) -> list[sync_pb2.ChangeAck]:
    requests = [sync_pb2.ChangeBatch(node="nodes/320000", changes=b) for b in batches]
    return list(stub.PushChanges(iter(requests), timeout=30))


def test_duplicate_reordered_and_replayed_batches_change_nothing(cluster: Cluster) -> None:
    cluster.national().start()
    changes = _batches(cluster, 4)  # 20 changes
    stub = cluster.sync(node="320000")
    ledger = cluster.root / "national.db"
    query = "SELECT uid, revision FROM ledger WHERE node = '320000'"
    [ack] = _push(stub, changes[:10])
    assert (ack.acknowledged_sequence, ack.expected_sequence) == (10, 0)
    after_first = _revisions(ledger, query)
    # Replayed and duplicated: nothing moves.
    acks = _push(stub, changes[:10], changes[5:10] + changes[5:10])
    assert [a.acknowledged_sequence for a in acks] == [10, 10] and _revisions(ledger, query) == after_first
    # A gap: nothing is applied, and the answer says where to resume.
    [gap] = _push(stub, changes[14:20])
    assert (gap.acknowledged_sequence, gap.expected_sequence) == (10, 11)
    assert _revisions(ledger, query) == after_first
    # Reordered within a batch: applied in sequence order.
    shuffled = changes[10:20]
    random.Random(3).shuffle(shuffled)
    [ack] = _push(stub, shuffled)
    assert ack.acknowledged_sequence == 20
    final = _revisions(ledger, query)
    expected: dict[str, int] = {}
    for change in changes:
        expected[change.record.registration.uid] = change.record.revision
    assert final == expected
    # Replaying everything once more changes nothing.
    [ack] = _push(stub, changes)
    assert ack.acknowledged_sequence == 20 and _revisions(ledger, query) == final


def test_the_national_node_accepts_changes_only_for_registrations_the_node_manages(cluster: Cluster) -> None:
    cluster.own_nodes = ("320000", "440000")
    cluster.national().start()
    changes = _batches(cluster, 1)
    stub = cluster.sync(node="440000")
    forged = sync_pb2.ChangeBatch(
        node="nodes/440000", changes=changes[:1]
    )  # Guangdong sends Jiangsu's change
    [ack] = list(stub.PushChanges(iter([forged]), timeout=10))
    [refused] = ack.refused
    assert refused.startswith(changes[0].record.registration.name + ": nodes/440000 does not manage")
    assert ack.acknowledged_sequence == 0  # a refused change is not acknowledged
    assert _revisions(cluster.root / "national.db", "SELECT uid, revision FROM ledger") == {}
    assert cluster.state("440000").refused_changes == 1


# -- downward: onboarding and transfers ------------------------------------------------------------


def test_onboarding_handover_and_a_transfer_across_three_nodes(cluster: Cluster) -> None:
    national = cluster.national().start()
    national_stub = rs_grpc.RegistrationServiceStub(national.channel())
    # Guangdong has no node yet: the national node registers its subject by proxy.
    proxied = _apply(national_stub, "100000", uscc=make_uscc("440305"))
    for method in ("AcceptApplication", "ApproveApplication", "AnnounceApplication"):
        _step(national_stub, method, proxied.name)
    coded = wait_until(
        lambda: (
            (
                reg := national_stub.GetRegistration(rs.GetRegistrationRequest(name=proxied.name), timeout=5)
            ).state
            == r.Registration.ACTIVE
            and reg
        ),
        timeout=60,
    )
    # Guangdong comes online and is onboarded: its registration is handed over, code unchanged.
    guangdong = cluster.province("440000").start()
    answer = cluster.sync().OnboardNode(
        ss.OnboardNodeRequest(node="nodes/440000", address=guangdong.address), timeout=10
    )
    assert answer.handed_over == 1
    gd = rs_grpc.RegistrationServiceStub(guangdong.channel())
    moved_name = proxied.name.replace("nodes/100000", "nodes/440000")
    handed = wait_until(
        lambda: _lookup(gd, coded.code), timeout=30, message="the handover to reach Guangdong"
    )
    assert (handed.name, handed.code, handed.state) == (moved_name, coded.code, r.Registration.ACTIVE)
    # The national node no longer modifies it; Guangdong does.
    with pytest.raises(grpc.RpcError) as caught:
        national_stub.RenewRegistration(
            rs.RenewRegistrationRequest(name=proxied.name, request_id="x-1"), timeout=5
        )
    assert caught.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)
    correction = make_content(coded.content.subject.uscc, data_name="广东省交通流量数据（更正）")
    gd.SubmitApplication(
        rs.SubmitApplicationRequest(
            name=moved_name,
            type=r.CORRECTION,
            content=correction,
            reason="名称有误",
            request_id=str(uuid.uuid4()),
        ),
        timeout=10,
    )
    # A transfer: a Jiangsu registration moves to Guangdong (the subject moved), code unchanged.
    jiangsu = cluster.province("320000").start()
    js = rs_grpc.RegistrationServiceStub(jiangsu.channel())
    local = _apply(js, "320000")
    for method in ("AcceptApplication", "ApproveApplication", "AnnounceApplication"):
        _step(js, method, local.name)
    active = wait_until(
        lambda: (
            (reg := js.GetRegistration(rs.GetRegistrationRequest(name=local.name), timeout=5)).state
            == r.Registration.ACTIVE
            and reg
        ),
        timeout=60,
    )
    sync = cluster.sync()
    wait_until(lambda: _ledger_node(sync, active.code) == "nodes/320000", timeout=30)
    transfer = sync.TransferRegistration(
        ss.TransferRegistrationRequest(
            code=active.code, to_node="nodes/440000", request_id=str(uuid.uuid4())
        ),
        timeout=10,
    )
    assert transfer.state in (ss.Transfer.PENDING, ss.Transfer.COMPLETED)
    wait_until(
        lambda: _ledger_node(sync, active.code) == "nodes/440000",
        timeout=30,
        message="Guangdong to confirm the transfer",
    )
    arrived = wait_until(lambda: _lookup(gd, active.code), timeout=30)
    assert arrived.name == local.name.replace("nodes/320000", "nodes/440000") and arrived.code == active.code
    wait_until(
        lambda: _lookup(js, active.code) and _lookup(js, active.code).managing_node == "nodes/440000",
        timeout=30,
        message="Jiangsu to learn of the transfer",
    )
    with pytest.raises(grpc.RpcError) as caught:
        js.RenewRegistration(
            rs.RenewRegistrationRequest(name=local.name, request_id=str(uuid.uuid4())), timeout=5
        )
    assert caught.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED)
    renewed = gd.RenewRegistration(
        rs.RenewRegistrationRequest(name=arrived.name, request_id=str(uuid.uuid4())),
        timeout=10,
    )
    assert renewed.code == active.code
    wait_until(
        lambda: (
            sync.LookupLedger(ss.LookupLedgerRequest(code=active.code), timeout=5).revision
            == renewed_revision(gd, arrived.name)
        ),
        timeout=30,
        message="the renewal to reach the ledger",
    )


def renewed_revision(stub: rs_grpc.RegistrationServiceStub, name: str) -> int:
    return int(stub.GetRegistration(rs.GetRegistrationRequest(name=name), timeout=5).etag.removeprefix("r"))


def _lookup(stub: rs_grpc.RegistrationServiceStub, code: str) -> r.Registration | None:
    try:
        return stub.LookupRegistration(rs.LookupRegistrationRequest(code=code), timeout=5)
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise


def _ledger_node(stub: ss_grpc.SyncServiceStub, code: str) -> str:
    try:
        return stub.LookupLedger(ss.LookupLedgerRequest(code=code), timeout=5).registration.managing_node
    except grpc.RpcError:
        return ""


# -- proof of agreement ---------------------------------------------------------------------------


def test_a_province_restored_from_an_old_backup_is_detected_and_repaired(cluster: Cluster) -> None:
    cluster.national().start()
    province = cluster.province("320000").start()
    stub = rs_grpc.RegistrationServiceStub(province.channel())
    names = [_apply(stub, "320000").name for _ in range(6)]
    head = _head(cluster.root / "320000.db")
    wait_until(lambda: cluster.state("320000").acknowledged_sequence == head, timeout=30)
    backup = cluster.root / "backup.db"
    with sqlite3.connect(cluster.root / "320000.db") as source, sqlite3.connect(backup) as target:
        source.backup(target)
    for name in names[:3]:  # changes after the backup, acknowledged by the national node
        _step(stub, "AcceptApplication", name)
    later = [_apply(stub, "320000").name for _ in range(2)]
    head = _head(cluster.root / "320000.db")
    wait_until(lambda: cluster.state("320000").acknowledged_sequence == head, timeout=30)
    province.kill()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cluster.root / '320000.db'}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(backup) as source, sqlite3.connect(cluster.root / "320000.db") as target:
        source.backup(target)
    # Detected: the digests differ where the backup is behind the ledger.
    report = _in_agreement(cluster, "320000")
    assert not report.in_agreement
    assert len(report.ledger_newer) == 5 and not report.node_newer  # 3 changed, 2 missing here
    # Repaired by resending only what differs, then in agreement.
    assert _in_agreement(cluster, "320000", repair=True).repaired
    assert _in_agreement(cluster, "320000").in_agreement
    # The restored node carries on: its new changes get sequences the national node has not seen.
    province = cluster.province("320000").start()
    stub = rs_grpc.RegistrationServiceStub(province.channel())
    for name in later:
        assert stub.GetRegistration(rs.GetRegistrationRequest(name=name), timeout=5).uid
    _step(stub, "AcceptApplication", later[0])
    wait_until(
        lambda: cluster.state("320000").acknowledged_sequence == _head(cluster.root / "320000.db"),
        timeout=30,
        message="the restored node's new change to be acknowledged",
    )
    assert _in_agreement(cluster, "320000").in_agreement
    assert cluster.state("320000").refused_changes == 0
