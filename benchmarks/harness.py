"""What the benchmarks share: server processes, CPU accounting, machine facts, PostgreSQL, output.

Servers and daemons are started as an operator would, by :class:`tests.nodes.NodeProcess`
(``python -m <module>`` on port 0, the address read from its first stdout line), with
``REGISTRY_LOG_LEVEL=WARNING``; :class:`ServerProcess` adds what a measurement needs around it (a
graceful stop that always ends the process, the log's problems, a failure that says why). The run's
PostgreSQL databases come from :func:`tests.postgres.fresh_database`.

CPU figures are read from ``/proc`` and given in % of one core, so a process using two cores shows
200; the machine as a whole goes up to nproc x 100. Nothing here asserts a speed.
"""

from __future__ import annotations

import collections
import contextlib
import math
import os
import platform
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import grpc
import psycopg
from rich.console import Console
from sqlalchemy.engine import make_url

from common.settings import normalise_database_url
from tests.nodes import NodeProcess, child_pids

__all__ = [
    "DEFAULT_POSTGRES",
    "INDENT",
    "OTHER_LOAD_WARNING",
    "ROOT",
    "Aborted",
    "CpuMeter",
    "PgActivitySampler",
    "ServerProcess",
    "all_processes_cpu",
    "cpu_seconds",
    "first_line",
    "libpq_url",
    "listening_processes",
    "machine_cpu_seconds",
    "machine_facts",
    "percentile",
    "postgres_admin_url",
    "postgres_facts",
    "postgres_pids",
    "print_backends",
    "print_machine",
    "print_machine_busy",
    "process_tree",
    "reach_postgres",
    "receive",
    "shown_url",
    "stop_on_sigterm",
    "top_other_processes",
]

#: The project folder: the benchmarks run from here (``python -m benchmarks.<name>``).
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
#: Busy CPU (% of one core) of processes outside the run above which a run is flagged as disturbed.
OTHER_LOAD_WARNING = 15.0
#: How often pg_stat_activity is sampled (seconds).
PG_SAMPLE_INTERVAL = 0.05
#: The indentation of a run's detail lines.
INDENT = " " * 14


class Aborted(Exception):
    """A run failed in a way that makes its numbers meaningless."""


def stop_on_sigterm() -> None:
    """SIGTERM ends the benchmark as Ctrl-C does: every process is stopped, every database dropped."""

    def _on_sigterm(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_sigterm)


def first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


# --------------------------------------------------------------------------------------------------
# Server processes


class ServerProcess:
    """``python -m <module>`` of this project as a :class:`tests.nodes.NodeProcess` in ``workdir``
    (its log goes there too), ``REGISTRY_LOG_LEVEL=WARNING``; ``ready`` is what its first stdout line
    says once it runs. ``PYTHONPATH`` names the project folder, so that the benchmarks' own servers
    (``benchmarks.empty_server``, ...), which are not part of the installed package, are found."""

    def __init__(
        self,
        name: str,
        module: str,
        *,
        env: Mapping[str, str],
        workdir: Path,
        ready: str = "listening on",
        code: Path | None = None,
        without_env: tuple[str, ...] = (),
    ) -> None:
        """``code``: another checkout of the project to run the module from (a baseline to compare
        with); ``without_env``: prefixes of settings it does not know."""
        path = os.pathsep.join(p for p in (str(code or ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self.name = name
        self.node = NodeProcess(
            module,
            env={"REGISTRY_LOG_LEVEL": "WARNING", "PYTHONPATH": path, **env},
            cwd=workdir,
            ready=ready,
            without_env=without_env,
        )
        self.started = False
        self.ready_seconds = math.nan  # from starting the process until its first stdout line

    def start(self, timeout: float = 60.0) -> ServerProcess:
        began = time.monotonic()
        try:
            self.node.start(timeout)
        except RuntimeError as error:
            raise Aborted(f"{self.name} did not start: {error}") from None
        self.ready_seconds = time.monotonic() - began
        self.started = True
        return self

    @property
    def address(self) -> str:
        return self.node.address

    @property
    def pid(self) -> int:
        assert self.node.process is not None
        return self.node.process.pid

    def check_alive(self) -> None:
        process = self.node.process
        if process is not None and process.poll() is not None:
            raise Aborted(f"{self.name} exited ({process.returncode}); its log:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.node.log.read_text()[-chars:]
        except OSError:
            return ""

    def log_problems(self) -> list[str]:
        """The warning and error lines (and tracebacks) it logged so far."""
        try:
            lines = self.node.log.read_text().splitlines()
        except OSError:
            return []
        return [line for line in lines if " WARNING " in line or " ERROR " in line or "Traceback" in line]

    def log_exceptions(self) -> collections.Counter[str]:
        """The exceptions of the tracebacks it logged (their last line, cut at 200 characters), counted:
        what its errors were."""
        try:
            lines = self.node.log.read_text().splitlines()
        except OSError:
            return collections.Counter()
        found: collections.Counter[str] = collections.Counter()
        inside = False
        for line in lines:
            if line.startswith("Traceback"):
                inside = True
            elif inside and line and not line[0].isspace():
                found[line[:200]] += 1
                inside = False
        return found

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL if it does not go."""
        if self.node.process is None:
            return
        try:
            self.node.stop(15)
        except subprocess.TimeoutExpired:
            self.node.kill()


def receive(conn: Connection, process: BaseProcess, timeout: float, who: str, doing: str) -> tuple[str, Any]:
    """The next message of a worker process, or :class:`Aborted` if it does not come."""
    if not conn.poll(timeout):
        raise Aborted(f"{who} did not answer within {timeout:.0f}s while {doing}")
    try:
        return conn.recv()  # type: ignore[no-any-return]
    except EOFError:
        process.join(2)
        raise Aborted(f"{who} died while {doing} (exit code {process.exitcode})") from None


# --------------------------------------------------------------------------------------------------
# CPU accounting


def _clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _clock_ticks()


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


def top_other_processes(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], ours: set[int], window: float
) -> list[tuple[str, float]]:
    """The processes outside the run that used the most CPU in the window (% of one core)."""
    used: collections.defaultdict[str, float] = collections.defaultdict(float)
    for pid, (name, seconds) in after.items():
        if pid not in ours:
            name = name.split("-", 1)[0] if name.startswith("kworker") else name  # kworker/1:2-events
            used[name] += (seconds - before.get(pid, (name, 0.0))[1]) / window * 100
    busiest = sorted(used.items(), key=lambda item: item[1], reverse=True)[:3]
    return [(name, round(percent)) for name, percent in busiest if percent >= 2]


class CpuMeter:
    """CPU time of labelled groups of processes over a window, in % of one core; a process that appears
    during the window counts from zero (it started in it). Also the machine's busy time, its interrupts,
    and what other processes (not in any group, nor this one) used: the busiest of them by name."""

    def __init__(self, groups: Mapping[str, Iterable[int]]) -> None:
        self.started = time.monotonic()
        self.machine = machine_cpu_seconds()
        self.before = {pid: cpu_seconds(pid) for pids in groups.values() for pid in pids}
        self.everyone = all_processes_cpu()

    def stop(self, groups: Mapping[str, Iterable[int]]) -> dict[str, Any]:
        window = time.monotonic() - self.started
        busy, interrupts = machine_cpu_seconds()
        everyone = all_processes_cpu()
        members = {label: set(pids) for label, pids in groups.items()}
        percent = {
            label: sum(cpu_seconds(pid) - self.before.get(pid, 0.0) for pid in pids) / window * 100
            for label, pids in members.items()
        }
        machine = (busy - self.machine[0]) / window * 100
        irq = (interrupts - self.machine[1]) / window * 100
        ours = {os.getpid(), *(pid for pids in members.values() for pid in pids)}
        return {
            "processes": {k: round(v, 1) for k, v in percent.items()},
            "machine": round(machine, 1),
            "interrupts": round(irq, 1),
            # Busy CPU that none of the run's processes used: another workload skews the numbers.
            "other": round(max(0.0, machine - irq - sum(percent.values())), 1),
            "top_other_processes": top_other_processes(self.everyone, everyone, ours, window),
            "window_seconds": round(window, 2),
        }


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (children, their children, ...) as they are now: a node with its
    worker processes and its indexer."""
    tree: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        if current not in tree and Path(f"/proc/{current}").exists():
            tree.append(current)
            todo += child_pids(current)
    return tree


def _listening_inodes(port: int) -> set[str]:
    """The inodes of the TCP sockets listening on ``port`` (any address, IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()  # sl local_address rem_address st ... uid timeout inode
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(fields[9])
    return inodes


def listening_processes(pids: Iterable[int], port: int) -> list[int]:
    """Those of ``pids`` that hold a socket listening on ``port``: the processes that take its calls
    (each of several processes sharing a port holds one, its own or an inherited one)."""
    inodes = _listening_inodes(port)
    found = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    found.append(pid)
                    break
    return found


def percentile(ordered: list[float], q: float) -> float:
    """The ``q`` quantile (0..1, nearest rank) of sorted values; NaN if there are none."""
    if not ordered:
        return math.nan
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


# --------------------------------------------------------------------------------------------------
# PostgreSQL


def postgres_admin_url(arg: str | None) -> str:
    """The server to create the run's databases on: ``arg``, else ``$TEST_DATABASE_URL``, else local."""
    return normalise_database_url(arg or os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES)


def libpq_url(url: str) -> str:
    """``url`` as psycopg (libpq) takes it: without SQLAlchemy's ``+driver``."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def shown_url(url: str) -> str:
    """``url`` fit to print: the password masked."""
    return make_url(url).render_as_string(hide_password=True)


def postgres_facts(admin_url: str) -> dict[str, str]:
    """Server version and durability settings; raises if the server cannot be reached."""
    with psycopg.connect(libpq_url(admin_url), autocommit=True, connect_timeout=5) as conn:
        facts = {}
        for setting in ("server_version", "synchronous_commit", "fsync", "max_connections"):
            row = conn.execute(f"SHOW {setting}").fetchone()
            facts[setting] = str(row[0]) if row else "?"
        return facts


def reach_postgres(url: str | None, *, skip: bool) -> tuple[str | None, dict[str, str], str]:
    """``(admin URL, server facts, "")`` if the server answers, else ``(None, {}, why the PostgreSQL
    runs are skipped)``: ``--skip-postgres``, or the server cannot be reached."""
    if skip:
        return None, {}, "--skip-postgres"
    admin_url = postgres_admin_url(url)
    try:
        return admin_url, postgres_facts(admin_url), ""
    except Exception as error:  # any failure to connect means: skip it
        return None, {}, f"{shown_url(admin_url)} unreachable: {first_line(error)}"


def postgres_pids(database_url: str) -> list[int]:
    """Server processes working for the run: its database's backends and the background processes
    (WAL writer, checkpointer, ...; shared with anything else on the server). Empty if the server is
    not on this machine, where their CPU time cannot be read."""
    with psycopg.connect(libpq_url(database_url), autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND (datname = current_database() OR datname IS NULL)"
        ).fetchall()
    return [pid for (pid,) in rows if Path(f"/proc/{pid}").exists()]


class PgActivitySampler:
    """Samples what the run's backends are doing (pg_stat_activity) while the measured window runs."""

    def __init__(self, database_url: str) -> None:
        self.url = libpq_url(database_url)
        self.counts: collections.Counter[str] = collections.Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-sampler", daemon=True)
        self._window = (0.0, 0.0)

    def start(self, window: tuple[float, float]) -> None:
        """Samples between the two ``time.monotonic()`` instants (the end may be ``math.inf``)."""
        self._window = window
        self._thread.start()

    def _run(self) -> None:
        try:
            self._sample()
        except Exception as error:  # a diagnostic only; the run goes on without it
            self.counts[f"(sampling failed: {type(error).__name__}: {error})"] = 0

    def _sample(self) -> None:
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
# Machine facts


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
    """Where and on what the run ran; ``tmp`` is where its SQLite files live."""
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


# --------------------------------------------------------------------------------------------------
# Output (every line at most 80 columns)


def print_machine_busy(
    console: Console, machine: float, interrupts: float, other: float, top_others: list[tuple[str, float]]
) -> None:
    """How busy the machine was in the window, and a warning if something else used it."""
    console.print(
        f"{INDENT}machine busy {machine:.0f} of {100 * len(os.sched_getaffinity(0))}:"
        f" interrupts {interrupts:.0f}, other processes {max(0.0, other):.0f}"
    )
    if top_others:
        names = ", ".join(f"{name} {percent:g}" for name, percent in top_others)
        console.print(f"{INDENT}busiest other processes: {names}")
    if other > OTHER_LOAD_WARNING:
        console.print(f"{INDENT}[yellow]warning: other processes used the CPU: numbers not comparable[/]")


def print_backends(console: Console, backends: Mapping[str, float]) -> None:
    """:meth:`PgActivitySampler.stop`'s averages, one line each."""
    if backends:
        console.print(f"{INDENT}the run's PostgreSQL backends, on average:")
        for label, n in backends.items():
            console.print(f"{INDENT}{n:5.2f} {label}")


def print_machine(console: Console, facts: Mapping[str, Any], databases: str) -> None:
    """The machine-facts lines of a summary; ``databases`` says what the SQLite files were."""
    pg = facts.get("postgresql", {})
    load = ", ".join(f"{x:g}" for x in facts["load_average_at_start"])
    console.print()
    console.print(f"  machine: {facts['host']}, nproc {facts['nproc']}, {facts['cpu']}, load average {load}")
    console.print(
        f"  Python {facts['python']}, grpcio {facts['grpcio']},"
        f" SQLite {facts['sqlite']} ({databases} on {facts['sqlite_temp_fs']})"
    )
    if pg:
        console.print(
            f"  PostgreSQL {pg['server_version']}, synchronous_commit={pg['synchronous_commit']},"
            f" fsync={pg['fsync']}"
        )
