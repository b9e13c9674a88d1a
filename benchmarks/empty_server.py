"""A node-shaped gRPC server with one empty unary method: the baseline for ``benchmarks.assign_codes``.

``python -m benchmarks.empty_server`` serves ``/bench.Empty/Call`` (``google.protobuf.Empty`` in,
``Empty`` out) on ``REGISTRY_LISTEN`` (``127.0.0.1:0`` picks a free port) and prints
``empty_server listening on HOST:PORT`` as its first stdout line, exactly as the nodes do.

It is built from the same parts as a node, so that the only difference from the national node is the
work the method does: :class:`common.rpc.NodeServer` (a ``grpc.server`` on a
``ThreadPoolExecutor(max_workers=32)`` by default, every call through the node's boundary: decoding,
the caller's identity, error status; health, reflection) and :func:`common.process.run_process`
(settings from ``REGISTRY_*``, logging, SIGINT/SIGTERM handling). The service is the benchmark's own,
described in a ``FileDescriptorProto`` added to the default descriptor pool.
"""

from __future__ import annotations

import sys

from google.protobuf import descriptor_pb2, descriptor_pool, empty_pb2
from google.protobuf.descriptor import ServiceDescriptor

from common.process import run_process
from common.rpc import Call, NodeServer
from common.rpc.security import node_security
from common.rpc.tls import Files
from common.security.policy import PUBLIC, Credential, Policy, Role, Scope
from common.settings import NodeSettings

__all__ = ["METHOD", "SERVICE", "EmptyServicer", "create_server", "main", "service"]

SERVICE = "bench.Empty"
METHOD = f"/{SERVICE}/Call"

_EMPTY = empty_pb2.Empty()


def service() -> ServiceDescriptor:
    """``bench.Empty``: one unary method, ``Call(google.protobuf.Empty) returns (google.protobuf.Empty)``."""
    pool = descriptor_pool.Default()
    try:
        return pool.FindServiceByName(SERVICE)
    except KeyError:
        pass
    file = descriptor_pb2.FileDescriptorProto(
        name="bench/empty.proto", package="bench", syntax="proto3", dependency=[empty_pb2.DESCRIPTOR.name]
    )
    file.service.add(name="Empty").method.add(
        name="Call", input_type=".google.protobuf.Empty", output_type=".google.protobuf.Empty"
    )
    pool.Add(file)
    return pool.FindServiceByName(SERVICE)


class EmptyServicer:
    def Call(self, request: empty_pb2.Empty, call: Call) -> empty_pb2.Empty:
        return _EMPTY


#: The benchmark's policy: everyone may call the empty method (the caller is still identified).
POLICY = Policy([Role(PUBLIC, "everyone", {"Empty.Call": Scope.ANY}, Credential.TOKEN)])


def create_server(settings: NodeSettings) -> NodeServer:
    # A node's transport: mutual TLS when the settings name the certificate (as the benchmarks'
    # secure runs do), plaintext otherwise; with a token key set (auth.jwks_file), every call is
    # identified as a node's are (certificate, revocation list, bearer token) and authorised.
    authenticator = node_security(settings).authenticator if settings.auth.jwks_file else None
    return NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        services=[(service(), EmptyServicer())],
        shutdown_grace=settings.shutdown_grace,
        credentials=Files(settings.tls).server_credentials() if settings.tls.cert_file else None,
        authenticator=authenticator,
        policy=POLICY if authenticator else None,
    )


def main(argv: list[str] | None = None) -> int:
    return run_process(
        "empty_server",
        "An empty unary gRPC method on a node's server set-up.",
        NodeSettings.load,
        create_server,
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
