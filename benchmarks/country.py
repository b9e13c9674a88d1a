"""The national tier as the country uses it: 31 provinces at once, each with its own certificate.

::

    .venv/bin/python -m benchmarks.country [--seconds 20] [--empty-seconds 5] [--warmup 2]
        [--workers 1,2,4] [--changes 1000] [--provinces 31] [--processes 2] [--deadline 10]
        [--postgres-url URL] [--skip-postgres] [--smoke] [--json]

A load generator acts as the 31 provincial nodes of the mainland (the province-level regions of
``common.regions`` without the XPCC, Taiwan, Hong Kong and Macao). Each province has a client
certificate of its own from the tests' CA and one mutual-TLS channel to the national node, over which
it makes every call of the run, as its node would. The national node is a real process
(``python -m national_node``, port 0), on a PostgreSQL database created for each configuration and
dropped after it, with N worker processes (``REGISTRY_WORKERS``, N from ``--workers``: 1, 2, 4), then
on a SQLite file with one. Each configuration runs three phases against its node:

1. **Empty calls**, the floor: every province keeps 8 ``grpc.health.v1.Health/Check`` calls in flight
   over its channel for ``--empty-seconds``.
2. **AssignCode**: every province keeps 8 calls in flight for ``--seconds``, each for a new
   registration of its own with a new request id (subjects of its region, object types 1-3). The
   registrations are put into the national ledger, waiting for their code, before the phase
   (``tests.sync_support.waiting_for_code``): as many as the empty calls' rate could code.
3. **Ingest**: every province pushes ``--changes`` changes of its log at once, over ``PushChanges``
   on its channel, as its sync daemon does (batches of 500, 4 unacknowledged at most). The changes are
   the records of the real procedure (``benchmarks.sync_throughput.make_templates``) renamed to the
   province, each registration with its five revisions, sequences 1..n. The floor, measured once in
   the same run by the same load generator: the same batches pushed to ``benchmarks.sink_server``,
   which acknowledges without a database (the raw stream).

Reported per configuration: the N asked for and the national processes found serving (those of the
node's process tree listening on its port); codes/s, the CPU time of the node and all its child
processes per code, p50/p99/max latency, codes/s ÷ empty calls/s; changes/s ingested and their ratio
to the raw stream; fairness (the slowest province's codes ÷ the fastest's); errors by gRPC status
code, counted, never raised. The load generator runs in ``--processes`` processes (one per core here),
each an asyncio event loop of ``grpc.aio`` clients. ``--smoke`` runs it for about a second a phase,
with 20 changes a province and N = 2 only: it shows the benchmark runs, its numbers mean little.
This is a measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import contextlib
import itertools
import json
import math
import multiprocessing
import random
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import grpc
from rich import box
from rich.console import Console
from rich.table import Table

from benchmarks.harness import (
    INDENT,
    Aborted,
    CpuMeter,
    PgActivitySampler,
    ServerProcess,
    cpu_seconds,
    listening_processes,
    machine_facts,
    percentile,
    postgres_pids,
    print_backends,
    print_machine,
    print_machine_busy,
    process_tree,
    reach_postgres,
    receive,
    stop_on_sigterm,
)
from benchmarks.sync_throughput import ChangeFactory, Template, make_templates
from common import regions
from tests.postgres import fresh_database

__all__ = ["MAINLAND", "code_request", "main"]

#: The 31 province-level regions of the mainland, each running its own provincial node.
MAINLAND = tuple(
    r.code for r in regions.provinces() if r.code not in (regions.XPCC, "710000", "810000", "820000")
)
IN_FLIGHT = 8  # calls each province keeps in flight
BATCH = 500  # changes per upward batch: the sync daemon's default (ProvincialSettings.sync_batch_size)
WINDOW = 4  # batches a province sends ahead of their acknowledgements: the sync daemon's window
INTERLEAVE = 100  # registrations in progress at a time in a province's log (see ChangeFactory)
STREAM_ATTEMPTS = 3  # upward streams a province opens before it gives up (it resumes after an error)
SUBJECTS = 4  # subjects (USCCs) per province for its AssignCode requests
PUSH_CHANGES = "/registry.v1.SyncService/PushChanges"
DEFAULTS: dict[str, Any] = {
    "seconds": 20.0,
    "empty_seconds": 5.0,
    "warmup": 2.0,
    "changes": 1000,
    "workers": "1,2,4",
}
SMOKE: dict[str, Any] = {
    "seconds": 1.0,
    "empty_seconds": 1.0,
    "warmup": 0.3,
    "changes": 20,
    "workers": "2",
}


# --------------------------------------------------------------------------------------------------
# What each province sends


@dataclass(frozen=True)
class Province:
    region: str
    key_pem: bytes
    cert_pem: bytes
    subjects: tuple[str, ...]  # USCCs of its region, for its AssignCode requests


def provinces(count: int) -> list[Province]:
    """The first ``count`` mainland provinces, each with a certificate of the tests' CA issued for
    this run (held in memory: the tests' shared trust keeps its files for what the tests do with
    them, such as revoking a region's certificate)."""
    from common.security.pki import issue_node_certificate
    from tests.factories import make_uscc
    from tests.trust import trust

    ca = trust().ca()
    made = []
    for region in MAINLAND[:count]:
        certified = issue_node_certificate(ca, region)
        subjects = tuple(make_uscc(f"{region[:2]}0102") for _ in range(SUBJECTS))
        made.append(Province(region, certified.key_pem, certified.cert_pem, subjects))
    return made


def code_request(tag: str, province: Province, k: int) -> Any:
    """The province's ``k``-th AssignCodeRequest of a run: the same in the load generator and in the
    ledger's seeding."""
    from common.gen.registry.v1 import national_service_pb2 as ns

    region = province.region
    return ns.AssignCodeRequest(
        node=f"nodes/{region}",
        issuer=region,
        object_type=1 + k % 3,  # type: ignore[arg-type]
        registration=f"nodes/{region}/registrations/r{tag}-{k}",
        subject_uscc=province.subjects[k % len(province.subjects)],
        request_id=f"req-{tag}-{region}-{k}",
    )


def renamed_templates(templates: tuple[Template, ...], region: str) -> list[Template]:
    """The seeded procedure's records as the province of ``region`` would hold them: named under its
    node (``common.sync.records.rename``), its subject a unit of its region."""
    from common.gen.registry.v1 import sync_pb2
    from common.sync.records import rename
    from tests.factories import make_uscc

    subject = make_uscc(f"{region[:2]}0106")
    renamed = []
    for template in templates:
        revisions = []
        for revision, state, data in template.revisions:
            record = rename(sync_pb2.RegistrationRecord.FromString(data), region)
            registration = record.registration
            for content in (registration.content, registration.current_application.content):
                if content.HasField("subject"):
                    content.subject.uscc = subject
                    content.subject.region = region
                    content.subject.name = f"{regions.get(region).name}大数据管理中心"
            revisions.append((revision, state, record.SerializeToString(deterministic=True)))
        renamed.append(Template(template.uid, template.local_id, tuple(revisions)))
    return renamed


def upward_batches(templates: tuple[Template, ...], region: str, changes: int) -> list[bytes]:
    """``changes`` changes of the province's log (sequences 1..changes) as serialized ChangeBatches of
    at most BATCH changes, the way its sync daemon sends them."""
    from common.gen.registry.v1 import sync_pb2

    factory = ChangeFactory(renamed_templates(templates, region), INTERLEAVE, node=f"nodes/{region}")
    now = datetime.now(UTC)
    batches = []
    made = list(factory.changes(changes))
    for start in range(0, len(made), BATCH):
        batch = sync_pb2.ChangeBatch(node=f"nodes/{region}", head_sequence=len(made))
        batch.head_time.FromDatetime(now)
        for sequence, change in enumerate(made[start : start + BATCH], start + 1):
            added = batch.changes.add(sequence=sequence)
            added.record.ParseFromString(change.record)
            added.commit_time.FromDatetime(now)
        batches.append(batch.SerializeToString())
    return batches


# --------------------------------------------------------------------------------------------------
# The load generator: processes of asyncio event loops, one grpc.aio channel per province


@dataclass(frozen=True)
class WorkerSpec:
    provinces: tuple[Province, ...]
    ca_pem: bytes
    changes: int  # per province, for the ingest
    deadline: float  # of each unary call


#: Attempts of one request when the node answers "busy, come back after the delay" (RetryInfo).
RETRIES = 8


def _retry_delay(error: grpc.aio.AioRpcError) -> float | None:
    """The RetryInfo delay of a failed call's status (what common.retry honours), if it has one."""
    from google.rpc import status_pb2

    from common.retry import retry_delay_of

    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            return retry_delay_of(status_pb2.Status.FromString(value))
    return None


async def _with_retries(call: Callable[[int], Awaitable[Any]], k: int, tally: _Tally, end: float) -> bool:
    """Request ``k``, sent again as a province's node does (common.retry) while the node answers that it
    is busy and says when to come back; every other failure, or one past the window, is an error."""
    for _ in range(RETRIES):
        try:
            await call(k)
            return True
        except grpc.aio.AioRpcError as error:
            delay = _retry_delay(error)
            if delay is None:
                tally.failed(error.code().name, error.details() or "")
                return False
            if time.monotonic() + delay >= end:  # the window ends first: unfinished, not failed
                tally.retried[error.code().name] += 1
                return False
            tally.retried[error.code().name] += 1
            await asyncio.sleep(delay + random.uniform(0, delay))
    tally.failed("RETRIES_EXHAUSTED", f"{RETRIES} attempts, each answered busy")
    return False


class _Tally:
    """What one phase of calls gave: latencies of the calls that ended in the window, successes per
    province in the window, and every failure (warm-up included) by status code."""

    def __init__(self, regions_: list[str]) -> None:
        self.latencies: list[float] = []
        self.per_province = dict.fromkeys(regions_, 0)
        self.errors: collections.Counter[str] = collections.Counter()
        self.samples: dict[str, str] = {}
        self.exhausted: list[str] = []
        self.retried: collections.Counter[str] = collections.Counter()

    def failed(self, code: str, details: str) -> None:
        self.errors[code] += 1
        self.samples.setdefault(code, details)

    def result(self) -> dict[str, Any]:
        return {
            "latencies": self.latencies,
            "per_province": self.per_province,
            "errors": dict(self.errors),
            "error_samples": self.samples,
            "retried": dict(self.retried),
            "exhausted": self.exhausted,
        }


class _Worker:
    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.channels: dict[str, dict[str, grpc.aio.Channel]] = {}  # by target, then by region
        self.batches: dict[str, list[bytes]] = {}

    def build(self, templates: tuple[Template, ...]) -> int:
        """Each province's changes, as ChangeBatches ready to send; returns how many batches."""
        self.batches = {
            p.region: upward_batches(templates, p.region, self.spec.changes) for p in self.spec.provinces
        }
        return sum(len(b) for b in self.batches.values())

    async def open(self, target: str) -> None:
        """A channel per province to ``target``, each with the province's certificate, connected."""
        from common.security.identity import NATIONAL_SERVER_NAME

        # As a province's node calls: the national node's name checked, a connection of its own.
        options = [
            ("grpc.ssl_target_name_override", NATIONAL_SERVER_NAME),
            ("grpc.use_local_subchannel_pool", 1),
        ]
        channels = {}
        for province in self.spec.provinces:
            credentials = grpc.ssl_channel_credentials(self.spec.ca_pem, province.key_pem, province.cert_pem)
            channels[province.region] = grpc.aio.secure_channel(target, credentials, options=options)
        self.channels[target] = channels
        await asyncio.gather(*(asyncio.wait_for(c.channel_ready(), 15) for c in channels.values()))

    async def close(self, target: str) -> None:
        for channel in self.channels.pop(target, {}).values():
            await channel.close()

    async def calls(self, target: str, kind: str, warm_end: float, end: float, **job: Any) -> dict[str, Any]:
        """Every province keeps IN_FLIGHT calls in flight until ``end``."""
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc

        tally = _Tally([p.region for p in self.spec.provinces])
        deadline = self.spec.deadline

        def caller(province: Province) -> Callable[[int], Awaitable[Any]]:
            channel = self.channels[target][province.region]
            if kind == "empty":
                check, request = health_pb2_grpc.HealthStub(channel).Check, health_pb2.HealthCheckRequest()
                return lambda _k: check(request, timeout=deadline)
            assign = ns_grpc.NationalServiceStub(channel).AssignCode
            return lambda k: assign(code_request(job["tag"], province, k), timeout=deadline)

        async def one(province: Province, call: Callable[[int], Awaitable[Any]], numbers: Any) -> None:
            limit = job.get("limit", math.inf)
            while True:
                k = next(numbers)
                started = time.monotonic()
                if started >= end:
                    return
                if k >= limit:
                    if province.region not in tally.exhausted:
                        tally.exhausted.append(province.region)
                    return
                if not await _with_retries(call, k, tally, end):
                    continue
                done = time.monotonic()
                if warm_end <= done < end:
                    tally.latencies.append(done - started)
                    tally.per_province[province.region] += 1

        tasks = []
        for province in self.spec.provinces:
            call = caller(province)
            numbers = itertools.count()  # shared by the province's callers: each request once
            tasks += [one(province, call, numbers) for _ in range(IN_FLIGHT)]
        await asyncio.gather(*tasks)
        return tally.result()

    async def push(self, target: str, go: float, timeout: float) -> dict[str, Any]:
        """Every province pushes its batches at once, from ``go``; each answers how many changes were
        acknowledged and when the last was."""
        from common.gen.registry.v1 import sync_pb2

        errors: collections.Counter[str] = collections.Counter()
        samples: dict[str, str] = {}

        def failed(code: str, details: str) -> None:
            errors[code] += 1
            samples.setdefault(code, details)

        async def province(region: str, channel: grpc.aio.Channel) -> dict[str, Any]:
            batches = self.batches[region]
            lasts = [min((i + 1) * BATCH, self.spec.changes) for i in range(len(batches))]
            method = channel.stream_stream(
                PUSH_CHANGES, request_serializer=None, response_deserializer=sync_pb2.ChangeAck.FromString
            )
            acknowledged, finished = 0, math.nan
            for _attempt in range(STREAM_ATTEMPTS):
                position = bisect.bisect_right(lasts, acknowledged)  # the first batch not acknowledged
                sent = position
                stream = method(timeout=timeout)
                try:
                    while position < len(batches):
                        while sent < len(batches) and sent - position < WINDOW:
                            await stream.write(batches[sent])
                            sent += 1
                        ack = await stream.read()
                        if ack is grpc.aio.EOF:
                            failed("STREAM_ENDED", "the national node ended the stream")
                            break
                        if ack.refused:
                            failed("REFUSED", ack.refused[0])
                            return {"changes": acknowledged, "seconds": math.nan}
                        if ack.expected_sequence:
                            failed("GAP", f"expected sequence {ack.expected_sequence}")
                            acknowledged = ack.acknowledged_sequence
                            break
                        acknowledged = max(acknowledged, ack.acknowledged_sequence)
                        position = bisect.bisect_right(lasts, acknowledged)
                    else:
                        finished = time.monotonic() - go
                        await stream.done_writing()  # the node then ends the stream
                        while await stream.read() is not grpc.aio.EOF:
                            pass
                        return {"changes": acknowledged, "seconds": finished}
                except grpc.aio.AioRpcError as error:
                    failed(error.code().name, error.details() or "")
                stream.cancel()
                await asyncio.sleep(0.2)
            return {"changes": acknowledged, "seconds": math.nan}  # gave up

        await asyncio.sleep(max(0.0, go - time.monotonic()))
        channels = self.channels[target]
        results = await asyncio.gather(*(province(region, channels[region]) for region in channels))
        return {
            "per_province": dict(zip(channels, results, strict=True)),
            "errors": dict(errors),
            "error_samples": samples,
        }

    async def serve(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        conn.send(("ready", None))
        while True:
            command, *args = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            if command == "build":
                conn.send(("done", self.build(*args)))
            elif command == "open":
                await self.open(*args)
                conn.send(("done", None))
            elif command == "close":
                await self.close(*args)
                conn.send(("done", None))
            elif command == "calls":
                target, kind, warm_end, end, job = args
                conn.send(("done", await self.calls(target, kind, warm_end, end, **job)))
            elif command == "push":
                conn.send(("done", await self.push(*args)))
        for target in list(self.channels):
            await self.close(target)


def _worker_main(conn: Connection, spec: WorkerSpec) -> None:
    """Entry point of a load-generator process; talks to the coordinator over ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator cleans up on Ctrl-C
    try:
        asyncio.run(_Worker(spec).serve(conn))
    except Exception:  # reported to the coordinator, which aborts
        with contextlib.suppress(OSError):
            conn.send(("failed", traceback.format_exc()))


class LoadGenerator:
    """The coordinator's side: worker processes, the provinces spread over them."""

    def __init__(self, specs: list[WorkerSpec]) -> None:
        self.provinces = [p for spec in specs for p in spec.provinces]
        context = multiprocessing.get_context("spawn")
        self.workers: list[tuple[BaseProcess, Connection]] = []
        for spec in specs:
            ours, theirs = context.Pipe()
            process = context.Process(target=_worker_main, args=(theirs, spec), daemon=True)
            process.start()
            theirs.close()
            self.workers.append((process, ours))

    def build(self, templates: tuple[Template, ...]) -> None:
        """Once the processes run: each builds its provinces' changes from the templates."""
        self.collect(120, "starting", expect="ready")
        self.ask(120, "building the provinces' changes", "build", templates)

    @property
    def pids(self) -> list[int]:
        return [process.pid for process, _ in self.workers if process.pid is not None]

    def send(self, *command: Any) -> None:
        for _process, conn in self.workers:
            conn.send(command)

    def collect(self, timeout: float, doing: str, expect: str = "done") -> list[Any]:
        answers = []
        for process, conn in self.workers:
            kind, payload = receive(conn, process, timeout, "a load-generator process", doing)
            if kind != expect:
                raise Aborted(f"a load-generator process failed while {doing}:\n{payload}")
            answers.append(payload)
        return answers

    def ask(self, timeout: float, doing: str, *command: Any) -> list[Any]:
        self.send(*command)
        return self.collect(timeout, doing)

    def stop(self) -> None:
        for _process, conn in self.workers:
            with contextlib.suppress(OSError):
                conn.send(("stop",))
            conn.close()
        for process, _conn in self.workers:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)


# --------------------------------------------------------------------------------------------------
# Phases


def _merge_calls(answers: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {"latencies": [], "per_province": {}, "errors": collections.Counter()}
    merged["error_samples"], merged["exhausted"] = {}, []
    merged["retried"] = collections.Counter()
    for answer in answers:
        merged["retried"].update(answer.get("retried", {}))
        merged["latencies"] += answer["latencies"]
        merged["per_province"].update(answer["per_province"])
        merged["errors"].update(answer["errors"])
        for code, details in answer["error_samples"].items():
            merged["error_samples"].setdefault(code, details)
        merged["exhausted"] += answer["exhausted"]
    return merged


def _fairness(per_province: dict[str, float]) -> dict[str, Any]:
    """The slowest province's figure ÷ the fastest's, and which they were."""
    slowest = min(per_province, key=per_province.__getitem__)
    fastest = max(per_province, key=per_province.__getitem__)
    top = per_province[fastest]
    return {
        "fairness": per_province[slowest] / top if top else math.nan,
        "slowest": [slowest, per_province[slowest]],
        "fastest": [fastest, top],
    }


def _groups(
    node: ServerProcess, load: LoadGenerator, pg: list[int], before: dict[str, list[int]] | None = None
) -> dict[str, list[int]]:
    """The processes whose CPU time is measured: the node's process tree (those listening on its port,
    and the others, such as the search indexer), the load generator, PostgreSQL's; with ``before``,
    also the node's processes that were there at the start of the window."""
    tree = set(process_tree(node.pid))
    if before:
        tree |= set(before["serving"]) | set(before["national_other"])
    serving = listening_processes(sorted(tree), _port(node.address))
    return {
        "serving": serving,
        "national_other": sorted(tree - set(serving)),
        "clients": load.pids,
        "postgres": pg,
    }


def _national_cpu(cpu: dict[str, Any]) -> float:
    """CPU seconds of the node and all its child processes in the window."""
    processes = cpu["processes"]
    return float((processes["serving"] + processes["national_other"]) / 100 * cpu["window_seconds"])


def run_calls(
    load: LoadGenerator,
    node: ServerProcess,
    kind: str,
    *,
    seconds: float,
    warmup: float,
    deadline: float,
    job: dict[str, Any] | None = None,
    postgres_url: str | None = None,
    sampler: PgActivitySampler | None = None,
) -> dict[str, Any]:
    """One phase of unary calls (``empty`` or ``assign``): warm-up, then ``seconds`` measured."""
    warm_end = time.monotonic() + 0.2 + warmup
    end = warm_end + seconds
    if sampler:
        sampler.start((warm_end, end))
    load.send("calls", node.address, kind, warm_end, end, job or {})
    # The processes are listed just before the window opens and closes, so that it is measured whole.
    time.sleep(max(0.0, warm_end - 0.1 - time.monotonic()))
    pg = postgres_pids(postgres_url) if postgres_url else []  # once the warm-up filled the pool
    groups = _groups(node, load, pg)
    time.sleep(max(0.0, warm_end - time.monotonic()))
    meter = CpuMeter(groups)
    time.sleep(max(0.0, end - 0.1 - time.monotonic()))
    groups = _groups(node, load, pg, groups)
    time.sleep(max(0.0, end - time.monotonic()))
    cpu = meter.stop(groups)
    merged = _merge_calls(load.collect(deadline + 30, f"making {kind} calls"))
    backends = sampler.stop() if sampler else {}
    latencies = sorted(merged["latencies"])
    calls = len(latencies)
    national_cpu = _national_cpu(cpu)
    return {
        "seconds": seconds,
        "calls": calls,
        "calls_per_second": calls / seconds,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": (latencies[-1] if latencies else math.nan) * 1000,
        "national_cpu_ms_per_call": national_cpu / calls * 1000 if calls else math.nan,
        **_fairness(merged["per_province"]),
        "per_province": merged["per_province"],
        "errors": dict(merged["errors"]),
        "error_samples": merged["error_samples"],
        "retried": dict(merged["retried"]),
        "exhausted": sorted(merged["exhausted"]),
        "cpu_percent": cpu,
        "postgres_backends": backends,
    }


def run_push(
    load: LoadGenerator, server: ServerProcess, changes: int, provinces_: int, postgres_url: str | None = None
) -> dict[str, Any]:
    """Every province pushes ``changes`` changes at once; timed until the last is acknowledged."""
    timeout = 120 + changes * provinces_ / 100
    pg = postgres_pids(postgres_url) if postgres_url else []
    go = time.monotonic() + 0.2
    load.send("push", server.address, go, timeout)
    time.sleep(max(0.0, go - time.monotonic()))
    groups = _groups(server, load, pg)
    meter = CpuMeter(groups)
    answers = load.collect(timeout + 30, "pushing changes")
    if postgres_url:
        pg = sorted(set(pg) | set(postgres_pids(postgres_url)))
    cpu = meter.stop(_groups(server, load, pg, groups))
    per_province: dict[str, dict[str, Any]] = {}
    errors: collections.Counter[str] = collections.Counter()
    samples: dict[str, str] = {}
    for answer in answers:
        per_province.update(answer["per_province"])
        errors.update(answer["errors"])
        for code, details in answer["error_samples"].items():
            samples.setdefault(code, details)
    acknowledged = sum(p["changes"] for p in per_province.values())
    complete = all(p["changes"] == changes and not math.isnan(p["seconds"]) for p in per_province.values())
    seconds = max((p["seconds"] for p in per_province.values() if not math.isnan(p["seconds"])), default=0.0)
    if not complete:
        seconds = cpu["window_seconds"]
    rates = {
        region: p["changes"] / p["seconds"] if p["seconds"] and not math.isnan(p["seconds"]) else 0.0
        for region, p in per_province.items()
    }
    national_cpu = _national_cpu(cpu)
    return {
        "changes": acknowledged,
        "complete": complete,
        "seconds": round(seconds, 3),
        "changes_per_second": acknowledged / seconds if seconds else math.nan,
        "national_cpu_ms_per_change": national_cpu / acknowledged * 1000 if acknowledged else math.nan,
        **_fairness(rates),
        "per_province": per_province,
        "errors": dict(errors),
        "error_samples": samples,
        "cpu_percent": cpu,
    }


# --------------------------------------------------------------------------------------------------
# Configurations


#: The node has settled after its start when its processes use less CPU than this (% of one core).
SETTLED_CPU = 5.0
SETTLE_TIMEOUT = 20.0


def wait_until_settled(node: ServerProcess) -> float:
    """Waits until the node's processes are idle after its start (imports done on first use, its first
    checkpoint, the search indexer's start, worker processes starting), which would otherwise count in
    the first phase; returns the seconds waited (SETTLE_TIMEOUT: it did not settle)."""
    started = time.monotonic()
    previous: tuple[float, float, int] | None = None
    while time.monotonic() - started < SETTLE_TIMEOUT:
        tree = process_tree(node.pid)
        now, used = time.monotonic(), sum(cpu_seconds(p) for p in tree)
        if (
            previous
            and len(tree) == previous[2]
            and (used - previous[1]) / (now - previous[0]) * 100 < SETTLED_CPU
        ):
            return round(now - started, 2)
        previous = (now, used, len(tree))
        time.sleep(0.25)
    return SETTLE_TIMEOUT


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def serving(node: ServerProcess) -> dict[str, Any]:
    """The node's process tree now, and which of its processes listen on its port."""
    tree = process_tree(node.pid)
    return {"processes": len(tree), "serving": len(listening_processes(tree, _port(node.address)))}


class Background:
    """Servers started and stopped while the benchmark does something else (building the provinces'
    changes, starting the next node); :meth:`settle` waits for all of it, and is called before a
    node is measured, so that none of it runs in a measured phase."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.failures: list[BaseException] = []

    def run(self, name: str, work: Callable[[], object]) -> None:
        def guarded() -> None:
            try:
                work()
            except BaseException as error:  # handed to settle(), in the benchmark's thread
                self.failures.append(error)

        thread = threading.Thread(target=guarded, name=name)
        thread.start()
        self.threads.append(thread)

    def wait(self) -> None:
        for thread in self.threads:
            thread.join()
        self.threads.clear()

    def settle(self) -> None:
        """Waits, and raises what failed."""
        self.wait()
        if self.failures:
            error, self.failures = self.failures[0], []
            raise error


def raw_stream(
    console: Console, load: LoadGenerator, sink: ServerProcess, options: argparse.Namespace
) -> dict[str, Any]:
    """The floor of the ingest: the same pushes to ``benchmarks.sink_server``, which applies nothing."""
    load.ask(60, "connecting to the sink", "open", sink.address)
    result = run_push(load, sink, options.changes, options.provinces)
    load.ask(30, "closing channels", "close", sink.address)
    result["log_problems"] = len(sink.log_problems())
    print_ingest(console, "raw stream", result)
    return result


def national_node(
    load: LoadGenerator, key: str, database_url: str, workers: int, workdir: Path
) -> ServerProcess:
    """``python -m national_node`` with every province running its own node, asked for ``workers``
    worker processes."""
    env = {
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_PROVINCIAL_NODES": json.dumps([{"region": p.region} for p in load.provinces]),
        "REGISTRY_WORKERS": str(workers),
    }
    return ServerProcess(f"national_node ({key})", "national_node", env=env, workdir=workdir)


def run_configuration(
    console: Console,
    load: LoadGenerator,
    options: argparse.Namespace,
    raw: dict[str, Any],
    background: Background,
    *,
    key: str,
    node: ServerProcess,
    database_url: str,
    workers: int,
) -> dict[str, Any]:
    """Empty calls, AssignCode and ingest against ``node`` (started here, stopped by the caller), each
    phase printed as it ends."""
    postgres_url = None if database_url.startswith("sqlite") else database_url
    run: dict[str, Any] = {"workers_asked": workers}
    node.start()
    load.ask(60, "connecting to the national node", "open", node.address)
    try:
        background.settle()  # the previous node has stopped
        run["settled_seconds"] = wait_until_settled(node)
        run["processes_at_start"] = found = serving(node)
        console.print(
            f"[bold]{key}[/]: N = {workers} asked (REGISTRY_WORKERS), {found['serving']} serving,"
            f" {found['processes']} national processes"
        )
        timing = {"warmup": options.warmup, "deadline": options.deadline}
        run["empty"] = run_calls(load, node, "empty", seconds=options.empty_seconds, **timing)
        print_calls(console, "empty call", run["empty"], "calls")
        node.check_alive()

        # The registrations the provinces ask codes for, waiting in the ledger: as many as the empty
        # call's rate would code in the phase, each province its share.
        tag = uuid.uuid4().hex[:8]
        window = options.warmup + 0.2 + options.seconds
        limit = math.ceil(run["empty"]["calls_per_second"] * window / len(load.provinces)) + 2 * IN_FLIGHT
        seeded = time.monotonic()
        _seed(database_url, tag, load.provinces, limit)
        run["seeded_per_province"], run["seed_seconds"] = limit, round(time.monotonic() - seeded, 2)

        sampler = PgActivitySampler(postgres_url) if postgres_url else None
        run["assign"] = run_calls(
            load,
            node,
            "assign",
            seconds=options.seconds,
            **timing,
            job={"tag": tag, "limit": limit},
            postgres_url=postgres_url,
            sampler=sampler,
        )
        run["ratios"] = {
            "codes_vs_empty": run["assign"]["calls_per_second"] / run["empty"]["calls_per_second"]
        }
        print_calls(console, "AssignCode", run["assign"], "codes")
        console.print(f"{INDENT}codes/s ÷ empty calls/s: {run['ratios']['codes_vs_empty']:.3f}")
        console.print(
            f"{INDENT}{limit:,} registrations a province waiting for a code"
            f" (put in the ledger in {run['seed_seconds']:.1f} s)"
        )
        node.check_alive()

        run["ingest"] = run_push(load, node, options.changes, len(load.provinces), postgres_url)
        ingested = run["ingest"]["changes_per_second"]
        run["ratios"]["ingest_vs_raw_stream"] = ingested / raw["changes_per_second"]
        print_ingest(console, "ingest", run["ingest"], raw)
        node.check_alive()

        run["processes_at_end"] = found = serving(node)
        if found != run["processes_at_start"]:
            console.print(
                f"{INDENT}[yellow]at the end: {found['serving']} serving,"
                f" {found['processes']} national processes[/]"
            )
        problems, exceptions = node.log_problems(), node.log_exceptions()
        run["log_problems"], run["log_problem_samples"] = len(problems), problems[:5]
        run["log_exceptions"] = dict(exceptions.most_common(5))
        if problems:
            console.print(f"{INDENT}the national node logged {len(problems)} warning/error lines")
            for line, count in exceptions.most_common(3):
                console.print(f"{INDENT}  {count:,} x {line[:100]}")
    finally:
        with contextlib.suppress(Aborted, OSError):  # a failed load generator is reported already
            load.ask(30, "closing channels", "close", node.address)
    return run


def _seed(database_url: str, tag: str, provinces_: list[Province], per_province: int) -> None:
    from tests.sync_support import waiting_for_code

    waiting_for_code(database_url, (code_request(tag, p, k) for p in provinces_ for k in range(per_province)))


# --------------------------------------------------------------------------------------------------
# Output (lines of at most 80 columns)


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.1f}"


def _errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{code} {n:,}" for code, n in sorted(errors.items(), key=lambda i: -i[1])) or "none"


def print_calls(console: Console, label: str, run: dict[str, Any], unit: str) -> None:
    console.print(
        f"  [bold]{label:<11}{run['calls_per_second']:>7,.0f} {unit}/s[/]  p50 {_ms(run['p50_ms'])} ms"
        f"  p99 {_ms(run['p99_ms'])} ms  max {_ms(run['max_ms'])} ms"
    )
    slow, fast = run["slowest"], run["fastest"]
    console.print(
        f"{INDENT}fairness {run['fairness']:.2f}: slowest {slow[0]} {slow[1]:,},"
        f" fastest {fast[0]} {fast[1]:,} {unit}"
    )
    if run["exhausted"]:
        console.print(
            f"{INDENT}[yellow]{len(run['exhausted'])} provinces ran out of registrations waiting for a"
            " code[/]"
        )
    _print_rest(console, run, "national_cpu_ms_per_call", "a call")
    print_backends(console, run["postgres_backends"])


def print_ingest(
    console: Console, label: str, run: dict[str, Any], raw: dict[str, Any] | None = None
) -> None:
    line = f"  [bold]{label:<11}{run['changes_per_second']:>7,.0f} changes/s[/]"
    line += f"  {run['changes']:,} in {run['seconds']:.2f} s"
    if raw:
        line += f", {run['changes_per_second'] / raw['changes_per_second']:.3f} of the raw stream"
    console.print(line)
    if not run["complete"]:
        console.print(f"{INDENT}[yellow]not every change was acknowledged[/]")
    slow, fast = run["slowest"], run["fastest"]
    console.print(
        f"{INDENT}fairness {run['fairness']:.2f}: slowest {slow[0]} {slow[1]:,.0f}/s,"
        f" fastest {fast[0]} {fast[1]:,.0f}/s"
    )
    _print_rest(console, run, "national_cpu_ms_per_change", "a change")


def _print_rest(console: Console, run: dict[str, Any], per: str, unit: str) -> None:
    """Errors, CPU, the machine."""
    console.print(f"{INDENT}errors: {_errors(run['errors'])}")
    if run.get("retried"):
        console.print(f"{INDENT}sent again after the node's retry delay: {_errors(run['retried'])}")
    for code, details in run["error_samples"].items():
        console.print(f"{INDENT}  {code}: {details[:60]}")
    cpu = run["cpu_percent"]
    processes = cpu["processes"]
    national = processes["serving"] + processes["national_other"]
    line = f"server {national:.0f} = {_ms(run[per])} ms {unit} (serving {processes['serving']:.0f})"
    line += f", clients {processes['clients']:.0f}"
    if processes.get("postgres"):
        line += f", pg {processes['postgres']:.0f}"
    console.print(f"{INDENT}CPU (% of 1 core): {line}")
    print_machine_busy(console, cpu["machine"], cpu["interrupts"], cpu["other"], cpu["top_other_processes"])


LABELS = {"sqlite-1": "SQLite"}


def _label(key: str) -> str:
    return LABELS.get(key, key.replace("postgresql-", "PostgreSQL x"))


def print_summary(console: Console, report: dict[str, Any]) -> None:
    runs = report["runs"]
    style: dict[str, Any] = {"title_justify": "left", "box": box.SIMPLE_HEAD, "pad_edge": False}
    provinces_ = report["config"]["provinces"]
    codes = Table(title=f"  AssignCode, {provinces_} provinces x {IN_FLIGHT} in flight", **style)
    ingest = Table(title="  Ingest, every province pushing at once", **style)
    codes.add_column("national node", no_wrap=True)
    ingest.add_column("national node", no_wrap=True)
    for column in ("N asked,\nserving", "codes/s", "÷ empty", "CPU ms\na code", "p99 ms"):
        codes.add_column(column, justify="right")
    for column in ("fair-\nness", "errors"):
        codes.add_column(column, justify="right")
    for column in ("changes/s", "÷ raw\nstream", "CPU ms a\nchange", "fairness", "errors"):
        ingest.add_column(column, justify="right")
    raw = report.get("raw_stream")
    if raw:
        ingest.add_row(
            "raw stream (sink)",
            f"{raw['changes_per_second']:,.0f}",
            "1",
            _ms(raw["national_cpu_ms_per_change"]),
            f"{raw['fairness']:.2f}",
            f"{sum(raw['errors'].values()):,}",
        )
    for key, run in runs.items():
        if run is None:
            codes.add_row(_label(key), "[dim]skipped[/]", *[""] * 6)
            ingest.add_row(_label(key), "[dim]skipped[/]", *[""] * 4)
            continue
        assign, pushed, ratios = run["assign"], run["ingest"], run["ratios"]
        codes.add_row(
            _label(key),
            f"{run['workers_asked']}, {run['processes_at_start']['serving']}",
            f"{assign['calls_per_second']:,.0f}",
            f"{ratios['codes_vs_empty']:.3f}",
            _ms(assign["national_cpu_ms_per_call"]),
            f"{assign['p99_ms']:,.0f}",
            f"{assign['fairness']:.2f}",
            f"{sum(assign['errors'].values()):,}",
        )
        ingest.add_row(
            _label(key),
            f"{pushed['changes_per_second']:,.0f}",
            f"{ratios['ingest_vs_raw_stream']:.3f}",
            _ms(pushed["national_cpu_ms_per_change"]),
            f"{pushed['fairness']:.2f}",
            f"{sum(pushed['errors'].values()):,}",
        )
    console.print()
    console.print(codes)
    console.print(ingest)
    for key, why in report["skipped"].items():
        console.print(f"  {key}: skipped ({why})")
    config = report["config"]
    print_machine(console, report["machine"], "database")
    console.print(
        f"  {config['provinces']} provinces x {IN_FLIGHT} calls in flight, a channel each, in"
        f" {config['processes']} processes"
    )
    console.print(
        f"  {config['warmup']:g} s warm-up + {config['empty_seconds']:g} s empty calls,"
        f" {config['seconds']:g} s AssignCode; {config['changes']:,} changes a province"
    )
    console.print(f"  commit {report['machine']['git_commit']}, {report['machine']['date']}")


# --------------------------------------------------------------------------------------------------
# Main


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.country",
        description="The national node under the load of the whole country: 31 provinces, each with its"
        " own certificate, asking for codes and pushing changes at once, against N national processes on"
        " PostgreSQL and one on SQLite; ratios to an empty call and to the raw stream of the same run.",
    )
    parser.add_argument("--seconds", type=float, help="measured seconds of AssignCode (default 20)")
    parser.add_argument("--empty-seconds", type=float, help="measured seconds of empty calls (default 5)")
    parser.add_argument("--warmup", type=float, help="seconds before each measured phase (default 2)")
    parser.add_argument(
        "--workers",
        help="national worker processes on PostgreSQL, comma-separated (default 1,2,4; SQLite runs 1)",
    )
    parser.add_argument("--changes", type=int, help="changes each province pushes (default 1000)")
    parser.add_argument(
        "--provinces", type=int, default=len(MAINLAND), help=f"provinces (default {len(MAINLAND)})"
    )
    parser.add_argument(
        "--processes", type=int, default=2, help="load-generator processes (default 2: one per core here)"
    )
    parser.add_argument(
        "--deadline", type=float, default=10.0, help="deadline of each unary call, seconds (default 10)"
    )
    parser.add_argument(
        "--postgres-url",
        help="server to create the run's databases on (default: $TEST_DATABASE_URL, else"
        " postgresql://postgres@127.0.0.1:5432/postgres)",
    )
    parser.add_argument(
        "--skip-postgres", action="store_true", help="do not run the PostgreSQL configurations"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="seconds in all: 1 s a phase, 20 changes a province, PostgreSQL with 2 workers only (shows"
        " that it runs; sizes given explicitly still apply)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    options = parser.parse_args(argv)
    for key, value in (SMOKE if options.smoke else DEFAULTS).items():
        if getattr(options, key) is None:
            setattr(options, key, value)
    try:
        options.workers = [int(n) for n in str(options.workers).split(",") if n.strip()]
    except ValueError:
        parser.error("--workers takes numbers separated by commas, such as 1,2,4")
    if (
        options.seconds <= 0
        or options.empty_seconds <= 0
        or options.warmup < 0
        or options.changes < 1
        or options.deadline <= 0
        or not 1 <= options.provinces <= len(MAINLAND)
        or options.processes < 1
        or any(n < 1 for n in options.workers)
    ):
        parser.error(
            f"--seconds, --empty-seconds, --changes, --deadline, --processes and --workers must be"
            f" positive, --warmup not negative, --provinces 1..{len(MAINLAND)}"
        )
    options.processes = min(options.processes, options.provinces)
    return options


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    console = Console(stderr=options.json, highlight=False)
    stop_on_sigterm()
    started = time.monotonic()
    report: dict[str, Any] = {
        "config": {
            "provinces": options.provinces,
            "in_flight_per_province": IN_FLIGHT,
            "processes": options.processes,
            "seconds": options.seconds,
            "empty_seconds": options.empty_seconds,
            "warmup": options.warmup,
            "deadline_seconds": options.deadline,
            "changes": options.changes,
            "batch": BATCH,
            "window": WINDOW,
            "workers": options.workers,
            "smoke": options.smoke,
        },
        "runs": {},
        "skipped": {},
    }
    load: LoadGenerator | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="registry-country-", ignore_cleanup_errors=True) as name:
            tmp = Path(name)
            report["machine"] = machine_facts(tmp)
            admin_url, facts, skipped = reach_postgres(options.postgres_url, skip=options.skip_postgres)
            if admin_url is None:
                report["skipped"]["postgresql"] = skipped
            else:
                report["machine"]["postgresql"] = facts
            console.print(
                f"[bold]The country[/]: {options.provinces} provinces x {IN_FLIGHT} calls in flight;"
                f" N = {', '.join(map(str, options.workers))} on PostgreSQL, 1 on SQLite"
            )
            background = Background()
            try:
                sink = _sink(tmp)
                background.run("start the sink", sink.start)  # while the provinces' changes are made
                try:
                    load = _load_generator(options)
                    load.build(_templates(tmp))  # made while the processes start
                    report["provinces"] = [p.region for p in load.provinces]
                    background.settle()
                    report["raw_stream"] = raw_stream(console, load, sink, options)
                finally:
                    background.wait()
                    background.run("stop the sink", sink.stop)
                _run_all(console, options, report, tmp, admin_url, load, background)
                background.settle()
            finally:
                background.wait()  # every server stopped, every database dropped
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]; processes, temporary files and databases cleaned up")
        return 130
    except Aborted as error:
        console.print(f"[red]aborted:[/] {error}")
        return 1
    finally:
        if load is not None:
            load.stop()
    report["total_seconds"] = round(time.monotonic() - started, 1)
    print_summary(console, report)
    if options.json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    return 0


def _sink(tmp: Path) -> ServerProcess:
    from tests.trust import node_env

    workdir = tmp / "sink"
    workdir.mkdir()
    return ServerProcess("sink_server", "benchmarks.sink_server", env=node_env("100000"), workdir=workdir)


def _load_generator(options: argparse.Namespace) -> LoadGenerator:
    """The provinces, with their certificates, spread over the load-generator processes."""
    from tests.trust import trust

    provinces_ = provinces(options.provinces)
    ca_pem = trust().ca_file.read_bytes()
    share = [tuple(provinces_[i :: options.processes]) for i in range(options.processes)]
    return LoadGenerator([WorkerSpec(mine, ca_pem, options.changes, options.deadline) for mine in share])


def _templates(tmp: Path) -> tuple[Template, ...]:
    seed_dir = tmp / "templates"
    seed_dir.mkdir()
    return tuple(make_templates(seed_dir))


def _run_all(
    console: Console,
    options: argparse.Namespace,
    report: dict[str, Any],
    tmp: Path,
    admin_url: str | None,
    load: LoadGenerator,
    background: Background,
) -> None:
    """Each configuration in turn; a node stops (and its database is dropped) while the next starts."""
    configurations = [(f"postgresql-{n}", n) for n in options.workers] + [("sqlite-1", 1)]
    for key, workers in configurations:
        if key.startswith("postgresql") and admin_url is None:
            report["runs"][key] = None
            continue
        workdir = tmp / key
        workdir.mkdir()
        with contextlib.ExitStack() as stack:
            if key.startswith("sqlite"):
                url = f"sqlite:///{workdir / 'national.db'}"
            else:
                url = stack.enter_context(fresh_database(admin_url))  # type: ignore[arg-type]
            node = national_node(load, key, url, workers, workdir)
            stack.callback(node.stop)  # before the database is dropped
            report["runs"][key] = run_configuration(
                console,
                load,
                options,
                report["raw_stream"],
                background,
                key=key,
                node=node,
                database_url=url,
                workers=workers,
            )
            background.run(f"stop {key}", stack.pop_all().close)


if __name__ == "__main__":
    sys.exit(main())
