"""ProvincialService over gRPC: the node's link status and the proof of agreement."""

from __future__ import annotations

import grpc

from common.errors import Unavailable
from common.gen.registry.v1 import provincial_service_pb2_grpc
from provincial_node.agreement import check_agreement
from provincial_node.sync import SyncDaemon

__all__ = ["ProvincialServicer"]


class ProvincialServicer(provincial_service_pb2_grpc.ProvincialServiceServicer):
    def __init__(self, daemon: SyncDaemon) -> None:
        self.daemon = daemon

    def GetSyncStatus(self, request, context):
        return self.daemon.status()

    def CheckAgreement(self, request, context):
        try:
            return check_agreement(
                self.daemon.db,
                self.daemon.region,
                self.daemon.stub,
                self.daemon.log,
                repair=request.repair,
                timeout=self.daemon.timeout * 3,
            )
        except grpc.RpcError as error:
            raise Unavailable(
                "NATIONAL_NODE_UNREACHABLE",
                f"the national node did not answer the comparison: {error.code().name}",  # type: ignore[attr-defined]
                metadata={"national_status": error.code().name},  # type: ignore[attr-defined]
            ) from None
