"""Interconnection, with real processes: crashes (kill -9), outages, restores, handovers, transfers."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

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
from common.rpc.status import details_of
from common.sync.records import rename
from provincial_node.agreement import check_agreement
from provincial_node.changelog import ChangeLog
from provincial_node.server import MIGRATIONS
from tests.cluster import Cluster
from tests.factories import make_content, make_uscc
from tests.nodes import ROOT, wait_until
from tests.sync_support import seeded_changes

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def cluster(cluster: Cluster) -> Cluster:
    """The shared fixture's cluster, its nodes announcing for one working day instead of ten: the
    handovers and transfers here begin once a registration is coded, so the announcement's length is
    only a wait (a second or two at two days a second, not eight)."""
    cluster.node_env["REGISTRY_TIME_LIMITS__ANNOUNCEMENT_DAYS"] = "1"
    return cluster


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


def test_kill_9_national_then_daemon_while_2000_changes_stream(cluster: Cluster) -> None:
    province_db = cluster.root / "320000.db"
    db = Database(cluster.db_url("320000"))
    migrate(db.engine, MIGRATIONS)
    db.dispose()
    national = cluster.national().start()
    # The province writes 2,000 changes (400 registrations, five steps each) while they stream.
    seeding = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tests.sync_support import seed; "
            f"seed({cluster.db_url('320000')!r}, '320000', registrations=400)",
        ],
        cwd=ROOT,
    )
    daemon = cluster.daemon("320000")
    rng = random.Random(7)
    national_kills = daemon_kills = 0
    try:
        # kill -9 the national node again and again while it streams (three times at least)
        while seeding.poll() is None or national_kills < 3:
            time.sleep(rng.uniform(1.5, 4))
            national.kill()
            national_kills += 1
            time.sleep(rng.uniform(0, 1))
            national.start()
        assert seeding.wait(60) == 0
        head = _head(province_db)
        assert head == 2_000
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
    assert len(province) == 400 and ledger == province
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
    return seeded_changes(cluster.db_url("320000"), "320000", registrations=registrations)


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
    code, reason, metadata = _refusal(
        lambda: national_stub.RenewRegistration(
            rs.RenewRegistrationRequest(name=proxied.name, request_id="x-1"), timeout=5
        )
    )
    assert (code, reason, metadata["node"], metadata["name"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_MANAGED_HERE",
        "nodes/440000",
        moved_name,
    )
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
        lambda: (
            _reason(lambda: js.LookupRegistration(rs.LookupRegistrationRequest(code=active.code), timeout=5))
            == "NOT_MANAGED_HERE"
        ),
        timeout=30,
        message="Jiangsu to learn of the transfer",
    )
    code, reason, metadata = _refusal(
        lambda: js.RenewRegistration(
            rs.RenewRegistrationRequest(name=local.name, request_id=str(uuid.uuid4())), timeout=5
        )
    )
    assert (code, reason, metadata["node"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_MANAGED_HERE",
        "nodes/440000",
    )
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
    # Jiangsu does not answer with its old copy of the renewed registration: it says where it is now.
    for read in (
        lambda: js.GetRegistration(rs.GetRegistrationRequest(name=local.name), timeout=5),
        lambda: js.GetConfirmation(rs.GetConfirmationRequest(code=active.code), timeout=5),
    ):
        code, reason, metadata = _refusal(read)
        assert (code, reason, metadata["node"], metadata["name"]) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            "NOT_MANAGED_HERE",
            "nodes/440000",
            arrived.name,
        )
    confirmation = wait_until(
        lambda: (
            (c := gd.GetConfirmation(rs.GetConfirmationRequest(code=active.code), timeout=5)).tlog_proof and c
        ),
        timeout=30,
        message="the renewed registration's confirmation file, at Guangdong",
    )
    assert confirmation.valid_until == renewed.valid_until


def _end(daemon: subprocess.Popen[str]) -> None:
    daemon.kill()
    daemon.wait(10)
    assert daemon.stdout is not None
    daemon.stdout.close()


def _active(stub: rs_grpc.RegistrationServiceStub, name: str) -> r.Registration:
    for method in ("AcceptApplication", "ApproveApplication", "AnnounceApplication"):
        _step(stub, method, name)
    return wait_until(
        lambda: (
            (reg := stub.GetRegistration(rs.GetRegistrationRequest(name=name), timeout=5)).state
            == r.Registration.ACTIVE
            and reg
        ),
        timeout=60,
        message=f"{name} to be coded",
    )


def _submit(
    stub: rs_grpc.RegistrationServiceStub, reg: r.Registration, kind: int, data_name: str
) -> r.Registration:
    return stub.SubmitApplication(
        rs.SubmitApplicationRequest(
            name=reg.name,
            type=kind,
            content=make_content(reg.content.subject.uscc, data_name=data_name),
            reason="数据名称调整",
            request_id=str(uuid.uuid4()),
        ),
        timeout=10,
    )


def _ledger(stub: ss_grpc.SyncServiceStub, code: str) -> sync_pb2.RegistrationRecord:
    return stub.LookupLedger(ss.LookupLedgerRequest(code=code), timeout=5)


def _reason(call: Callable[[], object]) -> str:
    """The reason a call is refused for ("" when it is answered)."""
    try:
        call()
    except grpc.RpcError as error:
        return details_of(error).reason
    return ""


def _refusal(call: Callable[[], object]) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    details = details_of(caught.value)
    return details.code, details.reason, dict(details.metadata)


def _transfer(stub: ss_grpc.SyncServiceStub, code: str, request_id: str) -> ss.Transfer:
    """Ask for the transfer of ``code`` to Guangdong; with a ``request_id`` used before, where it stands."""
    return stub.TransferRegistration(
        ss.TransferRegistrationRequest(code=code, to_node="nodes/440000", request_id=request_id), timeout=10
    )


def _releases(db_file: Path) -> int:
    """How many releases to a transfer the province's change log holds."""
    with sqlite3.connect(db_file) as conn:
        return conn.execute("SELECT count(*) FROM changes WHERE transfer_id != ''").fetchone()[0]


def _revision(reg: r.Registration) -> int:
    return int(reg.etag.removeprefix("r"))


def test_a_change_the_former_province_accepts_while_a_transfer_is_pending_goes_with_the_registration(
    cluster: Cluster,
) -> None:
    cluster.own_nodes = ("320000", "440000")
    cluster.national().start()
    jiangsu = cluster.province("320000", in_process=False).start()
    jiangsu_db = cluster.root / "320000.db"
    daemon = cluster.daemon("320000")
    try:
        js = rs_grpc.RegistrationServiceStub(jiangsu.channel())
        sync = cluster.sync()
        first, second = (_apply(js, "320000", data_name=f"交通流量数据 {i}").name for i in (1, 2))
        a, b = _active(js, first), _active(js, second)
        asked = {}
        for reg in (a, b):
            wait_until(lambda reg=reg: _ledger_node(sync, reg.code) == "nodes/320000", timeout=30)
            asked[reg.code] = str(uuid.uuid4())
            _transfer(sync, reg.code, asked[reg.code])  # pending: Guangdong's node is not running yet
        # Guangdong has not confirmed: Jiangsu manages both, and a change there reaches the ledger.
        changing = _submit(js, a, r.CHANGE, "江苏交通流量数据（变更）")
        wait_until(
            lambda: _ledger(sync, a.code).revision == _revision(changing),
            timeout=30,
            message="the change made while the transfer is pending to reach the ledger",
        )
        # Jiangsu's link goes down; Guangdong comes up and confirms both transfers. Jiangsu has not
        # heard of that, and accepts a correction: the change a transfer used to leave behind.
        _end(daemon)
        guangdong = cluster.province("440000").start()
        gd = rs_grpc.RegistrationServiceStub(guangdong.channel())
        for reg in (a, b):
            confirmed = wait_until(
                lambda reg=reg: (
                    (t := _transfer(sync, reg.code, asked[reg.code])).HasField("confirm_time") and t
                ),
                timeout=30,
                message="Guangdong to confirm the transfer",
            )
            assert confirmed.state == ss.Transfer.PENDING and not confirmed.HasField("release_time")
        late = _submit(js, b, r.CORRECTION, "江苏交通流量数据（更正）")
        # The transfers wait for Jiangsu, where the coordinator sees them; nothing has moved.
        assert cluster.state("320000").transfers_releasing == 2
        assert _ledger_node(sync, a.code) == _ledger_node(sync, b.code) == "nodes/320000"
        # Jiangsu's daemon comes back and is killed (-9) as soon as its releases are in its log.
        daemon = cluster.daemon("320000")
        wait_until(lambda: _releases(jiangsu_db) == 2, timeout=30, message="Jiangsu to release both")
        _end(daemon)
        # Released: Jiangsu still answers reads, refuses every write, and writes nothing.
        head, before = (
            _head(jiangsu_db),
            js.GetRegistration(rs.GetRegistrationRequest(name=b.name), timeout=5),
        )
        moved_a, moved_b = (reg.name.replace("nodes/320000", "nodes/440000") for reg in (a, b))
        for write, now in (
            (lambda: _step(js, "AcceptApplication", b.name), moved_b),
            (
                lambda: js.RenewRegistration(
                    rs.RenewRegistrationRequest(name=a.name, request_id="renew-1"), timeout=5
                ),
                moved_a,
            ),
        ):
            code, reason, metadata = _refusal(write)
            assert (code, reason, metadata["node"], metadata["name"]) == (
                grpc.StatusCode.FAILED_PRECONDITION,
                "TRANSFER_PENDING",
                "nodes/440000",
                now,
            )
        assert metadata["transfer"] == _transfer(sync, a.code, asked[a.code]).id
        assert _head(jiangsu_db) == head
        assert js.GetRegistration(rs.GetRegistrationRequest(name=b.name), timeout=5).etag == before.etag
        # Back once more, and killed (-9) again as soon as the ledger has completed the transfers.
        daemon = cluster.daemon("320000")
        for reg in (a, b):
            wait_until(
                lambda reg=reg: _ledger_node(sync, reg.code) == "nodes/440000",
                timeout=30,
                message="the transfers to complete with Jiangsu's releases",
            )
        _end(daemon)
        daemon = cluster.daemon("320000")
        # The correction Jiangsu accepted is in the ledger and at Guangdong, which takes it on.
        assert _ledger(sync, b.code).revision == _revision(late)
        for reg in (a, b):
            done = _transfer(sync, reg.code, asked[reg.code])
            assert done.state == ss.Transfer.COMPLETED and done.HasField("release_time")
        arrived = wait_until(
            lambda: _lookup(gd, b.code), timeout=30, message="the transfer to reach Guangdong"
        )
        assert (arrived.name, arrived.current_application.type, arrived.current_application.state) == (
            moved_b,
            r.CORRECTION,
            r.Application.SUBMITTED,
        )
        assert arrived.current_application.content.data_name == "江苏交通流量数据（更正）"
        for method in ("AcceptApplication", "ApproveApplication", "AnnounceApplication"):
            _step(gd, method, moved_b)
        corrected = wait_until(
            lambda: (
                (reg := gd.GetRegistration(rs.GetRegistrationRequest(name=moved_b), timeout=5)).version == 2
                and reg
            ),
            timeout=60,
            message="the correction to come in force at Guangdong",
        )
        assert (corrected.content.data_name, corrected.code) == ("江苏交通流量数据（更正）", b.code)
        changed = wait_until(lambda: _lookup(gd, a.code), timeout=30, message="the other transfer")
        assert (changed.name, changed.current_application.type) == (moved_a, r.CHANGE)
        # Jiangsu's feed never stalled: what it registers next is acknowledged, nothing was refused.
        after = _apply(js, "320000", data_name="交通流量数据 3")
        head = _head(jiangsu_db)
        state = wait_until(
            lambda: (s := cluster.state("320000")).acknowledged_sequence == head and s,
            timeout=30,
            message="Jiangsu's feed to be acknowledged to its head",
        )
        assert (state.refused_changes, state.last_error, state.transfers_releasing) == (0, "", 0)
        assert sync.GetLedgerRecords(ss.GetLedgerRecordsRequest(uids=[after.uid]), timeout=5).records

        # Jiangsu presents neither as its own any more: every read says where each is managed now.
        def moved_away(code: str) -> bool:
            lookup = rs.LookupRegistrationRequest(code=code)
            return _reason(lambda: js.LookupRegistration(lookup, timeout=5)) == "NOT_MANAGED_HERE"

        wait_until(
            lambda: moved_away(a.code) and moved_away(b.code),
            timeout=30,
            message="Jiangsu to learn of the transfers",
        )
        for reg, now in ((a, moved_a), (b, moved_b)):
            for read in (
                lambda reg=reg: js.GetRegistration(rs.GetRegistrationRequest(name=reg.name), timeout=5),
                lambda reg=reg: js.GetConfirmation(rs.GetConfirmationRequest(code=reg.code), timeout=5),
                lambda reg=reg: _submit(js, reg, r.CHANGE, "再变更"),
            ):
                code, reason, metadata = _refusal(read)
                assert (code, reason, metadata["node"], metadata["name"]) == (
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "NOT_MANAGED_HERE",
                    "nodes/440000",
                    now,
                )
        listed = js.ListRegistrations(rs.ListRegistrationsRequest(parent="nodes/320000"), timeout=5)
        assert {x.uid for x in listed.registrations} == {after.uid}
    finally:
        _end(daemon)


def _push_one(
    stub: ss_grpc.SyncServiceStub,
    node: str,
    sequence: int,
    record: sync_pb2.RegistrationRecord,
    transfer: str = "",
) -> sync_pb2.ChangeAck:
    change = sync_pb2.Change(sequence=sequence, record=record, transfer_id=transfer)
    [ack] = list(
        stub.PushChanges(iter([sync_pb2.ChangeBatch(node=f"nodes/{node}", changes=[change])]), timeout=10)
    )
    return ack


def test_only_the_node_a_transfer_takes_a_registration_from_releases_it_and_then_changes_it_no_more(
    cluster: Cluster,
) -> None:
    cluster.own_nodes = ("320000", "440000", "510000")
    cluster.national().start()
    jiangsu = cluster.province("320000", in_process=False).start()
    jiangsu_db = cluster.root / "320000.db"
    daemon = cluster.daemon("320000")
    try:
        js = rs_grpc.RegistrationServiceStub(jiangsu.channel())
        sync = cluster.sync()
        first, second = (_apply(js, "320000", data_name=f"交通流量数据 {i}").name for i in (1, 2))
        moving, staying = _active(js, first), _active(js, second)
        for reg in (moving, staying):
            wait_until(lambda reg=reg: _ledger_node(sync, reg.code) == "nodes/320000", timeout=30)
        wait_until(lambda: cluster.state("320000").acknowledged_sequence == _head(jiangsu_db), timeout=30)
        _end(daemon)
        asked = str(uuid.uuid4())
        transfer = _transfer(sync, moving.code, asked)
        unconfirmed = _transfer(sync, staying.code, str(uuid.uuid4()))
        # Guangdong's node is not running: the confirmation its daemon would send, with its certificate.
        guangdong, sichuan, own = (cluster.sync(node=n) for n in ("440000", "510000", "320000"))
        guangdong.ConfirmTransfer(
            ss.ConfirmTransferRequest(node="nodes/440000", transfer_id=transfer.id), timeout=10
        )
        record = _ledger(sync, moving.code)
        # The receiving node and a third node forge Jiangsu's release, under either name: refused.
        for node, stub in (("440000", guangdong), ("510000", sichuan)):
            for forged in (record, rename(record, node)):
                ack = _push_one(stub, node, 1, forged, transfer.id)
                assert ack.acknowledged_sequence == 0 and len(ack.refused) == 1, (node, ack)
        # Nor can the receiving node speak for Jiangsu.
        with pytest.raises(grpc.RpcError) as caught:
            _push_one(guangdong, "320000", _head(jiangsu_db) + 1, record, transfer.id)
        assert (details_of(caught.value).code, details_of(caught.value).reason) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "NOT_YOUR_NODE",
        )
        # Jiangsu itself cannot release a registration no confirmed transfer asked it for.
        head = _head(jiangsu_db)
        ack = _push_one(own, "320000", head + 1, _ledger(sync, staying.code), unconfirmed.id)
        assert ack.acknowledged_sequence == head and ack.refused and "has not asked" in ack.refused[0]
        # Nothing moved: the transfer waits for Jiangsu's own release.
        waiting = _transfer(sync, moving.code, asked)
        assert waiting.state == ss.Transfer.PENDING and not waiting.HasField("release_time")
        assert _ledger_node(sync, moving.code) == _ledger_node(sync, staying.code) == "nodes/320000"
        assert cluster.state("320000").transfers_releasing == 1
        # Jiangsu's daemon releases it: the transfer completes.
        daemon = cluster.daemon("320000")
        wait_until(
            lambda: _ledger_node(sync, moving.code) == "nodes/440000",
            timeout=30,
            message="the transfer to complete with Jiangsu's release",
        )
        wait_until(lambda: cluster.state("320000").acknowledged_sequence == _head(jiangsu_db), timeout=30)
        _end(daemon)
        # After its release, Jiangsu can neither change the registration in the ledger nor release it again.
        head = _head(jiangsu_db)
        with sqlite3.connect(jiangsu_db) as conn:
            [data] = conn.execute(
                "SELECT record FROM changes WHERE transfer_id = ?", (transfer.id,)
            ).fetchone()
        released = sync_pb2.RegistrationRecord.FromString(data)
        later = sync_pb2.RegistrationRecord()
        later.CopyFrom(released)
        later.revision += 1
        later.registration.content.data_name = "江苏交通流量数据（转出后修改）"
        ledger_before = _ledger(sync, moving.code)
        ack = _push_one(own, "320000", head + 1, later)
        assert ack.acknowledged_sequence == head and ack.refused and "released it" in ack.refused[0]
        ack = _push_one(own, "320000", head + 1, released, transfer.id)
        assert ack.acknowledged_sequence == head and ack.refused and "already" in ack.refused[0]
        assert _ledger(sync, moving.code) == ledger_before
        assert ledger_before.registration.content.data_name == moving.content.data_name
    finally:
        _end(daemon)


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
