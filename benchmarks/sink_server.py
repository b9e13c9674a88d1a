"""A SyncService that acknowledges every batch without applying it: the baseline for ``sync_throughput.py``.

``python benchmarks/sink_server.py`` serves ``registry.v1.SyncService`` on ``REGISTRY_LISTEN``
(``127.0.0.1:0`` picks a free port) and prints ``sink_server listening on HOST:PORT`` as its first stdout
line, exactly as the nodes do. It is built from the same parts as the national node (``NodeServer``, its
``ErrorInterceptor``, health, reflection, ``ThreadPoolExecutor(max_workers=32)``, :func:`common.cli.run_node`)
and the real generated servicer base, so gRPC receives and parses each ``ChangeBatch`` exactly as the
national node does; then, instead of ``Ledger.apply_batch``, it answers ``ChangeAck(acknowledged_sequence
= the batch's last sequence)`` without touching any database.

Only what the sync daemon and the benchmark call is implemented:

* ``PushChanges``: one ``ChangeAck`` per ``ChangeBatch`` (an empty batch acknowledges what was already).
* ``GetSyncState``: the highest sequence acknowledged so far (kept in memory, across streams), so that
  the daemon starts from 0 and the benchmark can poll progress exactly as it does the national node.
* ``PullChanges``: an empty downward feed, so the daemon's downward loop idles as it would.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
from common.cli import run_node
from common.grpc_server import NodeServer

from common.gen.registry.v1 import sync_pb2, sync_service_pb2, sync_service_pb2_grpc
from common.settings import NodeSettings

SERVICE = sync_service_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name


class SinkServicer(sync_service_pb2_grpc.SyncServiceServicer):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.acknowledged = 0
        self.head = 0

    def PushChanges(
        self, request_iterator: Iterator[sync_pb2.ChangeBatch], context: grpc.ServicerContext
    ) -> Iterator[sync_pb2.ChangeAck]:
        for batch in request_iterator:
            with self._lock:
                if batch.changes:
                    self.acknowledged = max(self.acknowledged, batch.changes[-1].sequence)
                self.head = max(self.head, batch.head_sequence, self.acknowledged)
                acknowledged = self.acknowledged
            yield sync_pb2.ChangeAck(acknowledged_sequence=acknowledged)

    def GetSyncState(
        self, request: sync_service_pb2.GetSyncStateRequest, context: grpc.ServicerContext
    ) -> sync_pb2.SyncState:
        with self._lock:
            return sync_pb2.SyncState(
                node=request.node,
                acknowledged_sequence=self.acknowledged,
                head_sequence=self.head,
                lag_changes=self.head - self.acknowledged,
            )

    def PullChanges(
        self, request: sync_service_pb2.PullChangesRequest, context: grpc.ServicerContext
    ) -> Iterator[sync_pb2.DownwardChange]:
        return iter(())


def _add_services(server: grpc.Server) -> None:
    sync_service_pb2_grpc.add_SyncServiceServicer_to_server(SinkServicer(), server)


def create_server(settings: NodeSettings) -> NodeServer:
    return NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        add_services=_add_services,
        service_names=(SERVICE,),
        shutdown_grace=settings.shutdown_grace,
    )


def _load(path: Path | None) -> NodeSettings:
    return NodeSettings.load(path)


def main(argv: list[str] | None = None) -> int:
    return run_node(
        "sink_server", "A SyncService that acknowledges without applying.", _load, create_server, argv
    )


if __name__ == "__main__":
    sys.exit(main())
