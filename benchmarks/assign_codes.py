"""How fast does the national node assign codes, compared with what gRPC alone allows on this machine?

Three runs, one load generator::

    .venv/bin/python benchmarks/assign_codes.py [--seconds N] [--clients 16] [--processes 2]
                                                [--postgres-url URL] [--skip-postgres] [--json]

1. ``empty``: an empty unary method on ``benchmarks/empty_server.py`` (the node's own server set-up:
   ``NodeServer``, its interceptor and a ``ThreadPoolExecutor(max_workers=32)``). The ceiling.
2. ``sqlite``: single-code ``AssignCode`` calls against ``python -m national_node`` on a SQLite file.
3. ``postgresql``: the same against a national node on a database created for the run and dropped after.

Each server is a real process started on port 0, its address read from its first stdout line. Every
``AssignCode`` call is a new registration with a new request id, spread over nodes 320000, 440000 and
100000 (subjects with valid USCCs of their regions) and object types 1-3. The ratios
``codes/s ÷ empty calls/s`` say how much of the gRPC ceiling the coding authority keeps; the server CPU
per call says where that went. This is a measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import itertools
import json
import math
import multiprocessing
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

NODES = ("320000", "440000", "100000")
#: A county-level division in each node's region for the subjects' USCCs (100000 is the national node,
#: which registers subjects anywhere; Beijing's are used).
DIVISIONS = {"320000": "320106", "440000": "440305", "100000": "110000"}
PROVINCIAL_NODES = '[{"region": "320000"}, {"region": "440000"}]'
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

EMPTY_METHOD = "/bench.v1.EmptyService/Call"  # served by benchmarks/empty_server.py
WARMUP_SECONDS = 1.0
DEADLINE_SECONDS = 10.0  # per call
#: More errors than this in one run (warm-up included) abort the benchmark: the numbers would lie.
MAX_ERRORS = 5
#: Busy CPU (% of one core) of processes outside the run above which a run is flagged as disturbed.
OTHER_LOAD_WARNING = 15.0
#: How often pg_stat_activity is sampled during the PostgreSQL run (seconds).
PG_SAMPLE_INTERVAL = 0.05


class Aborted(Exception):
    """A run failed in a way that makes its numbers meaningless."""


# --------------------------------------------------------------------------------------------------
# Test data (copied from tests/factories.py, which is not an installed package)


def make_uscc(division: str, n: int, *, department: str = "9", category: str = "1") -> str:
    """A valid USCC (correct GB 32100 check character) for unit number ``n`` in ``division``."""
    from stdnum.cn import uscc as stdnum_uscc

    from common.codes import ALPHABET

    organization = ""
    for _ in range(8):
        n, rest = divmod(n, 31)
        organization = ALPHABET[rest] + organization
    body = f"{department}{category}{division}{organization}X"
    return body + stdnum_uscc.calc_check_digit(body)


# --------------------------------------------------------------------------------------------------
# The load generator: worker processes of client threads, each looping blocking unary calls.


@dataclass(frozen=True)
class WorkerSpec:
    kind: str  # "empty" or "assign"
    target: str
    first_client: int  # global index of this worker's first client thread
    threads: int
    tag: str  # unique per run, part of every registration and request id


def _empty_calls(channel: grpc.Channel, spec: WorkerSpec, client: int) -> tuple[Callable, Callable]:
    from google.protobuf import empty_pb2

    call = channel.unary_unary(
        EMPTY_METHOD,
        request_serializer=empty_pb2.Empty.SerializeToString,
        response_deserializer=empty_pb2.Empty.FromString,
        _registered_method=True,  # as the generated stubs do
    )
    return call, lambda _k: empty_pb2.Empty()


def _assign_calls(channel: grpc.Channel, spec: WorkerSpec, client: int) -> tuple[Callable, Callable]:
    from common.gen.registry.v1 import national_service_pb2 as ns
    from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc

    # A few subjects per node and client; every call is still a new registration and request id.
    subjects = {
        node: [make_uscc(d, 1000 * client + i + 1) for i in range(8)] for node, d in DIVISIONS.items()
    }

    def make(k: int) -> ns.AssignCodeRequest:
        j = client + k
        node = NODES[j % len(NODES)]
        key = f"{spec.tag}-{client}-{k}"
        return ns.AssignCodeRequest(
            node=f"nodes/{node}",
            issuer=node,
            object_type=1 + (j // len(NODES)) % 3,
            registration=f"nodes/{node}/registrations/r{key}",
            subject_uscc=subjects[node][k % 8],
            request_id=f"req-{key}",
        )

    return ns_grpc.NationalServiceStub(channel).AssignCode, make


def _worker_main(conn: Connection, spec: WorkerSpec) -> None:
    """Entry point of a load-generator process; talks to the coordinator over ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator cleans up on Ctrl-C
    try:
        _worker(conn, spec)
    except Exception:  # noqa: BLE001 - reported to the coordinator, which aborts
        with contextlib.suppress(OSError):
            conn.send(("failed", traceback.format_exc()))


def _worker(conn: Connection, spec: WorkerSpec) -> None:
    factory = _empty_calls if spec.kind == "empty" else _assign_calls
    # One channel (one HTTP/2 connection) per client, like independent callers.
    channels = [
        grpc.insecure_channel(spec.target, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(spec.threads)
    ]
    try:
        for channel in channels:
            grpc.channel_ready_future(channel).result(timeout=15)
        clients = [factory(ch, spec, spec.first_client + i) for i, ch in enumerate(channels)]
        conn.send(("ready", None))
        command, warm_end, end = conn.recv()
        if command != "go":
            return
        lock = threading.Lock()
        errors: list[str] = []
        latencies: list[list[float]] = [[] for _ in clients]  # of the calls that ended in the window

        def client(i: int) -> None:
            call, make = clients[i]
            mine = latencies[i]
            for k in itertools.count():
                request = make(k)
                started = time.monotonic()
                if started >= end:
                    return
                try:
                    call(request, timeout=DEADLINE_SECONDS)
                except grpc.RpcError as error:
                    with lock:
                        errors.append(f"{error.code().name}: {error.details()}")
                    if len(errors) > MAX_ERRORS:
                        return
                    continue
                done = time.monotonic()
                if warm_end <= done < end:
                    mine.append(done - started)
                if len(errors) > MAX_ERRORS:
                    return

        threads = [
            threading.Thread(target=client, args=(i,), name=f"client-{i}") for i in range(len(clients))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        conn.send(
            (
                "done",
                {
                    "latencies": [x for per_client in latencies for x in per_client],
                    "errors": errors,
                },
            )
        )
    finally:
        for channel in channels:
            channel.close()


# --------------------------------------------------------------------------------------------------
# Server processes and CPU accounting


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _clock_ticks()


def postgres_pids(database_url: str) -> list[int]:
    """Server processes working for the run: its database's backends and the background processes
    (WAL writer, checkpointer, ...; shared with anything else on the server). Empty if the server is
    not on this machine, where their CPU time cannot be read."""
    import psycopg

    with psycopg.connect(_libpq(database_url), autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND (datname = current_database() OR datname IS NULL)"
        ).fetchall()
    return [pid for (pid,) in rows if Path(f"/proc/{pid}").exists()]


class ServerProcess:
    """A server started as an operator would; its bound address is read from its first stdout line."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], workdir: Path) -> None:
        self.name, self.argv, self.workdir = name, argv, workdir
        self.env = {**os.environ, "REGISTRY_LISTEN": "127.0.0.1:0", "REGISTRY_LOG_LEVEL": "WARNING", **env}
        self.log = workdir / f"{name}.log"
        self.process: subprocess.Popen[str] | None = None
        self.address = ""

    def start(self, timeout: float = 60.0) -> ServerProcess:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.workdir,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                start_new_session=True,  # Ctrl-C reaches the coordinator only, which stops us in order
            )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or "listening on" not in line[0]:
            self.stop()
            raise Aborted(f"{self.name} did not start; the end of its log:\n{self.log_tail()}")
        self.address = line[0].rsplit(" ", 1)[1].strip()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text()[-chars:]
        except OSError:
            return ""

    def log_problems(self) -> list[str]:
        try:
            lines = self.log.read_text().splitlines()
        except OSError:
            return []
        return [line for line in lines if " WARNING " in line or " ERROR " in line or "Traceback" in line]

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if it does not go."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        if process.stdout and not process.stdout.closed:
            process.stdout.close()


# --------------------------------------------------------------------------------------------------
# PostgreSQL


def postgres_admin_url(arg: str | None) -> str:
    return arg or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES


def _libpq(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def postgres_facts(admin_url: str) -> dict[str, str]:
    """Server version and durability settings; raises if the server cannot be reached."""
    import psycopg

    with psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=5) as conn:
        facts = {}
        for setting in ("server_version", "synchronous_commit", "fsync", "max_connections"):
            facts[setting] = conn.execute(f"SHOW {setting}").fetchone()[0]
        return facts


@contextlib.contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """Creates a database for the run; yields its URL; drops it afterwards, whatever happened."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"registry_bench_{uuid.uuid4().hex[:12]}"
    admin = _libpq(admin_url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PgActivitySampler:
    """Samples what the run's backends are doing (pg_stat_activity) while the measured window runs."""

    def __init__(self, database_url: str) -> None:
        self.url = _libpq(database_url)
        self.counts: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-sampler", daemon=True)
        self._window = (0.0, 0.0)

    def start(self, window: tuple[float, float]) -> None:
        self._window = window
        self._thread.start()

    def _run(self) -> None:
        try:
            self._sample()
        except Exception as error:  # noqa: BLE001 - a diagnostic only; the run goes on without it
            self.counts[f"(sampling failed: {type(error).__name__}: {error})"] = 0

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            start, end = self._window
            while not self._stop.is_set() and time.monotonic() < end:
                if time.monotonic() < start:
                    time.sleep(PG_SAMPLE_INTERVAL)
                    continue
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND backend_type = 'client backend'"
                ).fetchall()
                self.samples += 1
                for state, wait_type, wait_event in rows:
                    if state == "active":
                        label = (
                            f"active, waiting on {wait_type}:{wait_event}" if wait_type else "active, on CPU"
                        )
                    elif state == "idle in transaction":
                        label = "idle in transaction: waiting for the node's next statement"
                    elif state == "idle":
                        label = "idle: in the node's pool, no transaction"
                    else:
                        label = state or "unknown"
                    self.counts[label] += 1
                time.sleep(PG_SAMPLE_INTERVAL)

    def stop(self) -> dict[str, float]:
        """Average number of the run's backends in each state (out of the pool's connections)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        if not self.samples:
            return {}
        return {label: round(n / self.samples, 2) for label, n in self.counts.most_common()}


# --------------------------------------------------------------------------------------------------
# One run


@dataclass
class RunResult:
    name: str
    seconds: float
    calls: int
    calls_per_second: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    error_samples: list[str]
    server_cpu_percent: float  # of one core, during the measured window
    server_cpu_ms_per_call: float
    clients_cpu_percent: float  # all load-generator processes together, of one core
    machine_cpu_percent: float  # all cores together, so up to nproc x 100
    interrupts_cpu_percent: float  # mostly the loopback network stack, charged to no process
    other_cpu_percent: float  # busy CPU used by none of the run's processes
    top_other_processes: list[tuple[str, float]]  # (name, % of one core) of the busiest of those
    postgres_cpu_percent: float | None = None
    postgres_backends: dict[str, float] = field(default_factory=dict)
    server_log_problems: int = 0


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def run_load(
    name: str,
    kind: str,
    server: ServerProcess,
    *,
    clients: int,
    processes: int,
    seconds: float,
    sampler: PgActivitySampler | None = None,
    postgres_url: str | None = None,
) -> RunResult:
    """Drives ``server`` with ``clients`` client threads spread over ``processes`` worker processes."""
    context = multiprocessing.get_context("spawn")
    tag = uuid.uuid4().hex[:8]
    per_process = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    workers: list[tuple[Any, Connection]] = []
    finished = False
    try:
        first = 0
        for threads in per_process:
            if not threads:
                continue
            ours, theirs = context.Pipe()
            spec = WorkerSpec(kind=kind, target=server.address, first_client=first, threads=threads, tag=tag)
            process = context.Process(target=_worker_main, args=(theirs, spec), daemon=True)
            process.start()
            theirs.close()
            workers.append((process, ours))
            first += threads
        for process, conn in workers:
            kind_, payload = _receive(conn, process, 60, "getting ready")
            if kind_ != "ready":
                raise Aborted(f"a load-generator process failed while getting ready:\n{payload}")
        now = time.monotonic()
        warm_end = now + WARMUP_SECONDS
        end = warm_end + seconds
        if sampler:
            sampler.start((warm_end, end))
        for _process, conn in workers:
            conn.send(("go", warm_end, end))

        time.sleep(max(0.0, warm_end - 0.2 - time.monotonic()))
        pg_pids = postgres_pids(postgres_url) if postgres_url else []  # once the warm-up filled the pool
        time.sleep(max(0.0, warm_end - time.monotonic()))
        cpu_before = _cpu_snapshot(server, workers, pg_pids)
        time.sleep(max(0.0, end - time.monotonic()))
        cpu_after = _cpu_snapshot(server, workers, pg_pids)
        window = cpu_after["elapsed"] - cpu_before["elapsed"]
        procs_before, procs_after = cpu_before.pop("processes"), cpu_after.pop("processes")
        ours = {os.getpid(), server.pid, *pg_pids, *(process.pid for process, _ in workers)}
        others = _top_others(procs_before, procs_after, ours, window)
        cpu = {k: (cpu_after[k] - cpu_before[k]) / window * 100 for k in cpu_before}
        # Busy CPU that none of this run's processes used: another workload skews the numbers.
        accounted = cpu["server"] + cpu["clients"] + cpu.get("postgres", 0.0) + cpu["interrupts"]
        cpu["other"] = cpu["machine"] - accounted

        latencies: list[float] = []
        errors: list[str] = []
        for process, conn in workers:
            kind_, payload = _receive(conn, process, DEADLINE_SECONDS + 30, "running")
            if kind_ != "done":
                raise Aborted(f"a load-generator process failed:\n{payload}")
            latencies.extend(payload["latencies"])
            errors.extend(payload["errors"])
        backends = sampler.stop() if sampler else {}
        finished = True
    finally:
        if sampler:
            sampler.stop()
        for _process, conn in workers:
            with contextlib.suppress(OSError):
                conn.send(("stop", 0.0, 0.0))
            conn.close()
        for process, _conn in workers:
            # Done workers exit at once; on an error or Ctrl-C they may be mid-run: no need to wait.
            process.join(5 if finished else 0.2)
            if process.is_alive():
                process.kill()
                process.join(5)

    latencies.sort()
    calls = len(latencies)
    result = RunResult(
        name=name,
        seconds=seconds,
        calls=calls,
        calls_per_second=calls / seconds,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        max_ms=(latencies[-1] if latencies else math.nan) * 1000,
        errors=len(errors),
        error_samples=sorted(set(errors))[:5],
        server_cpu_percent=cpu["server"],
        server_cpu_ms_per_call=(cpu["server"] / 100 * seconds) / calls * 1000 if calls else math.nan,
        clients_cpu_percent=cpu["clients"],
        machine_cpu_percent=cpu["machine"],
        interrupts_cpu_percent=cpu["interrupts"],
        other_cpu_percent=cpu["other"],
        top_other_processes=others,
        postgres_cpu_percent=cpu.get("postgres"),
        postgres_backends=backends,
        server_log_problems=len(server.log_problems()),
    )
    if len(errors) > MAX_ERRORS:
        samples = "\n  ".join(result.error_samples)
        raise Aborted(
            f"{name}: {len(errors)} failed calls (more than {MAX_ERRORS}); for example:\n  {samples}"
        )
    return result


def _receive(conn: Connection, process: Any, timeout: float, doing: str) -> tuple[str, Any]:
    if not conn.poll(timeout):
        raise Aborted(f"a load-generator process did not answer within {timeout:.0f}s while {doing}")
    try:
        return conn.recv()
    except EOFError:
        process.join(2)
        raise Aborted(f"a load-generator process died while {doing} (exit code {process.exitcode})") from None


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU time of all cores since boot (from /proc/stat): (busy, of which in interrupts).

    Interrupt time (mostly softirq: here, the loopback TCP stack) is charged to no process.
    """
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal; guest is in user
    return busy / _clock_ticks(), (fields[5] + fields[6]) / _clock_ticks()


def all_processes_cpu() -> dict[int, tuple[str, float]]:
    """(name, CPU seconds so far) of every process on the machine, by pid."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        name = text[text.find("(") + 1 : text.rfind(")")]
        found[int(stat.parent.name)] = (name, (int(fields[11]) + int(fields[12])) / _clock_ticks())
    return found


def _cpu_snapshot(
    server: ServerProcess, workers: list[tuple[Any, Connection]], pg_pids: list[int]
) -> dict[str, Any]:
    busy, interrupts = machine_cpu_seconds()
    snapshot: dict[str, Any] = {
        "elapsed": time.monotonic(),
        "machine": busy,
        "interrupts": interrupts,
        "server": cpu_seconds(server.pid),
        "clients": sum(cpu_seconds(process.pid) for process, _ in workers),
        "processes": all_processes_cpu(),
    }
    if pg_pids:
        snapshot["postgres"] = sum(cpu_seconds(pid) for pid in pg_pids)
    return snapshot


def _top_others(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], ours: set[int], window: float
) -> list[tuple[str, float]]:
    """The processes outside the run that used the most CPU in the window (% of one core)."""
    used: collections.Counter[str] = collections.Counter()
    for pid, (name, seconds) in after.items():
        if pid not in ours:
            name = name.split("-", 1)[0] if name.startswith("kworker") else name  # kworker/1:2-events
            used[name] += (seconds - before.get(pid, (name, 0.0))[1]) / window * 100
    return [(name, round(percent)) for name, percent in used.most_common(3) if percent >= 2]


# --------------------------------------------------------------------------------------------------
# Machine facts and output


def _filesystem_of(path: Path) -> str:
    best, kind = "", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) >= len(best):
                best, kind = parts[1], parts[2]
    return kind


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _git_commit() -> str:
    try:  # read-only: rev-parse does not touch the index
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.stdout.strip() or "?"


def machine_facts(tmp: Path) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": socket.gethostname(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
        "sqlite": sqlite3.sqlite_version,
        "sqlite_temp_fs": _filesystem_of(tmp),
        "git_commit": _git_commit(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


INDENT = " " * 14


def print_run(console: Console, result: RunResult) -> None:
    """A few lines of at most 80 columns."""
    console.print(
        f"  [bold]{result.name:<11}{result.calls_per_second:>6,.0f} calls/s[/]"
        f"  p50 {_ms(result.p50_ms)} ms  p99 {_ms(result.p99_ms)} ms  max {_ms(result.max_ms)} ms"
    )
    console.print(f"{INDENT}{result.calls:,} calls in {result.seconds:g} s, {result.errors} errors")
    cpu = (
        f"server {result.server_cpu_percent:.0f} = {_ms(result.server_cpu_ms_per_call)} ms/call,"
        f" clients {result.clients_cpu_percent:.0f}"
    )
    if result.postgres_cpu_percent is not None:
        cpu += f", pg {result.postgres_cpu_percent:.0f}"
    console.print(f"{INDENT}CPU (% of 1 core): {cpu}")
    console.print(
        f"{INDENT}machine busy {result.machine_cpu_percent:.0f} of {100 * len(os.sched_getaffinity(0))}:"
        f" interrupts {result.interrupts_cpu_percent:.0f}, other processes"
        f" {max(0.0, result.other_cpu_percent):.0f}"
    )
    if result.top_other_processes:
        names = ", ".join(f"{name} {percent:g}" for name, percent in result.top_other_processes)
        console.print(f"{INDENT}busiest other processes: {names}")
    if result.other_cpu_percent > OTHER_LOAD_WARNING:
        console.print(f"{INDENT}[yellow]warning: other processes used the CPU: numbers not comparable[/]")
    if result.error_samples:
        console.print(f"{INDENT}errors, for example: {'; '.join(result.error_samples)}")
    if result.server_log_problems:
        console.print(f"{INDENT}the server logged {result.server_log_problems} warning/error lines")
    if result.postgres_backends:
        console.print(f"{INDENT}the run's PostgreSQL backends, on average:")
        for label, n in result.postgres_backends.items():
            console.print(f"{INDENT}{n:5.2f} {label}")


LABELS = {"empty": "empty method", "sqlite": "SQLite", "postgresql": "PostgreSQL"}


def print_summary(console: Console, report: dict[str, Any]) -> None:
    runs: dict[str, dict[str, Any] | None] = report["runs"]
    table = Table(title="  AssignCode vs. an empty unary call", title_justify="left")
    table.add_column("run")
    for column in ("calls/s", "p50 ms", "p99 ms", "errors", "server CPU\nms/call", "calls/s ÷\nempty's"):
        table.add_column(column, justify="right")
    for key, label in LABELS.items():
        run = runs.get(key)
        if run is None:
            table.add_row(label, "[dim]skipped[/]", *[""] * 5)
            continue
        ratio = report["ratios"].get(key)
        table.add_row(
            label,
            f"{run['calls_per_second']:,.0f}",
            _ms(run["p50_ms"]),
            _ms(run["p99_ms"]),
            str(run["errors"]),
            _ms(run["server_cpu_ms_per_call"]),
            "1" if key == "empty" else (f"{ratio:.3f}" if ratio is not None else "-"),
        )
    console.print()
    console.print(table)
    for key in ("sqlite", "postgresql"):
        ratio = report["ratios"].get(key)
        if ratio:
            console.print(
                f"  codes/s on {LABELS[key]}: {ratio:.1%} of the empty calls/s"
                f" (a code = {1 / ratio:.1f} empty calls)"
            )
        elif key in report["skipped"]:
            console.print(f"  {LABELS[key]}: skipped ({report['skipped'][key]})")
    facts, config = report["machine"], report["config"]
    pg = facts.get("postgresql", {})
    load = ", ".join(f"{x:g}" for x in facts["load_average_at_start"])
    console.print()
    console.print(f"  machine: {facts['host']}, nproc {facts['nproc']}, {facts['cpu']}, load average {load}")
    console.print(
        f"  Python {facts['python']}, grpcio {facts['grpcio']},"
        f" SQLite {facts['sqlite']} (database on {facts['sqlite_temp_fs']})"
    )
    if pg:
        console.print(
            f"  PostgreSQL {pg['server_version']}, synchronous_commit={pg['synchronous_commit']},"
            f" fsync={pg['fsync']}"
        )
    console.print(
        f"  {config['clients']} clients = {config['processes']} processes x"
        f" {config['threads_per_process']} threads, a channel each;"
        f" {config['warmup_seconds']:g} s warm-up + {config['seconds']:g} s a run"
    )
    console.print(f"  commit {facts['git_commit']}, {facts['date']}")


# --------------------------------------------------------------------------------------------------
# Main


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="assign_codes.py",
        description="Codes per second of the national node on SQLite and PostgreSQL, next to the rate of"
        " an empty gRPC method on the same server set-up and load generator.",
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run (default 10)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="load-generator processes the clients are spread over (default 2: one per core here)",
    )
    parser.add_argument(
        "--postgres-url",
        help=f"server to create the run's database on (default: $TEST_DATABASE_URL, else {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="do not run the PostgreSQL benchmark")
    parser.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    options = parser.parse_args(argv)
    if options.seconds <= 0 or options.clients < 1 or options.processes < 1:
        parser.error("--seconds, --clients and --processes must be positive")
    # Python client threads share one GIL per process, and the servers are Python too: 16 threads in
    # one process would measure the client's GIL, not the server. Two processes of 8 threads (one per
    # core of this 2-core machine) keep the client cheap enough that the server is the bottleneck,
    # while leaving the server its core; more processes would only take CPU from it.
    options.processes = min(options.processes, options.clients)
    return options


def _node_argv() -> list[str]:
    return [sys.executable, "-m", "national_node"]


def _node_env(database_url: str) -> dict[str, str]:
    return {"REGISTRY_DATABASE_URL": database_url, "REGISTRY_PROVINCIAL_NODES": PROVINCIAL_NODES}


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    console = Console(stderr=options.json, highlight=False)

    def _on_sigterm(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_sigterm)
    load = {"clients": options.clients, "processes": options.processes, "seconds": options.seconds}
    report: dict[str, Any] = {
        "config": {
            **load,
            "threads_per_process": math.ceil(options.clients / options.processes),
            "warmup_seconds": WARMUP_SECONDS,
            "deadline_seconds": DEADLINE_SECONDS,
        },
        "runs": {"empty": None, "sqlite": None, "postgresql": None},
        "skipped": {},
        "ratios": {},
    }
    try:
        with tempfile.TemporaryDirectory(prefix="registry-bench-", ignore_cleanup_errors=True) as tmp_name:
            tmp = Path(tmp_name)
            report["machine"] = machine_facts(tmp)
            admin_url = postgres_admin_url(options.postgres_url)
            if options.skip_postgres:
                report["skipped"]["postgresql"] = "--skip-postgres"
            else:
                try:
                    report["machine"]["postgresql"] = postgres_facts(admin_url)
                except Exception as error:  # noqa: BLE001 - any failure to connect means: skip it
                    first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
                    report["skipped"]["postgresql"] = f"{_shown(admin_url)} unreachable: {first_line}"
            console.print(
                f"[bold]AssignCode benchmark[/]: {options.clients} clients"
                f" ({options.processes} processes), {WARMUP_SECONDS:g} s warm-up +"
                f" {options.seconds:g} s per run"
            )
            _run_all(console, options, report, tmp, admin_url)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; servers, load generators and temporary databases cleaned up")
        return 130
    except Aborted as error:
        console.print(f"[red]aborted:[/] {error}")
        return 1
    print_summary(console, report)
    if options.json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    return 0


def _run_all(
    console: Console, options: argparse.Namespace, report: dict[str, Any], tmp: Path, admin_url: str
) -> None:
    load = {"clients": options.clients, "processes": options.processes, "seconds": options.seconds}
    runs = report["runs"]

    workdir = tmp / "empty"
    workdir.mkdir()
    server = ServerProcess(
        "empty_server", [sys.executable, str(HERE / "empty_server.py")], env={}, workdir=workdir
    )
    try:
        server.start()
        result = run_load("empty", "empty", server, **load)
    finally:
        server.stop()
    print_run(console, result)
    runs["empty"] = asdict(result)

    workdir = tmp / "sqlite"
    workdir.mkdir()
    url = f"sqlite:///{workdir / 'national.db'}"
    server = ServerProcess("national_node", _node_argv(), env=_node_env(url), workdir=workdir)
    try:
        server.start()
        result = run_load("sqlite", "assign", server, **load)
    finally:
        server.stop()
    print_run(console, result)
    runs["sqlite"] = asdict(result)

    if "postgresql" in report["skipped"]:
        console.print(f"  [yellow]postgresql: skipped[/] ({report['skipped']['postgresql']})")
    else:
        with fresh_postgres_database(admin_url) as database_url:
            workdir = tmp / "postgresql"
            workdir.mkdir()
            server = ServerProcess(
                "national_node", _node_argv(), env=_node_env(database_url), workdir=workdir
            )
            try:
                server.start()
                sampler = PgActivitySampler(database_url)
                result = run_load(
                    "postgresql", "assign", server, **load, sampler=sampler, postgres_url=database_url
                )
            finally:
                server.stop()
        print_run(console, result)
        runs["postgresql"] = asdict(result)

    empty_rate = runs["empty"]["calls_per_second"]
    for key in ("sqlite", "postgresql"):
        if runs[key] is not None and empty_rate:
            report["ratios"][key] = runs[key]["calls_per_second"] / empty_rate


if __name__ == "__main__":
    sys.exit(main())
