"""A provincial node as a witness of the national log.

On every round of the sync daemon, before the downward feed is applied, :meth:`Witness.check` fetches
the national log's newest checkpoint, verifies the log's signature, and proves it extends the last
checkpoint this node verified (an RFC 9162 consistency proof from the national node, checked here).
Then it keeps the new checkpoint as verified and cosigns it (c2sp.org/tlog-cosignature), sending the
cosignature to the national node. The first checkpoint is trusted as it comes (there is nothing yet
to check it against).

What contradicts the verified checkpoint raises an **alarm**, kept in this node's database with both
checkpoints (signed notes) as evidence: a smaller tree (truncated), the same size with another root
(forked), a tree the consistency proof does not connect (rewritten). While an alarm stands, the
downward feed is not applied and nothing more is cosigned; registration goes on. An operator resolves
it (``ProvincialService.ResolveLogAlarm``) after investigating; the alarm stays on record.

Every ``gossip_interval`` seconds the witness also compares notes with the other provinces
(:meth:`Witness.gossip`): each serves the checkpoint it verified (``GetWitnessedCheckpoint``). A peer's
checkpoint of the same size with another root, or one the national node cannot prove consistent with
this node's, is a **split view** (the national node showing two provinces two histories): an alarm too.

Errors of the national node or of a peer (unreachable, a note that does not verify) are errors, not
alarms: they prove nothing. They are kept for the status RPC and the check is tried again next round.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import grpc
from sqlalchemy import Column, LargeBinary
from sqlmodel import Field, Session, SQLModel, col, select

from common.clock import Clock
from common.db import Database, UTCDateTime
from common.gen.registry.v1 import log_service_pb2 as ls
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.transparency import (
    Checkpoint,
    CheckpointError,
    CosignatureSigner,
    NoteError,
    ProofError,
    Verifier,
    cosign,
    verify_consistency,
)
from common.transparency.entry import ORIGIN
from common.transparency.note import append_signatures, open_note

__all__ = ["Directory", "LogAlarmRow", "Peer", "Witness", "WitnessStateRow", "alarm_message"]

logger = logging.getLogger(__name__)

Kind = ps.LogAlarm.Kind


class WitnessStateRow(SQLModel, table=True):
    """The newest checkpoint of the national log this node verified (one row)."""

    __tablename__ = "witness_state"

    id: int = Field(default=1, primary_key=True)
    size: int
    root: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str  # as the log signed it, without cosignatures
    cosignature: str  # this node's cosignature line
    verified_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class LogAlarmRow(SQLModel, table=True):
    """Evidence that the national log's history is not what this node verified."""

    __tablename__ = "log_alarms"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    message: str
    verified_note: str
    conflicting_note: str
    source: str = Field(max_length=16)
    detected_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    resolved_by: str = ""
    resolution: str = ""


@dataclass(frozen=True)
class Peer:
    """Another witness: its node name and a function that fetches its witnessed checkpoint."""

    node: str
    fetch: Callable[[], ps.WitnessedCheckpoint]


@dataclass(frozen=True)
class _Seen:
    checkpoint: Checkpoint
    note: str  # the log-signed note, cosignature lines removed


class Witness:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        node: str,
        log_keys: Callable[[], Sequence[str]],
        signer: CosignatureSigner,
        log: Callable[[], object],
        gossip_interval: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        """``log`` returns a ``LogServiceStub`` of the national node (the daemon's channel)."""
        self.db, self.clock, self.node, self.signer = db, clock, node, signer
        self._log_keys = log_keys
        self._known: tuple[str, ...] = ()
        self._verifiers: list[Verifier] = []
        if not self.verifiers:
            raise ValueError("a witness needs the national log's verifier keys")
        self._log = log
        self.gossip_interval, self.timeout = gossip_interval, timeout
        self.last_error = ""
        self._last_gossip = 0.0
        self._closers: list[Callable[[], None]] = []

    @property
    def verifiers(self) -> list[Verifier]:
        """The log's verifier keys as configured now (a key rollover adds one; no restart needed)."""
        keys = tuple(self._log_keys())
        if keys != self._known:
            self._known, self._verifiers = keys, [Verifier.from_key(key) for key in keys]
        return self._verifiers

    def on_close(self, *closers: Callable[[], None]) -> None:
        self._closers.extend(closers)

    def close(self) -> None:
        for closer in self._closers:
            closer()

    # -- state --------------------------------------------------------------------------------------

    def alarm(self) -> LogAlarmRow | None:
        with self.db.transaction(write=False) as session:
            return _open_alarm(session)

    def verified(self) -> WitnessStateRow | None:
        with self.db.transaction(write=False) as session:
            return session.get(WitnessStateRow, 1)

    def status(self) -> ps.WitnessStatus:
        with self.db.transaction(write=False) as session:
            state = session.get(WitnessStateRow, 1)
            alarm = _open_alarm(session)
        message = ps.WitnessStatus(last_error=self.last_error)
        if state is not None:
            message.verified_size, message.verified_root = state.size, state.root
            message.verify_time.FromDatetime(state.verified_at)
        if alarm is not None:
            message.alarm.CopyFrom(alarm_message(alarm))
        return message

    def witnessed(self) -> ps.WitnessedCheckpoint | None:
        state = self.verified()
        if state is None:
            return None
        message = ps.WitnessedCheckpoint(
            node=self.node, note=append_signatures(state.note, [state.cosignature]), tree_size=state.size
        )
        message.verify_time.FromDatetime(state.verified_at)
        return message

    # -- checking -----------------------------------------------------------------------------------

    def _open(self, note: str) -> _Seen:
        """The checkpoint a note signs, after checking the log's signature (NoteError, CheckpointError)."""
        opened = open_note(note, self.verifiers)
        checkpoint = Checkpoint.parse(opened.text)
        if checkpoint.origin != ORIGIN:
            raise CheckpointError("ORIGIN", f"a checkpoint of {checkpoint.origin!r}, not of the national log")
        signature = "".join(s.signature.line() for s in opened.verified)
        return _Seen(checkpoint, opened.text + "\n" + signature)

    def check(self) -> bool:
        """One round: verify and cosign the national log's newest checkpoint. Returns whether the
        downward feed may be applied (no alarm stands)."""
        if self.alarm() is not None:
            return False
        stub = self._log()
        try:
            newest = stub.GetCheckpoint(ls.GetCheckpointRequest(), timeout=self.timeout)  # type: ignore[attr-defined]
        except grpc.RpcError as error:
            if isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.NOT_FOUND:
                self.last_error = ""
                return True  # the log has no checkpoint yet
            self.last_error = (
                f"the national log's checkpoint: {error.code() if isinstance(error, grpc.Call) else error}"
            )
            return True
        try:
            seen = self._open(newest.note)
        except (NoteError, CheckpointError) as error:
            self.last_error = f"the national log's newest checkpoint does not verify: {error}"
            logger.error("witness: %s", self.last_error)
            return True
        state = self.verified()
        if state is None:
            self._accept(seen, first=True)
            return True
        verified = Checkpoint.parse(open_note(state.note, self.verifiers).text)
        if not self._consistent(verified, state.note, seen, "national"):
            return False
        if seen.checkpoint.size > verified.size:
            self._accept(seen)
        self.last_error = ""
        self.gossip()
        return self.alarm() is None

    def _consistent(self, verified: Checkpoint, verified_note: str, seen: _Seen, source: str) -> bool:
        """Whether ``seen`` is consistent with ``verified``; raises an alarm when it is not."""
        other = seen.checkpoint
        if other.size < verified.size and source == "national":
            self._raise(
                Kind.TRUNCATED,
                f"the log shrank from {verified.size} to {other.size} entries",
                verified_note,
                seen.note,
                source,
            )
            return False
        if other.size == verified.size:
            if other.root_hash != verified.root_hash:
                kind = Kind.FORKED if source == "national" else Kind.SPLIT_VIEW
                self._raise(
                    kind,
                    f"two checkpoints of size {other.size} with different roots",
                    verified_note,
                    seen.note,
                    source,
                )
                return False
            return True
        small, large = (verified, other) if verified.size < other.size else (other, verified)
        try:
            proof = self._log().GetConsistencyProof(  # type: ignore[attr-defined]
                ls.GetConsistencyProofRequest(first_size=small.size, second_size=large.size),
                timeout=self.timeout,
            )
            verify_consistency(small.size, large.size, small.root_hash, large.root_hash, list(proof.hashes))
        except ProofError as error:
            kind = Kind.INCONSISTENT if source == "national" else Kind.SPLIT_VIEW
            self._raise(
                kind,
                f"no consistency between sizes {small.size} and {large.size}: {error}",
                verified_note,
                seen.note,
                source,
            )
            return False
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else None
            if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION):
                # The log cannot prove a checkpoint it signed: as good as a failed proof.
                kind = Kind.INCONSISTENT if source == "national" else Kind.SPLIT_VIEW
                self._raise(
                    kind,
                    f"the national node cannot prove sizes {small.size} to {large.size}"
                    f" consistent: {error.details() if isinstance(error, grpc.Call) else error}",
                    verified_note,
                    seen.note,
                    source,
                )
                return False
            self.last_error = f"consistency proof: {code}"
            return True
        return True

    def _accept(self, seen: _Seen, *, first: bool = False) -> None:
        body = seen.checkpoint.body()
        line = cosign(body, self.signer, int(time.time()))
        with self.db.transaction() as session:
            state = session.get(WitnessStateRow, 1) or WitnessStateRow(
                id=1, size=0, root=b"", note="", cosignature="", verified_at=self.clock.now()
            )
            state.size, state.root, state.note = seen.checkpoint.size, seen.checkpoint.root_hash, seen.note
            state.cosignature, state.verified_at = line, self.clock.now()
            session.add(state)
        if first:
            logger.info(
                "witness: trusting the national log's first checkpoint seen, size %d", seen.checkpoint.size
            )
        try:
            self._log().AddCosignature(  # type: ignore[attr-defined]
                ls.AddCosignatureRequest(node=self.node, tree_size=seen.checkpoint.size, signature=line),
                timeout=self.timeout,
            )
        except grpc.RpcError as error:
            # The checkpoint is verified either way; the cosignature is sent again with the next one.
            self.last_error = (
                f"cosignature not taken: {error.details() if isinstance(error, grpc.Call) else error}"
            )

    def _raise(self, kind: int, message: str, verified: str, conflicting: str, source: str) -> None:
        with self.db.transaction() as session:
            if _open_alarm(session) is not None:
                return
            session.add(
                LogAlarmRow(
                    kind=Kind.Name(kind),
                    message=message,
                    verified_note=verified,
                    conflicting_note=conflicting,
                    source=source,
                    detected_at=self.clock.now(),
                )
            )
        logger.critical(
            "LOG ALARM (%s, from %s): %s; the downward feed is stopped.\nverified:\n%s\nconflicting:\n%s",
            Kind.Name(kind),
            source,
            message,
            verified,
            conflicting,
        )

    # -- other witnesses ----------------------------------------------------------------------------

    def set_peers(self, peers: Callable[[], Iterable[Peer]]) -> None:
        self._peers = peers

    def gossip(self, *, force: bool = False) -> None:
        """Compare the verified checkpoint with every other witness's (every ``gossip_interval``)."""
        peers_of = getattr(self, "_peers", None)
        if peers_of is None or (not force and time.monotonic() - self._last_gossip < self.gossip_interval):
            return
        self._last_gossip = time.monotonic()
        state = self.verified()
        if state is None:
            return
        mine = Checkpoint.parse(open_note(state.note, self.verifiers).text)
        for peer in peers_of():
            try:
                theirs = peer.fetch()
                seen = self._open(theirs.note)
            except grpc.RpcError as error:
                logger.info(
                    "witness: %s not compared: %s",
                    peer.node,
                    error.code() if isinstance(error, grpc.Call) else error,
                )
                continue
            except (NoteError, CheckpointError) as error:
                logger.warning("witness: %s serves a checkpoint that does not verify: %s", peer.node, error)
                continue
            if not self._consistent(mine, state.note, seen, peer.node):
                return

    # -- resolving ----------------------------------------------------------------------------------

    def resolve(self, actor: str, reason: str) -> bool:
        """Close the open alarm and forget the verified checkpoint (the next one is trusted as it
        comes). Returns False when there was no alarm."""
        with self.db.transaction() as session:
            alarm = _open_alarm(session)
            if alarm is None:
                return False
            alarm.resolved_at, alarm.resolved_by, alarm.resolution = self.clock.now(), actor, reason
            session.add(alarm)
            state = session.get(WitnessStateRow, 1)
            if state is not None:
                session.delete(state)
        logger.warning("witness: log alarm %d resolved by %s: %s", alarm.id, actor, reason)
        return True


def _open_alarm(session: Session) -> LogAlarmRow | None:
    return session.exec(
        select(LogAlarmRow)
        .where(col(LogAlarmRow.resolved_at).is_(None))
        .order_by(col(LogAlarmRow.id))
        .limit(1)
    ).first()


def alarm_message(row: LogAlarmRow) -> ps.LogAlarm:
    message = ps.LogAlarm(
        kind=ps.LogAlarm.Kind.Value(row.kind),  # type: ignore[arg-type]
        message=row.message,
        verified_checkpoint=row.verified_note,
        conflicting_checkpoint=row.conflicting_note,
        source=row.source,
    )
    message.detect_time.FromDatetime(row.detected_at)
    return message


class Directory:
    """The other witnesses, from the national node's directory: every province running its own node.
    A channel per peer, kept while its address stays the same."""

    def __init__(self, national: Callable[[], object], *, files: object, node: str, timeout: float) -> None:
        from common.rpc.channels import ReplaceableChannel

        self._national, self._files, self.node, self.timeout = national, files, node, timeout
        self._channels: dict[str, ReplaceableChannel[object]] = {}
        self._make = ReplaceableChannel

    def peers(self) -> list[Peer]:
        from common.gen.registry.v1 import national_service_pb2 as ns
        from common.gen.registry.v1 import node_pb2
        from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc

        try:
            listed = self._national().ListNodes(ns.ListNodesRequest(page_size=100), timeout=self.timeout)  # type: ignore[attr-defined]
        except grpc.RpcError:
            return []
        found = []
        for entry in listed.nodes:
            if entry.mode != node_pb2.Node.OWN_NODE or entry.name == self.node or not entry.address:
                continue
            channel = self._channels.get(entry.address)
            if channel is None:
                channel = self._channels[entry.address] = self._make(
                    entry.address,
                    ps_grpc.ProvincialServiceStub,
                    self._files,  # type: ignore[arg-type]
                )
            stub = channel.stub

            def fetch(stub: object = stub) -> ps.WitnessedCheckpoint:
                return stub.GetWitnessedCheckpoint(  # type: ignore[attr-defined, no-any-return]
                    ps.GetWitnessedCheckpointRequest(), timeout=self.timeout
                )

            found.append(Peer(entry.name, fetch))
        return found

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
