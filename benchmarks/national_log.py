"""The national log: append throughput, proofs at a million entries, checkpoint latency.

``python -m benchmarks.national_log`` (``--smoke`` for a few seconds; ``--json`` for a report)::

1. **Append throughput**, in-process on SQLite and PostgreSQL: entries per second appended in
   transactions of 1 and of 500 entries (what one code assignment and one upward batch append), each
   entry a registration entry of the real size, the commit included.
2. **Proofs at size N** (10^6 by default): a log of N entries is built on each database, then for
   random entries: the server's time to compute and check an inclusion proof, the proof's size (hashes,
   and the whole confirmation file), and the time to verify it offline; the same for consistency
   proofs between random sizes.
3. **Checkpoint latency**: a real national node process (SQLite); after each AssignCode returns, how
   long until ``GetCheckpoint`` shows a checkpoint that includes it, p50 and p99.

The sync catch-up with and without the log is ``python -m benchmarks.sync_throughput --baseline DIR``.
Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
from rich.console import Console
from rich.table import Table

from benchmarks.harness import (
    Aborted,
    ServerProcess,
    machine_facts,
    percentile,
    print_machine,
    reach_postgres,
    stop_on_sigterm,
)
from common.clock import SystemClock
from common.db import Database, migrate
from common.transparency import Signer, verify_consistency, verify_proof
from common.transparency.entry import ORIGIN, canonical
from national_node.server import MIGRATIONS
from national_node.tlog import Pending, TransparencyLog
from national_node.tlog.entries import entry_time
from tests.postgres import fresh_database

__all__ = ["main"]

DEFAULTS = {"size": 1_000_000, "proofs": 2000, "checkpoints": 300, "appends": 5000}
#: ``--smoke``: two checkpoint latencies (each waits out the minimum interval, 2 s) give every figure.
SMOKE = {"size": 20_000, "proofs": 200, "checkpoints": 2, "appends": 1000}
#: Entries per transaction while the big log is built.
BUILD_BATCH = 5000


def _entry(i: int) -> bytes:
    """A registration entry of the size the log holds (about 600 bytes, Chinese names included)."""
    return canonical(
        {
            "v": 1,
            "kind": "registration",
            "time": entry_time(SystemClock().now()),
            "uid": str(uuid.UUID(int=i)),
            "registration": f"nodes/320000/registrations/r-{i:012x}",
            "managing_node": "nodes/320000",
            "revision": 1 + i % 5,
            "state": "ACTIVE",
            "code": f"13200002600{i:07d}X"[:19],
            "object_type": "PUBLIC_DATA_RESOURCE",
            "version": 1,
            "data_name": "江苏省企业登记基础信息",
            "subject": {"central": False, "name": "江苏省大数据管理中心", "uscc": "12320106MB1C584759"},
            "valid_from": "2026-10-28",
            "valid_until": "2029-10-27",
            "content_sha256": "58cc4bc5b3736f2371c8c23c36578badfeb5a4491f897287c04a5d7a37fe9983",
            "record_sha256": "91b9db5dadffb87f43cb7a50c64c973fe1cec8a20055dce9da6a879502853f32",
        },
        checked=False,
    )


def _pending(i: int) -> Pending:
    return Pending(_entry(i))


def _log(url: str) -> tuple[Database, TransparencyLog, Signer]:
    db = Database(url, pool_size=4)
    migrate(db.engine, MIGRATIONS)
    signer = Signer.generate(ORIGIN)
    return db, TransparencyLog(db, SystemClock(), signer), signer


def append_throughput(url: str, count: int) -> dict[str, float]:
    db, log, _ = _log(url)
    try:
        result = {}
        for per_transaction in (1, 500):
            batches = max(1, count // per_transaction) if per_transaction > 1 else min(count, 2000)
            began = time.perf_counter()
            for b in range(batches):
                with db.transaction() as session:
                    for i in range(per_transaction):
                        log.appender.add(session, _pending(b * per_transaction + i))
            seconds = time.perf_counter() - began
            result[f"entries_per_second_{per_transaction}"] = batches * per_transaction / seconds
            result[f"us_per_entry_{per_transaction}"] = seconds / (batches * per_transaction) * 1e6
        return result
    finally:
        db.dispose()


def proofs_at_size(url: str, size: int, proofs: int, console: Console, label: str) -> dict[str, Any]:
    db, log, signer = _log(url)
    keys = [signer.verifier().verifier_key()]
    rng = random.Random(11)
    try:
        began = time.perf_counter()
        for start in range(0, size, BUILD_BATCH):
            with db.transaction() as session:
                log.appender.append(
                    session, [_pending(i) for i in range(start, min(size, start + BUILD_BATCH))]
                )
            if start and start % 200_000 == 0:
                console.print(f"    {label}: {start:,} entries, {time.perf_counter() - began:.0f} s")
        built = time.perf_counter() - began
        checkpoint = log.checkpoints.checkpoint()
        assert checkpoint is not None and checkpoint.size == size
        serve, verify, sizes, hashes = [], [], [], []
        for _ in range(proofs):
            index = rng.randrange(size)
            t0 = time.perf_counter()
            entry = log.proofs.find_entry(index=index)
            path, served, cosignatures = log.proofs.inclusion(entry, size)
            text = log.proofs.tlog_proof(entry, path, served, cosignatures)
            t1 = time.perf_counter()
            verify_proof(text, keys)
            t2 = time.perf_counter()
            serve.append(t1 - t0)
            verify.append(t2 - t1)
            sizes.append(len(text.encode()))
            hashes.append(len(path))
        c_serve, c_verify, c_hashes = [], [], []
        for _ in range(max(1, proofs // 4)):
            old = rng.randrange(1, size)
            t0 = time.perf_counter()
            proof = log.proofs.consistency(old, size)
            t1 = time.perf_counter()
            old_root = log.proofs.root(old)  # as a witness would hold it
            t2 = time.perf_counter()
            verify_consistency(old, size, old_root, checkpoint.root, proof)
            t3 = time.perf_counter()
            c_serve.append(t1 - t0)
            c_verify.append(t3 - t2)
            c_hashes.append(len(proof))
        for series in (serve, verify, c_serve, c_verify):
            series.sort()
        return {
            "size": size,
            "build_seconds": built,
            "build_entries_per_second": size / built,
            "inclusion": {
                "hashes_max": max(hashes),
                "hashes_mean": statistics.fmean(hashes),
                "file_bytes_mean": statistics.fmean(sizes),
                "serve_ms_p50": percentile(serve, 0.5) * 1000,
                "serve_ms_p99": percentile(serve, 0.99) * 1000,
                "verify_us_p50": percentile(verify, 0.5) * 1e6,
                "verify_us_p99": percentile(verify, 0.99) * 1e6,
            },
            "consistency": {
                "hashes_max": max(c_hashes),
                "serve_ms_p50": percentile(c_serve, 0.5) * 1000,
                "serve_ms_p99": percentile(c_serve, 0.99) * 1000,
                "verify_us_p50": percentile(c_verify, 0.5) * 1e6,
                "verify_us_p99": percentile(c_verify, 0.99) * 1e6,
            },
        }
    finally:
        db.dispose()


def checkpoint_latency(tmp: Path, count: int) -> dict[str, float]:
    """A real national node: AssignCode, then GetCheckpoint until the checkpoint holds the entry."""
    from common.gen.registry.v1 import log_service_pb2_grpc as ls_grpc
    from common.gen.registry.v1 import national_service_pb2 as ns
    from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
    from tests.factories import make_uscc
    from tests.sync_support import waiting_for_code
    from tests.trust import channel

    workdir = tmp / "latency"
    workdir.mkdir()
    env = {
        "REGISTRY_DATABASE_URL": f"sqlite:///{workdir / 'national.db'}",
        "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}]',
        "REGISTRY_TRANSPARENCY__CHECKPOINT_INTERVAL": "1",
    }
    server = ServerProcess("national_node", "national_node", env=env, workdir=workdir).start()
    try:
        codes = ns_grpc.NationalServiceStub(channel(server.address, node="320000", national=True))
        log = ls_grpc.LogServiceStub(channel(server.address, national=True))
        requests = [
            ns.AssignCodeRequest(
                node="nodes/320000",
                issuer="320000",
                object_type=1,  # type: ignore[arg-type]
                registration=f"nodes/320000/registrations/r-lat-{k}",
                subject_uscc=make_uscc("320106"),
                request_id=str(uuid.uuid4()),
            )
            for k in range(count)
        ]
        # The authority codes only what the ledger holds waiting for a code (no log entry: the ledger's
        # rows are put there directly, so each code is the log's next entry).
        waiting_for_code(env["REGISTRY_DATABASE_URL"], requests)
        latencies = []
        for k, request in enumerate(requests):
            codes.AssignCode(request, timeout=10)
            returned = time.perf_counter()
            while _checkpoint_size(log) < k + 1:
                if time.perf_counter() - returned > 10:
                    raise Aborted(f"no checkpoint held entry {k} after 10 s")
                time.sleep(0.0005)
            latencies.append(time.perf_counter() - returned)
            time.sleep(rng_pause(k))
        latencies.sort()
        return {
            "appends": count,
            "p50_ms": percentile(latencies, 0.5) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "max_ms": latencies[-1] * 1000,
        }
    finally:
        server.stop()


def _checkpoint_size(log: Any) -> int:
    """The newest checkpoint's size; 0 before the first one (NOT_FOUND until then)."""
    from common.gen.registry.v1 import log_service_pb2 as ls

    try:
        return int(log.GetCheckpoint(ls.GetCheckpointRequest(), timeout=5).tree_size)
    except grpc.RpcError as error:
        if isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.NOT_FOUND:
            return 0
        raise


def rng_pause(k: int) -> float:
    """Appends spaced a little irregularly (0-20 ms), as coding requests arrive."""
    return random.Random(k).uniform(0, 0.02)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.national_log", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--size", type=int, help="entries of the big log (default 1,000,000)")
    parser.add_argument("--proofs", type=int, help="inclusion proofs measured (default 2000)")
    parser.add_argument("--checkpoints", type=int, help="appends whose checkpoint latency is measured (300)")
    parser.add_argument("--appends", type=int, help="entries appended per throughput run (default 5000)")
    parser.add_argument("--postgres-url", help="server for the run's databases (default $TEST_DATABASE_URL)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="a few seconds in all (20,000 entries)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    options = parser.parse_args(argv)
    for key, value in (SMOKE if options.smoke else DEFAULTS).items():
        if getattr(options, key) is None:
            setattr(options, key, value)
    return options


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    console = Console(stderr=options.json, highlight=False)
    stop_on_sigterm()
    report: dict[str, Any] = {"append": {}, "proofs": {}, "checkpoint_latency": None, "skipped": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="registry-bench-log-", ignore_cleanup_errors=True) as name:
            tmp = Path(name)
            report["machine"] = machine_facts(tmp)
            admin_url, facts, skipped = reach_postgres(options.postgres_url, skip=options.skip_postgres)
            if admin_url is None:
                report["skipped"]["postgresql"] = skipped
            else:
                report["machine"]["postgresql"] = facts
            console.print(f"[bold]National log benchmark[/]: {options.size:,} entries for the proofs")
            databases: list[tuple[str, Any]] = [("sqlite", None)]
            if admin_url is not None:
                databases.append(("postgresql", admin_url))
            for key, admin in databases:
                for part in ("append", "proofs"):
                    if admin is None:
                        url = f"sqlite:///{tmp / f'{part}.db'}"
                        report[part][key] = _part(part, url, options, console, key)
                    else:
                        with fresh_database(admin) as url:
                            report[part][key] = _part(part, url, options, console, key)
                    console.print(f"  {key} {part}: {json.dumps(report[part][key])}")
            report["checkpoint_latency"] = checkpoint_latency(tmp, options.checkpoints)
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]")
        return 130
    except Aborted as error:
        console.print(f"[red]aborted:[/] {error}")
        return 1
    _summary(console, report)
    if options.json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    return 0


def _part(part: str, url: str, options: argparse.Namespace, console: Console, key: str) -> dict[str, Any]:
    if part == "append":
        return append_throughput(url, options.appends)
    return proofs_at_size(url, options.size, options.proofs, console, key)


def _summary(console: Console, report: dict[str, Any]) -> None:
    table = Table(title="  the national log", title_justify="left")
    for column in ("database", "append/s (1 a tx)", "append/s (500 a tx)", "µs/entry (500)"):
        table.add_column(column, justify="right")
    for key, run in report["append"].items():
        table.add_row(
            key,
            f"{run['entries_per_second_1']:,.0f}",
            f"{run['entries_per_second_500']:,.0f}",
            f"{run['us_per_entry_500']:.1f}",
        )
    console.print(table)
    for key, run in report["proofs"].items():
        inc, con = run["inclusion"], run["consistency"]
        console.print(
            f"  {key}, {run['size']:,} entries (built at {run['build_entries_per_second']:,.0f}/s):"
            f" inclusion proof {inc['hashes_max']} hashes, confirmation file {inc['file_bytes_mean']:,.0f} B,"
            f" served p50 {inc['serve_ms_p50']:.2f} ms p99 {inc['serve_ms_p99']:.2f} ms,"
            f" verified offline p50 {inc['verify_us_p50']:.0f} µs p99 {inc['verify_us_p99']:.0f} µs;"
            f" consistency {con['hashes_max']} hashes, served p50 {con['serve_ms_p50']:.2f} ms,"
            f" verified p50 {con['verify_us_p50']:.0f} µs"
        )
    latency = report["checkpoint_latency"]
    if latency:
        console.print(
            f"  checkpoint after an append: p50 {latency['p50_ms']:.1f} ms, p99 {latency['p99_ms']:.1f} ms,"
            f" max {latency['max_ms']:.1f} ms ({latency['appends']} appends)"
        )
    print_machine(console, report["machine"], "database")


if __name__ == "__main__":
    sys.exit(main())
