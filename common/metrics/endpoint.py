"""A ``/metrics`` endpoint, and what a supervisor serves for its workers (multiprocess mode).

Apart from :mod:`common.metrics.telemetry` so that a supervisor, which holds no database connection,
loads nothing but prometheus_client to serve its workers' metrics.
"""

from __future__ import annotations

import logging
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["MULTIPROCESS_DIR", "MetricsEndpoint", "multiprocess_registry"]

logger = logging.getLogger(__name__)

#: The environment variable that puts prometheus_client in multiprocess mode (read at its import).
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_registry(path: Path) -> CollectorRegistry:
    """What the processes writing into ``path`` add up to (the supervisor serves it)."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    return registry


class MetricsEndpoint:
    """``/metrics`` over HTTP on ``listen`` (host:port; port 0 picks one), from a thread of its own."""

    def __init__(self, listen: str, registry: CollectorRegistry) -> None:
        host, _, port = listen.rpartition(":")
        self._server, self._thread = start_http_server(int(port), host.strip("[]"), registry)
        self.address = f"{host}:{self._server.server_address[1]}"
        logger.info("serving metrics on http://%s/metrics", self.address)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
