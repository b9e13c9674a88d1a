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
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from common import names, regions
from common.clock import Clock
from common.db import Database
from common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, InvalidValue, NotFound
from common.gen.registry.v1 import registration_pb2, sync_pb2, sync_service_pb2
from common.registration.models import RegistrationRow
from common.sync.records import bucket_digests, digests, export_record, import_record, rename
from common.sync.sequences import take_number
from national_node.directory import OWN_NODE, PROXY, get_node
from national_node.models import (
    CodeAssignmentRow,
    CosignatureRow,
    DownwardRow,
    LedgerRow,
    NodeRow,
    SyncStateRow,
    TransferRow,
)
from national_node.tlog import TransparencyLog

__all__ = ["Ledger"]

logger = logging.getLogger(__name__)


class Ledger:
    def __init__(self, db: Database, clock: Clock, log: TransparencyLog) -> None:
        self.db, self.clock, self.log = db, clock, log

    # -- writing entries ------------------------------------------------------------------------

    def _put(
        self, session: Session, record: sync_pb2.RegistrationRecord, node: str, row: LedgerRow | None = None
    ) -> LedgerRow:
        reg = record.registration
        digest, content = digests(record)
        now = self.clock.now()
        fields: dict[str, Any] = {
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

    def apply_batch(self, batch: sync_pb2.ChangeBatch) -> sync_pb2.ChangeAck:
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
            expected = state.acknowledged + 1
            refused: list[str] = []
            gap = 0
            changes = sorted(batch.changes, key=lambda c: c.sequence)
            # The batch's ledger entries in one query; the session writes them all at commit.
            uids = {c.record.registration.uid for c in changes if c.sequence >= expected}
            rows = (
                {row.uid: row for row in session.exec(select(LedgerRow).where(col(LedgerRow.uid).in_(uids)))}
                if uids
                else {}
            )
            with session.no_autoflush:
                for change in changes:
                    if change.sequence < expected:
                        continue  # a replay of what is applied already
                    if change.sequence > expected:
                        gap = expected
                        break
                    why = self._apply_change(session, node, change.record, rows)
                    if why:
                        # Nothing from a refused change on is acknowledged: the sender cannot get
                        # past it by sending it again, and nothing after it is taken on trust.
                        refused.append(f"{change.record.registration.name}: {why}")
                        break
                    state.acknowledged = change.sequence
                    state.acknowledged_commit = change.commit_time.ToDatetime(tzinfo=UTC)
                    expected += 1
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
        self, session: Session, node: str, record: sync_pb2.RegistrationRecord, rows: dict[str, LedgerRow]
    ) -> str:
        """Apply one change; ``rows`` holds the batch's ledger entries (new ones are added to it).

        Returns why the change is refused, or "" when it is applied (or already was). Refused: a
        registration another node manages (unless the change is older than the ledger's entry: a change
        made just before a transfer, which the transfer supersedes), and a code the coding authority did
        not assign to this registration, or that another registration holds.
        """
        reg = record.registration
        if not reg.name.startswith(f"nodes/{node}/registrations/"):
            return f"nodes/{node} does not manage {reg.name}"
        row = rows.get(reg.uid)
        if row is not None and row.revision >= record.revision:
            return ""  # already has this revision or a newer one
        if row is not None and row.node != node:
            return f"the registration is managed by nodes/{row.node}"
        if reg.code and (row is None or row.code != reg.code):
            assignment = session.get(CodeAssignmentRow, reg.code)
            if assignment is None:
                return f"code {reg.code} was never assigned"
            if assignment.registration != reg.name:
                return f"code {reg.code} was assigned to {assignment.registration}"
            holder = session.exec(
                select(LedgerRow.uid).where(LedgerRow.code == reg.code, LedgerRow.uid != reg.uid)
            ).first()
            if holder is not None:
                return f"code {reg.code} belongs to another registration"
        rows[reg.uid] = self._put(session, record, node, row)
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
            proxied = session.exec(
                select(RegistrationRow).where(
                    RegistrationRow.node == regions.NATIONAL, RegistrationRow.subject_region == node
                )
            ).all()
            handed = 0
            for reg in proxied:
                record = export_record(session, reg)
                if record.registration.content.subject.central:
                    continue  # a central body stays with the national node
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
            record = rename(sync_pb2.RegistrationRecord.FromString(row.record), to_node)
            if to_node == regions.NATIONAL:
                session.flush()
                return self._complete(session, transfer)
            self._send_down(session, to_node, "TRANSFER_OFFER", record, transfer.id)
            logger.info(
                "transfer %s: %s from nodes/%s to nodes/%s offered", transfer.id, code, row.node, to_node
            )
            return _transfer_message(transfer)

    def confirm(self, node: str, transfer_id: str) -> sync_service_pb2.Transfer:
        with self.db.transaction() as session:
            transfer = session.get(TransferRow, transfer_id)
            if transfer is None or transfer.to_node != node:
                raise NotFound(
                    "TRANSFER_NOT_FOUND",
                    f"no transfer {transfer_id} to nodes/{node}",
                    metadata={"field": "transfer_id"},
                )
            if transfer.state == "COMPLETED":
                return _transfer_message(transfer)
            return self._complete(session, transfer)

    def _complete(self, session: Session, transfer: TransferRow) -> sync_service_pb2.Transfer:
        row = session.get(LedgerRow, transfer.uid)
        assert row is not None
        source = row.node
        record = rename(sync_pb2.RegistrationRecord.FromString(row.record), transfer.to_node)
        self._put(session, record, transfer.to_node)
        if transfer.to_node != regions.NATIONAL:
            self._send_down(session, transfer.to_node, "TRANSFER_IN", record, transfer.id)
        if source == regions.NATIONAL or transfer.to_node == regions.NATIONAL:
            self._move_own(session, transfer.uid, transfer.to_node, record)
        if source != regions.NATIONAL:
            self._send_down(session, source, "TRANSFER_OUT", record, transfer.id)
        transfer.state, transfer.completed_at = "COMPLETED", self.clock.now()
        session.add(transfer)
        logger.info(
            "transfer %s completed: %s now managed by nodes/%s", transfer.id, transfer.code, transfer.to_node
        )
        return _transfer_message(transfer)

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
    return sync_service_pb2.Transfer(
        id=row.id,
        uid=row.uid,
        code=row.code,
        from_node=f"nodes/{row.from_node}",
        to_node=f"nodes/{row.to_node}",
        state=row.state,
    )
