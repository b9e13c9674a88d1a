"""Serving the national log: checkpoints, entries, inclusion and consistency proofs, to anyone.

Proofs are computed from the stored hashes (:class:`~national_node.tlog.storage.LogStorage`) and
checked before they are served: an entry whose stored bytes do not match its hashes is DATA_LOSS
(``LOG_DAMAGED``), never a proof that fails in a verifier's hands.

An inclusion proof without a tree size is given in the checkpoint, among the newest few that hold the
entry, with the most cosignatures. A confirmation is mostly asked for right after its registration
became active, before the witnesses have cosigned a checkpoint that holds it; so the proof server
waits, at most ``cosignature_wait`` seconds (:data:`~common.transparency.entry.COSIGNATURE_WAIT`),
for a checkpoint that holds the entry and that every witness keeping up with the log has cosigned
(one that cosigned any of its newest checkpoints; before any has, every witness it has a key of).
The signer and the cosignatures wake it; other processes' are seen within a fifth of a second. Past
the wait, the best checkpoint is served, and :meth:`ProofServer.pending_witnesses` names who has not
cosigned it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection

from sqlmodel import Session

from common.errors import DataLoss, FailedPrecondition, InvalidArgument, InvalidValue, NotFound
from common.transparency import (
    Proof,
    ProofError,
    consistency_proof,
    inclusion_proof,
    root_hash,
    verify_inclusion,
)
from common.transparency.entry import COSIGNATURE_WAIT
from national_node.models import CheckpointRow, CosignatureRow, LogEntryRow
from national_node.tlog.signer import cosigned_note
from national_node.tlog.storage import LogStorage

__all__ = ["ProofServer"]

logger = logging.getLogger(__name__)

#: How many of the newest checkpoints an inclusion proof chooses among (the most cosigned wins).
_CHOICE = 16


class ProofServer:
    def __init__(
        self,
        storage: LogStorage,
        *,
        witnesses: Callable[[], Collection[str]] = frozenset,
        cosignature_wait: float = COSIGNATURE_WAIT,
    ) -> None:
        """``witnesses``: the regions of the witnesses the log has keys of, now."""
        self.storage = storage
        self.witnesses = witnesses
        self.cosignature_wait = cosignature_wait
        self._changed = threading.Condition()

    def changed(self) -> None:
        """A checkpoint was signed or a cosignature kept: whoever waits for one looks again."""
        with self._changed:
            self._changed.notify_all()

    def _wait(self, deadline: float) -> None:
        with self._changed:
            self._changed.wait(max(0.0, min(0.2, deadline - time.monotonic())))

    def size(self) -> int:
        with self.storage.transaction(write=False) as session:
            return self.storage.size(session)

    def root(self, size: int) -> bytes:
        """The root hash of the log's first ``size`` entries, from the stored hashes."""
        with self.storage.transaction(write=False) as session:
            return root_hash(size, self.storage.reader(session))

    def get_checkpoint(self, size: int = 0) -> tuple[CheckpointRow, list[CosignatureRow]]:
        """The newest checkpoint (``size`` 0) or the one of ``size``, with its cosignatures."""
        storage = self.storage
        with storage.transaction(write=False) as session:
            row = storage.newest_checkpoint(session) if size == 0 else storage.checkpoint(session, size)
            if row is None:
                raise NotFound(
                    "CHECKPOINT_NOT_FOUND",
                    "no checkpoint has been issued yet"
                    if size == 0
                    else f"no checkpoint of tree size {size} was issued",
                    metadata={"field": "tree_size"},
                )
            return row, storage.cosignatures(session, row.size)

    def find_entry(self, *, index: int | None = None, code: str = "", revision: int = 0) -> LogEntryRow:
        """An entry by index, or the entry of a code's registration as the ledger holds it now (which
        must be ``revision`` when given)."""
        storage = self.storage
        with storage.transaction(write=False) as session:
            if index is None:
                ledger = storage.ledger_row(session, code)
                if ledger is None or ledger.log_index is None:
                    raise NotFound(
                        "LOG_ENTRY_NOT_FOUND",
                        f"the national log has no registration entry of {code} (yet)",
                        metadata={"field": "code"},
                    )
                if revision and ledger.revision != revision:
                    raise NotFound(
                        "LOG_ENTRY_NOT_FOUND",
                        f"the national ledger holds revision {ledger.revision} of {code}, not {revision}"
                        " (yet)",
                        metadata={"field": "revision"},
                    )
                index = ledger.log_index
            row = storage.entry(session, index)
            if row is None:
                raise NotFound(
                    "LOG_ENTRY_NOT_FOUND",
                    f"the log has {storage.size(session)} entries; there is no entry {index}",
                    metadata={"field": "index"},
                )
            return row

    def inclusion(
        self, entry: LogEntryRow, tree_size: int = 0
    ) -> tuple[list[bytes], CheckpointRow, list[CosignatureRow]]:
        """The inclusion path of ``entry`` in the checkpoint of ``tree_size`` (0: the best recent one),
        checked before it is returned."""
        storage = self.storage
        if not tree_size:
            checkpoint, cosignatures, path = self._witnessed(entry.index)
        else:
            with storage.transaction(write=False) as session:
                found = storage.checkpoint(session, tree_size)
                if found is None:
                    raise NotFound(
                        "CHECKPOINT_NOT_FOUND",
                        f"no checkpoint of tree size {tree_size} was issued",
                        metadata={"field": "tree_size"},
                    )
                checkpoint = found
                if checkpoint.size <= entry.index:
                    raise InvalidArgument.for_field(
                        "tree_size",
                        InvalidValue(
                            "FIELD_OUT_OF_RANGE", f"entry {entry.index} is not in a tree of {tree_size}"
                        ),
                    )
                cosignatures = storage.cosignatures(session, checkpoint.size)
                path = inclusion_proof(entry.index, checkpoint.size, storage.reader(session))
        try:
            verify_inclusion(entry.entry, entry.index, checkpoint.size, path, checkpoint.root)
        except ProofError:
            logger.error("log entry %d does not match the stored hashes: the log is damaged", entry.index)
            raise DataLoss(
                "LOG_DAMAGED",
                f"entry {entry.index} does not match the log's hashes; the national coordinators are told",
            ) from None
        return path, checkpoint, cosignatures

    def _witnessed(self, index: int) -> tuple[CheckpointRow, list[CosignatureRow], list[bytes]]:
        """The checkpoint to prove entry ``index`` in, its cosignatures and the path: the best of the
        newest few that hold it, once every witness keeping up has cosigned it (or the wait is over)."""
        storage = self.storage
        deadline = time.monotonic() + self.cosignature_wait
        while True:
            with storage.transaction(write=False) as session:
                recent = storage.checkpoints_containing(session, index, _CHOICE)
                if recent:
                    counts = storage.cosignature_counts(session, [c.size for c in recent])
                    best = max(recent, key=lambda c: (counts.get(c.size, 0), c.size))
                    cosignatures = storage.cosignatures(session, best.size)
                    missing = self._expected(session) - {c.witness for c in cosignatures}
                    if not missing or time.monotonic() >= deadline:
                        return best, cosignatures, inclusion_proof(index, best.size, storage.reader(session))
                elif time.monotonic() >= deadline:
                    raise FailedPrecondition(
                        "NOT_YET_CHECKPOINTED",
                        f"entry {index} is in no checkpoint yet; one is issued within seconds",
                        metadata={"index": str(index)},
                    )
            self._wait(deadline)

    def _expected(self, session: Session) -> set[str]:
        """The witnesses a checkpoint should carry: those keeping up with the log (they cosigned any
        of its newest checkpoints), or, before any has cosigned, every witness the log has a key of."""
        known = set(self.witnesses())
        keeping_up = self.storage.witnesses_of_newest(session, _CHOICE)
        return keeping_up & known if keeping_up else known

    def pending_witnesses(self, cosignatures: list[CosignatureRow]) -> list[str]:
        """The regions of the witnesses a checkpoint should carry (see :meth:`_expected`) that are
        not among its ``cosignatures``: their cosignatures are pending."""
        with self.storage.transaction(write=False) as session:
            expected = self._expected(session)
        return sorted(expected - {c.witness for c in cosignatures})

    @staticmethod
    def tlog_proof(
        entry: LogEntryRow,
        path: list[bytes],
        checkpoint: CheckpointRow,
        cosignatures: list[CosignatureRow],
    ) -> str:
        """The proof in the C2SP tlog-proof text format (a confirmation file)."""
        return Proof(
            extra=entry.entry,
            index=entry.index,
            hashes=tuple(path),
            checkpoint_note=cosigned_note(checkpoint, cosignatures),
        ).format()

    def consistency(self, first: int, second: int) -> list[bytes]:
        storage = self.storage
        with storage.transaction(write=False) as session:
            newest = storage.newest_checkpoint(session)
            limit = newest.size if newest is not None else 0
            for field, value in (("first_size", first), ("second_size", second)):
                if not 1 <= value <= limit:
                    raise InvalidArgument.for_field(
                        field,
                        InvalidValue(
                            "FIELD_OUT_OF_RANGE", f"must be from 1 to the newest checkpoint's {limit}"
                        ),
                    )
            if first > second:
                raise InvalidArgument.for_field(
                    "first_size", InvalidValue("FIELD_OUT_OF_RANGE", "must not be larger than second_size")
                )
            return consistency_proof(first, second, storage.reader(session))

    def entries(self, start: int, limit: int) -> tuple[list[LogEntryRow], int]:
        """Up to ``limit`` entries from ``start`` on, and the index to ask for next."""
        with self.storage.transaction(write=False) as session:
            size = self.storage.size(session)
            rows = self.storage.entries(session, start, limit)
        return rows, rows[-1].index + 1 if rows else min(start, size)
