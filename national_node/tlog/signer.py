"""The national log's checkpoints: the only thing the log signs.

A thread of the node (:meth:`CheckpointSigner.start`) signs a checkpoint (C2SP ``tlog-checkpoint`` in
a ``signed-note``, with the log's Ed25519 key) when the log has grown: at once after an append in this
process (:meth:`CheckpointSigner.grown`), and every ``interval`` seconds for appends by other
processes on the same database. Of a national node of several processes, one signs: the holder of the
``checkpoints`` lease. Signing is deterministic (Ed25519), so two processes signing the same
size write the same note.

Not more often than every ``min_interval`` seconds (2 by default): a stream of appends is then not
slowed by a write transaction between each two, and, above all, each checkpoint stays the newest for
longer than a witness's round (about a second), so that every witness sees and cosigns the same
checkpoints. Were checkpoints signed faster than the witnesses look, each would cosign another one, and
no checkpoint would carry them all.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from common.clock import Clock
from common.db import log_failure
from common.transparency import Checkpoint, Signer, Verifier, root_hash
from common.transparency.entry import ORIGIN
from common.transparency.note import append_signatures, sign_note
from national_node.models import CheckpointRow, CosignatureRow
from national_node.tlog.storage import LogStorage

__all__ = ["CheckpointSigner", "cosigned_note"]

logger = logging.getLogger(__name__)


def cosigned_note(row: CheckpointRow, cosignatures: list[CosignatureRow]) -> str:
    """A checkpoint's note as the log signed it, followed by the witnesses' cosignature lines."""
    return append_signatures(row.note, [c.line for c in cosignatures]) if cosignatures else row.note


class CheckpointSigner:
    def __init__(
        self,
        storage: LogStorage,
        clock: Clock,
        signer: Signer,
        *,
        old_keys: tuple[str, ...] | list[str] = (),
        interval: float = 1.0,
        min_interval: float = 2.0,
        on_signed: Callable[[], None] = lambda: None,
    ) -> None:
        if signer.name != ORIGIN:
            raise ValueError(f"the log key is named {signer.name!r}; it must be named {ORIGIN!r}")
        self.storage, self.clock, self.signer = storage, clock, signer
        #: Every key the log has signed with, the current one first (old checkpoints stay verifiable).
        self.verifiers: list[Verifier] = [signer.verifier(), *(Verifier.from_key(k) for k in old_keys)]
        self.interval, self.min_interval = interval, min_interval
        self.on_signed = on_signed
        #: Whether this process signs now: of a national node of several processes, only the holder
        #: of the ``checkpoints`` lease (:class:`common.leases.Leases`) does; alone, a process always.
        self.on_duty: Callable[[], bool] = lambda: True
        self._grown = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def grown(self) -> None:
        """The log grew in this process: sign soon."""
        self._grown.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._grown.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._grown.wait(self.interval)
            self._grown.clear()
            if self._stop.is_set():
                return
            if not self.on_duty():
                continue
            try:
                self.checkpoint()
            except Exception as error:  # the next round tries again; serving goes on
                log_failure(logger, "signing a checkpoint failed", error)
                time.sleep(min(self.interval, 1.0))
            # At most one checkpoint per min_interval: under a stream of appends (a province catching
            # up) each would otherwise cost a write transaction of its own between the batches.
            self._stop.wait(self.min_interval)

    def checkpoint(self) -> CheckpointRow | None:
        """Sign a checkpoint of the log as it is now, unless its size has one; returns the newest."""
        storage = self.storage
        with storage.transaction(write=False) as session:
            size = storage.size(session)
            newest = storage.newest_checkpoint(session)
            if size == 0 or (newest is not None and newest.size >= size):
                return newest
            root = root_hash(size, storage.reader(session))
        body = Checkpoint(ORIGIN, size, root).body()
        note = sign_note(body, [self.signer])
        row = CheckpointRow(size=size, root=root, note=note, created_at=self.clock.now())
        with storage.transaction() as session:
            storage.insert_checkpoint(session, row)
        self.on_signed()
        return row
