"""LogService over gRPC: request validation, then the national log."""

from __future__ import annotations

from common import names
from common.errors import InvalidArgument, InvalidValue
from common.gen.registry.v1 import log_service_pb2 as ls
from common.rpc.call import Call
from common.validation import Checker, parse_code
from national_node.models import CheckpointRow, CosignatureRow
from national_node.tlog import TransparencyLog
from national_node.tlog.signer import cosigned_note

__all__ = ["LogServicer", "checkpoint_message"]

#: The largest page of ListEntries.
MAX_ENTRIES = 1000


def checkpoint_message(row: CheckpointRow, cosignatures: list[CosignatureRow]) -> ls.Checkpoint:
    message = ls.Checkpoint(
        tree_size=row.size,
        root_hash=row.root,
        note=cosigned_note(row, cosignatures),
        cosigned_by=[names.node_name(c.witness) for c in cosignatures],
    )
    message.create_time.FromDatetime(row.created_at)
    return message


def _size(field: str, value: int, *, allow_zero: bool) -> int:
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidArgument.for_field(
            field,
            InvalidValue(
                "FIELD_OUT_OF_RANGE", "must be positive" if not allow_zero else "must not be negative"
            ),
        )
    return value


class LogServicer:
    """``registry.v1.LogService``: the national log, readable by anyone, cosigned by the provinces."""

    def __init__(self, log: TransparencyLog) -> None:
        self.log = log

    def GetLogInfo(self, request: ls.GetLogInfoRequest, call: Call) -> ls.LogInfo:
        return ls.LogInfo(
            origin=self.log.checkpoints.signer.name,
            verifier_keys=[v.verifier_key() for v in self.log.checkpoints.verifiers],
            witnesses=[
                ls.Witness(node=names.node_name(region), verifier_key=key.verifier_key())
                for region, key in sorted(self.log.witnesses.keys().items())
            ],
            size=self.log.proofs.size(),
        )

    def GetCheckpoint(self, request: ls.GetCheckpointRequest, call: Call) -> ls.Checkpoint:
        size = _size("tree_size", request.tree_size, allow_zero=True)
        return checkpoint_message(*self.log.proofs.get_checkpoint(size))

    def GetInclusionProof(self, request: ls.GetInclusionProofRequest, call: Call) -> ls.InclusionProof:
        which = request.WhichOneof("entry")
        tree_size = _size("tree_size", request.tree_size, allow_zero=True)
        if which == "index":
            entry = self.log.proofs.find_entry(index=_size("index", request.index, allow_zero=True))
        elif which == "code":
            code = parse_code(request.code.strip(), field="code")
            revision = _size("revision", request.revision, allow_zero=True)
            entry = self.log.proofs.find_entry(code=code, revision=revision)
        else:
            raise InvalidArgument.for_field(
                "entry", InvalidValue("FIELD_REQUIRED", "give the entry's index or a code")
            )
        path, checkpoint, cosignatures = self.log.proofs.inclusion(entry, tree_size)
        return ls.InclusionProof(
            index=entry.index,
            entry=entry.entry,
            hashes=path,
            checkpoint=checkpoint_message(checkpoint, cosignatures),
            tlog_proof=self.log.proofs.tlog_proof(entry, path, checkpoint, cosignatures),
            witnesses_pending=[names.node_name(w) for w in self.log.proofs.pending_witnesses(cosignatures)],
        )

    def GetConsistencyProof(self, request: ls.GetConsistencyProofRequest, call: Call) -> ls.ConsistencyProof:
        first = _size("first_size", request.first_size, allow_zero=False)
        second = _size("second_size", request.second_size, allow_zero=False)
        return ls.ConsistencyProof(
            first_size=first, second_size=second, hashes=self.log.proofs.consistency(first, second)
        )

    def ListEntries(self, request: ls.ListEntriesRequest, call: Call) -> ls.ListEntriesResponse:
        start = _size("start_index", request.start_index, allow_zero=True)
        check = Checker()
        size = check.page_size("page_size", request.page_size, default=100, maximum=MAX_ENTRIES)
        check.done()
        rows, next_index = self.log.proofs.entries(start, size)
        return ls.ListEntriesResponse(
            entries=[ls.LogEntry(index=row.index, entry=row.entry) for row in rows], next_index=next_index
        )

    def AddCosignature(self, request: ls.AddCosignatureRequest, call: Call) -> ls.Checkpoint:
        region = names.parse_node(request.node, field="node")
        size = _size("tree_size", request.tree_size, allow_zero=False)
        if not request.signature.strip() or len(request.signature) > 400:
            raise InvalidArgument.for_field(
                "signature",
                InvalidValue("FIELD_MALFORMED", "must be one signature line of at most 400 characters"),
            )
        return checkpoint_message(*self.log.cosignatures.add(region, size, request.signature))
