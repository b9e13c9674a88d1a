"""SyncService over gRPC: request validation, then the ledger."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

from common import names
from common.errors import InvalidArgument, InvalidValue
from common.gen.registry.v1 import sync_pb2
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.leases import process_identity
from common.paging import PageTokens
from common.rpc.call import Call, Stream
from common.security.scope import own_region
from common.validation import Checker, parse_code
from national_node.ledger import TRANSFER_ID, Ledger

__all__ = ["SyncServicer"]

logger = logging.getLogger(__name__)


class SyncServicer:
    """``registry.v1.SyncService``: the national ledger's side of interconnection.

    One upward stream per node: when a node opens a new stream (after a partition, the old one may
    linger half-dead), the newest wins and the older one is ended. Across the national node's
    processes and hosts too: a stream's first batch makes it the node's upward stream in the ledger
    (``sync_states.upward_stream``), and a batch of any other stream of that node is refused
    (ABORTED, ``STREAM_SUPERSEDED``), in the transaction that would have applied it.
    """

    def __init__(self, ledger: Ledger, tokens: PageTokens) -> None:
        self.ledger, self.tokens = ledger, tokens
        self._upward: dict[str, Stream] = {}
        self._lock = threading.Lock()
        self._process = process_identity()

    def _claim_upward(self, node: str, stream: Stream | None) -> bool:
        """Whether this is the stream's first batch (it claims the node's upward stream)."""
        if stream is None:
            return True
        with self._lock:
            current = self._upward.get(node)
            if current is stream:
                return False
            self._upward[node] = stream
        stream.when_ended(lambda: self._release_upward(node, stream))
        if current is not None and current.is_open:
            current.close(f"nodes/{node} opened a newer upward stream; ending stream {current.id}")
        return True

    def _release_upward(self, node: str, stream: Stream) -> None:
        with self._lock:
            if self._upward.get(node) is stream:
                del self._upward[node]

    def PushChanges(self, batch: sync_pb2.ChangeBatch, call: Call) -> sync_pb2.ChangeAck:
        """One batch of the upward stream; the boundary answers each with its acknowledgement."""
        node = names.parse_node(batch.node, field="node")
        first = self._claim_upward(node, call.stream)
        stream = f"{self._process}/{call.stream.id}" if call.stream is not None else ""
        return self.ledger.apply_batch(batch, stream=stream, claim=first)

    def PullChanges(self, request: ss.PullChangesRequest, call: Call) -> Iterator[sync_pb2.DownwardChange]:
        node = names.parse_node(request.node, field="node")
        limit = request.max_changes or 500
        if not 0 < limit <= 5000:
            raise InvalidArgument.for_field(
                "max_changes", InvalidValue("FIELD_OUT_OF_RANGE", "must be 1..5000")
            )
        yield from self.ledger.pull(node, after=request.after_sequence, limit=limit)

    def AcknowledgeDownward(self, request: ss.AcknowledgeDownwardRequest, call: Call) -> sync_pb2.SyncState:
        return self.ledger.acknowledge_downward(
            names.parse_node(request.node, field="node"), request.sequence
        )

    def GetSyncState(self, request: ss.GetSyncStateRequest, call: Call) -> sync_pb2.SyncState:
        return self.ledger.state(names.parse_node(request.node, field="node"))

    def ListSyncStates(self, request: ss.ListSyncStatesRequest, call: Call) -> ss.ListSyncStatesResponse:
        check = Checker()
        size = check.page_size("page_size", request.page_size, default=50, maximum=100)
        check.done()
        after = self.tokens.decode("ListSyncStates", request.page_token) or ""
        states = self.ledger.states(after=str(after), limit=size + 1)
        token = ""
        if len(states) > size:
            states = states[:size]
            token = self.tokens.encode("ListSyncStates", names.parse_node(states[-1].node))
        return ss.ListSyncStatesResponse(states=states, next_page_token=token)

    def CompareDigests(self, request: ss.CompareDigestsRequest, call: Call) -> ss.CompareDigestsResponse:
        return self.ledger.compare(names.parse_node(request.node, field="node"), request.ranges)

    def GetLedgerRecords(
        self, request: ss.GetLedgerRecordsRequest, call: Call
    ) -> ss.GetLedgerRecordsResponse:
        if len(request.uids) > 500:
            raise InvalidArgument.for_field(
                "uids", InvalidValue("FIELD_TOO_LONG", "lists more than 500 uids")
            )
        # A node reads only the records of what it manages (scope own_node); others see them all.
        own = own_region(call.principal, call.grant)
        return ss.GetLedgerRecordsResponse(records=self.ledger.records(request.uids, managed_by=own))

    def LookupLedger(self, request: ss.LookupLedgerRequest, call: Call) -> sync_pb2.RegistrationRecord:
        return self.ledger.lookup(parse_code(request.code))

    def OnboardNode(self, request: ss.OnboardNodeRequest, call: Call) -> ss.OnboardNodeResponse:
        check = Checker()
        node = check.node_name("node", request.node)
        check.text("address", request.address, max_length=255, required=False)
        check.done()
        assert node is not None
        return self.ledger.onboard(node, request.address.strip())

    def TransferRegistration(self, request: ss.TransferRegistrationRequest, call: Call) -> ss.Transfer:
        check = Checker()
        to_node = check.node_name("to_node", request.to_node)
        check.request_id("request_id", request.request_id)
        check.done()
        assert to_node is not None
        return self.ledger.transfer(parse_code(request.code), to_node, request.request_id)

    def ConfirmTransfer(self, request: ss.ConfirmTransferRequest, call: Call) -> ss.Transfer:
        node = names.parse_node(request.node, field="node")
        check = Checker()
        check.pattern("transfer_id", request.transfer_id, TRANSFER_ID, "a transfer's id (a UUID)")
        check.done()
        return self.ledger.confirm(node, request.transfer_id)
