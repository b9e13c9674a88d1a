"""The national ledger (一本账) and the feeds that keep it and the provinces in agreement.

Upward, :meth:`Ledger.apply_batch` applies a province's changes in sequence order, each at most once:
a change at or below the acknowledged sequence is a replay and is skipped; one beyond the next expected
sequence is a gap, answered with the sequence to resend from. A registration's ledger entry only moves
forward (a higher revision replaces a lower one), and only the node that manages a registration may
change it. The acknowledged sequence is stored in the same transaction as the changes it covers, so an
acknowledgement is never ahead of what is durable.

Downward, everything the national node holds that concerns a province (handovers at onboarding,
transfers, restored records) goes into that province's feed, numbered without gaps
(:func:`common.sync.sequences.take_number`), pulled and acknowledged by the province.

A transfer moves a registration to another node only after the node that manages it has released it
through its own upward feed: offered to the receiving node, confirmed by it, then a ``TRANSFER_RELEASE``
down to the managing node, which stops changing the registration and puts the release in its change
log in the same transaction. The feed is applied in order, so when the release is applied here every
change that node accepted is in the ledger; only then does the transfer complete. A change that node
sends after its release is refused, and so is a release from any other node or one it was not asked
for. The national node's own registrations (and an onboarding's handover) are released in the
ledger's own transaction, under the registration's lock: its registry writes into the ledger directly.

A batch is applied in SQLAlchemy Core: its ledger entries are read in one statement (without their
records), changed in memory as its changes are checked, and written at the end, after their log entries
are appended (so that each row learns its entry's index): one insert of the new rows and one update of
the others, each one statement for the whole batch.
"""

from __future__ import annotations

import functools
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, text
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from common import codes, names, regions
from common.clock import Clock
from common.db import Database
from common.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    InvalidValue,
    NotFound,
)
from common.gen.registry.v1 import registration_pb2, sync_pb2, sync_service_pb2
from common.registration.models import RegistrationRow
from common.sync.records import bucket_digests, digests, export_record, import_record, rename
from common.sync.sequences import take_number
from national_node.directory import OWN_NODE, PROXY, get_node
from national_node.driver import Driver
from national_node.models import (
    CodeAssignmentRow,
    CosignatureRow,
    DownwardRow,
    LedgerRow,
    NodeRow,
    SyncStateRow,
    TransferRow,
)
from national_node.objections import forward_objection

if TYPE_CHECKING:
    from national_node.code_leases import CodeLeases
from national_node.tlog.append import Appender
from national_node.tlog.entries import Pending, registration_entry_bytes

__all__ = ["TRANSFER_ID", "Ledger"]

logger = logging.getLogger(__name__)

#: A transfer's id: a UUID, as :meth:`Ledger.transfer` makes it.
TRANSFER_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

#: Files an objection forwarded to the national node's own registry, in the caller's transaction.
OwnObjections = Callable[[Session, sync_pb2.ForwardedObjection], bool]

_LEDGER = LedgerRow.__table__  # type: ignore[attr-defined]
_ASSIGNMENTS = CodeAssignmentRow.__table__  # type: ignore[attr-defined]
#: A batch's ledger entries, as its checks need them (not their records).
_ENTRIES = core_select(
    _LEDGER.c.uid, _LEDGER.c.node, _LEDGER.c.name, _LEDGER.c.code, _LEDGER.c.revision
).where(_LEDGER.c.uid.in_(bindparam("uids", expanding=True)))
_ASSIGNED_TO = core_select(_ASSIGNMENTS.c.registration).where(_ASSIGNMENTS.c.code == bindparam("code"))
_HOLDER = core_select(_LEDGER.c.uid).where(
    _LEDGER.c.code == bindparam("code"), _LEDGER.c.uid != bindparam("uid")
)
_RECORD = core_select(_LEDGER.c.record).where(_LEDGER.c.uid == bindparam("uid"))
#: A namespace's counter moved up to a serial (never down): a code recorded again after a restore.
_COUNTER_AT_LEAST = text(
    "INSERT INTO code_counters (issuer, object_type, year, last_serial)"
    " VALUES (:issuer, :object_type, :year, :serial)"
    " ON CONFLICT (issuer, object_type, year) DO UPDATE SET last_serial = CASE"
    " WHEN code_counters.last_serial < excluded.last_serial THEN excluded.last_serial"
    " ELSE code_counters.last_serial END"
)
#: The columns a change writes (besides the uid).
_COLUMNS = (
    "node",
    "name",
    "code",
    "state",
    "revision",
    "digest",
    "bucket",
    "record",
    "updated_at",
    "log_index",
)


@dataclass(slots=True)
class _Entry:
    """A ledger entry as a batch sees it: read once, changed in memory, written at the end."""

    uid: str
    node: str
    name: str
    code: str | None
    revision: int
    #: Not in the ledger before this batch.
    new: bool = False
    #: The columns to write, once this batch changed it.
    write: dict[str, Any] | None = None


def _columns(record: sync_pb2.RegistrationRecord, node: str, digest: str, now: datetime) -> dict[str, Any]:
    """A ledger entry's columns (all but uid and log index) once it is ``record``, managed by ``node``."""
    reg = record.registration
    return {
        "node": node,
        "name": reg.name,
        "code": reg.code or None,
        "state": registration_pb2.Registration.State.Name(reg.state),
        "revision": record.revision,
        "digest": digest,
        "bucket": reg.uid[:2],
        "record": record.SerializeToString(deterministic=True),
        "updated_at": now,
    }


class Ledger:
    def __init__(
        self, db: Database, clock: Clock, log: Appender, *, recover_lost_codes: bool = False
    ) -> None:
        self.db, self.clock, self.log = db, clock, log
        #: After a restore from a backup (the operator's setting, ``recover_lost_codes``): codes the
        #: coding authority lost are recorded again as their provinces send them (:meth:`_lost_code`).
        #: Off, a code the authority has no record of is refused, whoever sends it.
        self.recover_lost_codes = recover_lost_codes
        #: Files objections in the national node's own registry (set where that registry is built).
        self.own_objections: OwnObjections | None = None
        #: Checks codes the nodes gave from their code leases while the national node was unreachable
        #: (set where the leases are built; without it such a code is refused as never assigned).
        self.code_leases: CodeLeases | None = None

    # -- writing entries ------------------------------------------------------------------------

    def _put(
        self, session: Session, record: sync_pb2.RegistrationRecord, node: str, row: LedgerRow | None = None
    ) -> LedgerRow:
        reg = record.registration
        digest, content = digests(record)
        now = self.clock.now()
        fields = _columns(record, node, digest, now)
        if row is None:
            row = session.get(LedgerRow, reg.uid)
        if row is None:
            row = LedgerRow(uid=reg.uid, **fields)
        else:
            for key, value in fields.items():
                setattr(row, key, value)
        session.add(row)
        # The national log gets the same change, appended when this transaction commits (and the row
        # learns its entry's index then); the search index follows the log (national_node.indexer).
        self.log.add_registration(session, record, digest, content, at=now, row=row)
        return row

    def record_own(self, session: Session, reg: RegistrationRow) -> None:
        """The hook of the national node's own registry: its registrations enter the ledger directly."""
        record = export_record(session, reg)
        reg.digest = self._put(session, record, reg.node).digest
        session.add(reg)

    # -- upward ---------------------------------------------------------------------------------

    def apply_batch(
        self, batch: sync_pb2.ChangeBatch, *, stream: str = "", claim: bool = True
    ) -> sync_pb2.ChangeAck:
        """Apply a batch of ``batch.node``'s upward feed. ``stream`` names the upward stream it came on
        (any process, any host); ``claim``: its first batch, which makes it the node's upward stream.
        A batch of a stream that another has replaced meanwhile is refused, applying nothing."""
        node = names.parse_node(batch.node, field="node")
        with self.db.transaction() as session:
            directory = get_node(session, node)
            if directory.mode != OWN_NODE:
                raise FailedPrecondition(
                    "NODE_NOT_ONLINE",
                    f"nodes/{node} does not run its own node (mode {directory.mode})",
                    metadata={"field": "node"},
                )
            state = _state(session, node, lock=True)
            if stream and claim:
                state.upward_stream = stream
            elif stream and state.upward_stream != stream:
                raise Aborted(
                    "STREAM_SUPERSEDED",
                    f"nodes/{node} opened a newer upward stream (on another process of the national"
                    " node); this one applies nothing more: push on the newer one",
                    metadata={"node": f"nodes/{node}"},
                )
            if self.code_leases is not None:
                reported = max([batch.head_sequence, *(c.sequence for c in batch.changes)])
                self.code_leases.heard(session, state, reported)
            expected = state.acknowledged + 1
            refused: list[str] = []
            gap = 0
            changes = sorted(batch.changes, key=lambda c: c.sequence)
            # The batch's ledger entries in one query; they are written at the end, together.
            uids = {c.record.registration.uid for c in changes if c.sequence >= expected}
            rows = (
                {
                    uid: _Entry(uid, holder, name, code, revision)
                    for uid, holder, name, code, revision in session.connection().execute(
                        _ENTRIES, {"uids": sorted(uids)}
                    )
                }
                if uids
                else {}
            )
            acknowledged: sync_pb2.Change | None = None
            with session.no_autoflush:
                for change in changes:
                    if change.sequence < expected:
                        continue  # a replay of what is applied already
                    if change.sequence > expected:
                        gap = expected
                        break
                    if change.transfer_id:
                        why = self._release(session, node, change, rows)
                    else:
                        why = self._apply_change(session, node, change, rows)
                    if why:
                        # Nothing from a refused change on is acknowledged: the sender cannot get
                        # past it by sending it again, and nothing after it is taken on trust.
                        refused.append(f"{change.record.registration.name}: {why}")
                        break
                    acknowledged = change
                    expected += 1
                self._write(session, rows)
                if acknowledged is not None:  # set once: each change of a row's is an ORM event
                    state.acknowledged = acknowledged.sequence
                    state.acknowledged_commit = acknowledged.commit_time.ToDatetime(tzinfo=UTC)
            if batch.head_sequence:
                state.head = max(state.head, batch.head_sequence)
                state.head_time = batch.head_time.ToDatetime(tzinfo=UTC)
            state.head = max(state.head, state.acknowledged)
            state.last_contact = self.clock.now()
            state.refused += len(refused)
            state.last_error = ""
            if gap:
                state.last_error = f"gap: expected sequence {gap}, got {batch.changes[0].sequence}"
            elif refused:
                state.last_error = f"refused change {expected}: {refused[0]}"
                logger.warning("nodes/%s: refused change %d: %s", node, expected, refused[0])
            session.add(state)
            return sync_pb2.ChangeAck(
                acknowledged_sequence=state.acknowledged, expected_sequence=gap, refused=refused
            )

    def _apply_change(
        self, session: Session, node: str, change: sync_pb2.Change, rows: dict[str, _Entry]
    ) -> str:
        """Apply one change; ``rows`` holds the batch's ledger entries (new ones are added to it).

        Returns why the change is refused, or "" when it is applied (or already was: a change older
        than the ledger's entry). Refused: a registration another node manages (also the node a
        transfer took it from, which released it before), and a code the coding authority did not
        assign to this registration (unless the node gave it from a code lease, :meth:`_leased_code`,
        or the operator said the authority was restored and lost it: :meth:`_lost_code`), or that
        another registration holds.
        """
        record = change.record
        reg = record.registration
        if not reg.name.startswith(f"nodes/{node}/registrations/"):
            return f"nodes/{node} does not manage {reg.name}"
        row = rows.get(reg.uid)
        if row is not None and row.revision >= record.revision:
            return ""  # already has this revision or a newer one
        if row is not None and row.node != node:
            return self._managed_elsewhere(session, node, record, row)
        if reg.code and (row is None or row.code != reg.code):
            connection = session.connection()
            assigned_to = connection.execute(_ASSIGNED_TO, {"code": reg.code}).scalar()
            if assigned_to is None:
                leased = self._leased_code(session, node, change, rows) if self.code_leases else None
                if leased is None:  # no lease holds the serial
                    why = f"code {reg.code} was never assigned"
                    if self.recover_lost_codes:
                        why = self._lost_code(session, node, record, rows)
                    if why:
                        return why
                elif leased:
                    return leased
                assigned_to = reg.name
            if assigned_to != reg.name:
                return f"code {reg.code} was assigned to {assigned_to}"
            holder = connection.execute(_HOLDER, {"code": reg.code, "uid": reg.uid}).first()
            if holder is not None or any(e.code == reg.code and e.uid != reg.uid for e in rows.values()):
                return f"code {reg.code} belongs to another registration"
        self._stage(session, record, node, rows)
        return ""

    def _awaited_code(
        self, session: Session, record: sync_pb2.RegistrationRecord, rows: dict[str, _Entry]
    ) -> str:
        """Why the ledger's entry of ``record``'s registration (as this batch left it) is not one
        waiting for its code (an initial application AWAITING_CODE), or "" when it is; and that no
        other registration holds ``record``'s code."""
        reg = record.registration
        refused = f"code {reg.code} was never assigned"
        entry = rows.get(reg.uid)
        before = (entry.write or {}).get("record") if entry is not None else None
        if entry is not None and before is None:
            before = session.connection().execute(_RECORD, {"uid": reg.uid}).scalar()
        if before is None:
            return refused
        holder = session.connection().execute(_HOLDER, {"code": reg.code, "uid": reg.uid}).first()
        if holder is not None or any(e.code == reg.code and e.uid != reg.uid for e in rows.values()):
            return f"code {reg.code} belongs to another registration"
        held = sync_pb2.RegistrationRecord.FromString(before).registration
        if not (
            held.state == registration_pb2.Registration.PENDING
            and held.current_application.type == registration_pb2.INITIAL
            and held.current_application.state == registration_pb2.Application.AWAITING_CODE
        ):
            return refused + " (its registration was not waiting for a code)"
        return ""

    def _leased_code(
        self, session: Session, node: str, change: sync_pb2.Change, rows: dict[str, _Entry]
    ) -> str | None:
        """A code the coding authority did not assign, on ``node``'s change: admitted ("") when the
        node gave it from one of its code leases while the national node was unreachable
        (:meth:`national_node.code_leases.CodeLeases.admit`), None when no lease holds its serial, and
        why it is refused otherwise."""
        assert self.code_leases is not None
        reg = change.record.registration
        try:
            code = codes.parse(reg.code)
        except InvalidValue:
            return None
        lease = self.code_leases.lease_of(session, code)
        if lease is None:
            return None
        if int(code.object_type) != reg.object_type:
            return f"code {reg.code} is not of the registration's object type"
        awaited = self._awaited_code(session, change.record, rows)
        if awaited:
            return awaited
        return self.code_leases.admit(
            session,
            lease,
            node=node,
            code=code,
            registration=reg.name,
            subject_uscc=reg.content.subject.uscc,
            sequence=change.sequence,
            committed_at=change.commit_time.ToDatetime(tzinfo=UTC),
        )

    def _lost_code(
        self, session: Session, node: str, record: sync_pb2.RegistrationRecord, rows: dict[str, _Entry]
    ) -> str:
        """A code the coding authority has no record of, on a change of ``node``: refused (returns why),
        unless it is one this node was given and the authority lost, as a national node restored from
        a backup lost every code it assigned after the backup was taken. Its node holds it and sends it
        again with the registration's activation; the authority records it again (and the namespace's
        counter moves past it, so the serial is not given twice) when it is exactly what the authority
        would have assigned: in the node's own namespace, of the registration's object type, for a
        registration the ledger holds waiting for its code, and held by no other registration."""
        reg = record.registration
        refused = f"code {reg.code} was never assigned"
        try:
            code = codes.parse(reg.code)
        except InvalidValue:
            return refused
        if code.issuer != node or int(code.object_type) != reg.object_type:
            return refused
        awaited = self._awaited_code(session, record, rows)
        if awaited:
            return awaited
        year = 2000 + code.year
        assignment = CodeAssignmentRow(
            code=reg.code,
            issuer=code.issuer,
            object_type=int(code.object_type),
            year=year,
            serial=code.serial,
            registration=reg.name,
            subject_uscc=reg.content.subject.uscc,
            requested_by=node,
            request_id=f"restored-{reg.uid}",
            assigned_at=self.clock.now(),
        )
        session.add(assignment)
        session.connection().execute(
            _COUNTER_AT_LEAST,
            {
                "issuer": code.issuer,
                "object_type": int(code.object_type),
                "year": year,
                "serial": code.serial,
            },
        )
        self.log.add_code_assignment(session, assignment)
        logger.warning(
            "nodes/%s holds code %s for %s, which the coding authority has no record of (restored from a"
            " backup taken before it was assigned?): recorded again",
            node,
            reg.code,
            reg.name,
        )
        return ""

    def _stage(
        self, session: Session, record: sync_pb2.RegistrationRecord, node: str, rows: dict[str, _Entry]
    ) -> None:
        """The ledger's entry becomes ``record``, managed by ``node``: written with the batch, its log
        entry appended with the batch's (:meth:`_write`)."""
        reg = record.registration
        digest, content = digests(record)
        now = self.clock.now()
        code = reg.code or None
        write = {**_columns(record, node, digest, now), "log_index": None}
        row = rows.get(reg.uid)
        if row is None:
            row = rows[reg.uid] = _Entry(reg.uid, node, reg.name, code, record.revision, new=True)
        else:
            row.node, row.name, row.code, row.revision = node, reg.name, code, record.revision
        row.write = write
        # The row learns the index of its (newest) change's log entry when the batch's are appended.
        data = registration_entry_bytes(record, digest, content, now)
        self.log.add(session, Pending(data, functools.partial(write.__setitem__, "log_index")))

    def _write(self, session: Session, rows: dict[str, _Entry]) -> None:
        """Append the log entries of the batch's changes so far, then write the entries they changed:
        the new ones in one statement, the others in another."""
        changed = [row for row in rows.values() if row.write is not None]
        if not changed:
            return
        self.log.flush(session)
        driver = Driver(session)
        stored_at = driver.to_db(_LEDGER.c.updated_at)
        new: list[tuple[Any, ...]] = []
        old: list[tuple[Any, ...]] = []
        for row in changed:
            write = row.write
            assert write is not None
            values = [write[name] for name in _COLUMNS]
            values[_COLUMNS.index("updated_at")] = stored_at(write["updated_at"])
            (new if row.new else old).append((*values, row.uid))
        if new:
            driver.many(
                f"INSERT INTO ledger ({', '.join(_COLUMNS)}, uid) VALUES ({driver.marks(len(_COLUMNS) + 1)})",
                new,
            )
        if old:
            assignments = ", ".join(f"{name} = {driver.mark}" for name in _COLUMNS)
            driver.many(f"UPDATE ledger SET {assignments} WHERE uid = {driver.mark}", old)
        for row in changed:
            row.new, row.write = False, None

    def _release(self, session: Session, node: str, change: sync_pb2.Change, rows: dict[str, _Entry]) -> str:
        """``node`` releases a registration to a transfer: refused unless a transfer asked this node
        to (confirmed, not yet released, the registration this node manages). The release comes after
        every change the node accepted, so the transfer completes here, with all of them."""
        record = change.record
        uid = record.registration.uid
        transfer = (
            session.get(TransferRow, change.transfer_id, with_for_update=True)
            if TRANSFER_ID.fullmatch(change.transfer_id)
            else None
        )
        if transfer is None or transfer.from_node != node or transfer.uid != uid:
            return f"no transfer {change.transfer_id} takes {uid} from nodes/{node}"
        if transfer.release_sequence is None:
            return f"transfer {transfer.id} has not asked nodes/{node} to release {uid}"
        if transfer.released_at is not None or transfer.state != "PENDING":
            return f"nodes/{node} released {uid} to transfer {transfer.id} already"
        if record.registration.name.startswith(f"nodes/{node}/registrations/"):
            # The registration as released: the ledger has it already, unless the node holds more.
            why = self._apply_change(session, node, change, rows)
            if why:
                return why
        row = rows.get(uid)
        if row is None or row.node != node:
            return f"nodes/{node} does not manage {uid}"
        transfer.released_at = self.clock.now()
        self._write(session, rows)  # the transfer completes on the ledger as the batch has left it
        moved = self._complete_release(session, transfer)
        rows[uid] = _Entry(uid, moved.node, moved.name, moved.code, moved.revision)
        return ""

    def _complete_release(self, session: Session, transfer: TransferRow) -> LedgerRow:
        """Complete a released transfer; the ledger's row as it now stands."""
        self._complete(session, transfer)
        row = session.get(LedgerRow, transfer.uid)
        assert row is not None
        return row

    def _managed_elsewhere(
        self, session: Session, node: str, record: sync_pb2.RegistrationRecord, row: _Entry
    ) -> str:
        """A change from ``node`` to a registration ``row.node`` manages: refused. The one exception
        is a transfer completed before releases existed (it did not wait for the former node's feed):
        that node's changes made before it learnt of the transfer are acknowledged and not applied,
        and logged as the loss they are, so that its feed goes on."""
        last = session.exec(
            select(TransferRow)
            .where(TransferRow.uid == record.registration.uid, TransferRow.state == "COMPLETED")
            .order_by(col(TransferRow.completed_at).desc())
            .limit(1)
        ).first()
        if last is None or last.from_node != node:
            return f"the registration is managed by nodes/{row.node}"
        if last.released_at is not None:
            return f"nodes/{node} released it to transfer {last.id}; it is managed by nodes/{row.node}"
        logger.error(
            "nodes/%s: change to %s (revision %d) not applied: transfer %s moved it to nodes/%s without"
            " this node's release; the subject applies to nodes/%s",
            node,
            record.registration.name,
            record.revision,
            last.id,
            row.node,
            row.node,
        )
        return ""

    # -- sync health ----------------------------------------------------------------------------

    def state(self, node: str) -> sync_pb2.SyncState:
        with self.db.transaction(write=False) as session:
            get_node(session, node)
            return self._state_message(session, _state(session, node))

    def states(self, *, after: str = "", limit: int = 100) -> list[sync_pb2.SyncState]:
        """The links of the nodes running their own node, in region order, after region ``after``."""
        with self.db.transaction(write=False) as session:
            nodes = session.exec(
                select(NodeRow)
                .where(NodeRow.mode == OWN_NODE, col(NodeRow.region) > after)
                .order_by(col(NodeRow.region))
                .limit(limit)
            )
            return [self._state_message(session, _state(session, n.region)) for n in nodes]

    def _state_message(self, session: Session, state: SyncStateRow) -> sync_pb2.SyncState:
        lag = max(0, state.head - state.acknowledged)
        lag_seconds = 0.0
        if lag and state.head_time is not None and state.acknowledged_commit is not None:
            lag_seconds = max(0.0, (state.head_time - state.acknowledged_commit).total_seconds())
        elif lag and state.head_time is not None:
            lag_seconds = max(0.0, (self.clock.now() - state.head_time).total_seconds())
        message = sync_pb2.SyncState(
            node=f"nodes/{state.node}",
            acknowledged_sequence=state.acknowledged,
            head_sequence=state.head,
            lag_changes=lag,
            lag_seconds=lag_seconds,
            downward_head=_downward_head(session, state.node),
            downward_acknowledged=state.downward_acknowledged,
            last_error=state.last_error,
            refused_changes=state.refused,
            transfers_releasing=session.exec(
                select(func.count())
                .select_from(TransferRow)
                .where(
                    TransferRow.from_node == state.node,
                    TransferRow.state == "PENDING",
                    col(TransferRow.release_sequence).is_not(None),
                )
            ).one(),
        )
        if state.last_contact is not None:
            message.last_contact_time.FromDatetime(state.last_contact)
        cosigned = session.exec(
            select(CosignatureRow)
            .where(CosignatureRow.witness == state.node)
            .order_by(col(CosignatureRow.size).desc())
            .limit(1)
        ).first()
        if cosigned is not None:  # the node as a witness of the national log
            message.witnessed_size = cosigned.size
            message.witnessed_time.FromDatetime(cosigned.created_at)
        return message

    # -- downward -------------------------------------------------------------------------------

    def _send_down(
        self,
        session: Session,
        node: str,
        kind: str,
        record: sync_pb2.RegistrationRecord,
        transfer_id: str = "",
    ) -> int:
        sequence = take_number(session, f"down:{node}")
        session.add(
            DownwardRow(
                node=node,
                sequence=sequence,
                kind=kind,
                uid=record.registration.uid,
                transfer_id=transfer_id,
                record=record.SerializeToString(deterministic=True),
                created_at=self.clock.now(),
            )
        )
        return sequence

    def pull(
        self, node: str, *, after: int, limit: int, page: int = 100
    ) -> Iterator[sync_pb2.DownwardChange]:
        """The feed of ``node`` after ``after``, at most ``limit`` changes, read ``page`` at a time (each
        page its own short transaction, so a slow reader holds no transaction open)."""
        with self.db.transaction(write=False) as session:
            get_node(session, node)
        sent = 0
        while sent < limit:
            with self.db.transaction(write=False) as session:
                rows = session.exec(
                    select(DownwardRow)
                    .where(DownwardRow.node == node, col(DownwardRow.sequence) > after)
                    .order_by(col(DownwardRow.sequence))
                    .limit(min(page, limit - sent))
                ).all()
            if not rows:
                return
            for row in rows:
                change = sync_pb2.DownwardChange(
                    sequence=row.sequence,
                    kind=row.kind,
                    record=sync_pb2.RegistrationRecord.FromString(row.record),
                    transfer_id=row.transfer_id,
                )
                if row.objection is not None:
                    change.objection.ParseFromString(row.objection)
                if row.notice is not None and row.kind == "DEMAND":
                    change.demand.ParseFromString(row.notice)
                elif row.notice is not None and row.kind == "SHARE_REQUEST":
                    change.share_request.ParseFromString(row.notice)
                elif row.notice is not None and row.kind == "CORRECTION":
                    change.correction.ParseFromString(row.notice)
                elif row.notice is not None and row.kind == "DISCLOSURE":
                    change.disclosure.ParseFromString(row.notice)
                yield change
            sent += len(rows)
            after = rows[-1].sequence

    def acknowledge_downward(self, node: str, sequence: int) -> sync_pb2.SyncState:
        with self.db.transaction() as session:
            get_node(session, node)
            state = _state(session, node, lock=True)
            head = _downward_head(session, node)
            if sequence > head:
                raise InvalidArgument.for_field(
                    "sequence", InvalidValue("FIELD_OUT_OF_RANGE", f"is beyond the feed's head ({head})")
                )
            state.downward_acknowledged = max(state.downward_acknowledged, sequence)
            session.add(state)
            return self._state_message(session, state)

    # -- agreement ------------------------------------------------------------------------------

    def compare(
        self, node: str, ranges: Iterable[sync_pb2.RangeDigest]
    ) -> sync_service_pb2.CompareDigestsResponse:
        theirs = {r.prefix: (r.digest, r.count) for r in ranges}
        with self.db.transaction(write=False) as session:
            get_node(session, node)
            leaves = session.exec(
                select(LedgerRow.uid, LedgerRow.revision, LedgerRow.digest).where(LedgerRow.node == node)
            ).all()
        ours = bucket_digests((uid, digest) for uid, _, digest in leaves)
        differing = sorted(p for p in set(ours) | set(theirs) if ours.get(p) != theirs.get(p))
        wanted = set(differing)
        return sync_service_pb2.CompareDigestsResponse(
            differing=[
                sync_pb2.RangeDigest(prefix=p, digest=ours.get(p, ("", 0))[0], count=ours.get(p, ("", 0))[1])
                for p in differing
            ],
            leaves=[
                sync_pb2.LeafDigest(uid=uid, revision=revision, digest=digest)
                for uid, revision, digest in sorted(leaves)
                if uid[:2] in wanted
            ],
            ranges_compared=len(set(ours) | set(theirs)),
        )

    def records(
        self, uids: Iterable[str], *, managed_by: str | None = None
    ) -> list[sync_pb2.RegistrationRecord]:
        """The ledger's records of ``uids`` (only those ``managed_by`` manages, when given)."""
        statement = select(LedgerRow).where(col(LedgerRow.uid).in_(list(uids)))
        if managed_by is not None:
            statement = statement.where(LedgerRow.node == managed_by)
        with self.db.transaction(write=False) as session:
            rows = session.exec(statement).all()
        return [sync_pb2.RegistrationRecord.FromString(row.record) for row in rows]

    def lookup(self, code: str) -> sync_pb2.RegistrationRecord:
        with self.db.transaction(write=False) as session:
            row = session.exec(select(LedgerRow).where(LedgerRow.code == code)).first()
        if row is None:
            raise NotFound(
                "LEDGER_ENTRY_NOT_FOUND",
                f"the national ledger has no registration with code {code}",
                metadata={"code": code},
            )
        return sync_pb2.RegistrationRecord.FromString(row.record)

    # -- onboarding and transfers ---------------------------------------------------------------

    def onboard(self, node: str, address: str) -> sync_service_pb2.OnboardNodeResponse:
        """The region starts its own node: hand over what the national node registered for it."""
        with self.db.transaction() as session:
            directory = get_node(session, node)
            if node == regions.NATIONAL:
                raise FailedPrecondition("NOT_A_PROVINCE", "the national node cannot be onboarded")
            if directory.mode == PROXY or directory.address != address:
                directory.mode, directory.address, directory.updated_at = OWN_NODE, address, self.clock.now()
                session.add(directory)
            # Under their locks: a write of the national registry to one of them either committed before
            # (and is in the ledger and the handover) or finds it handed over (NOT_MANAGED_HERE).
            proxied = session.exec(
                select(RegistrationRow)
                .where(RegistrationRow.node == regions.NATIONAL, RegistrationRow.subject_region == node)
                .with_for_update()
            ).all()
            moving = set(
                session.exec(
                    select(TransferRow.uid).where(
                        TransferRow.from_node == regions.NATIONAL, TransferRow.state == "PENDING"
                    )
                )
            )
            handed = 0
            for reg in proxied:
                record = export_record(session, reg)
                if record.registration.content.subject.central:
                    continue  # a central body stays with the national node
                if reg.uid in moving:
                    logger.info("onboarding nodes/%s: %s is being transferred elsewhere", node, reg.uid)
                    continue
                reg.node = node  # the national registry no longer manages it (refuses to modify it)
                session.add(reg)
                moved = rename(record, node)
                self._put(session, moved, node)
                self._send_down(session, node, "HANDOVER", moved)
                handed += 1
            logger.info("onboarded nodes/%s at %s: %d registrations handed over", node, address, handed)
            return sync_service_pb2.OnboardNodeResponse(
                handed_over=handed, downward_head=_downward_head(session, node)
            )

    def transfer(self, code: str, to_node: str, request_id: str) -> sync_service_pb2.Transfer:
        with self.db.transaction() as session:
            done = session.exec(select(TransferRow).where(TransferRow.request_id == request_id)).first()
            if done is not None:
                if (done.code, done.to_node) != (code, to_node):
                    raise AlreadyExists(
                        "REQUEST_ID_REUSED", f"request id {request_id} was used for another transfer"
                    )
                return _transfer_message(done)
            target = get_node(session, to_node)
            row = session.exec(select(LedgerRow).where(LedgerRow.code == code).with_for_update()).first()
            if row is None:
                raise NotFound(
                    "LEDGER_ENTRY_NOT_FOUND",
                    f"the national ledger has no registration with code {code}",
                    metadata={"field": "code"},
                )
            if target.mode not in (OWN_NODE,) and to_node != regions.NATIONAL:
                raise FailedPrecondition(
                    "NODE_NOT_ONLINE",
                    f"nodes/{to_node} does not run its own node",
                    metadata={"field": "to_node"},
                )
            if row.node == to_node:
                raise FailedPrecondition(
                    "ALREADY_MANAGED_THERE", f"{code} is managed by nodes/{to_node} already"
                )
            pending = session.exec(
                select(TransferRow).where(TransferRow.uid == row.uid, TransferRow.state == "PENDING")
            ).first()
            if pending is not None:
                raise FailedPrecondition(
                    "TRANSFER_PENDING",
                    f"transfer {pending.id} of {code} is still pending",
                    metadata={"transfer": pending.id},
                )
            transfer = TransferRow(
                id=str(uuid.uuid4()),
                request_id=request_id,
                uid=row.uid,
                code=code,
                from_node=row.node,
                to_node=to_node,
                state="PENDING",
                created_at=self.clock.now(),
            )
            session.add(transfer)
            if to_node == regions.NATIONAL:
                transfer.confirmed_at = transfer.created_at  # the national node takes it at once
                session.flush()
                return self._ask_release(session, transfer)
            record = rename(sync_pb2.RegistrationRecord.FromString(row.record), to_node)
            self._send_down(session, to_node, "TRANSFER_OFFER", record, transfer.id)
            logger.info(
                "transfer %s: %s from nodes/%s to nodes/%s offered", transfer.id, code, row.node, to_node
            )
            return _transfer_message(transfer)

    def confirm(self, node: str, transfer_id: str) -> sync_service_pb2.Transfer:
        """The receiving node takes the transfer; the managing node is asked to release it. Once per
        transfer: a repeat (the receiving node confirms before it applies the offer) answers as it
        stands."""
        with self.db.transaction() as session:
            transfer = session.get(TransferRow, transfer_id, with_for_update=True)
            if transfer is None or transfer.to_node != node:
                raise NotFound(
                    "TRANSFER_NOT_FOUND",
                    f"no transfer {transfer_id} to nodes/{node}",
                    metadata={"field": "transfer_id"},
                )
            if transfer.confirmed_at is not None:
                return _transfer_message(transfer)
            transfer.confirmed_at = self.clock.now()
            session.add(transfer)
            return self._ask_release(session, transfer)

    def _ask_release(self, session: Session, transfer: TransferRow) -> sync_service_pb2.Transfer:
        """Confirmed: the managing node releases the registration. The national node's own registry
        releases it here and now; a province, through its feeds (see the module's docstring)."""
        if transfer.from_node == regions.NATIONAL:
            transfer.released_at = self.clock.now()
            return self._complete(session, transfer)
        row = session.get(LedgerRow, transfer.uid)
        assert row is not None
        record = rename(sync_pb2.RegistrationRecord.FromString(row.record), transfer.to_node)
        transfer.release_sequence = self._send_down(
            session, transfer.from_node, "TRANSFER_RELEASE", record, transfer.id
        )
        session.add(transfer)
        logger.info(
            "transfer %s: %s confirmed by nodes/%s; waiting for nodes/%s to release it",
            transfer.id,
            transfer.code,
            transfer.to_node,
            transfer.from_node,
        )
        return _transfer_message(transfer)

    def _complete(self, session: Session, transfer: TransferRow) -> sync_service_pb2.Transfer:
        """Released and confirmed: the receiving node manages the registration from now on."""
        source = transfer.from_node
        if source == regions.NATIONAL:
            # The national registry's lock first (its writes take it before they write the ledger):
            # what it wrote before is in the ledger's entry, what comes after finds it moved.
            session.exec(
                select(RegistrationRow).where(RegistrationRow.uid == transfer.uid).with_for_update()
            ).first()
        # The caller holds the transfer's lock: an objection is sent either before (and follows it,
        # below) or after the move, to the receiving node (national_node.objections).
        row = session.get(LedgerRow, transfer.uid)
        assert row is not None and row.node == source
        record = rename(sync_pb2.RegistrationRecord.FromString(row.record), transfer.to_node)
        self._put(session, record, transfer.to_node, row)
        if transfer.to_node != regions.NATIONAL:
            self._send_down(session, transfer.to_node, "TRANSFER_IN", record, transfer.id)
        if source == regions.NATIONAL or transfer.to_node == regions.NATIONAL:
            self._move_own(session, transfer.uid, transfer.to_node, record)
        if source != regions.NATIONAL:
            self._send_down(session, source, "TRANSFER_OUT", record, transfer.id)
        transfer.state, transfer.completed_at = "COMPLETED", self.clock.now()
        session.add(transfer)
        self._objections_follow(session, transfer, record)
        logger.info(
            "transfer %s completed: %s now managed by nodes/%s", transfer.id, transfer.code, transfer.to_node
        )
        return _transfer_message(transfer)

    def _objections_follow(
        self, session: Session, transfer: TransferRow, record: sync_pb2.RegistrationRecord
    ) -> None:
        """Objections forwarded to the former node after it was asked to release the registration
        reach it when it changes the registration no more (it files none of them): they go to the
        receiving node now, after the registration."""
        if transfer.release_sequence is None:
            return
        late = session.exec(
            select(DownwardRow)
            .where(
                DownwardRow.node == transfer.from_node,
                DownwardRow.kind == "OBJECTION",
                DownwardRow.uid == transfer.uid,
                col(DownwardRow.sequence) > transfer.release_sequence,
            )
            .order_by(col(DownwardRow.sequence))
        ).all()
        for row in late:
            forwarded = sync_pb2.ForwardedObjection.FromString(row.objection or b"")
            forwarded.registration = record.registration.name
            if transfer.to_node != regions.NATIONAL:
                forward_objection(session, transfer.to_node, transfer.uid, forwarded, at=self.clock.now())
            elif self.own_objections is not None:
                self.own_objections(session, forwarded)
            logger.info(
                "transfer %s: objection %s goes to nodes/%s",
                transfer.id,
                forwarded.request_id,
                transfer.to_node,
            )

    def _move_own(
        self, session: Session, uid: str, to_node: str, record: sync_pb2.RegistrationRecord
    ) -> None:
        """The national node's own rows follow a transfer into or out of its management."""
        import_record(session, record, node=to_node)


def _state(session: Session, node: str, *, lock: bool = False) -> SyncStateRow:
    statement = select(SyncStateRow).where(SyncStateRow.node == node)
    if lock:
        statement = statement.with_for_update()
    state = session.exec(statement).first()
    return state if state is not None else SyncStateRow(node=node)


def _downward_head(session: Session, node: str) -> int:
    return session.exec(
        select(func.coalesce(func.max(DownwardRow.sequence), 0)).where(DownwardRow.node == node)
    ).one()


def _transfer_message(row: TransferRow) -> sync_service_pb2.Transfer:
    message = sync_service_pb2.Transfer(
        id=row.id,
        uid=row.uid,
        code=row.code,
        from_node=f"nodes/{row.from_node}",
        to_node=f"nodes/{row.to_node}",
        state=row.state,
    )
    message.create_time.FromDatetime(row.created_at)
    for field, at in (
        ("confirm_time", row.confirmed_at),
        ("release_time", row.released_at),
        ("complete_time", row.completed_at),
    ):
        if at is not None:
            getattr(message, field).FromDatetime(at)
    return message
