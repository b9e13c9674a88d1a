"""The national node as several processes on one address: a supervisor and its workers.

On PostgreSQL the national node runs ``workers`` processes (one per core by default), each a whole
national node serving the same ``listen`` address; the kernel spreads incoming connections over them
(``SO_REUSEPORT``). Every national rule holds across them because it is kept by the database:

* codes: each namespace's serial counter is a row locked by the transaction that takes a serial, and a
  request id is a unique key (``national_node.coding``);
* a province's changes: the province's sync state is locked by the transaction that applies a batch,
  which applies only the next sequence numbers, and only from the province's newest upward stream
  (``sync_states.upward_stream``), whichever process that stream reached;
* the log: its counter row orders every append; a checkpoint is signed by one process, the holder of the
  ``checkpoints`` lease (``common.leases``); the registration duties likewise (``duties``); the search
  index is kept by one indexer (``indexer``), which this supervisor runs for its workers.

Several hosts run the same thing behind a balancer (or provinces list every host: see the README); the
leases make each duty happen once across them too.

The supervisor is what ``python -m national_node`` runs when there is more than one worker. It starts
the workers (``python -m national_node --worker``, their settings on standard input; the first to start
migrates the database, the others wait for it on an advisory lock), prints the address once every
worker serves, starts again any worker that dies (at once; up to 30 s apart for one that keeps dying
young) and stops them all on SIGTERM. A worker stops when its standard input closes, so the workers end
with the supervisor however it ends, kill -9 included. The supervisor loads no database driver and
little else: it holds no connection and costs some 50 MB.

Metrics (``[metrics] listen``): the host is one scrape target. The workers keep theirs in
prometheus_client's multiprocess mode, in a folder the supervisor makes for them
(``PROMETHEUS_MULTIPROC_DIR``), and the supervisor serves their sum; the worker of slot 0 alone
samples the database (:mod:`common.metrics.telemetry`). A worker that dies is marked dead, so its
gauges leave the sum and its counters stay in it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from prometheus_client import Counter
from prometheus_client.multiprocess import mark_process_dead

from common.metrics.endpoint import MULTIPROCESS_DIR, MetricsEndpoint, multiprocess_registry
from common.process import configure_logging
from national_node.indexer_child import IndexerChild
from national_node.settings import NationalSettings

__all__ = ["WorkerPool", "run_worker"]

logger = logging.getLogger(__name__)

#: A worker that dies younger than this is started again after a growing pause (up to 30 s).
_YOUNG = 10.0
_PREFIX = "national_node "
#: Set (to 1) in the environment of the worker that samples the database for the metrics.
SAMPLER = "NATIONAL_WORKER_SAMPLES"


class _Worker:
    def __init__(self, slot: int, process: subprocess.Popen[bytes], address: str) -> None:
        self.slot, self.process, self.address = slot, process, address
        self.started = time.monotonic()


class WorkerPool:
    """The supervisor: ``count`` worker processes on one address, kept running."""

    def __init__(self, settings: NationalSettings, count: int) -> None:
        self.count = count
        self.stop_timeout = settings.stop_timeout
        self._holder: socket.socket | None = None
        host, _, port = settings.listen.rpartition(":")
        if port == "0":
            # Port 0 asks for any free port: take one here, and keep it bound (not listening, so it is
            # given no connection) for as long as the workers may need to bind it again.
            self._holder = _reserve(host)
            port = str(self._holder.getsockname()[1])
        self.address = f"{host}:{port}"
        self.announcement = f"listening on {self.address}"
        given = settings.model_dump(mode="json")
        given["listen"] = self.address
        self._settings = json.dumps(given).encode() + b"\n"
        self.indexer = IndexerChild(settings) if settings.indexer.embedded else None
        self._metrics_dir: Path | None = None
        self.endpoint: MetricsEndpoint | None = None
        self._restarts: Counter | None = None
        if settings.metrics.listen:
            self._metrics_dir = Path(tempfile.mkdtemp(prefix="registry-metrics-"))
            registry = multiprocess_registry(self._metrics_dir)
            self._restarts = Counter(
                "registry_national_worker_restarts_total",
                "Worker processes the supervisor started again after they died.",
                registry=registry,
            )
            self.endpoint = MetricsEndpoint(settings.metrics.listen, registry)
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._workers: dict[int, _Worker] = {}
        self._watchers: list[threading.Thread] = []
        # The first workers start here: a configuration they refuse is the supervisor's bad one too.
        for slot in range(count):
            self._workers[slot] = self._spawn(slot)

    def _spawn(self, slot: int) -> _Worker:
        env = None
        if self._metrics_dir is not None:
            env = {**os.environ, MULTIPROCESS_DIR: str(self._metrics_dir), SAMPLER: "1" if slot == 0 else "0"}
        process = subprocess.Popen(
            [sys.executable, "-m", "national_node", "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(self._settings)
        process.stdin.flush()
        line = process.stdout.readline().decode(errors="replace").strip()
        if not line.startswith(_PREFIX + "listening on "):
            process.wait()
            why = line.removeprefix(_PREFIX) or f"a worker exited with status {process.returncode}"
            raise ValueError(why)
        logger.info("worker %d (pid %d) serving %s", slot, process.pid, self.address)
        return _Worker(slot, process, self.address)

    def start(self) -> None:
        if self.indexer is not None:
            self.indexer.start()
        for slot in range(self.count):
            watcher = threading.Thread(target=self._watch, args=(slot,), name=f"worker-{slot}", daemon=True)
            watcher.start()
            self._watchers.append(watcher)
        logger.info("%d national worker processes serving %s", self.count, self.address)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers.values()]

    def _watch(self, slot: int) -> None:
        failures = 0
        while not self._stopping.is_set():
            with self._lock:
                worker = self._workers[slot]
            status = worker.process.wait()
            if self._metrics_dir is not None:
                mark_process_dead(worker.process.pid, str(self._metrics_dir))  # type: ignore[no-untyped-call]
            if self._stopping.is_set():
                return
            young = time.monotonic() - worker.started < _YOUNG
            failures = failures + 1 if young else 0
            wait = min(30.0, 0.5 * 2**failures) if failures else 0.0
            logger.error(
                "worker %d (pid %d) exited with status %s; starting it again in %.1f s",
                slot,
                worker.process.pid,
                status,
                wait,
            )
            if self._stopping.wait(wait):
                return
            if self._restarts is not None:
                self._restarts.inc()
            try:
                fresh = self._spawn(slot)
            except (OSError, ValueError) as error:
                logger.error("worker %d did not start again: %s", slot, error)
                failures += 1
                worker.started = time.monotonic()
                continue
            with self._lock:
                if self._stopping.is_set():
                    _end(fresh.process)
                    return
                self._workers[slot] = fresh

    def stop(self) -> None:
        """SIGTERM to every worker (each lets its calls finish, as one node would), then the indexer."""
        self._stopping.set()
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + max(1.0, self.stop_timeout - 1.0)
        for worker in workers:
            try:
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("worker %d (pid %d) did not stop; killing it", worker.slot, worker.process.pid)
                worker.process.kill()
                worker.process.wait()
            _close(worker.process)
        if self.indexer is not None:
            self.indexer.stop()
        if self._holder is not None:
            self._holder.close()
        if self.endpoint is not None:
            self.endpoint.stop()
        if self._metrics_dir is not None:
            shutil.rmtree(self._metrics_dir, ignore_errors=True)


def _end(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    _close(process)


def _close(process: subprocess.Popen[bytes]) -> None:
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def _reserve(host: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind((host.strip("[]") or "0.0.0.0", 0))
    return holder


# -- the worker's side -------------------------------------------------------------------------------


def run_worker() -> int:
    """``python -m national_node --worker``: settings from standard input; serve until SIGTERM or until
    standard input closes (the supervisor stopped or is gone)."""
    from national_node.server import create_server

    given = json.loads(sys.stdin.buffer.readline() or b"{}")
    try:
        settings = NationalSettings(**given)
    except ValueError as error:
        sys.stdout.write(f"{_PREFIX}bad configuration: {error}\n")
        return 2
    configure_logging(settings, role="national")
    telemetry = None
    if MULTIPROCESS_DIR in os.environ:  # the supervisor serves the metrics this worker keeps
        from common.metrics.telemetry import Telemetry

        telemetry = Telemetry(settings.metrics, serve=False, sample=os.environ.get(SAMPLER) == "1")
    try:
        server = create_server(settings, worker=True, telemetry=telemetry)
    except (OSError, ValueError) as error:
        logger.debug("building a worker failed", exc_info=True)
        sys.stdout.write(f"{_PREFIX}bad configuration: {error}\n")
        sys.stdout.flush()
        return 2
    stopping = threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C reaches the supervisor, which stops us
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())

    def supervisor_gone() -> None:
        sys.stdin.buffer.read()  # returns at end of file: the supervisor closed the pipe or is gone
        stopping.set()

    threading.Thread(target=supervisor_gone, name="supervisor", daemon=True).start()
    server.start()
    sys.stdout.write(f"{_PREFIX}{server.announcement}\n")
    sys.stdout.flush()
    while not stopping.wait(0.5):
        pass
    watchdog = threading.Timer(settings.stop_timeout, os._exit, args=(3,))
    watchdog.daemon = True
    watchdog.start()
    server.stop()
    logging.shutdown()
    return 0
