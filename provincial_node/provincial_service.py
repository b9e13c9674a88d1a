"""ProvincialService over gRPC: the node's link status and the proof of agreement."""

from __future__ import annotations

import grpc

from common.errors import FailedPrecondition, InvalidArgument, InvalidValue, NotFound, Unavailable
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.rpc.call import Call
from provincial_node.agreement import check_agreement
from provincial_node.sync import SyncDaemon

__all__ = ["ProvincialServicer"]


class ProvincialServicer:
    """``registry.v1.ProvincialService``: the node's view of its link, and the proof of agreement."""

    def __init__(self, daemon: SyncDaemon) -> None:
        self.daemon = daemon

    def GetSyncStatus(self, request: ps.GetSyncStatusRequest, call: Call) -> ps.SyncStatus:
        return self.daemon.status()

    def CheckAgreement(self, request: ps.CheckAgreementRequest, call: Call) -> ps.AgreementReport:
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
            status = error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
            raise Unavailable(
                "NATIONAL_NODE_UNREACHABLE",
                f"the national node did not answer the comparison: {status}",
                metadata={"national_status": status},
            ) from None

    def GetWitnessedCheckpoint(
        self, request: ps.GetWitnessedCheckpointRequest, call: Call
    ) -> ps.WitnessedCheckpoint:
        witness = self.daemon.witness
        witnessed = witness.witnessed() if witness is not None else None
        if witnessed is None:
            raise NotFound(
                "NOT_WITNESSED",
                "this node has verified no checkpoint of the national log"
                + ("" if witness is not None else " (it is not configured as a witness)"),
            )
        return witnessed

    def ResolveLogAlarm(self, request: ps.ResolveLogAlarmRequest, call: Call) -> ps.SyncStatus:
        reason = request.reason.strip()
        if not 1 <= len(reason) <= 2000:
            raise InvalidArgument.for_field(
                "reason",
                InvalidValue("FIELD_REQUIRED", "say what the investigation found (1 to 2000 characters)"),
            )
        witness = self.daemon.witness
        if witness is None or not witness.resolve(call.actor, reason):
            raise FailedPrecondition("NO_LOG_ALARM", "there is no log alarm to resolve")
        return self.daemon.status()
