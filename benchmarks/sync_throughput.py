"""How fast does a province's change log reach the national ledger, next to this machine's raw limits?

::

    .venv/bin/python -m benchmarks.sync_throughput [--backlog 100000] [--sustained-seconds 10]
        [--write-rate 2000] [--interleave 1000] [--e2e-registrations 40] [--e2e-announcement-days 10]
        [--postgres-url URL] [--skip-postgres] [--smoke] [--json]

Every node and daemon is a real process (``python -m national_node``, ``python -m provincial_node.sync``,
``python -m provincial_node``), started as an operator would and stopped with SIGTERM afterwards.
The province's database is always a SQLite file (the embedded default); the national node runs on a
SQLite file and on a PostgreSQL database created for the run and dropped after it.

1. **Catch-up**: a province database holding a backlog of ``--backlog`` changes (20,000 registrations
   x 5 revisions for 100,000), sequences 1..n, bulk-inserted as ``ChangeRow`` rows. The records are
   real: ``tests.sync_support.seed`` runs the procedure for 5 registrations (apply, accept, approve,
   announce, withdraw: 5 changes each) and every backlog registration is one of those with a new uid
   (uuid4) and local id spliced into the serialized bytes (same length, so the bytes stay valid protobuf
   of the same size), keeping its five revisions. ``--interleave`` registrations are in progress at a
   time (default 1,000: a registration's revisions are 1,000 changes apart, as when registrations move
   through the procedure side by side; 1: its five changes in a row, as ``seed`` writes them). Timed
   from starting the daemon until ``GetSyncState`` (polled every 50 ms) acknowledges the last change.
2. **Sustained**: right after the catch-up, against the same two processes, a writer process appends
   changes to the province's log (``take_number`` per change, 100 per transaction) at ``--write-rate``
   changes/s (default 2,000, above what the national node applies today, so the sync is saturated;
   0: as fast as it can, which takes a whole core) for a warm-up second and ``--sustained-seconds``;
   reported: changes acknowledged in the window ÷ window, and the lag (province head - acknowledged)
   at its end.
3. **Raw limits, same run**: (a) the same backlog streamed by the same daemon to
   ``benchmarks.sink_server``, which acknowledges each batch without touching a database;
   (b) the same record bytes bulk-inserted as ``ledger`` rows into a freshly migrated national database
   (SQLite and PostgreSQL), in transactions of the daemon's batch size (500) with one Core
   ``executemany`` each. The ratios say how much of each limit the catch-up reaches.
4. **End-to-end lag**: a national node and a provincial node (in-process daemon, simulated clock at
   172,800x so announcements close within seconds; they last ``--e2e-announcement-days`` working days,
   the production default of ten unless given); ``--e2e-registrations`` registrations are driven to
   announcement over gRPC, one poller thread each notes when ``GetRegistration`` on the province first
   shows ACTIVE (t1) and when ``LookupLedger`` on the national node first shows it ACTIVE (t2).

``--smoke`` runs every part at a size that takes seconds (a backlog of 1,000 changes, 1 s sustained,
3 registrations end to end, announced for one working day): it shows the benchmark runs, its numbers
mean little. This is a measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import multiprocessing
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
from rich.console import Console
from rich.status import Status
from rich.table import Table

from benchmarks.harness import (
    INDENT,
    Aborted,
    CpuMeter,
    PgActivitySampler,
    ServerProcess,
    machine_facts,
    percentile,
    postgres_pids,
    print_backends,
    print_machine,
    print_machine_busy,
    reach_postgres,
    receive,
    stop_on_sigterm,
)
from common.gen.registry.v1 import sync_pb2, sync_service_pb2, sync_service_pb2_grpc
from common.gen.registry.v1.registration_service_pb2_grpc import RegistrationServiceStub as RegistrationStub
from tests.nodes import child_pids
from tests.postgres import fresh_database
from tests.trust import TESTER, node_env, token
from tests.trust import channel as tls_channel

__all__ = ["ChangeFactory", "Template", "build_backlog", "main", "make_templates"]

REGION = "320000"
NODE = f"nodes/{REGION}"
PROVINCIAL_NODES = f'[{{"region": "{REGION}"}}]'
REVISIONS = 5  # changes per registration in the templates (and so in the backlog)
TEMPLATE_REGISTRATIONS = 5
#: The daemon's batch size (ProvincialSettings.sync_batch_size's default): also the raw insert's
#: transaction size, so that both commit as often.
BATCH = 500
PROGRESS_POLL = 0.05  # seconds between GetSyncState calls while a catch-up runs
SUSTAINED_WARMUP = 1.0
WRITER_TRANSACTION = 100  # changes per transaction of the sustained writer
#: Backlog changes are given commit times this far apart, ending now (100,000 = the last hour).
BACKLOG_SPACING = timedelta(milliseconds=36)
E2E_CLOCK_SPEED = 172800.0
E2E_DUTIES_INTERVAL = "0.05"
E2E_POLL = 0.010  # seconds between polls of one poller while the change is imminent
E2E_SPACING = 0.25  # seconds between announcements (half a simulated day: two per closing day)
E2E_EARLY = 0.3  # start polling every E2E_POLL this long before the announcement is due to close
E2E_IDLE_POLL = 0.5  # before that, one poll every half second in case the estimate is wrong
ACTOR: tuple[tuple[str, str], ...] = ()  # who acts is the channel's token


# --------------------------------------------------------------------------------------------------
# Realistic records, fast: the seeded procedure's records with new identities spliced in


@dataclass(frozen=True)
class Template:
    uid: str
    local_id: str  # r-xxxxxxxxxxxx, the last part of nodes/320000/registrations/{local_id}
    revisions: tuple[tuple[int, str, bytes], ...]  # (revision, registration state, serialized record)


@dataclass(frozen=True)
class Change:
    uid: str
    name: str
    revision: int
    state: str
    record: bytes


LOCAL_ID = re.compile(r"r-[0-9a-f]{12}")


def make_templates(workdir: Path) -> list[Template]:
    """5 registrations through the real procedure (``tests.sync_support.seed``): 25 real records."""
    from common.gen.registry.v1 import registration_pb2
    from tests.sync_support import seed

    path = workdir / "templates.db"
    seed(f"sqlite:///{path}", REGION, registrations=TEMPLATE_REGISTRATIONS)
    with contextlib.closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT uid, revision, record FROM changes ORDER BY sequence").fetchall()
    by_uid: dict[str, list[tuple[int, bytes]]] = {}
    for uid, revision, record in rows:
        by_uid.setdefault(uid, []).append((revision, bytes(record)))
    templates = []
    for uid, revisions in by_uid.items():
        parsed = [sync_pb2.RegistrationRecord.FromString(record) for _, record in revisions]
        local_id = parsed[0].registration.name.rsplit("/", 1)[1]
        if not LOCAL_ID.fullmatch(local_id) or len(uid) != 36 or len(revisions) != REVISIONS:
            raise Aborted(f"unexpected seeded records: {uid} {local_id} {len(revisions)} revisions")
        states = [registration_pb2.Registration.State.Name(p.registration.state) for p in parsed]
        steps = tuple((rev, st, rec) for (rev, rec), st in zip(revisions, states, strict=True))
        templates.append(Template(uid, local_id, steps))
    return templates


class ChangeFactory:
    """New registrations from the templates. Each gets a fresh uid (uuid4) and local id, spliced into
    the serialized records (same lengths, so the bytes stay valid and the size realistic), and keeps
    the template's five revisions.

    ``interleave`` registrations are worked on at a time: all of them get their first revision, then
    all their second, ... so consecutive revisions of one registration are ``interleave`` changes apart,
    as on a province where registrations move through the procedure side by side over weeks. 1 gives
    each registration's five changes in a row, as ``seed`` writes them.

    ``node`` is the node the templates are named under (``nodes/320000`` unless they were renamed).
    """

    def __init__(self, templates: list[Template], interleave: int, node: str = NODE) -> None:
        self.templates, self.interleave, self.node = templates, max(1, interleave), node
        self._check()

    def registration(self, i: int) -> list[Change]:
        template = self.templates[i % len(self.templates)]
        new = uuid.uuid4()
        uid, local_id = str(new), f"r-{new.hex[-12:]}"
        old_uid, old_id, new_uid, new_id = (
            s.encode() for s in (template.uid, template.local_id, uid, local_id)
        )
        name = f"{self.node}/registrations/{local_id}"
        return [
            Change(uid, name, revision, state, record.replace(old_uid, new_uid).replace(old_id, new_id))
            for revision, state, record in template.revisions
        ]

    def changes(self, count: int | None, first: int = 0) -> Iterator[Change]:
        """``count`` changes (None: without end), in log order: ``ceil(count / 5)`` registrations."""
        produced, i = 0, first
        last = None if count is None else first + math.ceil(count / REVISIONS)
        while last is None or i < last:
            size = self.interleave if last is None else min(self.interleave, last - i)
            block = [self.registration(j) for j in range(i, i + size)]
            for k in range(REVISIONS):
                for registration in block:
                    if count is not None and produced >= count:
                        return
                    yield registration[k]
                    produced += 1
            i += size

    def _check(self) -> None:
        for i in range(len(self.templates)):
            for change in self.registration(i):
                record = sync_pb2.RegistrationRecord.FromString(change.record)
                reg = record.registration
                names = [entry.name for entry in record.history]
                if (reg.uid, reg.name, record.revision) != (change.uid, change.name, change.revision) or any(
                    not n.startswith(change.name + "/") for n in names
                ):
                    raise Aborted(f"splicing a new identity into a seeded record failed: {reg.name}")


def build_backlog(path: Path, changes: Iterable[Change], count: int) -> dict[str, Any]:
    """A migrated province database whose log holds ``count`` changes, sequences 1..count."""
    from sqlalchemy import insert

    from common.db import Database, migrate
    from common.sync.sequences import CounterRow
    from provincial_node.changelog import LOG, ChangeRow
    from provincial_node.server import MIGRATIONS

    db = Database(f"sqlite:///{path}", pool_size=1)
    try:
        migrate(db.engine, MIGRATIONS)
        first_commit = datetime.now(UTC) - BACKLOG_SPACING * count
        rows: list[dict[str, Any]] = []
        total = 0
        with db.engine.begin() as conn:
            for sequence, change in enumerate(changes, 1):
                rows.append(
                    {
                        "sequence": sequence,
                        "uid": change.uid,
                        "revision": change.revision,
                        "record": change.record,
                        "committed_at": first_commit + BACKLOG_SPACING * sequence,
                    }
                )
                total += len(change.record)
                if len(rows) == 10_000:
                    conn.execute(insert(ChangeRow.__table__), rows)  # type: ignore[attr-defined]
                    rows = []
            if rows:
                conn.execute(insert(ChangeRow.__table__), rows)  # type: ignore[attr-defined]
            conn.execute(insert(CounterRow.__table__), [{"name": LOG, "last": count}])  # type: ignore[attr-defined]
    finally:
        db.dispose()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # one self-contained file to copy per run
    return {"record_bytes_avg": total / count, "file_mb": path.stat().st_size / 1e6}


# --------------------------------------------------------------------------------------------------
# Processes


def daemon_process(province_url: str, national_address: str, workdir: Path) -> ServerProcess:
    """``python -m provincial_node.sync``: ready when its first stdout line says it is running."""
    env = {
        "REGISTRY_REGION": REGION,
        "REGISTRY_NATIONAL_ADDRESS": national_address,
        "REGISTRY_DATABASE_URL": province_url,
        "REGISTRY_SYNC_IN_PROCESS": "false",
    }
    return ServerProcess("sync_daemon", "provincial_node.sync", env=env, workdir=workdir, ready="running for")


def national_process(
    database_url: str, workdir: Path, *, baseline: Path | None = None, **extra_env: str
) -> ServerProcess:
    """The national node; with ``baseline``, the one of that checkout (an earlier version, to compare
    with: settings it does not know are left out)."""
    env = {
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_PROVINCIAL_NODES": PROVINCIAL_NODES,
        "REGISTRY_WORKERS": "1",  # one process: its CPU is what the figures count (benchmarks.country: N)
        **extra_env,
    }
    if baseline is None:
        return ServerProcess("national_node", "national_node", env=env, workdir=workdir)
    return ServerProcess(
        "national_node (baseline)",
        "national_node",
        env=env,
        workdir=workdir,
        code=baseline,
        without_env=baseline_unknown(baseline),
    )


def baseline_unknown(baseline: Path) -> tuple[str, ...]:
    """Settings of the current version an earlier baseline does not know: the tests' policy names
    methods it may not have (it runs on its built-in policy), and a checkout from before the national
    log has no transparency settings."""
    unknown = ["REGISTRY_AUTH__POLICY_FILE"]
    settings = baseline / "common" / "settings.py"
    if not settings.is_file() or "class TransparencySettings" not in settings.read_text():
        unknown.append("REGISTRY_TRANSPARENCY__")
    return tuple(unknown)


def _alive(*processes: ServerProcess) -> None:
    for process in processes:
        process.check_alive()


def _sync_stub(address: str) -> tuple[grpc.Channel, sync_service_pb2_grpc.SyncServiceStub]:
    """SyncService of the national node, as an operator who may read the ledger and every link."""
    # A coordinator as well as the tests' role: also works against a baseline on its built-in policy.
    channel = tls_channel(address, bearer=token("operator", (TESTER, "coordinator")), national=True)
    return channel, sync_service_pb2_grpc.SyncServiceStub(channel)


def _sync_state(stub: sync_service_pb2_grpc.SyncServiceStub) -> sync_pb2.SyncState:
    return stub.GetSyncState(sync_service_pb2.GetSyncStateRequest(node=NODE), timeout=10)


# --------------------------------------------------------------------------------------------------
# 1 and 3a: catch-up of the backlog, by the national node or by the sink


def catch_up(
    console: Console,
    label: str,
    target: ServerProcess,
    province_url: str,
    count: int,
    workdir: Path,
    *,
    postgres_url: str | None = None,
) -> tuple[dict[str, Any], ServerProcess]:
    """Starts a daemon on the province towards ``target`` and waits until ``count`` is acknowledged.
    Returns the result and the running daemon (the caller stops it)."""
    channel, stub = _sync_stub(target.address)
    daemon = daemon_process(province_url, target.address, workdir)
    sampler = PgActivitySampler(postgres_url) if postgres_url else None
    pg_before = postgres_pids(postgres_url) if postgres_url else []
    indexer = child_pids(target.pid)  # the national node's search indexer (none for the sink)
    try:
        meter = CpuMeter({"server": [target.pid], "indexer": indexer, "postgres": pg_before})
        if sampler:
            sampler.start((time.monotonic(), math.inf))
        started = time.monotonic()
        daemon.start()
        deadline = started + max(600.0, count / 50)
        acknowledged, last_shown = 0, 0.0
        with console.status(f"{label}: starting") as status:
            while True:
                acknowledged = _sync_state(stub).acknowledged_sequence
                now = time.monotonic()
                if acknowledged >= count:
                    break
                _alive(target, daemon)
                if now > deadline:
                    raise Aborted(
                        f"{label}: {acknowledged:,} of {count:,} acknowledged after {now - started:.0f} s"
                    )
                if now - last_shown > 0.5:
                    status.update(
                        f"{label}: {acknowledged:,} of {count:,} acknowledged after {now - started:.0f} s"
                        f" ({acknowledged / (now - started):,.0f}/s)"
                    )
                    last_shown = now
                time.sleep(PROGRESS_POLL)
        seconds = now - started
        groups = {"server": [target.pid], "indexer": indexer, "daemon": [daemon.pid]}
        if postgres_url:
            groups["postgres"] = sorted(set(pg_before) | set(postgres_pids(postgres_url)))
        cpu = meter.stop(groups)
        backends = sampler.stop() if sampler else {}
    except BaseException:
        daemon.stop()
        raise
    finally:
        if sampler:
            sampler.stop()
        channel.close()
    server_cpu = cpu["processes"]["server"] / 100 * cpu["window_seconds"]
    result = {
        "changes": count,
        "seconds": round(seconds, 3),
        "changes_per_second": count / seconds,
        "daemon_ready_seconds": round(daemon.ready_seconds, 3),
        "server_cpu_ms_per_change": server_cpu / count * 1000,
        "cpu_percent": cpu,
        "postgres_backends": backends,
        "log_problems": len(target.log_problems()) + len(daemon.log_problems()),
    }
    return result, daemon


def run_stream(console: Console, tmp: Path, backlog: Path, count: int) -> dict[str, Any]:
    workdir = tmp / "stream"
    workdir.mkdir()
    province = workdir / "province.db"
    shutil.copyfile(backlog, province)
    sink = ServerProcess("sink_server", "benchmarks.sink_server", env=node_env("100000"), workdir=workdir)
    daemon: ServerProcess | None = None
    try:
        sink.start()
        result, daemon = catch_up(
            console, "stream to the sink", sink, f"sqlite:///{province}", count, workdir
        )
    finally:
        if daemon is not None:
            daemon.stop()
        sink.stop()
    return result


# --------------------------------------------------------------------------------------------------
# 2: sustained throughput while the province writes


@dataclass(frozen=True)
class WriterSpec:
    province_url: str
    templates: list[Template]
    interleave: int
    rate: float  # changes per second; 0: as fast as it can
    per_transaction: int


def _writer_main(conn: Connection, spec: WriterSpec) -> None:
    """Entry point of the writer process; talks to the coordinator over ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator cleans up on Ctrl-C
    try:
        _writer(conn, spec)
    except Exception:  # reported to the coordinator, which aborts
        with contextlib.suppress(OSError):
            conn.send(("failed", traceback.format_exc()))


def _writer(conn: Connection, spec: WriterSpec) -> None:
    from sqlalchemy import insert

    from common.db import Database
    from common.sync.sequences import take_number
    from provincial_node.changelog import LOG, ChangeRow

    db = Database(spec.province_url, pool_size=1)
    changes = ChangeFactory(spec.templates, spec.interleave).changes(None)
    table = ChangeRow.__table__  # type: ignore[attr-defined]
    with db.transaction(write=False) as session:  # connect before the clock starts
        session.connection()
    conn.send(("ready", None))
    kind, go, end = conn.recv()
    if kind != "go":
        return
    time.sleep(max(0.0, go - time.monotonic()))
    interval = spec.per_transaction / spec.rate if spec.rate else 0.0
    due, written = go, 0
    cpu = time.process_time()
    while time.monotonic() < end:
        if interval:
            time.sleep(max(0.0, due - time.monotonic()))
            due = max(due + interval, time.monotonic() - 1.0)  # at most a second of debt is caught up
        batch = [next(changes) for _ in range(spec.per_transaction)]
        with db.transaction() as session:
            now = datetime.now(UTC)
            rows = [
                {
                    "sequence": take_number(session, LOG),
                    "uid": c.uid,
                    "revision": c.revision,
                    "record": c.record,
                    "committed_at": now,
                }
                for c in batch
            ]
            session.execute(insert(table), rows)
        written += len(rows)
    conn.send(
        ("done", {"written": written, "seconds": time.monotonic() - go, "cpu": time.process_time() - cpu})
    )
    db.dispose()


def _province_head(path: Path, acknowledged: int) -> tuple[int, float]:
    """The province log's newest sequence, and how long its oldest unacknowledged change has waited."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)) as conn:
        head = conn.execute("SELECT coalesce(max(sequence), 0) FROM changes").fetchone()[0]
        row = conn.execute(
            "SELECT committed_at FROM changes WHERE sequence = ?", (acknowledged + 1,)
        ).fetchone()
    waited = 0.0
    if row is not None:
        waited = (datetime.now(UTC) - datetime.fromisoformat(row[0]).replace(tzinfo=UTC)).total_seconds()
    return head, waited


def run_sustained(
    console: Console,
    label: str,
    national: ServerProcess,
    daemon: ServerProcess,
    province: Path,
    spec: WriterSpec,
    seconds: float,
    postgres_url: str | None,
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    writer = context.Process(target=_writer_main, args=(theirs, spec), daemon=True)
    channel, stub = _sync_stub(national.address)
    try:
        writer.start()
        theirs.close()
        kind, payload = receive(ours, writer, 60, "the writer", "getting ready")
        if kind != "ready":
            raise Aborted(f"the writer failed while getting ready:\n{payload}")
        go = time.monotonic() + 0.1
        window_start = go + SUSTAINED_WARMUP
        end = window_start + seconds
        ours.send(("go", go, end))
        with console.status(f"{label}: the province writes, the daemon streams ({seconds:g} s)"):
            time.sleep(max(0.0, window_start - time.monotonic()))
            assert writer.pid is not None
            groups = {"national": [national.pid], "daemon": [daemon.pid], "writer": [writer.pid]}
            if postgres_url:
                groups["postgres"] = postgres_pids(postgres_url)
            meter = CpuMeter(groups)
            first = _sync_state(stub)
            t0 = time.monotonic()
            head0, _ = _province_head(province, first.acknowledged_sequence)
            time.sleep(max(0.0, end - time.monotonic()))
            last = _sync_state(stub)
            t1 = time.monotonic()
            head1, waited = _province_head(province, last.acknowledged_sequence)
            cpu = meter.stop(groups)
            _alive(national, daemon)
            kind, payload = receive(ours, writer, 30, "the writer", "writing")
        if kind != "done":
            raise Aborted(f"the writer failed:\n{payload}")
    finally:
        channel.close()
        with contextlib.suppress(OSError):
            ours.send(("stop", 0.0, 0.0))
        ours.close()
        writer.join(5)
        if writer.is_alive():
            writer.kill()
            writer.join(5)
    window = t1 - t0
    acknowledged = last.acknowledged_sequence - first.acknowledged_sequence
    return {
        "seconds": round(window, 3),
        "changes_per_second": acknowledged / window,
        "acknowledged": acknowledged,
        "written_per_second": (head1 - head0) / window,
        "writer_target_rate": spec.rate,
        "writer_cpu_ms_per_change": payload["cpu"] / max(1, payload["written"]) * 1000,
        "lag_changes_at_end": head1 - last.acknowledged_sequence,
        "oldest_unacknowledged_waited_seconds": round(waited, 2),
        "cpu_percent": cpu,
    }


def run_national(
    console: Console,
    key: str,
    tmp: Path,
    backlog: Path,
    count: int,
    database_url: str,
    spec_for: Callable[[str], WriterSpec],
    sustained_seconds: float,
    postgres_url: str | None = None,
    baseline: Path | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Catch-up of the backlog by a national node on ``database_url``, then the sustained run."""
    workdir = tmp / (key if baseline is None else f"{key}-baseline")
    workdir.mkdir()
    province = workdir / "province.db"
    shutil.copyfile(backlog, province)
    national = national_process(database_url, workdir, baseline=baseline)
    daemon: ServerProcess | None = None
    sustained = None
    try:
        national.start()
        result, daemon = catch_up(
            console,
            f"catch-up, {LABELS[key]}",
            national,
            f"sqlite:///{province}",
            count,
            workdir,
            postgres_url=postgres_url,
        )
        print_catch_up(console, f"catch-up {key}", result, "national")
        if baseline is None:
            result["index"] = index_catch_up(database_url, result["seconds"])
            index = result["index"]
            console.print(
                f"{INDENT}search index: {index['behind_at_acknowledgement']:,} log entries behind when the"
                f" last change was acknowledged, caught up {index['seconds_after']:.1f} s later"
                f" ({index['entries_per_second_after']:,.0f} entries/s once the sync was done)"
            )
        if sustained_seconds > 0:
            sustained = run_sustained(
                console,
                f"sustained, {LABELS[key]}",
                national,
                daemon,
                province,
                spec_for(f"sqlite:///{province}"),
                sustained_seconds,
                postgres_url,
            )
            print_sustained(console, f"sustained {key}", sustained)
        problems = national.log_problems() + daemon.log_problems()
        result["log_problems"], result["log_problem_samples"] = len(problems), problems[:5]
    finally:
        if daemon is not None:
            daemon.stop()
        national.stop()
    return result, sustained


def index_catch_up(database_url: str, sync_seconds: float, timeout: float = 600.0) -> dict[str, Any]:
    """How far the search index was behind the log when the catch-up ended, and how long it took to
    follow the rest (its cursor reaching the log's size)."""
    from sqlalchemy import text

    from common.db import Database

    db = Database(database_url, pool_size=1)
    query = text(
        "SELECT (SELECT last FROM sequence_counters WHERE name = 'log'),"
        " (SELECT next_index FROM search_cursor WHERE name = 'search')"
    )
    started = time.monotonic()
    try:
        with db.engine.connect() as conn:
            size, cursor = conn.execute(query).one()
        behind = (size or 0) - (cursor or 0)
        remaining = behind
        while remaining > 0 and time.monotonic() - started < timeout:
            time.sleep(0.1)
            with db.engine.connect() as conn:
                size, cursor = conn.execute(query).one()
            remaining = (size or 0) - (cursor or 0)
    finally:
        db.dispose()
    after = time.monotonic() - started
    return {
        "behind_at_acknowledgement": behind,
        "seconds_after": round(after, 2),
        "entries_per_second_after": behind / after if after > 0 else 0.0,
        "caught_up": remaining <= 0,
        "sync_seconds": sync_seconds,
    }


# --------------------------------------------------------------------------------------------------
# 3b: bulk insert of the same bytes


def ledger_rows(changes: list[Change]) -> list[dict[str, Any]]:
    """LedgerRow-shaped rows carrying the backlog's record bytes, one per change (each with its own uid,
    since a ledger row is keyed by it)."""
    now = datetime.now(UTC)
    return [
        {
            "uid": uid,
            "node": REGION,
            "name": c.name,
            "code": None,
            "state": c.state,
            "revision": c.revision,
            "digest": hashlib.sha256(c.record).hexdigest(),
            "bucket": uid[:2],
            "record": c.record,
            "updated_at": now,
        }
        for c, uid in zip(changes, (str(uuid.uuid4()) for _ in changes), strict=True)
    ]


def bulk_insert(database_url: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Inserts ``rows`` into the ledger table of a freshly migrated national database, in transactions
    of BATCH rows, one Core executemany each, on the node's own engine set-up (WAL + synchronous=FULL on
    SQLite; psycopg, whose executemany SQLAlchemy sends as multi-row INSERTs, on PostgreSQL)."""
    from sqlalchemy import func, insert, select

    from common.db import Database, migrate
    from national_node.models import LedgerRow
    from national_node.server import MIGRATIONS

    db = Database(database_url, pool_size=1)
    try:
        migrate(db.engine, MIGRATIONS)
        table = LedgerRow.__table__  # type: ignore[attr-defined]
        statement = insert(table)
        with db.engine.connect():  # the pool holds a live connection before the clock starts
            pass
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(rows), BATCH):
            with db.engine.begin() as conn:
                conn.execute(statement, rows[i : i + BATCH])
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        with db.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(table)).scalar_one()
    finally:
        db.dispose()
    if stored != len(rows):
        raise Aborted(f"bulk insert: {stored} rows stored of {len(rows)}")
    return {
        "rows": len(rows),
        "transactions": math.ceil(len(rows) / BATCH),
        "seconds": round(seconds, 3),
        "rows_per_second": len(rows) / seconds,
        "client_cpu_percent": round(cpu / seconds * 100, 1),
    }


# --------------------------------------------------------------------------------------------------
# 4: end-to-end lag, ACTIVE on the province to ACTIVE in the national ledger


def run_e2e(console: Console, tmp: Path, registrations: int, announcement_days: int) -> dict[str, Any]:
    workdir = tmp / "e2e"
    workdir.mkdir()
    national = national_process(
        f"sqlite:///{workdir / 'national.db'}", workdir, REGISTRY_DUTIES_INTERVAL=E2E_DUTIES_INTERVAL
    )
    province: ServerProcess | None = None
    channels: list[grpc.Channel] = []
    stop = threading.Event()
    try:
        national.start()
        province = ServerProcess(
            "provincial_node",
            "provincial_node",
            env={
                "REGISTRY_REGION": REGION,
                "REGISTRY_NATIONAL_ADDRESS": national.address,
                "REGISTRY_DATABASE_URL": f"sqlite:///{workdir / 'province.db'}",
                "REGISTRY_CLOCK_SPEED": f"{E2E_CLOCK_SPEED:g}",
                "REGISTRY_DUTIES_INTERVAL": E2E_DUTIES_INTERVAL,
                # What is measured starts when the announcement closes: its length is only a wait.
                "REGISTRY_TIME_LIMITS__ANNOUNCEMENT_DAYS": str(announcement_days),
            },
            workdir=workdir,
        ).start()
        province_channel = tls_channel(province.address, bearer=token())
        national_channel, sync = _sync_stub(national.address)
        channels += [province_channel, national_channel]
        stub = RegistrationStub(province_channel)
        with console.status(f"end-to-end lag: {registrations} registrations") as status:
            samples = _drive_e2e(stub, sync, registrations, stop, status, (national, province))
    finally:
        stop.set()
        for channel in channels:
            channel.close()
        if province is not None:
            province.stop()
        national.stop()
    return _e2e_summary(samples, registrations)


@dataclass
class E2ESample:
    name: str
    t_announced: float
    expected: float  # when the announcement should close, from the province's simulated clock
    t1: float = math.nan  # first poll of the province that showed ACTIVE
    t1_gap: float = math.nan  # since the poll before it, that did not
    t2: float = math.nan  # first LookupLedger that showed ACTIVE
    t2_gap: float = math.nan
    province_polls: int = 0
    national_polls: int = 0
    error: str = ""


def _drive_e2e(
    stub: RegistrationStub,
    sync: sync_service_pb2_grpc.SyncServiceStub,
    count: int,
    stop: threading.Event,
    status: Status,
    processes: tuple[ServerProcess, ...],
) -> list[E2ESample]:
    from common.clock import CHINA
    from common.gen.registry.v1 import registration_pb2 as r
    from common.gen.registry.v1 import registration_service_pb2 as rs
    from tests.factories import make_content, make_uscc

    def rid() -> str:
        return str(uuid.uuid4())

    names = []
    for i in range(count):  # apply, accept, approve: the slow part of the procedure is not timed
        created = stub.CreateRegistration(
            rs.CreateRegistrationRequest(
                parent=NODE,
                registration=r.Registration(
                    object_type=r.PUBLIC_DATA_RESOURCE,
                    content=make_content(make_uscc("320106"), data_name=f"同步时延数据资源 {i}"),
                ),
                request_id=rid(),
            ),
            metadata=ACTOR,
            timeout=10,
        )
        stub.AcceptApplication(
            rs.AcceptApplicationRequest(name=created.name, request_id=rid(), acknowledge_duplicates=True),
            metadata=ACTOR,
            timeout=10,
        )
        stub.ApproveApplication(
            rs.ApproveApplicationRequest(name=created.name, request_id=rid()), metadata=ACTOR, timeout=10
        )
        names.append(created.name)
        status.update(f"end-to-end lag: {i + 1} of {count} registrations applied, accepted, approved")

    samples: list[E2ESample] = []
    threads = []
    for i, name in enumerate(names):
        announced = stub.AnnounceApplication(
            rs.AnnounceApplicationRequest(name=name, request_id=rid()), metadata=ACTOR, timeout=10
        )
        t_announced = time.monotonic()
        end = announced.current_application.announcement_end
        closes = datetime.combine(
            date(end.year, end.month, end.day) + timedelta(days=1), clock_time(0), tzinfo=CHINA
        )
        node_now = announced.update_time.ToDatetime(tzinfo=UTC)
        sample = E2ESample(
            name, t_announced, t_announced + (closes - node_now).total_seconds() / E2E_CLOCK_SPEED
        )
        samples.append(sample)
        thread = threading.Thread(target=_poll_one, args=(sample, stub, sync, stop), daemon=True)
        thread.start()
        threads.append(thread)
        status.update(f"end-to-end lag: {i + 1} of {count} announced, polling")
        time.sleep(max(0.0, t_announced + E2E_SPACING - time.monotonic()))
    deadline = max(s.expected for s in samples) + 60
    for thread in threads:
        while thread.is_alive() and time.monotonic() < deadline:
            _alive(*processes)
            done = sum(not math.isnan(s.t2) for s in samples)
            status.update(f"end-to-end lag: {done} of {count} seen ACTIVE in the national ledger")
            thread.join(0.5)
    stop.set()
    return samples


def _poll_one(
    sample: E2ESample,
    stub: RegistrationStub,
    sync: sync_service_pb2_grpc.SyncServiceStub,
    stop: threading.Event,
) -> None:
    from common.gen.registry.v1 import registration_pb2 as r
    from common.gen.registry.v1 import registration_service_pb2 as rs
    from common.gen.registry.v1 import sync_service_pb2 as ss

    try:
        previous = time.monotonic()
        dense_from = sample.expected - E2E_EARLY
        while not stop.is_set():  # the province: until GetRegistration shows ACTIVE
            called = time.monotonic()
            reg = stub.GetRegistration(rs.GetRegistrationRequest(name=sample.name), timeout=10)
            now = time.monotonic()
            sample.province_polls += 1
            if reg.state == r.Registration.ACTIVE:
                sample.t1, sample.t1_gap = now, now - previous
                break
            previous = now
            due = called + E2E_POLL if now >= dense_from else min(called + E2E_IDLE_POLL, dense_from)
            stop.wait(max(0.0, due - now))
        else:
            return
        previous = sample.t1
        while not stop.is_set():  # the national ledger: until LookupLedger shows it ACTIVE
            due = time.monotonic() + E2E_POLL
            try:
                record = sync.LookupLedger(ss.LookupLedgerRequest(code=reg.code), timeout=10)
                active = record.registration.state == r.Registration.ACTIVE
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                active = False
            now = time.monotonic()
            sample.national_polls += 1
            if active:
                sample.t2, sample.t2_gap = now, now - previous
                return
            previous = now
            stop.wait(max(0.0, due - now))
    except Exception as error:  # recorded; the summary reports it
        sample.error = f"{type(error).__name__}: {error}"[:200]


def _e2e_summary(samples: list[E2ESample], registrations: int) -> dict[str, Any]:
    seen = [s for s in samples if not math.isnan(s.t2)]
    lags = sorted((s.t2 - s.t1) * 1000 for s in seen)
    gaps1 = sorted(s.t1_gap * 1000 for s in seen)
    gaps2 = sorted(s.t2_gap * 1000 for s in seen)
    polls = sum(s.province_polls + s.national_polls for s in samples)
    first = min((s.t_announced for s in samples), default=0.0)
    last = max((s.t2 for s in seen), default=first)
    return {
        "registrations": registrations,
        "measured": len(seen),
        "errors": sorted({s.error for s in samples if s.error})[:3],
        "p50_ms": percentile(lags, 0.50),
        "p99_ms": percentile(lags, 0.99),
        "max_ms": lags[-1] if lags else math.nan,
        "min_ms": lags[0] if lags else math.nan,
        "poll_interval_ms": E2E_POLL * 1000,
        "t1_resolution_ms": {"p50": percentile(gaps1, 0.5), "max": gaps1[-1] if gaps1 else math.nan},
        "t2_resolution_ms": {"p50": percentile(gaps2, 0.5), "max": gaps2[-1] if gaps2 else math.nan},
        "coarse_samples": sum(g > 5 * E2E_POLL * 1000 for g in gaps1),
        "polls_per_second": polls / max(1e-9, last - first),
        "activation_estimate_error_ms": percentile(sorted((s.t1 - s.expected) * 1000 for s in seen), 0.5),
    }


# --------------------------------------------------------------------------------------------------
# Output


LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _head(name: str, value: float, unit: str, rest: str) -> str:
    """The first line of a run: at most 80 columns, like every line printed here."""
    return f"  [bold]{name:<20}{value:>7,.0f} {unit}[/]  {rest}"


def _print_cpu(console: Console, cpu: dict[str, Any]) -> None:
    parts = ", ".join(f"{label} {value:.0f}" for label, value in cpu["processes"].items())
    console.print(f"{INDENT}CPU (% of 1 core): {parts}")
    print_machine_busy(console, cpu["machine"], cpu["interrupts"], cpu["other"], cpu["top_other_processes"])


def print_catch_up(console: Console, name: str, result: dict[str, Any], server: str) -> None:
    console.print(
        _head(
            name,
            result["changes_per_second"],
            "changes/s",
            f"{result['changes']:,} in {result['seconds']:.2f} s",
        )
    )
    cpu = dict(result["cpu_percent"])
    cpu["processes"] = {(server if k == "server" else k): v for k, v in cpu["processes"].items()}
    daemon_ms = cpu["processes"]["daemon"] / 100 * cpu["window_seconds"] / result["changes"] * 1000
    console.print(
        f"{INDENT}CPU ms/change: {server} {result['server_cpu_ms_per_change']:.3f},"
        f" daemon {daemon_ms:.3f} (up after {result['daemon_ready_seconds']:.2f} s)"
    )
    _print_cpu(console, cpu)
    print_backends(console, result["postgres_backends"])
    if result["log_problems"]:
        console.print(f"{INDENT}[yellow]{result['log_problems']} warning/error lines in the logs[/]")
        for line in result.get("log_problem_samples", []):
            console.print(f"{INDENT}  {line[:160]}")


def print_sustained(console: Console, name: str, result: dict[str, Any]) -> None:
    target = f"{result['writer_target_rate']:,.0f}/s" if result["writer_target_rate"] else "flat out"
    console.print(
        _head(name, result["changes_per_second"], "changes/s", f"acknowledged in {result['seconds']:.1f} s")
    )
    console.print(
        f"{INDENT}the province wrote {result['written_per_second']:,.0f}/s (set: {target}),"
        f" {result['writer_cpu_ms_per_change']:.3f} ms/change"
    )
    console.print(
        f"{INDENT}lag at the end: {result['lag_changes_at_end']:,} changes, the oldest"
        f" waiting {result['oldest_unacknowledged_waited_seconds']:.1f} s"
    )
    _print_cpu(console, result["cpu_percent"])


def _print_insert(console: Console, key: str, result: dict[str, Any]) -> None:
    console.print(
        _head(
            f"raw insert {key}",
            result["rows_per_second"],
            "rows/s",
            f"{result['rows']:,} in {result['seconds']:.2f} s",
        )
    )
    console.print(
        f"{INDENT}{result['transactions']} transactions of {BATCH} rows;"
        f" client CPU {result['client_cpu_percent']:.0f} % of 1 core"
    )


def _ms(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:,.0f}"


def print_e2e(console: Console, e2e: dict[str, Any]) -> None:
    console.print(
        f"  [bold]{'end-to-end lag':<20}p50 {_ms(e2e['p50_ms'])} ms  p99 {_ms(e2e['p99_ms'])} ms"
        f"  max {_ms(e2e['max_ms'])} ms[/]  min {_ms(e2e['min_ms'])} ms"
    )
    console.print(
        f"{INDENT}{e2e['measured']} of {e2e['registrations']} registrations, ACTIVE on the province (t1)"
    )
    console.print(f"{INDENT}to ACTIVE in the national ledger (t2), national on SQLite")
    r1, r2 = e2e["t1_resolution_ms"], e2e["t2_resolution_ms"]
    console.print(
        f"{INDENT}polls every {e2e['poll_interval_ms']:g} ms; seen late by at most the gap since the"
    )
    console.print(
        f"{INDENT}poll before: t1 p50 {r1['p50']:.1f} ms (max {r1['max']:.1f}),"
        f" t2 p50 {r2['p50']:.1f} ms (max {r2['max']:.1f})"
    )
    if e2e["coarse_samples"]:
        console.print(f"{INDENT}[yellow]{e2e['coarse_samples']} samples seen by a coarse poll only[/]")
    if e2e["errors"]:
        console.print(f"{INDENT}[red]errors:[/] {'; '.join(e2e['errors'])}")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_summary(console: Console, report: dict[str, Any]) -> None:
    runs, ratios, config = report["runs"], report["ratios"], report["config"]
    count = config["backlog"]
    table = Table(
        title=f"  Sync of {count:,} changes vs. the raw limits (inserts: rows/s)", title_justify="left"
    )
    table.add_column("run")
    for column in ("changes/s", "seconds", "÷ raw\nstream", "÷ raw\ninsert", "node CPU\nms/change"):
        table.add_column(column, justify="right")
    stream = runs.get("stream")
    if stream:
        table.add_row(
            "raw: stream to sink",
            _rate(stream["changes_per_second"]),
            f"{stream['seconds']:.2f}",
            "1",
            "",
            f"{stream['server_cpu_ms_per_change']:.3f}",
        )
    for key, label in LABELS.items():
        insert = runs.get(f"insert_{key}")
        if insert is not None:
            rate, seconds = _rate(insert["rows_per_second"]), f"{insert['seconds']:.2f}"
            table.add_row(f"raw: insert, {label}", rate, seconds, "", "1", "")
    for key, label in LABELS.items():
        run = runs.get(f"catch_up_{key}")
        if run is None:
            table.add_row(f"catch-up, {label}", "[dim]skipped[/]", "", "", "", "")
            continue
        table.add_row(
            f"catch-up, {label}",
            _rate(run["changes_per_second"]),
            f"{run['seconds']:.2f}",
            _ratio(ratios.get(f"{key}_vs_stream")),
            _ratio(ratios.get(f"{key}_vs_insert")),
            f"{run['server_cpu_ms_per_change']:.3f}",
        )
    for key, label in LABELS.items():
        run = runs.get(f"sustained_{key}")
        if run is not None:
            seconds = f"{run['seconds']:.1f}"
            table.add_row(f"sustained, {label}", _rate(run["changes_per_second"]), seconds, "", "", "")
    console.print()
    console.print(table)
    for key, label in LABELS.items():
        if f"{key}_vs_stream" in ratios:
            line = f"  catch-up on {label}: {ratios[f'{key}_vs_stream']:.1%} of the raw stream"
            if f"{key}_vs_insert" in ratios:
                line += f", {ratios[f'{key}_vs_insert']:.1%} of the raw insert"
            console.print(line)
    for key, label in LABELS.items():
        run = runs.get(f"sustained_{key}")
        if run is not None:
            console.print(
                f"  sustained on {label}: province writing {run['written_per_second']:,.0f}/s,"
                f" lag at the end {run['lag_changes_at_end']:,}"
            )
    e2e = runs.get("e2e")
    if e2e:
        console.print(
            f"  end-to-end lag: p50 {_ms(e2e['p50_ms'])} ms, p99 {_ms(e2e['p99_ms'])} ms,"
            f" max {_ms(e2e['max_ms'])} ms ({e2e['measured']} registrations)"
        )
    for key, reason in report["skipped"].items():
        console.print(f"  {key}: skipped ({reason})")
    facts = report["machine"]
    print_machine(console, facts, "databases")
    backlog = report["backlog"]
    console.print(
        f"  backlog: {count // REVISIONS:,} registrations x {REVISIONS} revisions, interleaved by"
        f" {config['interleave']:,},"
    )
    console.print(f"  {backlog['record_bytes_avg']:,.0f} bytes a record, batches of {BATCH}")
    console.print(f"  commit {facts['git_commit']}, {facts['date']}, {report['total_seconds']:.0f} s in all")


# --------------------------------------------------------------------------------------------------
# Main


#: Sizes: the default run, and ``--smoke`` (seconds in all, to show that every part runs).
DEFAULTS = {
    "backlog": 100_000,
    "sustained_seconds": 10.0,
    "interleave": 1000,
    "e2e_registrations": 40,
    "e2e_announcement_days": 10,
}
SMOKE = {
    "backlog": 1000,
    "sustained_seconds": 1.0,
    "interleave": 100,
    "e2e_registrations": 3,
    "e2e_announcement_days": 1,
}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sync_throughput",
        description="Catch-up, sustained throughput and end-to-end lag of province-to-national sync, next"
        " to the raw gRPC stream and bulk-insert rates of the same machine in the same run.",
    )
    parser.add_argument("--backlog", type=int, help="changes in the backlog (default 100000)")
    parser.add_argument(
        "--sustained-seconds",
        type=float,
        help="measured seconds of the sustained run (default 10; 0 skips it)",
    )
    parser.add_argument(
        "--write-rate",
        type=float,
        default=2000.0,
        help="changes/s the province writes during the sustained run (default 2000; 0: as fast as it can)",
    )
    parser.add_argument(
        "--interleave",
        type=int,
        help="registrations in progress at a time in the log (default 1000; 1: each registration's five"
        " changes in a row)",
    )
    parser.add_argument(
        "--e2e-registrations",
        type=int,
        help="registrations of the end-to-end lag run (default 40; 0 skips it)",
    )
    parser.add_argument(
        "--e2e-announcement-days",
        type=int,
        help="working days the end-to-end run's announcements last (default 10, the node's default)",
    )
    parser.add_argument(
        "--postgres-url",
        help="server to create the run's databases on (default: $TEST_DATABASE_URL, else"
        " postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="do not run the PostgreSQL parts")
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="another checkout of the project (git worktree add DIR COMMIT): its national node catches"
        " up the same backlog in the same run, for a ratio",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds in all: a backlog of 1000 interleaved by 100, 1 s sustained, 3 registrations end to"
        " end announced for one working day (shows that it runs; sizes given explicitly still apply)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    options = parser.parse_args(argv)
    for key, value in (SMOKE if options.smoke else DEFAULTS).items():
        if getattr(options, key) is None:
            setattr(options, key, value)
    if options.backlog < BATCH or options.sustained_seconds < 0 or options.write_rate < 0:
        parser.error(f"--backlog must be at least {BATCH}; --sustained-seconds and --write-rate not negative")
    return options


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    console = Console(stderr=options.json, highlight=False)
    stop_on_sigterm()
    started = time.monotonic()
    report: dict[str, Any] = {
        "config": {
            "backlog": options.backlog,
            "interleave": options.interleave,
            "batch": BATCH,
            "sustained_seconds": options.sustained_seconds,
            "sustained_warmup_seconds": SUSTAINED_WARMUP,
            "write_rate": options.write_rate,
            "writer_transaction": WRITER_TRANSACTION,
            "e2e_registrations": options.e2e_registrations,
            "e2e_announcement_days": options.e2e_announcement_days,
            "smoke": options.smoke,
        },
        "runs": {},
        "skipped": {},
        "ratios": {},
    }
    try:
        with tempfile.TemporaryDirectory(prefix="registry-sync-bench-", ignore_cleanup_errors=True) as name:
            tmp = Path(name)
            report["machine"] = machine_facts(tmp)
            admin_url, facts, skipped = reach_postgres(options.postgres_url, skip=options.skip_postgres)
            if admin_url is None:
                report["skipped"]["postgresql"] = skipped
            else:
                report["machine"]["postgresql"] = facts
            _run_all(console, options, report, tmp, admin_url)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; processes, temporary files and databases cleaned up")
        return 130
    except Aborted as error:
        console.print(f"[red]aborted:[/] {error}")
        return 1
    report["total_seconds"] = round(time.monotonic() - started, 1)
    print_summary(console, report)
    if options.json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    return 0


def _run_all(
    console: Console, options: argparse.Namespace, report: dict[str, Any], tmp: Path, admin_url: str | None
) -> None:
    runs, ratios, count = report["runs"], report["ratios"], options.backlog
    console.print(
        f"[bold]Sync benchmark[/]: a backlog of {count:,} changes, {count // REVISIONS:,} registrations"
        f" x {REVISIONS}"
    )
    console.print(f"  revisions, interleaved by {options.interleave:,}; batches of {BATCH}")
    built = time.monotonic()
    seed_dir = tmp / "seed"
    seed_dir.mkdir()
    templates = make_templates(seed_dir)
    factory = ChangeFactory(templates, options.interleave)
    changes = list(factory.changes(count))
    backlog = tmp / "backlog.db"
    report["backlog"] = build_backlog(backlog, changes, count)
    console.print(f"  [bold]{'backlog':<20}{count:>7,} changes[/]  built in {time.monotonic() - built:.1f} s")
    console.print(
        f"{INDENT}{report['backlog']['record_bytes_avg']:,.0f} bytes a record on average,"
        f" a {report['backlog']['file_mb']:,.0f} MB province file"
    )

    runs["stream"] = run_stream(console, tmp, backlog, count)
    print_catch_up(console, "raw stream to sink", runs["stream"], "sink")

    rows = ledger_rows(changes)
    runs["insert_sqlite"] = bulk_insert(f"sqlite:///{tmp / 'insert.db'}", rows)
    _print_insert(console, "sqlite", runs["insert_sqlite"])
    (tmp / "insert.db").unlink(missing_ok=True)

    def spec_for(province_url: str) -> WriterSpec:
        return WriterSpec(province_url, templates, options.interleave, options.write_rate, WRITER_TRANSACTION)

    runs["catch_up_sqlite"], runs["sustained_sqlite"] = run_national(
        console,
        "sqlite",
        tmp,
        backlog,
        count,
        f"sqlite:///{tmp / 'sqlite' / 'national.db'}",
        spec_for,
        options.sustained_seconds,
    )
    shutil.rmtree(tmp / "sqlite", ignore_errors=True)  # ~0.5 GB; the next runs need the page cache

    if admin_url is not None:
        with fresh_database(admin_url) as database_url:
            runs["insert_postgresql"] = bulk_insert(database_url, rows)
        _print_insert(console, "postgresql", runs["insert_postgresql"])
        with fresh_database(admin_url) as database_url:
            runs["catch_up_postgresql"], runs["sustained_postgresql"] = run_national(
                console,
                "postgresql",
                tmp,
                backlog,
                count,
                database_url,
                spec_for,
                options.sustained_seconds,
                postgres_url=database_url,
            )
    del rows

    if options.baseline is not None:
        for key in LABELS:
            if key == "postgresql" and admin_url is None:
                continue
            with contextlib.ExitStack() as stack:
                url = (
                    f"sqlite:///{tmp / 'baseline.db'}"
                    if key == "sqlite"
                    else stack.enter_context(fresh_database(admin_url))  # type: ignore[arg-type]
                )
                runs[f"baseline_catch_up_{key}"], _ = run_national(
                    console, key, tmp, backlog, count, url, spec_for, 0, baseline=options.baseline
                )
            shutil.rmtree(tmp / f"{key}-baseline", ignore_errors=True)
            (tmp / "baseline.db").unlink(missing_ok=True)
            now, then = runs.get(f"catch_up_{key}"), runs[f"baseline_catch_up_{key}"]
            if now is not None:
                ratios[f"{key}_vs_baseline"] = now["changes_per_second"] / then["changes_per_second"]
                console.print(
                    f"  catch-up {LABELS[key]}: {now['changes_per_second']:,.0f} changes/s, baseline"
                    f" {then['changes_per_second']:,.0f}: {ratios[f'{key}_vs_baseline']:.3f} of it"
                )

    for key in LABELS:
        run, insert = runs.get(f"catch_up_{key}"), runs.get(f"insert_{key}")
        if run is not None:
            ratios[f"{key}_vs_stream"] = run["changes_per_second"] / runs["stream"]["changes_per_second"]
            if insert is not None:
                ratios[f"{key}_vs_insert"] = run["changes_per_second"] / insert["rows_per_second"]

    if options.e2e_registrations > 0:
        runs["e2e"] = run_e2e(console, tmp, options.e2e_registrations, options.e2e_announcement_days)
        print_e2e(console, runs["e2e"])


if __name__ == "__main__":
    sys.exit(main())
