"""The golden copy at size: build it from a ledger of N registrations and verify it offline.

``python -m benchmarks.golden_copy`` (``--size`` registrations, 10^6 by default; ``--smoke`` for 20,000;
``--postgres-url`` to run on PostgreSQL too)::

1. A national database is filled with N coded registrations, each with its log entry (about 600 bytes,
   as the log holds), and a signed checkpoint over them.
2. **Build**: ``GoldenCopies.build`` in a process of its own; its time and peak memory (max RSS). The
   floor, in the same run: streaming the same rows out of the database and nothing more.
3. **Verify**: ``common.golden.verify_copy`` in a process of its own, as a stranger runs it; its time
   and peak memory. The floor: reading (gunzip) the copy's records once.

Memory: how far the process's resident memory rises above where it was when the work began (sampled
every 20 ms), and its lifetime peak beside an idle process that imported the same code. Both stream,
so neither should grow with N. Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert

from benchmarks.harness import machine_facts, print_machine, reach_postgres, stop_on_sigterm
from common.clock import SystemClock
from common.db import Database, migrate
from common.transparency import Signer
from common.transparency.entry import ORIGIN
from national_node.models import LedgerRow
from national_node.server import MIGRATIONS
from national_node.tlog import Pending, TransparencyLog
from tests.postgres import fresh_database

__all__ = ["main"]

#: Registrations per transaction while the ledger is filled.
FILL_BATCH = 5000


def _entry(i: int) -> bytes:
    from benchmarks.national_log import _entry as log_entry  # the log benchmark's entry, its real size

    return log_entry(i)


def fill(url: str, size: int, console: Console) -> str:
    """N coded registrations and their entries, and a checkpoint; the log's private key."""
    db = Database(url, pool_size=2)
    migrate(db.engine, MIGRATIONS)
    signer = Signer.generate(ORIGIN)
    log = TransparencyLog(db, SystemClock(), signer)
    began = time.perf_counter()
    now = SystemClock().now()
    try:
        for start in range(0, size, FILL_BATCH):
            end = min(size, start + FILL_BATCH)
            entries = [_entry(i) for i in range(start, end)]
            with db.transaction() as session:
                first = log.appender.append(session, [Pending(e) for e in entries])
                rows = []
                for offset, data in enumerate(entries):
                    i = start + offset
                    parsed = json.loads(data)
                    rows.append(
                        {
                            "uid": parsed["uid"],
                            "node": "320000",
                            "name": parsed["registration"],
                            "code": parsed["code"],
                            "state": "ACTIVE",
                            "revision": 1,
                            "digest": "0" * 64,
                            "bucket": parsed["uid"][:2],
                            "record": b"",
                            "updated_at": now,
                            "log_index": first + offset,
                        }
                    )
                    assert i == first + offset
                session.execute(insert(LedgerRow), rows)
            if start and start % 200_000 == 0:
                console.print(f"    filled {start:,} in {time.perf_counter() - began:.0f} s")
        assert log.checkpoints.checkpoint() is not None
    finally:
        db.dispose()
    console.print(f"    filled {size:,} registrations in {time.perf_counter() - began:.0f} s")
    return signer.private_key_text()


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


class _Sampler:
    """The process's resident memory every 20 ms while the work runs: how much it rises above where
    it started (the process's lifetime peak also counts its imports)."""

    def __init__(self) -> None:
        self.start = _rss_mib()
        self.top = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.top = max(self.top, _rss_mib())

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.top = max(self.top, _rss_mib())

    @property
    def rise_mib(self) -> float:
        return self.top - self.start


def _idle(_: Any) -> dict[str, float]:
    import common.golden  # noqa: F401  (what the others import)
    import national_node.golden  # noqa: F401

    return {"seconds": 0.0, "peak_mib": _peak_mib()}


def _build(args: tuple[str, str, str]) -> dict[str, float]:
    from national_node.golden import GoldenCopies

    url, key, out = args
    db = Database(url, pool_size=2)
    began = time.perf_counter()
    with _Sampler() as memory:
        built = GoldenCopies(db, Signer.from_key(key), Path(out)).build()
    seconds = time.perf_counter() - began
    db.dispose()
    size = sum(p.stat().st_size for p in built.iterdir())
    return {
        "seconds": seconds,
        "peak_mib": _peak_mib(),
        "rss_rise_mib": memory.rise_mib,
        "bytes": size,
        "dir": str(built),  # type: ignore[dict-item]
    }


def _stream_floor(url: str) -> dict[str, float]:
    from sqlmodel import col, select

    from national_node.models import LogEntryRow

    db = Database(url, pool_size=2)
    began = time.perf_counter()
    n = 0
    statement = (
        select(LedgerRow.log_index, LogEntryRow.entry)
        .join(LogEntryRow, col(LogEntryRow.index) == col(LedgerRow.log_index))
        .order_by(col(LedgerRow.log_index))
        .execution_options(yield_per=2000)
    )
    with db.transaction(write=False) as session:
        for _ in session.exec(statement):
            n += 1
    seconds = time.perf_counter() - began
    db.dispose()
    return {"seconds": seconds, "peak_mib": _peak_mib()}


def _verify(args: tuple[str, str]) -> dict[str, Any]:
    from common.golden import verify_copy

    directory, key = args
    began = time.perf_counter()
    with _Sampler() as memory:
        result = verify_copy(Path(directory), [key])
    return {
        "seconds": time.perf_counter() - began,
        "peak_mib": _peak_mib(),
        "rss_rise_mib": memory.rise_mib,
        "records": result.records,
        "ok": result.ok,
    }


def _read_floor(directory: str) -> dict[str, float]:
    import gzip

    began = time.perf_counter()
    with gzip.open(Path(directory) / "ledger.jsonl.gz", "rb") as handle:
        while handle.read(1 << 20):
            pass
    return {"seconds": time.perf_counter() - began, "peak_mib": _peak_mib()}


def _alone(function: Any, argument: Any) -> Any:
    """Run ``function(argument)`` in a fresh process (its peak memory is its own)."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, (argument,))


def run(url: str, size: int, tmp: Path, console: Console, label: str) -> dict[str, Any]:
    key = fill(url, size, console)
    verifier = Signer.from_key(key).verifier().verifier_key()
    idle = _alone(_idle, None)
    stream = _alone(_stream_floor, url)
    build = _alone(_build, (url, key, str(tmp / f"golden-{label}")))
    console.print(f"    {label}: built in {build['seconds']:.1f} s")
    read = _alone(_read_floor, build["dir"])
    verify = _alone(_verify, (build["dir"], verifier))
    console.print(f"    {label}: verified in {verify['seconds']:.1f} s ({verify['records']:,} records)")
    return {
        "size": size,
        "idle": idle,
        "stream_floor": stream,
        "build": build,
        "read_floor": read,
        "verify": verify,
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.golden_copy", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--size", type=int, default=1_000_000, help="registrations in the ledger")
    parser.add_argument("--smoke", action="store_true", help="20,000 registrations, SQLite only")
    parser.add_argument("--postgres-url", help="an admin URL of PostgreSQL (a database is made and dropped)")
    parser.add_argument(
        "--skip-postgres", action="store_true", help="SQLite only (the default without a URL)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = _parse(argv)
    size = 20_000 if options.smoke else options.size
    console = Console(stderr=options.json, highlight=False)
    stop_on_sigterm()
    report: dict[str, Any] = {"runs": {}}
    with tempfile.TemporaryDirectory(prefix="registry-bench-golden-", ignore_cleanup_errors=True) as name:
        tmp = Path(name)
        report["machine"] = machine_facts(tmp)
        console.print(f"[bold]Golden copy benchmark[/]: {size:,} registrations")
        report["runs"]["sqlite"] = run(f"sqlite:///{tmp / 'national.db'}", size, tmp, console, "sqlite")
        if options.postgres_url and not options.smoke and not options.skip_postgres:
            admin_url, facts, _ = reach_postgres(options.postgres_url, skip=False)
            if admin_url is not None:
                report["machine"]["postgresql"] = facts
                with fresh_database(admin_url) as url:
                    report["runs"]["postgresql"] = run(url, size, tmp, console, "postgresql")
    print_machine(console, report["machine"], ", ".join(report["runs"]))
    table = Table(title=f"  the golden copy at {size:,} registrations", title_justify="left")
    for column in (
        "database",
        "build s",
        "× stream floor",
        "build peak MiB",
        "copy MiB",
        "verify s",
        "× read floor",
        "verify peak MiB",
        "idle MiB",
    ):
        table.add_column(column, justify="right")
    for key, run_ in report["runs"].items():
        build, verify = run_["build"], run_["verify"]
        table.add_row(
            key,
            f"{build['seconds']:.1f}",
            f"{build['seconds'] / run_['stream_floor']['seconds']:.1f}",
            f"{build['rss_rise_mib']:.1f}",
            f"{build['bytes'] / 2**20:.0f}",
            f"{verify['seconds']:.1f}",
            f"{verify['seconds'] / run_['read_floor']['seconds']:.1f}",
            f"{verify['rss_rise_mib']:.1f}",
            f"{max(build['peak_mib'], verify['peak_mib']):.0f}",
            f"{run_['idle']['peak_mib']:.0f}",
        )
    console.print(table)
    if options.json:
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    return 0 if all(r["verify"]["ok"] for r in report["runs"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
