"""A node-shaped gRPC server with one empty unary method: the baseline for ``assign_codes.py``.

``python benchmarks/empty_server.py`` serves ``/bench.v1.EmptyService/Call`` (``google.protobuf.Empty``
in, ``Empty`` out) on ``REGISTRY_LISTEN`` (``127.0.0.1:0`` picks a free port) and prints
``empty_server listening on HOST:PORT`` as its first stdout line, exactly as the nodes do.

It is built from the same parts as a node, so that the only difference from the national node is the
work the method does: :class:`common.grpc_server.NodeServer` (a ``grpc.server`` on a
``ThreadPoolExecutor(max_workers=32)`` by default, the ``ErrorInterceptor``, health, reflection) and
:func:`common.cli.run_node` (settings from ``REGISTRY_*``, logging, SIGINT/SIGTERM handling).
"""

from __future__ import annotations

import sys
from pathlib import Path

import grpc
from common.cli import run_node
from common.grpc_server import NodeServer
from google.protobuf import empty_pb2

from common.settings import NodeSettings

SERVICE = "bench.v1.EmptyService"
METHOD = f"/{SERVICE}/Call"

_EMPTY = empty_pb2.Empty()


def _call(request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
    return _EMPTY


def _add_services(server: grpc.Server) -> None:
    handler = grpc.unary_unary_rpc_method_handler(
        _call,
        request_deserializer=empty_pb2.Empty.FromString,
        response_serializer=empty_pb2.Empty.SerializeToString,
    )
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {"Call": handler}),))


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
        "empty_server", "An empty unary gRPC method on a node's server set-up.", _load, create_server, argv
    )


if __name__ == "__main__":
    sys.exit(main())
