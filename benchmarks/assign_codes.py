"""How fast does the national node assign codes, compared with what gRPC alone allows on this machine?

Three runs, one load generator::

    .venv/bin/python -m benchmarks.assign_codes [--seconds N] [--clients 16] [--processes 2]
        [--warmup 1] [--postgres-url URL] [--skip-postgres] [--smoke] [--json]

1. ``empty``: an empty unary method on ``benchmarks.empty_server`` (the node's own server set-up:
   ``NodeServer``, its boundary and a ``ThreadPoolExecutor(max_workers=32)``). The ceiling.
2. ``sqlite``: single-code ``AssignCode`` calls against ``python -m national_node`` on a SQLite file.
3. ``postgresql``: the same against a national node on a database created for the run and dropped after.

Each server is a real process started on port 0, its address read from its first stdout line. Every
``AssignCode`` call is a new registration with a new request id, spread over nodes 320000, 440000 and
100000 (subjects with valid USCCs of their regions) and object types 1-3; the registrations are put
into the national ledger, waiting for their code, before the run (the authority codes nothing else).
The ratios ``codes/s ÷ empty calls/s`` say how much of the gRPC ceiling the coding authority keeps;
the server CPU per call says where that went. ``--smoke`` runs everything for half a second with 4
clients: it shows the benchmark runs, its numbers mean little. This is a measurement, not a test:
nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import grpc
from rich.console import Console
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
from tests.postgres import fresh_database

__all__ = ["RunResult", "WorkerSpec", "main", "run_load"]

NODES = ("320000", "440000", "100000")
#: A county-level division in each node's region for the subjects' USCCs (100000 is the national node,
#: which registers subjects anywhere; Beijing's are used).
DIVISIONS = {"320000": "320106", "440000": "440305", "100000": "110000"}
PROVINCIAL_NODES = '[{"region": "320000"}, {"region": "440000"}]'

DEADLINE_SECONDS = 10.0  # per call
#: More errors than this in one run (warm-up included) abort the benchmark: the numbers would lie.
MAX_ERRORS = 5
#: Sizes: the default run, and ``--smoke`` (a few seconds in all, to show that it runs: half a second a
#: run is a few hundred calls even on a loaded machine, enough for every figure to exist).
DEFAULTS = {"seconds": 10.0, "clients": 16, "processes": 2, "warmup": 1.0}
SMOKE = {"seconds": 0.5, "clients": 4, "processes": 2, "warmup": 0.2}


# --------------------------------------------------------------------------------------------------
# The load generator: worker processes of client threads, each looping blocking unary calls.


@dataclass(frozen=True)
class WorkerSpec:
    kind: str  # "empty" or "assign"
    target: str
    first_client: int  # global index of this worker's first client thread
    threads: int
    tag: str  # unique per run, part of every registration and request id
    #: For "assign": a few subjects per node (USCCs), shared by every client of the run.
    subjects: dict[str, list[str]] = field(default_factory=dict)


#: Set (to 1) in the environment when the load generators talk plaintext.
PLAINTEXT = "BENCHMARK_PLAINTEXT"


def _transport(region: str, *, tokens: bool = True) -> dict[str, str]:
    """What a benchmark server needs for mutual TLS as the node of ``region`` (nothing in plaintext);
    without ``tokens``, no token key set (the empty server then identifies no caller)."""
    if os.environ.get(PLAINTEXT) == "1":
        return {}
    from tests.trust import node_env

    env = node_env(region)
    return env if tokens else {k: v for k, v in env.items() if not k.startswith("REGISTRY_AUTH__")}


#: The empty method's runs: how the clients call (see :func:`_worker`), what the server checks.
EMPTY_KINDS = {
    "empty-plaintext": "plaintext, nothing checked",
    "empty": "mutual TLS (a node's certificate)",
    "empty-token": "mutual TLS + a bearer token, the same one each call",
    "empty-tokens": "mutual TLS + a bearer token, a new one each call",
}
#: Tokens per client for ``empty-tokens``: together more than the server remembers, so that every call's
#: token is verified (see ``common.rpc.auth._VerifiedTokens``).
TOKENS_PER_CLIENT = 600


Calls = tuple[Callable[..., Any], Callable[[int], Any]]  # (the stub's method, request number -> request)


def _empty_calls(channel: grpc.Channel, spec: WorkerSpec, client: int) -> Calls:
    from google.protobuf import empty_pb2

    from benchmarks.empty_server import METHOD

    call = channel.unary_unary(
        METHOD,
        request_serializer=empty_pb2.Empty.SerializeToString,
        response_deserializer=empty_pb2.Empty.FromString,
        _registered_method=True,  # type: ignore[call-arg]  # as the generated stubs do
    )
    if spec.kind not in ("empty-token", "empty-tokens"):
        return call, lambda _k: empty_pb2.Empty()
    from tests.trust import trust

    issuer = trust().issuer()
    count = TOKENS_PER_CLIENT if spec.kind == "empty-tokens" else 1
    metadata = [
        (("authorization", f"Bearer {issuer.issue(f'bench-{client}-{i}', name='bench', roles=['clerk'])}"),)
        for i in range(count)
    ]
    request = empty_pb2.Empty()

    def with_token(k: int, *, timeout: float) -> empty_pb2.Empty:
        return call(request, metadata=metadata[k % count], timeout=timeout)

    return with_token, lambda k: k  # the "request" is the call's number: which token it sends


def _subjects() -> dict[str, list[str]]:
    from tests.factories import make_uscc

    # A few subjects per node; every call is still a new registration and request id.
    return {node: [make_uscc(d) for _ in range(8)] for node, d in DIVISIONS.items()}


def _code_request(spec: WorkerSpec, client: int, k: int) -> Any:
    """The ``k``-th AssignCodeRequest of ``client``: the same in the load generator and the seeder."""
    from common.gen.registry.v1 import national_service_pb2 as ns

    node = NODES[client % len(NODES)]  # each client is one node (its certificate), as in production
    j = client + k
    key = f"{spec.tag}-{client}-{k}"
    return ns.AssignCodeRequest(
        node=f"nodes/{node}",
        issuer=node,
        object_type=1 + (j // len(NODES)) % 3,  # type: ignore[arg-type]
        registration=f"nodes/{node}/registrations/r{key}",
        subject_uscc=spec.subjects[node][k % 8],
        request_id=f"req-{key}",
    )


#: Registrations put into the ledger per client and second of a run: more than a client can code.
SEEDED_PER_CLIENT_SECOND = 300


def _seed_ledger(database_url: str, spec: WorkerSpec, clients: int, seconds: float) -> None:
    """The coding authority codes only what the national ledger holds waiting for a code: the
    registrations the run will ask for are put there first (as the provinces' feeds would)."""
    from tests.sync_support import waiting_for_code

    per_client = math.ceil(seconds * SEEDED_PER_CLIENT_SECOND) + 50
    waiting_for_code(
        database_url, (_code_request(spec, c, k) for c in range(clients) for k in range(per_client))
    )


def _assign_calls(channel: grpc.Channel, spec: WorkerSpec, client: int) -> Calls:
    from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc

    return ns_grpc.NationalServiceStub(channel).AssignCode, lambda k: _code_request(spec, client, k)


def _worker_main(conn: Connection, spec: WorkerSpec) -> None:
    """Entry point of a load-generator process; talks to the coordinator over ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator cleans up on Ctrl-C
    try:
        _worker(conn, spec)
    except Exception:  # reported to the coordinator, which aborts
        with contextlib.suppress(OSError):
            conn.send(("failed", traceback.format_exc()))


def _worker(conn: Connection, spec: WorkerSpec) -> None:
    factory = _empty_calls if spec.kind.startswith("empty") else _assign_calls
    # One channel (one HTTP/2 connection) per client, like independent callers.
    options = [("grpc.use_local_subchannel_pool", 1)]
    if os.environ.get(PLAINTEXT) == "1" or spec.kind == "empty-plaintext":
        channels = [grpc.insecure_channel(spec.target, options=options) for _ in range(spec.threads)]
    elif spec.kind in ("empty-token", "empty-tokens"):  # a person, through a tool's certificate
        from tests.trust import channel

        channels = [channel(spec.target, options=options) for _ in range(spec.threads)]
    else:  # as each node calls: mutual TLS with its certificate
        from tests.trust import channel

        nodes = [NODES[(spec.first_client + i) % len(NODES)] for i in range(spec.threads)]
        channels = [channel(spec.target, node=n, options=options) for n in nodes]
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
        latencies_all = [x for per_client in latencies for x in per_client]
        conn.send(("done", {"latencies": latencies_all, "errors": errors}))
    finally:
        for channel in channels:
            channel.close()


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


def run_load(
    name: str,
    kind: str,
    server: ServerProcess,
    *,
    clients: int,
    processes: int,
    seconds: float,
    warmup: float,
    sampler: PgActivitySampler | None = None,
    postgres_url: str | None = None,
    ledger_url: str | None = None,
) -> RunResult:
    """Drives ``server`` with ``clients`` client threads spread over ``processes`` worker processes:
    ``warmup`` seconds, then ``seconds`` measured. ``ledger_url``: the national database, for an
    "assign" run (its registrations are put into the ledger first)."""
    context = multiprocessing.get_context("spawn")
    tag = uuid.uuid4().hex[:8]
    subjects = _subjects() if kind == "assign" else {}
    if kind == "assign":
        assert ledger_url is not None, "an assign run needs the national database"
        template = WorkerSpec(kind, server.address, 0, 0, tag, subjects)
        _seed_ledger(ledger_url, template, clients, seconds + warmup)
    per_process = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    workers: list[tuple[BaseProcess, Connection]] = []
    finished = False
    try:
        first = 0
        for threads in per_process:
            if not threads:
                continue
            ours, theirs = context.Pipe()
            spec = WorkerSpec(
                kind=kind,
                target=server.address,
                first_client=first,
                threads=threads,
                tag=tag,
                subjects=subjects,
            )
            worker = context.Process(target=_worker_main, args=(theirs, spec), daemon=True)
            worker.start()
            theirs.close()
            workers.append((worker, ours))
            first += threads
        for process, conn in workers:
            kind_, payload = receive(conn, process, 60, "a load-generator process", "getting ready")
            if kind_ != "ready":
                raise Aborted(f"a load-generator process failed while getting ready:\n{payload}")
        now = time.monotonic()
        warm_end = now + warmup
        end = warm_end + seconds
        if sampler:
            sampler.start((warm_end, end))
        for _process, conn in workers:
            conn.send(("go", warm_end, end))

        time.sleep(max(0.0, warm_end - 0.2 - time.monotonic()))
        pg_pids = postgres_pids(postgres_url) if postgres_url else []  # once the warm-up filled the pool
        groups = {
            "server": [server.pid],
            "clients": [process.pid for process, _ in workers if process.pid is not None],
            "postgres": pg_pids,
        }
        time.sleep(max(0.0, warm_end - time.monotonic()))
        meter = CpuMeter(groups)
        time.sleep(max(0.0, end - time.monotonic()))
        cpu = meter.stop(groups)

        latencies: list[float] = []
        errors: list[str] = []
        for process, conn in workers:
            kind_, payload = receive(
                conn, process, DEADLINE_SECONDS + 30, "a load-generator process", "running"
            )
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
    server_cpu = cpu["processes"]["server"]
    result = RunResult(
        name=name,
        seconds=seconds,
        calls=calls,
        calls_per_second=calls / seconds,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        max_ms=(latencies[-1] if latencies else math.nan) * 1000,
        errors=len(errors),
        error_samples=sorted(set(errors))[:5],
        server_cpu_percent=server_cpu,
        server_cpu_ms_per_call=(server_cpu / 100 * seconds) / calls * 1000 if calls else math.nan,
        clients_cpu_percent=cpu["processes"]["clients"],
        machine_cpu_percent=cpu["machine"],
        interrupts_cpu_percent=cpu["interrupts"],
        other_cpu_percent=cpu["other"],
        top_other_processes=cpu["top_other_processes"],
        postgres_cpu_percent=cpu["processes"]["postgres"] if pg_pids else None,
        postgres_backends=backends,
        server_log_problems=len(server.log_problems()),
    )
    if len(errors) > MAX_ERRORS:
        samples = "\n  ".join(result.error_samples)
        raise Aborted(
            f"{name}: {len(errors)} failed calls (more than {MAX_ERRORS}); for example:\n  {samples}"
        )
    return result


# --------------------------------------------------------------------------------------------------
# Output


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


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
    print_machine_busy(
        console,
        result.machine_cpu_percent,
        result.interrupts_cpu_percent,
        result.other_cpu_percent,
        result.top_other_processes,
    )
    if result.error_samples:
        console.print(f"{INDENT}errors, for example: {'; '.join(result.error_samples)}")
    if result.server_log_problems:
        console.print(f"{INDENT}the server logged {result.server_log_problems} warning/error lines")
    print_backends(console, result.postgres_backends)


LABELS = {
    "empty-plaintext": "empty method, plaintext",
    "empty": "empty method (mTLS)",
    "empty-token": "empty, mTLS + same token",
    "empty-tokens": "empty, mTLS + new tokens",
    "sqlite": "SQLite",
    "postgresql": "PostgreSQL",
}


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
    trust = report.get("trust") or {}
    for kind, label in EMPTY_KINDS.items():
        if kind in trust:
            figures = trust[kind]
            console.print(
                f"  empty method, {label}: {figures['calls_per_second_vs_plaintext']:.2f} x plaintext's"
                f" calls/s, +{figures['server_cpu_us_per_call_over_plaintext']:.0f} µs server CPU a call"
            )
    if "token_verification_us_per_call" in trust:
        console.print(
            f"  verifying a token (a new one each call, over the same one): "
            f"{trust['token_verification_us_per_call']:.0f} µs server CPU a call"
        )
    config = report["config"]
    print_machine(console, report["machine"], "database")
    console.print(
        f"  {config['clients']} clients = {config['processes']} processes x"
        f" {config['threads_per_process']} threads, a channel each;"
        f" {config['warmup_seconds']:g} s warm-up + {config['seconds']:g} s a run"
    )
    console.print(f"  commit {report['machine']['git_commit']}, {report['machine']['date']}")


# --------------------------------------------------------------------------------------------------
# Main


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.assign_codes",
        description="Codes per second of the national node on SQLite and PostgreSQL, next to the rate of"
        " an empty gRPC method on the same server set-up and load generator.",
    )
    parser.add_argument("--seconds", type=float, help="measured seconds per run (default 10)")
    parser.add_argument("--clients", type=int, help="concurrent clients (default 16)")
    parser.add_argument(
        "--processes",
        type=int,
        help="load-generator processes the clients are spread over (default 2: one per core here)",
    )
    parser.add_argument(
        "--warmup", type=float, help="seconds of each run before the measured ones (default 1)"
    )
    parser.add_argument(
        "--postgres-url",
        help="server to create the run's database on (default: $TEST_DATABASE_URL, else"
        " postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument("--skip-postgres", action="store_true", help="do not run the PostgreSQL benchmark")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few seconds in all: 1 s a run, 0.5 s warm-up, 4 clients (shows that it runs; sizes given"
        " explicitly still apply)",
    )
    parser.add_argument(
        "--plaintext",
        action="store_true",
        help="talk plaintext, without certificates: only against a node of a version before mutual TLS"
        " (for a comparison); the current nodes refuse it",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    options = parser.parse_args(argv)
    if options.plaintext:
        os.environ[PLAINTEXT] = "1"  # the load-generator processes inherit it
    for key, value in (SMOKE if options.smoke else DEFAULTS).items():
        if getattr(options, key) is None:
            setattr(options, key, value)
    if options.seconds <= 0 or options.clients < 1 or options.processes < 1 or options.warmup < 0:
        parser.error("--seconds, --clients and --processes must be positive, --warmup not negative")
    # Python client threads share one GIL per process, and the servers are Python too: 16 threads in
    # one process would measure the client's GIL, not the server. Two processes of 8 threads (one per
    # core of this 2-core machine) keep the client cheap enough that the server is the bottleneck,
    # while leaving the server its core; more processes would only take CPU from it.
    options.processes = min(options.processes, options.clients)
    return options


def _node_env(database_url: str) -> dict[str, str]:
    # One process on PostgreSQL too (it would run one per core): this run measures what one process
    # does per code, next to the empty method on one process (benchmarks.country runs N).
    return {
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_PROVINCIAL_NODES": PROVINCIAL_NODES,
        "REGISTRY_WORKERS": "1",
    }


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    console = Console(stderr=options.json, highlight=False)
    stop_on_sigterm()
    report: dict[str, Any] = {
        "config": {
            "clients": options.clients,
            "processes": options.processes,
            "seconds": options.seconds,
            "threads_per_process": math.ceil(options.clients / options.processes),
            "warmup_seconds": options.warmup,
            "deadline_seconds": DEADLINE_SECONDS,
            "smoke": options.smoke,
        },
        "runs": {"empty": None, "sqlite": None, "postgresql": None},
        "trust": {},
        "skipped": {},
        "ratios": {},
    }
    try:
        with tempfile.TemporaryDirectory(prefix="registry-bench-", ignore_cleanup_errors=True) as tmp_name:
            tmp = Path(tmp_name)
            report["machine"] = machine_facts(tmp)
            admin_url, facts, skipped = reach_postgres(options.postgres_url, skip=options.skip_postgres)
            if admin_url is None:
                report["skipped"]["postgresql"] = skipped
            else:
                report["machine"]["postgresql"] = facts
            console.print(
                f"[bold]AssignCode benchmark[/]: {options.clients} clients"
                f" ({options.processes} processes), {options.warmup:g} s warm-up +"
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


def _measure(
    name: str,
    kind: str,
    server: ServerProcess,
    options: argparse.Namespace,
    database_url: str | None = None,
    *,
    ledger_url: str | None = None,
) -> RunResult:
    """Starts ``server``, drives it, stops it (``database_url``: a PostgreSQL database to sample;
    ``ledger_url``: the national node's database, for an assign run)."""
    load = {
        "clients": options.clients,
        "processes": options.processes,
        "seconds": options.seconds,
        "warmup": options.warmup,
    }
    try:
        server.start()
        sampler = PgActivitySampler(database_url) if database_url else None
        return run_load(
            name, kind, server, **load, sampler=sampler, postgres_url=database_url, ledger_url=ledger_url
        )
    finally:
        server.stop()


def _run_all(
    console: Console, options: argparse.Namespace, report: dict[str, Any], tmp: Path, admin_url: str | None
) -> None:
    runs = report["runs"]

    # The empty method: plaintext, then each layer of trust added (only plaintext against old nodes).
    kinds = ["empty"] if os.environ.get(PLAINTEXT) == "1" else list(EMPTY_KINDS)
    for kind in kinds:
        workdir = tmp / kind
        workdir.mkdir()
        env = (
            {}
            if kind == "empty-plaintext"
            else _transport("100000", tokens=kind in ("empty-token", "empty-tokens"))
        )
        server = ServerProcess("empty_server", "benchmarks.empty_server", env=env, workdir=workdir)
        result = _measure(kind, kind, server, options)
        print_run(console, result)
        runs[kind] = asdict(result)

    workdir = tmp / "sqlite"
    workdir.mkdir()
    url = f"sqlite:///{workdir / 'national.db'}"
    server = ServerProcess("national_node", "national_node", env=_node_env(url), workdir=workdir)
    result = _measure("sqlite", "assign", server, options, ledger_url=url)
    print_run(console, result)
    runs["sqlite"] = asdict(result)

    if admin_url is None:
        console.print(f"  [yellow]postgresql: skipped[/] ({report['skipped']['postgresql']})")
    else:
        with fresh_database(admin_url) as database_url:
            workdir = tmp / "postgresql"
            workdir.mkdir()
            server = ServerProcess(
                "national_node", "national_node", env=_node_env(database_url), workdir=workdir
            )
            result = _measure("postgresql", "assign", server, options, database_url, ledger_url=database_url)
        print_run(console, result)
        runs["postgresql"] = asdict(result)

    empty_rate = runs["empty"]["calls_per_second"]
    for key in (*EMPTY_KINDS, "sqlite", "postgresql"):
        if runs.get(key) is not None and empty_rate and key != "empty":
            report["ratios"][key] = runs[key]["calls_per_second"] / empty_rate
    plain = runs.get("empty-plaintext")
    if plain:
        report["trust"] = {
            kind: {
                "calls_per_second_vs_plaintext": runs[kind]["calls_per_second"] / plain["calls_per_second"],
                "server_cpu_us_per_call_over_plaintext": 1000
                * (runs[kind]["server_cpu_ms_per_call"] - plain["server_cpu_ms_per_call"]),
            }
            for kind in EMPTY_KINDS
            if kind != "empty-plaintext" and runs.get(kind)
        }
        same, fresh = runs.get("empty-token"), runs.get("empty-tokens")
        if same and fresh:
            report["trust"]["token_verification_us_per_call"] = 1000 * (
                fresh["server_cpu_ms_per_call"] - same["server_cpu_ms_per_call"]
            )


if __name__ == "__main__":
    sys.exit(main())
