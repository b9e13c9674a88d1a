"""One process's metrics: its registry, its ``/metrics`` endpoint, and the sampler of slow gauges.

Counters and histograms are kept where things happen (a call ends, a code is assigned). Gauges that
are read from the database (sync lag, the log's size, duties due) or from files (the certificate's
expiry, the revocation list's age) are *sampled*: one thread runs every probe each ``interval``
seconds, so a scrape costs nothing and the database sees a few bounded queries per interval, whatever
the scrape rate and however many Prometheus servers scrape.

One scrape target per host. The national node on PostgreSQL is a supervisor and worker processes
(:mod:`national_node.workers`): the workers keep their metrics in prometheus_client's multiprocess
mode (``PROMETHEUS_MULTIPROC_DIR``, a folder the supervisor makes for them), the supervisor serves
what they add up to, and only the first worker samples the database; every worker samples its own
connection pool. Gauges a worker samples are ``livemostrecent`` (the newest value of a process alive),
a pool's ``livesum`` (the host's connections in use); a worker that dies is marked dead by the
supervisor, and its counters stay counted.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal

from cryptography import x509
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

from common.db import Database, log_failure
from common.metrics.endpoint import MULTIPROCESS_DIR, MetricsEndpoint
from common.metrics.grpc import GrpcMetrics
from common.rpc.repeats import Repeats
from common.settings import MetricsSettings

__all__ = ["Sampler", "Telemetry"]

logger = logging.getLogger(__name__)

#: Seconds within which the same probe's failure is not logged again.
_FAILURE_WINDOW = 300.0
#: Buckets of the wait for a database connection: a free one takes microseconds, a busy pool up to
#: ``pool_timeout`` (3 s by default).
_WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

Probe = Callable[[], None]
Mode = Literal["livemostrecent", "livesum"]


class Sampler:
    """Runs probes every ``interval`` seconds in a thread; the first round runs in :meth:`start`, so
    the first scrape finds every gauge. A probe that fails (its database busy, unreachable) leaves its
    gauges as they were and is logged once per five minutes; the others go on."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.probes: list[tuple[str, Probe]] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics", daemon=True)
        self._failures = Repeats(_FAILURE_WINDOW)
        self._lock = threading.Lock()

    def add(self, name: str, probe: Probe) -> None:
        self.probes.append((name, probe))

    def run_once(self) -> None:
        for name, probe in self.probes:
            try:
                probe()
            except Exception as error:
                with self._lock:
                    repeated = self._failures.seen(name)
                if repeated is not None:
                    log_failure(logger, f"sampling {name} for the metrics failed", error)

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            self.run_once()

    def start(self) -> None:
        if self.probes:
            self.run_once()
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5)


class Telemetry:
    """The metrics of one process: built when ``[metrics] listen`` is set (or the process is a worker
    whose supervisor serves them), else the process keeps none.

    ``serve``: this process serves ``/metrics`` (not a worker); ``sample``: it runs the probes that
    read the database (one process per host); probes of its own state (its connection pool) run in
    every process.
    """

    def __init__(self, config: MetricsSettings, *, serve: bool = True, sample: bool = True) -> None:
        self.config = config
        self.multiprocess = MULTIPROCESS_DIR in os.environ
        self.sampling = sample
        # No ``_created`` series beside each counter and histogram (as Go's client, and half the text).
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        if not self.multiprocess:
            ProcessCollector(registry=self.registry)  # process_cpu_seconds_total, memory, open fds...
        self.grpc = GrpcMetrics(self.registry)
        self.sampler = Sampler(config.interval)
        self.endpoint = MetricsEndpoint(config.listen, self.registry) if serve and config.listen else None

    @classmethod
    def of(cls, config: MetricsSettings) -> Telemetry | None:
        """A stand-alone process's metrics, or None when ``listen`` is unset."""
        return cls(config) if config.listen else None

    # -- families -----------------------------------------------------------------------------

    def gauge(
        self, name: str, documentation: str, labels: Sequence[str] = (), *, mode: Mode = "livemostrecent"
    ) -> Gauge:
        """A gauge in this process's registry (``mode``: how the supervisor combines its workers')."""
        return Gauge(name, documentation, labels, registry=self.registry, multiprocess_mode=mode)

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def histogram(
        self, name: str, documentation: str, labels: Sequence[str] = (), *, buckets: Sequence[float]
    ) -> Histogram:
        return Histogram(name, documentation, labels, registry=self.registry, buckets=buckets)

    # -- probes -------------------------------------------------------------------------------

    def sample(self, name: str, probe: Probe) -> None:
        """Run ``probe`` every interval, if this process samples the database."""
        if self.sampling:
            self.sampler.add(name, probe)

    def watch_database(self, db: Database) -> None:
        """This process's connection pool: connections in use and the pool's size (added up over the
        host's workers), each wait for a connection, and the waits that gave up (``pool_timeout``)."""
        in_use = self.gauge(
            "registry_db_pool_connections_in_use",
            "Database connections checked out of the pool.",
            mode="livesum",
        )
        size = self.gauge(
            "registry_db_pool_size_connections", "Connections the pool may hold at most.", mode="livesum"
        )
        waits = self.histogram(
            "registry_db_pool_wait_seconds",
            "Time a transaction waited for a connection from the pool.",
            buckets=_WAIT_BUCKETS,
        )
        timeouts = self.counter(
            "registry_db_pool_timeouts_total",
            "Waits for a connection that gave up after pool_timeout (answered DATABASE_BUSY).",
        )

        def observe(seconds: float, timed_out: bool) -> None:
            waits.observe(seconds)
            if timed_out:
                timeouts.inc()

        db.observe_pool(observe)

        def pool() -> None:
            used, bound = db.pool_usage()
            in_use.set(used)
            size.set(bound)

        self.sampler.add("the connection pool", pool)

    def watch_trust(self, cert_file: Path | None, crl_file: Path | None) -> None:
        """The node's own certificate's end of validity, and the revocation list's dates."""
        if not self.sampling:
            return
        expiry = self.gauge(
            "registry_tls_certificate_expiry_timestamp_seconds",
            "When the node's own TLS certificate expires (Unix time).",
        )
        last_update = self.gauge(
            "registry_crl_last_update_timestamp_seconds",
            "When the CA issued the revocation list the node enforces (its thisUpdate, Unix time).",
        )
        next_update = self.gauge(
            "registry_crl_next_update_timestamp_seconds",
            "When the revocation list the node enforces says the next one is due (Unix time).",
        )

        def trust() -> None:
            if cert_file is not None:
                certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
                expiry.set(_unix(certificate.not_valid_after_utc))
            if crl_file is not None and crl_file.is_file():
                crl = x509.load_pem_x509_crl(crl_file.read_bytes())
                last_update.set(_unix(crl.last_update_utc))
                if crl.next_update_utc is not None:
                    next_update.set(_unix(crl.next_update_utc))

        self.sampler.add("the certificate and revocation list", trust)

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.sampler.start()

    def stop(self) -> None:
        self.sampler.stop()
        if self.endpoint is not None:
            self.endpoint.stop()


def _unix(moment: datetime) -> float:
    return moment.timestamp()
