"""The national tier as several processes and hosts on one PostgreSQL database.

* Two worker processes behind one address, kill -9 of one under a steady load of AssignCode from many
  connections: every request gets one code, serials stay gapless per namespace, the database holds
  exactly what callers were told, the supervisor starts the dead worker again, every checkpoint's root
  is the root recomputed from the log's entries, and each duty has one holder.
* The holder of the duties killed: another process takes them within the lease, and checkpoints go on.
* Two hosts (two supervisors on two ports, one database): a province's upward stream is one across
  them, the newer stream wins and the older one applies nothing more.
* A province given both hosts' addresses carries on, through a host killed, to a ledger that agrees.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import defaultdict
from pathlib import Path

import grpc
import pytest
from sqlalchemy import create_engine, text

from common import codes
from common.clock import SystemClock
from common.db import Database
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc
from common.gen.registry.v1 import sync_pb2
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from common.settings import normalise_database_url
from common.transparency import root_hash
from national_node.tlog.storage import LogStorage
from tests.cluster import Cluster
from tests.factories import make_uscc
from tests.nodes import NodeProcess, child_pids, wait_until
from tests.sync_support import seeded_changes, waiting_for_code
from tests.trust import channel, token

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.postgres]

PROVINCES = ("320000", "440000")
DIVISIONS = {"320000": "320106", "440000": "440305"}


def _national(tmp_path: Path, database_url: str, *, workers: int, name: str = "national") -> NodeProcess:
    workdir = tmp_path / name
    workdir.mkdir()
    return NodeProcess(
        "national_node",
        env={
            "REGISTRY_DATABASE_URL": database_url,
            "REGISTRY_WORKERS": str(workers),
            "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}, {"region": "440000"}]',
            "REGISTRY_INDEXER__EMBEDDED": "false",
            "REGISTRY_LOG_LEVEL": "WARNING",
        },
        cwd=workdir,
    )


def _workers(node: NodeProcess) -> list[int]:
    assert node.process is not None
    found = []
    for pid in child_pids(node.process.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"--worker" in cmdline:
            found.append(pid)
    return sorted(found)


def _request(region: str, key: str) -> ns.AssignCodeRequest:
    return ns.AssignCodeRequest(
        node=f"nodes/{region}",
        issuer=region,
        object_type=1 + hash(key) % 3,
        registration=f"nodes/{region}/registrations/r-{key}",
        subject_uscc=make_uscc(DIVISIONS[region]),
        request_id=f"req-{key}",
    )


def _checkpoints_recompute(database_url: str) -> int:
    """Every checkpoint's root, recomputed from the log's entries; returns how many there are."""
    db = Database(database_url)
    storage = LogStorage(db)
    try:
        with storage.transaction(write=False) as session:
            rows = session.execute(text("SELECT size, root FROM log_checkpoints ORDER BY size")).all()
            for size, root in rows:
                assert root_hash(size, storage.reader(session)) == bytes(root), f"checkpoint {size}"
        return len(rows)
    finally:
        db.dispose()


def _holders(database_url: str) -> dict[str, str]:
    engine = create_engine(normalise_database_url(database_url))
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT name, holder FROM leases")).all())
    finally:
        engine.dispose()


def test_two_workers_give_every_code_once_through_one_killed_under_load(
    postgres_url: str, tmp_path: Path, report
) -> None:
    clients, per_client = 8, 120
    keys = {i: [f"{i}-{k}" for k in range(per_client)] for i in range(clients)}
    requests = {key: _request(PROVINCES[i % 2], key) for i, ks in keys.items() for key in ks}
    waiting_for_code(postgres_url, requests.values())
    national = _national(tmp_path, postgres_url, workers=2).start()
    try:
        first = wait_until(lambda: len(w := _workers(national)) == 2 and w, timeout=30, message="two workers")
        answers: dict[str, set[str]] = defaultdict(set)
        retried: list[str] = []
        failures: list[str] = []
        done = [0]
        lock = threading.Lock()

        def client(i: int) -> None:
            # A channel of its own per client: its connection lands on either worker.
            stub = ns_grpc.NationalServiceStub(channel(national.address, bearer=token()))
            for key in keys[i]:
                for attempt in range(40):  # bounded: a worker's death costs a reconnect, not more
                    try:
                        code = stub.AssignCode(requests[key], timeout=10).code
                        break
                    except grpc.RpcError as error:
                        if error.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                            failures.append(f"{key}: {error.code().name} {error.details()}")
                            return
                        with lock:
                            retried.append(key)
                        time.sleep(0.1 * min(attempt + 1, 5))
                else:
                    failures.append(f"{key}: still unavailable")
                    return
                with lock:
                    answers[key].add(code)
                    done[0] += 1

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
        for thread in threads:
            thread.start()
        wait_until(
            lambda: done[0] >= clients * per_client // 4, timeout=120, message="a quarter of the codes"
        )
        killed = first[0]
        os.kill(killed, signal.SIGKILL)
        killed_at = time.monotonic()
        again = wait_until(
            lambda: len(w := _workers(national)) == 2 and killed not in w and w,
            timeout=30,
            message="the supervisor to start the worker again",
        )
        replaced_in = time.monotonic() - killed_at
        for thread in threads:
            thread.join(180)
        assert not any(t.is_alive() for t in threads), "a client did not finish"
        assert failures == [], failures[:5]
        # Each request one code, however often it was sent; serials gapless per namespace.
        assert len(answers) == clients * per_client
        assert all(len(c) == 1 for c in answers.values())
        issued = [next(iter(c)) for c in answers.values()]
        assert len(set(issued)) == len(issued)
        serials: dict[tuple[str, int, int], list[int]] = defaultdict(list)
        for code in issued:
            parsed = codes.parse(code)
            serials[(parsed.issuer, parsed.object_type, parsed.year)].append(parsed.serial)
        for namespace, found in serials.items():
            assert sorted(found) == list(range(1, len(found) + 1)), namespace
        engine = create_engine(normalise_database_url(postgres_url))
        try:
            with engine.connect() as conn:
                stored = dict(conn.execute(text("SELECT request_id, code FROM code_assignments")).all())
        finally:
            engine.dispose()
        assert stored == {f"req-{k}": next(iter(c)) for k, c in answers.items()}
        # The log: every checkpoint verifies against its entries; each duty has one holder, a worker.
        wait_until(lambda: _checkpoints_recompute(postgres_url) > 0, timeout=20, message="a checkpoint")
        # A killed worker's leases pass on when they expire (ttl): the clients may finish before that.
        holders = wait_until(
            lambda: (
                (h := _holders(postgres_url))
                and all(int(holder.split("/")[1]) in again for holder in h.values())
                and h
            ),
            timeout=20,
            message="the duties held by live workers",
        )
        assert set(holders) == {"checkpoints", "duties", "golden", "code_leases"}
        report(
            f"national workers: 2 processes on PostgreSQL, 8 clients, {len(issued)} codes, one worker"
            f" killed -9 under load: 0 lost, {len(retried)} calls retried, replaced in {replaced_in:.1f} s"
        )
    finally:
        national.kill()


def test_duties_pass_to_another_process_when_their_holder_is_killed(
    postgres_url: str, tmp_path: Path
) -> None:
    national = _national(tmp_path, postgres_url, workers=2).start()
    try:
        wait_until(lambda: len(_workers(national)) == 2, timeout=30, message="two workers")
        holder = wait_until(lambda: _holders(postgres_url).get("checkpoints"), timeout=10, message="a holder")
        pid = int(holder.split("/")[1])
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        taken = wait_until(
            lambda: (h := _holders(postgres_url).get("checkpoints")) != holder and h,
            timeout=20,
            message="another process to take the checkpoints",
        )
        assert int(taken.split("/")[1]) != pid
        assert time.monotonic() - killed_at < 10
        # Checkpoints go on: a new code is in a signed checkpoint soon after.
        request = _request("320000", "after-the-kill")
        waiting_for_code(postgres_url, [request])
        stub = ns_grpc.NationalServiceStub(channel(national.address, bearer=token()))
        for _ in range(20):
            try:
                stub.AssignCode(request, timeout=10)
                break
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE, error
                time.sleep(0.3)
        engine = create_engine(normalise_database_url(postgres_url))
        try:

            def signed() -> bool:
                with engine.connect() as conn:
                    size = conn.execute(text("SELECT max(size) FROM log_checkpoints")).scalar() or 0
                    entries = conn.execute(text("SELECT count(*) FROM log_entries")).scalar() or 0
                return size == entries > 0

            wait_until(signed, timeout=20, message="a checkpoint of the whole log")
        finally:
            engine.dispose()
        assert _checkpoints_recompute(postgres_url) > 0
    finally:
        national.kill()


def _batch(changes: list[sync_pb2.Change]) -> sync_pb2.ChangeBatch:
    return sync_pb2.ChangeBatch(node="nodes/320000", changes=changes)


def test_a_provinces_upward_stream_is_one_across_two_hosts(postgres_url: str, tmp_path: Path) -> None:
    hosts = [_national(tmp_path, postgres_url, workers=1, name=f"host-{i}").start() for i in (1, 2)]
    try:
        changes = seeded_changes(f"sqlite:///{tmp_path / 'province.db'}", "320000", registrations=4)
        stubs = [ss_grpc.SyncServiceStub(channel(h.address, node="320000", national=True)) for h in hosts]
        older_batches: list[sync_pb2.ChangeBatch] = []
        wake = threading.Event()

        def older() -> object:
            yield sync_pb2.ChangeBatch(node="nodes/320000", changes=changes[:5])
            wake.wait(20)
            yield sync_pb2.ChangeBatch(node="nodes/320000", changes=changes[10:15])

        stream = stubs[0].PushChanges(older(), timeout=30)
        first = next(stream)
        assert first.acknowledged_sequence == 5
        # The province (after a partition, say) opens a newer stream, which reaches the other host.
        [newer] = list(
            stubs[1].PushChanges(
                iter([sync_pb2.ChangeBatch(node="nodes/320000", changes=changes[:10])]), timeout=30
            )
        )
        assert newer.acknowledged_sequence == 10
        wake.set()
        with pytest.raises(grpc.RpcError) as ended:
            older_batches.extend(stream)
        assert ended.value.code() == grpc.StatusCode.ABORTED
        assert "STREAM_SUPERSEDED" in str(ended.value.trailing_metadata()) or "newer upward stream" in (
            ended.value.details() or ""
        )
        # Nothing from the older stream was applied after the newer one took over.
        state = ss_grpc.SyncServiceStub(channel(hosts[1].address, node="320000", national=True))
        [again] = list(
            state.PushChanges(
                iter([sync_pb2.ChangeBatch(node="nodes/320000", changes=changes[10:11])]), timeout=30
            )
        )
        assert again.acknowledged_sequence == 11
    finally:
        for host in hosts:
            host.kill()


def test_a_province_given_both_hosts_carries_on_through_one_killed(
    postgres_url: str, tmp_path: Path, report
) -> None:
    from provincial_node.agreement import check_agreement
    from provincial_node.changelog import ChangeLog
    from tests.integration.test_partitions import Writer, _announced, _awaiting_code

    cluster = Cluster(tmp_path / "cluster")
    cluster.root.mkdir()
    hosts = [_national(tmp_path, postgres_url, workers=1, name=f"host-{i}") for i in (1, 2)]
    for host in hosts:
        host.env.update({"REGISTRY_DUTIES_INTERVAL": "0.2", "REGISTRY_CLOCK_SPEED": "172800"})
        host.start()
    try:
        province = cluster.province("320000")
        province.env["REGISTRY_NATIONAL_ADDRESS"] = ",".join(h.address for h in hosts)
        # Announced for one working day, not ten: once the load ends, its last registrations are coded
        # within a second or two, not eight.
        province.env["REGISTRY_TIME_LIMITS__ANNOUNCEMENT_DAYS"] = "1"
        province.start()
        coordinator = token("operator", ("tester", "coordinator"))
        stubs = {
            h.address: ss_grpc.SyncServiceStub(channel(h.address, bearer=coordinator, national=True))
            for h in hosts
        }
        survivor_host: NodeProcess | None = None

        def state() -> sync_pb2.SyncState:
            stub = stubs[(survivor_host or hosts[0]).address]
            return stub.GetSyncState(ss.GetSyncStateRequest(node="nodes/320000"), timeout=5)

        wait_until(lambda: state().HasField("last_contact_time"), message="the link is up")
        writer = Writer(province)
        try:
            time.sleep(3.0)
            # kill -9 of the host the province's upward stream is on (its other calls go to both).
            engine = create_engine(normalise_database_url(postgres_url))
            with engine.connect() as conn:
                stream = conn.execute(
                    text("SELECT upward_stream FROM sync_states WHERE node = '320000'")
                ).scalar()
            engine.dispose()
            on = [h for h in hosts if h.process is not None and f"/{h.process.pid}/" in str(stream)]
            assert len(on) == 1, (stream, [h.process.pid for h in hosts if h.process])
            killed, survivor_host = on[0], next(h for h in hosts if h is not on[0])
            killed.kill()
            time.sleep(8.0)
        finally:
            writer.stop()
        stopped_at = time.monotonic()
        db_file = str(cluster.root / "320000.db")
        status = ps_grpc.ProvincialServiceStub(province.channel())

        def converged() -> bool:
            if _announced(db_file) or _awaiting_code(db_file):
                return False
            sync = status.GetSyncStatus(ps.GetSyncStatusRequest(), timeout=5)
            return not sync.lag_changes and state().acknowledged_sequence == sync.head_sequence

        wait_until(converged, timeout=60, interval=0.2, message="the province through the other host")
        took = time.monotonic() - stopped_at
        db = Database(cluster.db_url("320000"))
        try:
            assert survivor_host is not None
            survivor = stubs[survivor_host.address]
            agreement = check_agreement(db, "320000", survivor, ChangeLog(SystemClock()), repair=False)
        finally:
            db.dispose()
        assert agreement.in_agreement, agreement
        assert len(writer.announced) >= 20 and writer.failures == [], writer.failures[:3]
        report(
            f"two national hosts, one killed -9 under a province's load: {len(writer.announced)}"
            " registrations coded and in the ledger (8 s of them after the kill), agreement"
            f" {took:.1f} s after the load ended"
        )
    finally:
        for process in (*hosts, *cluster.processes):
            process.kill()
