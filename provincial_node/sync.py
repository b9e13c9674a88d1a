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
from common.clock import CHINA, Clock, SystemClock, make_clock
from common.db import Database, migrate
from common.errors import RegistryError
from common.gen.registry.v1 import (
    log_service_pb2_grpc,
    national_service_pb2_grpc,
    provincial_service_pb2,
    sync_pb2,
    sync_service_pb2,
    sync_service_pb2_grpc,
)
from common.process import run_process
from common.regions import NATIONAL
from common.registration.domain import DocumentRef, ObjectionFiling, Target
from common.registration.duties import describe_error
from common.registration.models import RegistrationRow
from common.registration.node import calendar_from
from common.registration.procedure import Procedure
from common.retry import DEFAULT_BACKOFF
from common.rpc.channels import ReplaceableChannel
from common.rpc.tls import Files
from common.security.identity import NATIONAL_SERVER_NAME
from common.security.local import KeyFile
from common.sync.records import import_record, record_digest
from common.transparency import CosignatureSigner
from provincial_node.agreement import check_agreement
from provincial_node.changelog import ChangeLog, CursorRow
from provincial_node.jurisdiction import ProvincialJurisdiction
from provincial_node.settings import ProvincialSettings
from provincial_node.witness import Directory, Witness

__all__ = ["SyncDaemon", "SyncProcess", "main"]

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
        while not self._stop.is_set():
            try:
                step()
                failures = 0
            except _Restart:
                continue
            except _Refused as refusal:
                failures += 1
                self.last_error = str(refusal)
                logger.error("sync: %s", refusal)
            except _Stalled as stall:
                failures += 1
                self.last_error = str(stall)
                self._channel.replace(str(stall))
            except grpc.RpcError as error:
                failures += 1
                self.last_error = describe_error(error)
                logger.warning("sync: %s (retrying)", self.last_error)
                if (
                    isinstance(error, grpc.Call)
                    and error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
                    and failures >= 2
                ):
                    self._channel.replace("calls keep timing out")
            except Exception as error:  # the daemon keeps going; the error is reported
                failures += 1
                self.last_error = f"{type(error).__name__}: {error}"
                logger.exception("sync failed; retrying")
            if failures:
                self._stop.wait(DEFAULT_BACKOFF.delay(failures))

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
                    change = batch.changes.add(sequence=row.sequence)
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
            elif kind != "TRANSFER_OFFER":
                self._import(session, change.record)
            cursor.value = change.sequence
            session.add(cursor)
        logger.info(
            "downward %d: %s %s",
            change.sequence,
            kind,
            change.objection.registration
            or change.record.registration.code
            or change.record.registration.uid,
        )

    def _file_objection(self, session: Session, forwarded: sync_pb2.ForwardedObjection) -> None:
        """File an objection the national node took, in the same transaction as the cursor's move (so
        exactly once). One this node's procedure refuses (the application ended meanwhile) is logged
        and passed over: the feed must not stop on it."""
        if self.procedure is None:
            raise RuntimeError("this sync daemon was built without the registration procedure")
        evidence = tuple(
            DocumentRef(title=d.title, uri=d.uri, sha256=d.sha256) for d in forwarded.objection.evidence
        )
        filing = ObjectionFiling(
            objector=forwarded.objection.objector.strip(),
            reason=forwarded.objection.reason.strip(),
            evidence=evidence,
        )
        local_id = names.parse_registration(forwarded.registration).id
        filed_on = forwarded.file_time.ToDatetime(tzinfo=UTC).astimezone(CHINA).date()
        actor = f"{forwarded.actor or 'anonymous'} via {names.node_name(NATIONAL)}"
        try:
            with session.begin_nested():
                self.procedure.object(
                    session,
                    Target(local_id, forwarded.application_id or None),
                    filing,
                    actor=actor,
                    filed_on=filed_on,
                )
        except RegistryError as error:
            logger.warning(
                "objection %s to %s not filed: %s", forwarded.request_id, forwarded.registration, error
            )

    def _import(self, session: Session, record: sync_pb2.RegistrationRecord) -> None:
        local = session.exec(
            select(RegistrationRow).where(RegistrationRow.uid == record.registration.uid)
        ).first()
        if local is not None and local.revision > record.revision and local.node == self.region:
            return  # this node holds a newer revision (its own change, on its way up)
        managing = record.registration.managing_node.removeprefix("nodes/")
        row = import_record(session, record, node=managing)
        row.digest = record_digest(record)
        session.add(row)

    # -- status ---------------------------------------------------------------------------------

    def _heard(self) -> None:
        self.last_contact = datetime.now(UTC)
        self.last_error = ""

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
    signer = CosignatureSigner.from_key(config.witness_key_file.read_text().strip())
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


class SyncProcess:
    """The daemon as its own process (``sync_in_process = false``), on the node's database."""

    def __init__(self, settings: ProvincialSettings) -> None:
        self.db = Database(settings.database_url, pool_size=4)
        migrate(self.db.engine, Path(__file__).resolve().parent / "migrations")
        clock = make_clock(settings.clock_start, settings.clock_speed)
        self.daemon = SyncDaemon.from_settings(self.db, settings, clock=clock, in_process=False)
        self.announcement = f"running for nodes/{settings.region}"

    def start(self) -> None:
        self.daemon.start()

    def stop(self) -> None:
        self.daemon.stop()
        self.db.dispose()


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
