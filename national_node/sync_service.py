"""SyncService over gRPC: request validation, then the ledger."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import grpc

from common.errors import InvalidArgument, InvalidValue
from common.gen.registry.v1 import sync_pb2, sync_service_pb2, sync_service_pb2_grpc
from common.validation import Checker, parse_code
from national_node.ledger import Ledger

__all__ = ["SyncServicer"]

logger = logging.getLogger(__name__)


def _region(field: str, name: str) -> str:
    check = Checker()
    region = check.node_name(field, name)
    check.done()
    assert region is not None
    return region


class SyncServicer(sync_service_pb2_grpc.SyncServiceServicer):
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def PushChanges(
        self, request_iterator: Iterator[sync_pb2.ChangeBatch], context: grpc.ServicerContext
    ) -> Iterator[sync_pb2.ChangeAck]:
        for batch in request_iterator:
            _region("node", batch.node)
            yield self.ledger.apply_batch(batch)

    def PullChanges(self, request, context):
        node = _region("node", request.node)
        limit = request.max_changes or 500
        if not 0 < limit <= 5000:
            raise InvalidArgument.for_field(
                "max_changes", InvalidValue("FIELD_OUT_OF_RANGE", "must be 1..5000")
            )
        yield from self.ledger.pull(node, after=request.after_sequence, limit=limit)

    def AcknowledgeDownward(self, request, context):
        return self.ledger.acknowledge_downward(_region("node", request.node), request.sequence)

    def GetSyncState(self, request, context):
        return self.ledger.state(_region("node", request.node))

    def ListSyncStates(self, request, context):
        return sync_service_pb2.ListSyncStatesResponse(states=self.ledger.states())

    def CompareDigests(self, request, context):
        return self.ledger.compare(_region("node", request.node), request.ranges)

    def GetLedgerRecords(self, request, context):
        if len(request.uids) > 500:
            raise InvalidArgument.for_field(
                "uids", InvalidValue("FIELD_TOO_LONG", "lists more than 500 uids")
            )
        return sync_service_pb2.GetLedgerRecordsResponse(records=self.ledger.records(request.uids))

    def LookupLedger(self, request, context):
        return self.ledger.lookup(parse_code(request.code))

    def OnboardNode(self, request, context):
        node = _region("node", request.node)
        Checker().text("address", request.address, max_length=255, required=False)
        return self.ledger.onboard(node, request.address.strip())

    def TransferRegistration(self, request, context):
        check = Checker()
        to_node = check.node_name("to_node", request.to_node)
        check.request_id("request_id", request.request_id)
        check.done()
        assert to_node is not None
        return self.ledger.transfer(parse_code(request.code), to_node, request.request_id)

    def ConfirmTransfer(self, request, context):
        return self.ledger.confirm(_region("node", request.node), request.transfer_id)
