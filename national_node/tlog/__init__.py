"""The national log: every code assignment and ledger change, appended in the same transaction.

What is appended, and how an entry is encoded, is documented in ``proto/registry/v1/log_service.proto``;
the hashing and proofs are :mod:`common.transparency`. The log has one room per job, as Trillian
separates its log server from its storage:

* :mod:`.storage` -- the tables, behind the interface every other part uses (:class:`LogStorage`);
* :mod:`.entries` -- what an entry holds, in RFC 8785 canonical JSON;
* :mod:`.append` -- appending in the ledger's own transaction, in commit order, without gaps
  (:class:`Appender`);
* :mod:`.signer` -- signing checkpoints when the log grows (:class:`CheckpointSigner`);
* :mod:`.witnesses` -- the provinces' keys and the cosignatures they send (:class:`Cosignatures`);
* :mod:`.proofs` -- serving checkpoints, entries and proofs, checked before they leave
  (:class:`ProofServer`).

:class:`TransparencyLog` puts them together on one database, as the national node runs them.
"""

from __future__ import annotations

from collections.abc import Iterable

from common.clock import Clock
from common.db import Database
from common.transparency import Signer
from common.transparency.entry import COSIGNATURE_WAIT
from national_node.tlog.append import Appender
from national_node.tlog.entries import Pending
from national_node.tlog.proofs import ProofServer
from national_node.tlog.signer import CheckpointSigner
from national_node.tlog.storage import LogStorage
from national_node.tlog.witnesses import Cosignatures, WitnessKeys

__all__ = [
    "Appender",
    "CheckpointSigner",
    "Cosignatures",
    "LogStorage",
    "Pending",
    "ProofServer",
    "TransparencyLog",
    "WitnessKeys",
]


class TransparencyLog:
    """The national log's parts on one database: ``appender`` (for the ledger and the coding
    authority), ``checkpoints`` (a thread, started and stopped with the node), ``cosignatures`` and
    ``proofs`` (for LogService)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        signer: Signer,
        *,
        old_keys: Iterable[str] = (),
        witnesses: WitnessKeys | None = None,
        interval: float = 1.0,
        min_interval: float = 2.0,
        cosignature_wait: float = COSIGNATURE_WAIT,
    ) -> None:
        self.storage = LogStorage(db)
        self.witnesses = witnesses or WitnessKeys(None)
        self.proofs = ProofServer(
            self.storage, witnesses=lambda: self.witnesses.keys().keys(), cosignature_wait=cosignature_wait
        )
        self.checkpoints = CheckpointSigner(
            self.storage,
            clock,
            signer,
            old_keys=tuple(old_keys),
            interval=interval,
            min_interval=min_interval,
            on_signed=self.proofs.changed,
        )
        self.appender = Appender(self.storage, on_appended=self.checkpoints.grown)
        self.cosignatures = Cosignatures(self.storage, clock, self.witnesses, on_added=self.proofs.changed)

    def start(self) -> None:
        self.checkpoints.start()

    def stop(self) -> None:
        self.checkpoints.stop()
