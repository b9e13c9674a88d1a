"""The provinces as witnesses of the national log: their keys, and the cosignatures they send.

A witness cosigns a checkpoint it verified (C2SP ``tlog-cosignature``, ``cosignature/v1``); the national
node keeps a cosignature only when it verifies with that witness's key, and serves it as a further
signature line of the checkpoint's note.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from common.clock import Clock
from common.errors import FailedPrecondition, InvalidArgument, InvalidValue
from common.transparency import (
    Checkpoint,
    CosignatureError,
    CosignatureVerifier,
    NoteError,
    verify_cosignature,
)
from common.transparency.entry import ORIGIN, WITNESS_KEY_PREFIX
from common.transparency.note import parse_signature_line
from national_node.models import CheckpointRow, CosignatureRow
from national_node.tlog.storage import LogStorage

__all__ = ["Cosignatures", "WitnessKeys"]

logger = logging.getLogger(__name__)


class WitnessKeys:
    """The witnesses' cosignature verifier keys, one C2SP key text per line of a file (``#`` starts a
    comment); a key's name is ``registry.data.gov.cn/witnesses/{region}``. Read again when the file
    changes, so a province that comes online can witness without a restart of the national node."""

    PREFIX = WITNESS_KEY_PREFIX

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: int | None = None
        self._keys: dict[str, CosignatureVerifier] = {}
        self._lock = threading.Lock()

    def keys(self) -> dict[str, CosignatureVerifier]:
        """Region -> verifier."""
        if self.path is None:
            return {}
        with self._lock:
            try:
                stamp = self.path.stat().st_mtime_ns
            except OSError:
                return self._keys
            if stamp != self._stamp:
                self._stamp, self._keys = stamp, self._load(self.path)
            return self._keys

    @classmethod
    def _load(cls, path: Path) -> dict[str, CosignatureVerifier]:
        keys: dict[str, CosignatureVerifier] = {}
        for number, raw in enumerate(path.read_text().splitlines(), 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            try:
                verifier = CosignatureVerifier.from_key(line)
            except NoteError as error:
                logger.error("%s line %d: not a cosignature verifier key (%s); ignored", path, number, error)
                continue
            if not verifier.name.startswith(cls.PREFIX):
                logger.error("%s line %d: %s is not a witness key name; ignored", path, number, verifier.name)
                continue
            keys[verifier.name.removeprefix(cls.PREFIX)] = verifier
        return keys


class Cosignatures:
    """The witnesses' cosignatures of the log's checkpoints, kept when they verify."""

    def __init__(
        self,
        storage: LogStorage,
        clock: Clock,
        keys: WitnessKeys,
        *,
        on_added: Callable[[], None] = lambda: None,
    ) -> None:
        self.storage, self.clock, self.keys = storage, clock, keys
        self.on_added = on_added

    def add(self, region: str, size: int, line: str) -> tuple[CheckpointRow, list[CosignatureRow]]:
        """Keep the cosignature ``line`` of the checkpoint of ``size`` by the witness of ``region``;
        returns that checkpoint with every cosignature it has."""
        verifier = self.keys.keys().get(region)
        if verifier is None:
            raise FailedPrecondition(
                "WITNESS_UNKNOWN",
                f"the national node has no witness key of nodes/{region}",
                metadata={"node": f"nodes/{region}"},
            )
        text = line if line.endswith("\n") else line + "\n"
        with self.storage.transaction(write=False) as session:
            checkpoint = self.storage.checkpoint(session, size)
        if checkpoint is None:
            raise InvalidArgument.for_field(
                "tree_size",
                InvalidValue("FIELD_OUT_OF_RANGE", f"no checkpoint of tree size {size} was issued"),
            )
        body = Checkpoint(ORIGIN, checkpoint.size, checkpoint.root).body()  # what the log signed
        try:
            signature = parse_signature_line(text)
            timestamp = verify_cosignature(body, signature, verifier)
        except (NoteError, CosignatureError) as error:
            raise InvalidArgument.for_field(
                "signature", InvalidValue("COSIGNATURE_INVALID", f"does not verify: {error}")
            ) from None
        with self.storage.transaction() as session:
            self.storage.insert_cosignature(
                session, size=size, witness=region, line=text, timestamp=timestamp, at=self.clock.now()
            )
        self.on_added()
        with self.storage.transaction(write=False) as session:
            return checkpoint, self.storage.cosignatures(session, size)

    def witnessed(self, region: str) -> CosignatureRow | None:
        """The newest cosignature of the witness of ``region``."""
        with self.storage.transaction(write=False) as session:
            return self.storage.newest_cosignature(session, region)
