"""A SyncService that acknowledges every batch without applying it: the baseline for ``sync_throughput``.

``python -m benchmarks.sink_server`` serves ``registry.v1.SyncService`` on ``REGISTRY_LISTEN``
(``127.0.0.1:0`` picks a free port) and prints ``sink_server listening on HOST:PORT`` as its first
stdout line, exactly as the nodes do. It is built from the same parts as the national node
(:class:`common.rpc.NodeServer` with the node's boundary, health, reflection,
``ThreadPoolExecutor(max_workers=32)``; :func:`common.process.run_process`) and serves the real
service descriptor, so each ``ChangeBatch`` is received and decoded exactly as the national node does;
then, instead of ``Ledger.apply_batch``, it answers ``ChangeAck(acknowledged_sequence = the batch's
last sequence)`` without touching any database.

Only what the sync daemon and the benchmark call is implemented:

* ``PushChanges``: one ``ChangeAck`` per ``ChangeBatch`` (an empty batch acknowledges what was already).
* ``GetSyncState``: the highest sequence acknowledged so far for the node asked about (kept in memory,
  across streams, per node as the national node keeps it, so that several provinces can stream at
  once), so that the daemon starts from 0 and the benchmark can poll progress exactly as it does the
  national node.
* ``PullChanges``: an empty downward feed, so the daemon's downward loop idles as it would.

Every other method of the service exists (the boundary serves a service only whole) and answers
UNIMPLEMENTED.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import NoReturn

import grpc

from common.errors import RegistryError
from common.gen.registry.v1 import sync_pb2, sync_service_pb2
from common.process import run_process
from common.rpc import Call, NodeServer
from common.rpc.tls import Files
from common.settings import NodeSettings

__all__ = ["SYNC_SERVICE", "SinkServicer", "Unimplemented", "create_server", "main"]

SYNC_SERVICE = sync_service_pb2.DESCRIPTOR.services_by_name["SyncService"]


class Unimplemented(RegistryError):
    """A method of the service that the sink does not serve."""

    code = grpc.StatusCode.UNIMPLEMENTED


class SinkServicer:
    """``registry.v1.SyncService``'s upward feed and state, in memory, applying nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.acknowledged: dict[str, int] = {}  # by node (nodes/{region})
        self.head: dict[str, int] = {}

    def PushChanges(self, batch: sync_pb2.ChangeBatch, call: Call) -> sync_pb2.ChangeAck:
        """One batch of the upward stream; the boundary answers each with its acknowledgement."""
        with self._lock:
            acknowledged = self.acknowledged.get(batch.node, 0)
            if batch.changes:
                acknowledged = self.acknowledged[batch.node] = max(acknowledged, batch.changes[-1].sequence)
            self.head[batch.node] = max(self.head.get(batch.node, 0), batch.head_sequence, acknowledged)
            return sync_pb2.ChangeAck(acknowledged_sequence=acknowledged)

    def GetSyncState(self, request: sync_service_pb2.GetSyncStateRequest, call: Call) -> sync_pb2.SyncState:
        with self._lock:
            acknowledged = self.acknowledged.get(request.node, 0)
            head = self.head.get(request.node, 0)
            return sync_pb2.SyncState(
                node=request.node,
                acknowledged_sequence=acknowledged,
                head_sequence=head,
                lag_changes=head - acknowledged,
            )

    def PullChanges(
        self, request: sync_service_pb2.PullChangesRequest, call: Call
    ) -> Iterator[sync_pb2.DownwardChange]:
        return iter(())

    def __getattr__(self, name: str) -> Callable[[object, Call], NoReturn]:
        """The service's other methods: UNIMPLEMENTED."""
        if name not in SYNC_SERVICE.methods_by_name:
            raise AttributeError(name)

        def unimplemented(request: object, call: Call) -> NoReturn:
            raise Unimplemented(
                "NOT_IMPLEMENTED_HERE",
                f"the benchmark's sink serves PushChanges, GetSyncState and PullChanges, not {name}",
                metadata={"method": name},
            )

        return unimplemented


def create_server(settings: NodeSettings) -> NodeServer:
    return NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        services=[(SYNC_SERVICE, SinkServicer())],
        shutdown_grace=settings.shutdown_grace,
        # A node's transport: mutual TLS when the settings name the certificate (as the benchmarks'
        # secure runs do), plaintext otherwise.
        credentials=Files(settings.tls).server_credentials() if settings.tls.cert_file else None,
    )


def main(argv: list[str] | None = None) -> int:
    return run_process(
        "sink_server",
        "A SyncService that acknowledges without applying.",
        NodeSettings.load,
        create_server,
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
