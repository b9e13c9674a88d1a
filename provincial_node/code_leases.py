"""The province's code leases: taken ahead of need, renewed in the background, used in an outage.

:class:`LeaseKeeper` (a thread of the node) looks every ``code_leases.check_seconds``: it asks the
national node for this node's leases (to learn of revocations and settlements), checks each new one's
signature with the national log's verifier keys, and asks for a new lease of a namespace (object type,
this year; in a year's last weeks also the next) when its usable serials fall below
``renew_below`` of a lease or its newest lease runs out within ``renew_before_hours``. A grant's
request id is derived from how many leases of the namespace the node holds, so a grant whose answer was
lost is returned again, not granted twice.

:class:`OfflineCoding` gives a code from a lease (:meth:`OfflineCoding.take`), in the transaction that
activates the registration: the lease's next serial, under the lease row's lock, and a row of
``leased_codes`` (which the confirmation reads: the code is pending the national log). Only leases
that are open, in their term and year, and whose ``offline_after`` the outage has lasted are used.
The coding loop (:class:`common.registration.duties.Duties`) decides when the national node is
unreachable: its code requests fail, and the sync daemon has not heard the national node either, for
that long.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import grpc
from sqlalchemy import Column, Text
from sqlmodel import Field, Session, SQLModel, col, select

from common import codes, names
from common.clock import CHINA, Clock
from common.db import Database, UTCDateTime, log_failure
from common.gen.registry.v1 import code_pb2
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.registration.duties import describe_error
from common.registration.service import ConfirmationFile, ConfirmationProofs
from common.transparency import VerificationError
from common.transparency.entry import open_lease

__all__ = ["HeldLeaseRow", "LeaseKeeper", "LeasedCodeRow", "LeasedProofs", "OfflineCoding"]

logger = logging.getLogger(__name__)

OPEN, REVOKED, SETTLED = "OPEN", "REVOKED", "SETTLED"


class HeldLeaseRow(SQLModel, table=True):
    """A code lease this node holds, as the national node granted and signed it."""

    __tablename__ = "held_code_leases"

    name: str = Field(primary_key=True, max_length=64)
    object_type: int
    year: int
    first_serial: int
    last_serial: int
    #: The next serial to give (``last_serial + 1`` once used up).
    next_serial: int
    valid_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    valid_until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    offline_after: float
    state: str = Field(max_length=16)
    signed: str = Field(sa_column=Column(Text, nullable=False))


class LeasedCodeRow(SQLModel, table=True):
    """A code this node gave from a lease while the national node could not be reached."""

    __tablename__ = "leased_codes"

    code: str = Field(primary_key=True, max_length=19)
    code_lease: str = Field(max_length=64)
    uid: str = Field(max_length=36, unique=True)
    given_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


def _row_from(lease: code_pb2.CodeLease, entry: dict[str, object]) -> HeldLeaseRow:
    return HeldLeaseRow(
        name=lease.name,
        object_type=int(lease.object_type),
        year=lease.year,
        first_serial=int(str(entry["first_serial"])),
        last_serial=int(str(entry["last_serial"])),
        next_serial=int(str(entry["first_serial"])),
        valid_from=datetime.fromisoformat(str(entry["valid_from"]).replace("Z", "+00:00")),
        valid_until=datetime.fromisoformat(str(entry["valid_until"]).replace("Z", "+00:00")),
        offline_after=float(str(entry["offline_after_seconds"])),
        state=OPEN,
        signed=lease.signed_lease,
    )


class OfflineCoding:
    """Codes from this node's leases, in the caller's transaction."""

    def __init__(self, region: str, clock: Clock) -> None:
        self.region, self.clock = region, clock

    def take(
        self, session: Session, *, object_type: int, uid: str, offline_for: float
    ) -> tuple[str, str] | None:
        """The next code of a usable lease of ``object_type`` for the registration ``uid``, and the
        lease's name; None when no lease may be used (none held, used up, out of term, revoked, or the
        outage is shorter than the lease's ``offline_after``)."""
        now = self.clock.now()
        year = now.astimezone(CHINA).year
        leases = session.exec(
            select(HeldLeaseRow)
            .where(
                HeldLeaseRow.object_type == object_type,
                HeldLeaseRow.year == year,
                HeldLeaseRow.state == OPEN,
                col(HeldLeaseRow.valid_from) <= now,
                col(HeldLeaseRow.valid_until) > now,
                col(HeldLeaseRow.next_serial) <= col(HeldLeaseRow.last_serial),
                col(HeldLeaseRow.offline_after) <= offline_for,
            )
            .order_by(col(HeldLeaseRow.valid_until), col(HeldLeaseRow.name))
            .with_for_update()
        ).all()
        if not leases:
            return None
        lease = leases[0]
        code = codes.generate(object_type, self.region, year, lease.next_serial)
        lease.next_serial += 1
        session.add(lease)
        session.add(LeasedCodeRow(code=code, code_lease=lease.name, uid=uid, given_at=now))
        return code, lease.name

    @staticmethod
    def lease_of(session: Session, code: str) -> str:
        """The lease ``code`` was given from here, or ""."""
        row = session.get(LeasedCodeRow, code)
        return row.code_lease if row is not None else ""


class LeasedProofs:
    """The province's confirmation proofs (:class:`common.registration.service.ConfirmationProofs`):
    the national node's, and for a code given from a lease, which lease, and that the code is pending
    the national log until the national node has checked and entered it."""

    def __init__(self, db: Database, proofs: ConfirmationProofs) -> None:
        self.db, self.proofs = db, proofs

    def tlog_proof(self, code: str, revision: int) -> ConfirmationFile:
        found = self.proofs.tlog_proof(code, revision)
        with self.db.transaction(write=False) as session:
            lease = OfflineCoding.lease_of(session, code)
        if not lease:
            return found
        status = found.status
        if not found.tlog_proof:
            status = (
                f"pending the national log: the code was given from {lease} while the national node could"
                f" not be reached, and is entered in the log once the national node has checked it ({status})"
            )
        return dataclasses.replace(found, status=status, code_lease=lease)


class LeaseKeeper:
    """Keeps this node's leases: renews them, learns their revocations (a thread of the node)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        region: str,
        stub: Callable[[], ns_grpc.NationalServiceStub],
        log_keys: Callable[[], Sequence[str]],
        check_seconds: float = 30.0,
        renew_below: float = 0.5,
        renew_before: timedelta = timedelta(hours=24),
        timeout: float = 5.0,
    ) -> None:
        self.db, self.clock, self.region = db, clock, region
        self.node = names.node_name(region)
        self._stub, self.log_keys = stub, log_keys
        self.check_seconds, self.renew_below, self.renew_before = check_seconds, renew_below, renew_before
        self.timeout = timeout
        self.last_error = ""
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="code-leases", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.keep()
                failures = 0
                wait = self.check_seconds
            except grpc.RpcError as error:
                failures += 1
                self.last_error = describe_error(error)
                if failures == 1:
                    logger.info(
                        "code leases: the national node did not answer (%s); tried again", self.last_error
                    )
                wait = min(self.check_seconds, 2.0 * failures)
            except Exception as error:
                failures += 1
                self.last_error = f"{type(error).__name__}: {error}"
                log_failure(logger, "keeping code leases failed; tried again", error)
                wait = self.check_seconds
            self._wake.wait(wait)
            self._wake.clear()

    def keep(self) -> int:
        """One look: learn the national node's view of this node's leases, then renew what needs it.
        Returns how many leases were granted."""
        self.refresh()
        granted = 0
        now = self.clock.now()
        this_year = now.astimezone(CHINA).year
        years = [this_year]
        if datetime(this_year + 1, 1, 1, tzinfo=CHINA) - now < timedelta(days=14):
            years.append(this_year + 1)
        for year in years:
            for object_type in codes.ObjectType:
                if self._needs_lease(int(object_type), year, now):
                    self._grant(int(object_type), year)
                    granted += 1
        self.last_error = ""
        return granted

    def refresh(self) -> None:
        """Take the national node's list of this node's leases: new ones (signature checked), and the
        revocations and settlements of those held."""
        token = ""
        seen: list[code_pb2.CodeLease] = []
        for _page in range(100):
            response = self._stub().ListCodeLeases(
                ns.ListCodeLeasesRequest(node=self.node, page_size=500, page_token=token),
                timeout=self.timeout,
            )
            seen.extend(response.code_leases)
            token = response.next_page_token
            if not token:
                break
        with self.db.transaction() as session:
            for lease in seen:
                self._hold(session, lease)

    def _hold(self, session: Session, lease: code_pb2.CodeLease) -> None:
        row = session.get(HeldLeaseRow, lease.name)
        if row is None:
            if lease.state != code_pb2.CodeLease.OPEN:
                return
            try:
                entry = open_lease(lease.signed_lease, self.log_keys())
            except VerificationError as error:
                logger.error("code lease %s: %s; not used", lease.name, error)
                return
            if entry["node"] != self.node or entry["code_lease"] != lease.name:
                logger.error(
                    "code lease %s is signed for %s, not for this node; not used", lease.name, entry["node"]
                )
                return
            row = _row_from(lease, entry)
            session.add(row)
            logger.info(
                "holding %s: serials %d-%d until %s",
                row.name,
                row.first_serial,
                row.last_serial,
                row.valid_until,
            )
            return
        state = code_pb2.CodeLease.State.Name(lease.state)
        if state in (REVOKED, SETTLED) and row.state != state:
            if state == REVOKED and row.state == OPEN:
                logger.warning(
                    "%s was revoked by the national coordinators (%s): not used again",
                    row.name,
                    lease.revoke_reason,
                )
            row.state = state
            session.add(row)

    def _needs_lease(self, object_type: int, year: int, now: datetime) -> bool:
        with self.db.transaction(write=False) as session:
            leases = session.exec(
                select(HeldLeaseRow).where(
                    HeldLeaseRow.object_type == object_type,
                    HeldLeaseRow.year == year,
                    HeldLeaseRow.state == OPEN,
                    col(HeldLeaseRow.valid_until) > now,
                )
            ).all()
        if not leases:
            return True
        size = max(row.last_serial - row.first_serial + 1 for row in leases)
        usable = sum(max(0, row.last_serial - row.next_serial + 1) for row in leases)
        newest = max(row.valid_until for row in leases)
        return usable < self.renew_below * size or newest - now < self.renew_before

    def _grant(self, object_type: int, year: int) -> None:
        with self.db.transaction(write=False) as session:
            held = len(
                session.exec(
                    select(HeldLeaseRow.name).where(
                        HeldLeaseRow.object_type == object_type, HeldLeaseRow.year == year
                    )
                ).all()
            )
        request = ns.GrantCodeLeaseRequest(
            node=self.node,
            object_type=r.ObjectType.Name(object_type),
            year=year,
            request_id=f"lease-{self.region}-{object_type}-{year}-{held + 1}",
        )
        try:
            lease = self._stub().GrantCodeLease(request, timeout=self.timeout)
        except grpc.RpcError as error:
            if isinstance(error, grpc.Call) and error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                logger.debug("no new lease of type %d, %d: %s", object_type, year, error.details())
                return
            raise
        with self.db.transaction() as session:
            self._hold(session, lease)
