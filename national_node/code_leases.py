"""Code leases: serials granted to provincial nodes ahead of need, so that they code through an outage.

The contract (CodeLease in ``proto/registry/v1/code.proto``) says what a lease is and what the national
node checks. Here:

* :meth:`CodeLeases.grant` takes a lease's serials from its namespace's counter in one transaction
  with the lease's row and its ``code_lease`` log entry (:func:`national_node.coding.take_serials`, the
  same statement as online codes: no code of the namespace can have them), and signs the entry with the
  log's key.
* :meth:`CodeLeases.heard` is called for every batch of a node's upward stream: when the national node
  heard nothing from the node for a while, it records the silence (in real time, whatever the nodes'
  clocks) with the heads the node reported before and after it. A change the node committed during
  the silence has a sequence between the two.
* :meth:`CodeLeases.admit` is the ledger's check of a code it has no assignment of, on the change that
  activates a registration with it: a lease of the sending node holds the serial, the change was
  committed within the lease's term, during a silence of at least the lease's ``offline_after``,
  before any revocation reached the node, and the lease is not settled. It records the assignment
  (with its log entry) in the ledger's transaction, or says why the change is refused.
* :meth:`CodeLeases.settle` (a duty: one process at a time, the holder of the ``code_leases`` lease)
  settles a lease once it ran out or was revoked and the node has sent up everything it committed
  until then: the serials never used are recorded so in the log, and are never issued again.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from common import codes, names
from common.clock import CHINA, Clock
from common.db import Database, log_failure
from common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    InvalidValue,
    NotFound,
    PermissionDenied,
)
from common.gen.registry.v1 import code_pb2
from common.gen.registry.v1 import registration_pb2 as r
from common.paging import newest_first
from common.registration.views import timestamp
from common.transparency import Signer
from common.transparency.entry import (
    CODE_LEASE,
    CODE_LEASE_REVOCATION,
    CODE_LEASE_SETTLEMENT,
    ENTRY_VERSION,
    canonical,
    lease_note_text,
)
from common.transparency.note import sign_note
from national_node.coding import take_serials
from national_node.directory import OWN_NODE, get_node
from national_node.driver import Driver
from national_node.models import CodeAssignmentRow, CodeLeaseRow, LinkSilenceRow, SyncStateRow
from national_node.settings import CodeLeaseSettings
from national_node.tlog.append import Appender
from national_node.tlog.entries import Pending, entry_time, set_log_index

__all__ = ["LEASE_NAME", "CodeLeases", "LeaseSettler", "lease_message", "unused_ranges"]

logger = logging.getLogger(__name__)

#: A gap in a node's upward stream shorter than this is no silence (the stream carries a batch every
#: two seconds at least).
SILENCE_MIN = timedelta(seconds=3)

_SILENCES = LinkSilenceRow.__table__  # type: ignore[attr-defined]
_ASSIGNMENTS = CodeAssignmentRow.__table__  # type: ignore[attr-defined]


#: A lease's resource name.
LEASE_NAME = re.compile(r"codeLeases/[1-9][0-9]{5}-[1-3]-20[0-9]{2}-[1-9][0-9]{0,13}")


def _lease_name(issuer: str, object_type: int, year: int, first: int) -> str:
    return f"codeLeases/{issuer}-{object_type}-{year}-{first}"


def _end_of_year(year: int) -> datetime:
    return datetime(year + 1, 1, 1, tzinfo=CHINA).astimezone(UTC)


def unused_ranges(first: int, last: int, used: Sequence[int]) -> list[tuple[int, int]]:
    """The serials from ``first`` to ``last`` not in ``used``, as inclusive ranges in order."""
    ranges: list[tuple[int, int]] = []
    start = first
    for serial in sorted(set(s for s in used if first <= s <= last)):
        if serial > start:
            ranges.append((start, serial - 1))
        start = serial + 1
    if start <= last:
        ranges.append((start, last))
    return ranges


def lease_message(row: CodeLeaseRow, now: datetime | None = None) -> code_pb2.CodeLease:
    """The contract's CodeLease of a row."""
    state = code_pb2.CodeLease.OPEN
    if row.settled_at is not None:
        state = code_pb2.CodeLease.SETTLED
    elif row.revoked_at is not None:
        state = code_pb2.CodeLease.REVOKED
    message = code_pb2.CodeLease(
        name=row.name,
        node=names.node_name(row.node),
        issuer=row.issuer,
        object_type=r.ObjectType.Name(row.object_type),
        year=row.year,
        first_serial=row.first_serial,
        last_serial=row.last_serial,
        valid_from=timestamp(row.valid_from),
        valid_until=timestamp(row.valid_until),
        grant_time=timestamp(row.granted_at),
        state=state,
        revoke_reason=row.revoke_reason,
        used_count=row.used,
        unused_count=row.unused,
        signed_lease=row.signed,
        log_index=row.log_index or 0,
    )
    message.offline_after.FromTimedelta(timedelta(seconds=row.offline_after))
    if row.revoked_at is not None:
        message.revoke_time.FromDatetime(row.revoked_at)
    if row.settled_at is not None:
        message.settle_time.FromDatetime(row.settled_at)
    return message


class CodeLeases:
    """Grants, checks, revokes and settles code leases in the national node's database."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        log: Appender,
        signer: Signer,
        settings: CodeLeaseSettings,
        *,
        real_time: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db, self.clock, self.log, self.signer, self.settings = db, clock, log, signer, settings
        #: Link silences are measured in real time, whatever the nodes' (simulated) clocks do.
        self.real_time = real_time

    # -- granting -------------------------------------------------------------------------------

    def grant(self, node: str, object_type: codes.ObjectType, year: int, request_id: str) -> CodeLeaseRow:
        """A lease of ``node``'s namespace (the request was checked for form by the service)."""
        settings = self.settings
        with self.db.transaction() as session:
            earlier = session.exec(
                select(CodeLeaseRow).where(CodeLeaseRow.node == node, CodeLeaseRow.request_id == request_id)
            ).first()
            if earlier is not None:
                if (earlier.object_type, earlier.year) != (int(object_type), year):
                    raise AlreadyExists(
                        "REQUEST_ID_REUSED",
                        f"request id {request_id} was already used by nodes/{node} for a different lease",
                        metadata={"field": "request_id", "request_id": request_id},
                    )
                return earlier
            directory = get_node(session, node)
            if directory.mode != OWN_NODE:
                raise PermissionDenied(
                    "NODE_NOT_ONLINE",
                    f"nodes/{node} does not run its own node (mode {directory.mode}): it takes no leases",
                    metadata={"field": "node", "node": f"nodes/{node}", "mode": directory.mode},
                )
            now = self.clock.now()
            this_year = now.astimezone(CHINA).year
            next_from = _end_of_year(this_year) - timedelta(days=settings.next_year_days)
            if year != this_year and not (year == this_year + 1 and now >= next_from):
                raise InvalidArgument.for_field(
                    "year",
                    InvalidValue(
                        "CODE_LEASE_YEAR",
                        f"must be {this_year}"
                        + (f" or {this_year + 1}" if now >= next_from else "")
                        + " (leases are granted for this year, and in its last"
                        f" {settings.next_year_days} days for the next)",
                    ),
                )
            valid_from = now if year == this_year else _end_of_year(this_year)
            valid_until = min(valid_from + timedelta(hours=settings.term_hours), _end_of_year(year))
            open_leases = session.exec(
                select(CodeLeaseRow).where(
                    CodeLeaseRow.node == node,
                    CodeLeaseRow.object_type == int(object_type),
                    CodeLeaseRow.year == year,
                    col(CodeLeaseRow.revoked_at).is_(None),
                    col(CodeLeaseRow.settled_at).is_(None),
                    col(CodeLeaseRow.valid_until) > now,
                )
            ).all()
            still_open = [row for row in open_leases if row.used < row.last_serial - row.first_serial + 1]
            if len(still_open) >= settings.open_per_namespace:
                raise FailedPrecondition(
                    "CODE_LEASES_OPEN",
                    f"nodes/{node} holds {len(still_open)} open leases of {object_type.name} {year} (at most"
                    f" {settings.open_per_namespace}); it may ask again once one is used up or runs out",
                    metadata={"node": f"nodes/{node}", "open": str(len(still_open))},
                )
            key = (node, int(object_type), year)
            last = take_serials(Driver(session), {key: settings.size})[key]
            first = last - settings.size + 1
            name = _lease_name(node, int(object_type), year, first)
            entry = {
                "v": ENTRY_VERSION,
                "kind": CODE_LEASE,
                "time": entry_time(now),
                "code_lease": name,
                "node": names.node_name(node),
                "issuer": node,
                "object_type": r.ObjectType.Name(int(object_type)),
                "year": year % 100,
                "first_serial": first,
                "last_serial": last,
                "valid_from": entry_time(valid_from),
                "valid_until": entry_time(valid_until),
                "offline_after_seconds": int(settings.offline_after_seconds),
            }
            data = canonical(entry)
            row = CodeLeaseRow(
                name=name,
                node=node,
                issuer=node,
                object_type=int(object_type),
                year=year,
                first_serial=first,
                last_serial=last,
                valid_from=valid_from,
                valid_until=valid_until,
                offline_after=float(int(settings.offline_after_seconds)),
                granted_at=now,
                request_id=request_id,
                signed=sign_note(lease_note_text(data), [self.signer]),
            )
            session.add(row)
            self.log.add(session, Pending(data, set_log_index(row)))
        logger.info(
            "granted %s to nodes/%s: serials %d-%d until %s", name, node, first, last, valid_until.isoformat()
        )
        return row

    # -- reading and revoking -------------------------------------------------------------------

    def get(self, name: str) -> CodeLeaseRow:
        with self.db.transaction(write=False) as session:
            row = session.get(CodeLeaseRow, name)
        if row is None:
            raise NotFound("CODE_LEASE_NOT_FOUND", f"no code lease {name}", metadata={"name": name})
        return row

    def list(self, node: str | None, *, after: Any, limit: int) -> list[CodeLeaseRow]:
        """Leases newest grant first, after the page position ``after`` (:func:`newest_first`)."""
        query = select(CodeLeaseRow)
        if node is not None:
            query = query.where(CodeLeaseRow.node == node)
        query = newest_first(query, col(CodeLeaseRow.granted_at), col(CodeLeaseRow.name), after).limit(limit)
        with self.db.transaction(write=False) as session:
            return list(session.exec(query).all())

    def revoke(self, name: str, reason: str) -> CodeLeaseRow:
        with self.db.transaction() as session:
            row = session.exec(
                select(CodeLeaseRow).where(CodeLeaseRow.name == name).with_for_update()
            ).first()
            if row is None:
                raise NotFound("CODE_LEASE_NOT_FOUND", f"no code lease {name}", metadata={"name": name})
            if row.revoked_at is not None or row.settled_at is not None:
                return row
            state = session.get(SyncStateRow, row.node)
            row.revoked_at = self.clock.now()
            row.revoke_reason = reason
            row.revoked_after = state.head if state is not None else 0
            session.add(row)
            entry = {
                "v": ENTRY_VERSION,
                "kind": CODE_LEASE_REVOCATION,
                "time": entry_time(row.revoked_at),
                "code_lease": name,
                "reason": reason,
                "after_sequence": row.revoked_after,
            }
            self.log.add(session, Pending(canonical(entry)))
        logger.warning("revoked %s of nodes/%s: %s", name, row.node, reason)
        return row

    # -- the link's silences --------------------------------------------------------------------

    def heard(self, session: Session, state: SyncStateRow, head: int) -> None:
        """A batch of ``state.node``'s upward stream arrived, reporting ``head``: record the silence
        before it, if there was one (in the caller's transaction, before its changes are checked)."""
        now = self.real_time()
        if state.heard_at is not None and now - state.heard_at >= SILENCE_MIN:
            session.connection().execute(
                _SILENCES.insert().values(
                    node=state.node,
                    since=state.heard_at,
                    until=now,
                    head_before=state.head,
                    head_after=max(head, state.head),
                )
            )
            logger.info(
                "nodes/%s: its upward stream was silent for %.1f s (changes %d to %d)",
                state.node,
                (now - state.heard_at).total_seconds(),
                state.head + 1,
                max(head, state.head),
            )
        state.heard_at = now

    # -- checking a code given from a lease -----------------------------------------------------

    @staticmethod
    def lease_of(session: Session, code: codes.RegistrationCode) -> CodeLeaseRow | None:
        """The lease (any node's) that holds ``code``'s serial, if one does."""
        return session.exec(
            select(CodeLeaseRow).where(
                CodeLeaseRow.issuer == code.issuer,
                CodeLeaseRow.object_type == int(code.object_type),
                CodeLeaseRow.year == 2000 + code.year,
                col(CodeLeaseRow.first_serial) <= code.serial,
                col(CodeLeaseRow.last_serial) >= code.serial,
            )
        ).first()

    def admit(
        self,
        session: Session,
        lease: CodeLeaseRow,
        *,
        node: str,
        code: codes.RegistrationCode,
        registration: str,
        subject_uscc: str,
        sequence: int,
        committed_at: datetime,
    ) -> str:
        """Check a code ``node`` gave from ``lease`` (the one that holds its serial, :meth:`lease_of`), on
        its change ``sequence``; records the assignment and its log entry when it holds. Returns why it
        is refused, or "" when admitted."""
        text_code = str(code)
        if code.issuer != node:
            return f"code {text_code} is in the namespace of nodes/{code.issuer}, not of nodes/{node}"
        year = 2000 + code.year
        if lease.node != node:
            return f"code {text_code} is from {lease.name}, a lease of nodes/{lease.node}"
        if lease.settled_at is not None:
            return f"code {text_code}: {lease.name} was settled, its unused serials recorded never used"
        if lease.revoked_after is not None and sequence > lease.revoked_after:
            return (
                f"code {text_code}: {lease.name} was revoked before change {sequence} reached the national"
                f" node (it had change {lease.revoked_after})"
            )
        tolerance = timedelta(seconds=self.settings.clock_tolerance_seconds)
        if not lease.valid_from - tolerance <= committed_at < lease.valid_until + tolerance:
            return (
                f"code {text_code}: change {sequence} was committed at {committed_at.isoformat()}, outside"
                f" {lease.name}'s term ({lease.valid_from.isoformat()} to {lease.valid_until.isoformat()})"
            )
        needed = timedelta(seconds=max(0.0, lease.offline_after - self.settings.silence_grace_seconds))
        silences = session.exec(
            select(LinkSilenceRow).where(
                LinkSilenceRow.node == node,
                col(LinkSilenceRow.head_before) < sequence,
                col(LinkSilenceRow.head_after) >= sequence,
            )
        ).all()
        if not any(s.until - s.since >= needed for s in silences):
            return (
                f"code {text_code}: change {sequence} was not committed while the national node was"
                f" unreachable for {lease.offline_after:.0f} s (the link was not silent that long): a"
                " node codes from a lease only when the national node cannot be reached"
            )
        now = self.clock.now()
        assignment = CodeAssignmentRow(
            code=text_code,
            issuer=code.issuer,
            object_type=int(code.object_type),
            year=year,
            serial=code.serial,
            registration=registration,
            subject_uscc=subject_uscc,
            requested_by=node,
            request_id=f"lease-{sequence}",
            assigned_at=now,
            code_lease=lease.name,
            sequence=sequence,
        )
        # Written at once (the ledger's batch does not flush): a second change with the same code in
        # this batch finds it.
        session.connection().execute(_ASSIGNMENTS.insert().values(**assignment.model_dump()))
        session.connection().execute(
            text("UPDATE code_leases SET used = used + 1 WHERE name = :name"), {"name": lease.name}
        )
        self.log.add_code_assignment(session, assignment)
        logger.info(
            "nodes/%s gave %s from %s while cut off: checked and entered", node, text_code, lease.name
        )
        return ""

    # -- settling -------------------------------------------------------------------------------

    def settle(self) -> int:
        """Settle every lease that can be: returns how many were."""
        now = self.clock.now()
        tolerance = timedelta(seconds=self.settings.clock_tolerance_seconds)
        with self.db.transaction(write=False) as session:
            candidates = session.exec(
                select(CodeLeaseRow).where(col(CodeLeaseRow.settled_at).is_(None))
            ).all()
        settled = 0
        for lease in candidates:
            if lease.revoked_at is None and lease.valid_until + tolerance > now:
                continue
            settled += self._settle(lease.name, now, tolerance)
        return settled

    def _settle(self, name: str, now: datetime, tolerance: timedelta) -> int:
        with self.db.transaction() as session:
            lease = session.exec(
                select(CodeLeaseRow).where(CodeLeaseRow.name == name).with_for_update()
            ).first()
            if lease is None or lease.settled_at is not None:
                return 0
            state = session.get(SyncStateRow, lease.node)
            if state is None:
                return 0
            if lease.revoked_after is not None:
                ready = state.acknowledged >= lease.revoked_after
            else:
                # Everything the node committed before the lease ran out has arrived: it reported its
                # head after the end (by more than the clocks may differ), and all of it is in.
                ready = (
                    state.last_contact is not None
                    and state.last_contact >= lease.valid_until + tolerance
                    and state.acknowledged >= state.head
                )
            if not ready:
                return 0
            used = [
                serial
                for (serial,) in session.connection().execute(
                    text("SELECT serial FROM code_assignments WHERE code_lease = :name"), {"name": name}
                )
            ]
            unused = unused_ranges(lease.first_serial, lease.last_serial, used)
            lease.settled_at = now
            lease.used = len(used)
            lease.unused = sum(last - first + 1 for first, last in unused)
            session.add(lease)
            entry: dict[str, Any] = {
                "v": ENTRY_VERSION,
                "kind": CODE_LEASE_SETTLEMENT,
                "time": entry_time(now),
                "code_lease": name,
                "used": len(used),
                "unused": ",".join(f"{first}-{last}" for first, last in unused),
            }
            self.log.add(session, Pending(canonical(entry)))
        logger.info("settled %s: %d codes given, %d serials never used", name, lease.used, lease.unused)
        return 1


class LeaseSettler:
    """A thread that settles leases every ``interval`` seconds, while ``on_duty()`` says this process
    holds the ``code_leases`` duty."""

    def __init__(
        self, leases: CodeLeases, *, on_duty: Callable[[], bool] = lambda: True, interval: float = 10.0
    ) -> None:
        self.leases, self.on_duty, self.interval = leases, on_duty, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="lease-settler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.on_duty():
                    self.leases.settle()
            except Exception as error:
                log_failure(logger, "settling code leases failed; tried again at the next look", error)
