"""The sync daemon: the province's change log up to the national ledger, its downward feed back.

Runs inside the node (the default) or as its own process::

    python -m provincial_node.sync --config deploy/provincial-320000.toml

Upward, it asks the national node what it has acknowledged, then streams the log from there in
batches over one bidirectional stream, with a few batches in flight; each acknowledgement moves the
window on. A gap answer (the national node expects an earlier sequence) restarts the stream from what
was acknowledged. Downward, it pulls the province's feed, applies each change in the transaction that
also advances its local cursor (so a change is applied exactly once here), and acknowledges it.
After a crash of either side, both directions resume after the last acknowledged change. Failures are
retried with exponential backoff and jitter (:data:`common.retry.DEFAULT_BACKOFF`); the last error is
kept for the status RPC.

A link that goes silent heals by itself: the channel sends keepalive pings
(:mod:`common.rpc.channels`); the upward stream carries a batch at least every ``heartbeat`` seconds
(an empty one when there is nothing to send, which also reports the head for lag); and when no
acknowledgement arrives for ``stall_timeout`` seconds while batches are in flight, or calls keep
timing out, the daemon ends the stream and replaces the channel, so the next attempt opens a new
connection.

If the national node has acknowledged more than this database's log holds, the database was restored
from an older backup: the log's counter is moved past the acknowledged sequence (so no sequence is
used twice), and an agreement check takes back from the national ledger what the backup lost.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from sqlmodel import Session, select

from common import names
from common.clock import Clock, SystemClock, make_clock
from common.db import Database, log_failure, migrate
from common.gen.registry.v1 import (
    log_service_pb2_grpc,
    national_service_pb2_grpc,
    provincial_service_pb2,
    sync_pb2,
    sync_service_pb2,
    sync_service_pb2_grpc,
)
from common.process import run_process
from common.registration.duties import describe_error
from common.registration.models import RegistrationRow
from common.registration.node import calendar_from
from common.registration.procedure import Procedure
from common.retry import DEFAULT_BACKOFF
from common.rpc.channels import ReplaceableChannel, channel_closed
from common.rpc.tls import Files
from common.security.identity import NATIONAL_SERVER_NAME
from common.security.local import KeyFile
from common.sync.corrections import open_correction
from common.sync.notices import note_demand, note_disclosure, note_share_request
from common.sync.objections import file_forwarded
from common.sync.records import export_record, import_record, record_digest
from common.transparency import CosignatureSigner, NoteError
from common.transparency.entry import WITNESS_KEY_PREFIX
from provincial_node.agreement import check_agreement
from provincial_node.changelog import ChangeLog, CursorRow
from provincial_node.jurisdiction import ProvincialJurisdiction
from provincial_node.settings import ProvincialSettings
from provincial_node.witness import Directory, Witness

__all__ = ["SYNC_CONNECTIONS", "CodingGate", "SyncDaemon", "SyncProcess", "main"]

logger = logging.getLogger(__name__)

DOWNWARD = "downward_applied"


class _Restart(Exception):
    """The stream must start again from what the national node acknowledged."""


class _Refused(Exception):
    """The national node refused a change; the stream resumes after it was acknowledged, with backoff."""


class _Stalled(Exception):
    """Batches were in flight and no acknowledgement came: the link went silent."""


class SyncDaemon:
    def __init__(
        self,
        db: Database,
        *,
        region: str,
        national_address: str,
        files: Files,
        clock: Clock | None = None,
        batch_size: int = 500,
        window: int = 4,
        poll_interval: float = 0.2,
        timeout: float = 10.0,
        heartbeat: float = 2.0,
        stall_timeout: float = 6.0,
        in_process: bool = True,
        witness: Witness | None = None,
        procedure: Procedure | None = None,
    ) -> None:
        self.db, self.region = db, region
        self.node = names.node_name(region)
        self.clock = clock or SystemClock()
        self.log = ChangeLog(self.clock)
        self.batch_size, self.window, self.poll, self.timeout = batch_size, window, poll_interval, timeout
        self.heartbeat, self.stall_timeout = heartbeat, stall_timeout
        self.in_process = in_process
        #: Files the objections the national node sends down (its public window took them).
        self.procedure = procedure
        self._channel = ReplaceableChannel(
            national_address, sync_service_pb2_grpc.SyncServiceStub, files, server_name=NATIONAL_SERVER_NAME
        )
        self.witness = witness
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.acknowledged = 0
        self.last_contact: datetime | None = None
        self.last_error = ""
        # The link's state, for logging its changes: since when calls fail, and how.
        self._link_lock = threading.Lock()
        self._down_since: float | None = None
        self._failing: str | None = None
        self._heard_mono = time.monotonic()  # when the national node last answered (or the start)

    @classmethod
    def from_settings(
        cls, db: Database, settings: ProvincialSettings, *, clock: Clock, in_process: bool
    ) -> SyncDaemon:
        files = Files(settings.tls)
        return cls(
            db,
            region=settings.region,
            national_address=settings.national_address,
            files=files,
            clock=clock,
            batch_size=settings.sync_batch_size,
            timeout=settings.national_timeout,
            in_process=in_process,
            witness=witness_from_settings(db, settings, clock, files),
            procedure=Procedure(
                node=settings.region,
                calendar=calendar_from(settings),
                limits=settings.time_limits,
                clock=clock,
                jurisdiction=ProvincialJurisdiction(settings.region),
                on_change=ChangeLog(clock).record,
                separation_of_duties=settings.auth.separation_of_duties,
            ),
        )

    @property
    def stub(self) -> sync_service_pb2_grpc.SyncServiceStub:
        return self._channel.stub

    # -- running --------------------------------------------------------------------------------

    def start(self) -> None:
        for target, name in ((self._loop_up, "sync-up"), (self._loop_down, "sync-down")):
            thread = threading.Thread(target=self._forever, args=(target,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 3.0) -> None:
        """Stop both directions: closing the channel cancels the calls in flight, then the threads end."""
        self._stop.set()
        self._channel.close()
        if self.witness is not None:
            self.witness.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _forever(self, step: Callable[[], None]) -> None:
        failures = 0
        last: Exception | None = None
        while not self._stop.is_set():
            try:
                step()
                failures = 0
            except _Restart:
                continue
            except Exception as error:
                if self._stop.is_set():  # the stop closed the channel under the call
                    logger.info(
                        "sync: %s stopped (%s)", threading.current_thread().name, describe_error(error)
                    )
                    return
                failures, last = failures + 1, error
                self._failed(error, failures)
            if failures:
                self._stop.wait(DEFAULT_BACKOFF.delay(failures, last))

    def _failed(self, error: Exception, failures: int) -> None:
        """Keep the error for the status RPC and log it: a link that stays down, or keeps refusing,
        is logged when its state changes, not at every retry."""
        if isinstance(error, _Refused):
            self.last_error = str(error)
            logger.error("sync: %s", error)
        elif isinstance(error, _Stalled):
            self.last_error = str(error)
            self._channel.replace(str(error))
        elif channel_closed(error):
            logger.info("sync: the channel to the national node was replaced under a call; trying again")
        elif isinstance(error, grpc.RpcError):
            self.last_error = describe_error(error)
            self._trouble(error)
            if (
                isinstance(error, grpc.Call)
                and error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
                and failures >= 2
            ):
                self._channel.replace("calls keep timing out")
        else:  # the daemon keeps going; the error is reported
            self.last_error = f"{type(error).__name__}: {error}"
            log_failure(logger, "sync failed; retrying", error)

    def _trouble(self, error: grpc.RpcError) -> None:
        """A failed call: logged as a warning when the link's state changes (it was up, or failed
        otherwise), at DEBUG while it fails the same way."""
        code = error.code().name if isinstance(error, grpc.Call) else "UNKNOWN"
        with self._link_lock:
            changed, self._failing = self._failing != code, code
            if self._down_since is None:
                self._down_since = time.monotonic()
        if changed:
            logger.warning("sync: %s; retrying until the national node answers", self.last_error)
        else:
            logger.debug("sync: %s (retrying)", self.last_error)

    # -- upward ---------------------------------------------------------------------------------

    def _loop_up(self) -> None:
        state = self.stub.GetSyncState(
            sync_service_pb2.GetSyncStateRequest(node=self.node), timeout=self.timeout
        )
        self._heard()
        acknowledged = state.acknowledged_sequence
        with self.db.transaction(write=False) as session:
            head, _ = self.log.head(session)
        if head < acknowledged:
            logger.warning(
                "the national node acknowledged change %d but this database's log ends at %d: restored from"
                " an older backup? moving the log past it and repairing from the national ledger",
                acknowledged,
                head,
            )
            with self.db.transaction() as session:
                self.log.fast_forward(session, acknowledged)
            report = check_agreement(
                self.db, self.region, self.stub, self.log, repair=True, timeout=self.timeout
            )
            logger.warning(
                "repair after restore: %d taken from the ledger, %d resent",
                len(report.ledger_newer),
                len(report.node_newer),
            )
        self.acknowledged = acknowledged
        self._stream_from(acknowledged)

    def _stream_from(self, acknowledged: int) -> None:
        slots = threading.Semaphore(self.window)
        done = threading.Event()
        cursor = acknowledged
        in_flight = 0
        last_ack = time.monotonic()
        stalled: list[str] = []
        responses: Any = None

        def batches() -> Iterator[sync_pb2.ChangeBatch]:
            nonlocal cursor, in_flight
            last_sent = 0.0
            while not self._stop.is_set() and not done.is_set():
                if in_flight and time.monotonic() - last_ack > self.stall_timeout:
                    stalled.append(
                        f"no acknowledgement for {self.stall_timeout:.0f} s with {in_flight} batches sent"
                    )
                    if responses is not None:
                        responses.cancel()
                    return
                if not slots.acquire(timeout=self.poll):
                    continue
                with self.db.transaction(write=False) as session:
                    rows = self.log.read(session, after=cursor, limit=self.batch_size)
                    head, head_time = self.log.head(session)
                if not rows and time.monotonic() - last_sent < self.heartbeat:
                    slots.release()
                    self._stop.wait(self.poll)
                    continue
                batch = sync_pb2.ChangeBatch(node=self.node, head_sequence=head)
                if head_time is not None:
                    batch.head_time.FromDatetime(head_time)
                for row in rows:
                    change = batch.changes.add(sequence=row.sequence, transfer_id=row.transfer_id)
                    change.record.ParseFromString(row.record)
                    change.commit_time.FromDatetime(row.committed_at)
                if rows:
                    cursor = rows[-1].sequence
                in_flight += 1
                last_sent = time.monotonic()
                yield batch

        responses = self.stub.PushChanges(batches())
        try:
            for ack in responses:
                in_flight -= 1
                last_ack = time.monotonic()
                slots.release()
                self._heard()
                self.acknowledged = ack.acknowledged_sequence
                if ack.refused:
                    # The national node applied nothing from the refused change on: sending it again
                    # changes nothing until an operator has looked (sync status shows it).
                    raise _Refused(f"refused by the national node: {', '.join(ack.refused[:3])}")
                if ack.expected_sequence:
                    logger.warning(
                        "national node expects change %d; restarting from %d",
                        ack.expected_sequence,
                        ack.acknowledged_sequence,
                    )
                    raise _Restart
        except grpc.RpcError:
            if stalled:
                raise _Stalled(stalled[0]) from None
            raise
        finally:
            done.set()
            responses.cancel()
        if stalled:
            raise _Stalled(stalled[0])

    # -- downward -------------------------------------------------------------------------------

    def _loop_down(self) -> None:
        # As a witness: the national log must extend what this node verified before anything it sends
        # down is applied here (registration and the upward feed go on regardless).
        if self.witness is not None and not self.witness.check():
            self._stop.wait(self.poll * 5)
            return
        with self.db.transaction(write=False) as session:
            cursor = session.get(CursorRow, DOWNWARD)
            applied = cursor.value if cursor else 0
        changes = list(
            self.stub.PullChanges(
                sync_service_pb2.PullChangesRequest(node=self.node, after_sequence=applied, max_changes=500),
                timeout=self.timeout * 3,
            )
        )
        self._heard()
        for change in changes:
            self._apply_down(change)
        if changes:
            self.stub.AcknowledgeDownward(
                sync_service_pb2.AcknowledgeDownwardRequest(node=self.node, sequence=changes[-1].sequence),
                timeout=self.timeout,
            )
        else:
            self._stop.wait(self.poll * 5)

    def _apply_down(self, change: sync_pb2.DownwardChange) -> None:
        kind = sync_pb2.DownwardChange.Kind.Name(change.kind)
        if kind == "TRANSFER_OFFER":
            # Confirm before moving the cursor: confirming twice is harmless, never confirming is not.
            self.stub.ConfirmTransfer(
                sync_service_pb2.ConfirmTransferRequest(node=self.node, transfer_id=change.transfer_id),
                timeout=self.timeout,
            )
        with self.db.transaction() as session:
            cursor = session.get(CursorRow, DOWNWARD) or CursorRow(name=DOWNWARD, value=0)
            if change.sequence <= cursor.value:
                return  # applied already
            if kind == "OBJECTION":
                self._file_objection(session, change.objection)
            elif kind in ("DEMAND", "SHARE_REQUEST"):
                self._note(session, change)
            elif kind == "DISCLOSURE":
                if self.procedure is None:
                    raise RuntimeError("this sync daemon was built without the registration procedure")
                calendar, limits = self.procedure.calendar, self.procedure.limits
                note_disclosure(session, change.disclosure, calendar=calendar, limits=limits)
            elif kind == "CORRECTION":
                if self.procedure is None:
                    raise RuntimeError("this sync daemon was built without the registration procedure")
                open_correction(self.procedure, session, change.correction)
            elif kind == "TRANSFER_RELEASE":
                self._release(session, change)
            elif kind != "TRANSFER_OFFER":
                self._import(session, change.record, takes_over=kind in ("HANDOVER", "TRANSFER_IN"))
            cursor.value = change.sequence
            session.add(cursor)
        logger.info(
            "downward %d: %s %s",
            change.sequence,
            kind,
            change.objection.registration
            or change.demand.name
            or change.share_request.name
            or change.correction.name
            or change.disclosure.name
            or change.record.registration.code
            or change.record.registration.uid,
        )

    def _file_objection(self, session: Session, forwarded: sync_pb2.ForwardedObjection) -> None:
        """File an objection the national node took, in the same transaction as the cursor's move (so
        exactly once): :func:`common.sync.objections.file_forwarded`."""
        if self.procedure is None:
            raise RuntimeError("this sync daemon was built without the registration procedure")
        file_forwarded(self.procedure, session, forwarded)

    def _note(self, session: Session, change: sync_pb2.DownwardChange) -> None:
        """Keep a demand or a share request that concerns this node's registrations, in the same
        transaction as the cursor's move: :mod:`common.sync.notices`."""
        if self.procedure is None:
            raise RuntimeError("this sync daemon was built without the registration procedure")
        calendar, limits = self.procedure.calendar, self.procedure.limits
        if change.HasField("demand"):
            note_demand(session, self.region, change.demand, calendar=calendar, limits=limits)
        else:
            note_share_request(session, self.region, change.share_request, calendar=calendar, limits=limits)

    def _release(self, session: Session, change: sync_pb2.DownwardChange) -> None:
        """A transfer takes a registration from this node: from this transaction on the node changes it
        no more (:func:`common.registration.queries.changeable`), and the release goes into the change
        log after every change accepted before it, so the national ledger has them all when the
        transfer completes."""
        uid = change.record.registration.uid
        to = change.record.registration.managing_node.removeprefix("nodes/")
        reg = session.exec(
            select(RegistrationRow).where(RegistrationRow.uid == uid).with_for_update()
        ).first()
        if reg is None or reg.node != self.region:
            # Nothing here to keep: released as the national node knows it, so the transfer goes on.
            logger.warning("transfer %s: %s is not managed here; released as it is", change.transfer_id, uid)
            self.log.release(session, change.record, change.transfer_id)
            return
        reg.transfer_id, reg.transfer_to = change.transfer_id, to
        session.add(reg)
        self.log.release(session, export_record(session, reg), change.transfer_id)
        logger.info(
            "transfer %s: %s released to nodes/%s at revision %d",
            change.transfer_id,
            names.registration_name(self.region, reg.id),
            to,
            reg.revision,
        )

    def _import(self, session: Session, record: sync_pb2.RegistrationRecord, *, takes_over: bool) -> None:
        """The national node's record of a registration; ``takes_over``: this node manages it from now on
        (a handover, a transfer in), so a release from an earlier transfer no longer holds."""
        local = session.exec(
            select(RegistrationRow).where(RegistrationRow.uid == record.registration.uid)
        ).first()
        managing = record.registration.managing_node.removeprefix("nodes/")
        if local is not None and local.revision > record.revision and local.node == self.region:
            if managing == self.region:
                return  # this node holds a newer revision (its own change, on its way up)
            # Only a transfer completed before releases existed leaves changes behind here.
            logger.error(
                "%s went to nodes/%s at revision %d; its changes here up to revision %d did not go"
                " with it (a transfer completed without this node's release)",
                names.registration_name(self.region, local.id),
                managing,
                record.revision,
                local.revision,
            )
        row = import_record(session, record, node=managing)
        row.digest = record_digest(record)
        if takes_over:
            row.transfer_id = row.transfer_to = None
        session.add(row)

    # -- status ---------------------------------------------------------------------------------

    @property
    def national_answers(self) -> bool:
        """Whether the national node answered this daemon's last exchange (none yet: False)."""
        with self._link_lock:
            return self.last_contact is not None and self._down_since is None

    def silent_for(self) -> float:
        """Real seconds since the national node last answered this daemon (or since it started)."""
        return time.monotonic() - self._heard_mono

    def _heard(self) -> None:
        self._heard_mono = time.monotonic()
        self.last_contact = datetime.now(UTC)
        self.last_error = ""
        with self._link_lock:
            down_since, self._down_since, self._failing = self._down_since, None, None
        if down_since is not None:
            logger.info("sync: the national node answers again, after %.1f s", time.monotonic() - down_since)

    def status(self) -> provincial_service_pb2.SyncStatus:
        if not self.in_process or not self._threads:
            # The daemon runs elsewhere (or not at all): ask the national node what it acknowledged.
            try:
                state = self.stub.GetSyncState(
                    sync_service_pb2.GetSyncStateRequest(node=self.node), timeout=2
                )
                self.acknowledged = state.acknowledged_sequence
                self._heard()
            except grpc.RpcError as error:
                self.last_error = describe_error(error)
                self._trouble(error)
        with self.db.transaction(write=False) as session:
            head, _ = self.log.head(session)
            cursor = session.get(CursorRow, DOWNWARD)
            waiting = self.log.read(session, after=self.acknowledged, limit=1)
        message = provincial_service_pb2.SyncStatus(
            node=self.node,
            head_sequence=head,
            acknowledged_sequence=self.acknowledged,
            lag_changes=max(0, head - self.acknowledged),
            lag_seconds=(self.clock.now() - waiting[0].committed_at).total_seconds() if waiting else 0.0,
            downward_applied=cursor.value if cursor else 0,
            last_error=self.last_error,
            daemon_in_process=self.in_process,
        )
        if self.witness is not None:
            message.witness.CopyFrom(self.witness.status())
        if self.last_contact is not None:
            message.last_contact_time.FromDatetime(self.last_contact)
        return message


def witness_from_settings(
    db: Database, settings: ProvincialSettings, clock: Clock, files: Files
) -> Witness | None:
    """The node as a witness of the national log, when its keys are configured."""
    config = settings.transparency
    if config.log_verifier_keys_file is None or config.witness_key_file is None:
        logger.warning("transparency keys not configured: this node does not witness the national log")
        return None
    signer = _witness_key(config.witness_key_file, settings.region)
    log = ReplaceableChannel(
        settings.national_address,
        log_service_pb2_grpc.LogServiceStub,
        files,
        server_name=NATIONAL_SERVER_NAME,
    )
    national = ReplaceableChannel(
        settings.national_address,
        national_service_pb2_grpc.NationalServiceStub,
        files,
        server_name=NATIONAL_SERVER_NAME,
    )
    node = names.node_name(settings.region)
    witness = Witness(
        db,
        clock,
        node=node,
        log_keys=KeyFile(config.log_verifier_keys_file).keys,
        signer=signer,
        log=lambda: log.stub,
        gossip_interval=config.gossip_interval,
        timeout=settings.national_timeout,
    )
    directory = Directory(lambda: national.stub, files=files, node=node, timeout=settings.national_timeout)
    witness.set_peers(directory.peers)
    witness.on_close(log.close, national.close, directory.close)
    return witness


def _witness_key(path: Path, region: str) -> CosignatureSigner:
    """The node's cosignature key, read at start: it must be named for the node's own region, as the
    national node verifies a witness's cosignatures with the key of that name (a key named otherwise
    would have every cosignature refused, COSIGNATURE_INVALID)."""
    try:
        signer = CosignatureSigner.from_key(path.read_text().strip())
    except NoteError as error:
        raise ValueError(f"{path}: not a witness's private key: {error}") from None
    expected = WITNESS_KEY_PREFIX + region
    if signer.name != expected:
        raise ValueError(
            f"{path}: the witness key is named {signer.name!r}; nodes/{region} witnesses the national"
            f" log with a key named {expected!r}, and the national node refuses cosignatures by any other"
        )
    return signer


#: Connections the sync daemon run as its own process holds to the database, at most (part of its
#: host's budget).
SYNC_CONNECTIONS = 4


class SyncProcess:
    """The daemon as its own process (``sync_in_process = false``), on the node's database."""

    def __init__(self, settings: ProvincialSettings) -> None:
        self.db = Database(
            settings.database_url,
            pool_size=SYNC_CONNECTIONS,
            pool_timeout=settings.database.pool_timeout,
            prepared_statements=settings.database.prepared_statements,
        )
        migrate(self.db.engine, Path(__file__).resolve().parent / "migrations")
        clock = make_clock(settings.clock_start, settings.clock_speed, settings.clock_anchor)
        self.daemon = SyncDaemon.from_settings(self.db, settings, clock=clock, in_process=False)
        self.announcement = f"running for nodes/{settings.region}"

    def start(self) -> None:
        self.daemon.start()

    def stop(self) -> None:
        self.daemon.stop()
        self.db.dispose()


class CodingGate:
    """When a province may ask for codes: once the national ledger holds every code it activated.

    A national node restored from a backup has lost the codes it assigned after the backup was
    taken, and its namespace counters are back where they were then. The province holds those codes
    and sends them up again with their registrations' activations, and the ledger records them again
    (:meth:`national_node.ledger.Ledger._lost_code`); a serial given out before that would be a
    serial given twice. So before each round of code requests, the national node is asked what it
    acknowledged, and the round waits until that covers the change log as it stood after the last
    activation here (at start: the whole log). In normal running that is a round trip of the sync;
    after a restore, until the province has sent again what the national node lost.
    """

    def __init__(self, db: Database, log: ChangeLog, daemon: SyncDaemon, *, timeout: float = 2.0) -> None:
        self.db, self.log, self.daemon, self.timeout = db, log, daemon, timeout
        self.floor = self._head()
        self._since: float | None = None  # since when codes wait
        self._told = False

    def _head(self) -> int:
        with self.db.transaction(write=False) as session:
            return self.log.head(session)[0]

    def activated(self) -> None:
        self.floor = self._head()

    def open(self) -> bool:
        if self.floor == 0:
            return True
        try:
            state = self.daemon.stub.GetSyncState(
                sync_service_pb2.GetSyncStateRequest(node=self.daemon.node), timeout=self.timeout
            )
        except grpc.RpcError:
            return True  # the code request meets the same trouble, and reports it
        if state.acknowledged_sequence >= self.floor:
            if self._told:
                logger.info("codes are asked for again: the national ledger holds every code activated here")
            self._since, self._told = None, False
            return True
        now = time.monotonic()
        if self._since is None:
            self._since = now
        elif not self._told and now - self._since > 5:
            logger.info(
                "codes wait until the national node acknowledges change %d (it has %d): it has not yet"
                " recorded every code activated here (restored from a backup?)",
                self.floor,
                state.acknowledged_sequence,
            )
            self._told = True
        return False


def main(argv: list[str] | None = None) -> int:
    """``python -m provincial_node.sync --config deploy/provincial-320000.toml``."""
    return run_process(
        "provincial_node.sync",
        "The sync daemon of a provincial node, as its own process.",
        lambda path: ProvincialSettings.load(path),
        SyncProcess,
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
