"""The coding authority: assigns unified registration codes, once, in order, never twice.

Serials are sequential per (issuer, object type, year). The counter row of a namespace is incremented
with ``UPDATE ... RETURNING`` inside the transaction that inserts the assignment, so concurrent
callers (threads or national node processes on one PostgreSQL database) queue on that row's lock and
each gets the next serial; a failed insert rolls the increment back, so serials have no gaps.

Idempotency: (requesting node, request id) is unique. A repeat finds the committed assignment and
returns it, also after a crash between commit and reply; two concurrent first attempts race on the
unique constraint and the loser re-reads the winner's answer.

Nothing is coded on a node's word: before a serial is spent, the national ledger must hold the
registration under the name asked for, managed by the asking node, PENDING with its initial
application AWAITING_CODE, of the object type and subject asked for. A node writes that state to its
change log before its coding loop asks (the state and the log entry commit together), and its sync
daemon sends the log up without ever waiting for a code, so the check only delays a code until the
change has arrived; it cannot deadlock. The national node's own registrations enter the ledger in the
transaction that changes them. A code whose registration the ledger still does not hold as coded
after a grace period is listed by :meth:`CodingAuthority.orphaned`.

One transaction serves a group of concurrent requests (:class:`~national_node.groups.GroupCommit`), in
SQLAlchemy Core: two reads for the whole group (the callers' directory entries joined with the ledger's
entries of the registrations, and the assignments already made for the request ids or registrations),
each request checked on its own in memory, one counter statement for the group's namespaces (in
namespace order, so that processes lock counters in one order), one insert of the new assignments, and
one append of their log entries at commit. A request that fails a check gets its error and takes no
serial; the others go on. A request that repeats the request id or the registration of an earlier one
of its group is answered after it, as if it had come after that one's commit. Should the transaction
fail as a whole, a unique conflict with another process is read again (as above), and any other
failure runs each request of the group alone, so that it fails only the request it belongs to.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from common import codes
from common.clock import CHINA, Clock
from common.db import Database
from common.errors import (
    AlreadyExists,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RegistryError,
)
from common.gen.registry.v1 import registration_pb2, sync_pb2
from national_node.directory import NATIONAL, OWN_NODE, node_not_found
from national_node.driver import Driver, integrity_errors
from national_node.groups import GroupCommit
from national_node.models import CodeAssignmentRow, LedgerRow
from national_node.tlog.append import Appender

__all__ = ["Assignment", "CodeRequest", "CodingAuthority", "Orphan", "take_serials"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CodeRequest:
    """A validated request for a code (field syntax already checked by the service)."""

    node: str  # region code of the asking node
    issuer: str
    object_type: codes.ObjectType
    registration: str
    subject_uscc: str
    subject_province: str  # region code of the subject's province (from its USCC)
    request_id: str

    def same_as(self, row: Assignment | CodeAssignmentRow) -> bool:
        return (row.issuer, row.object_type, row.registration, row.subject_uscc) == (
            self.issuer,
            int(self.object_type),
            self.registration,
            self.subject_uscc,
        )


@dataclass(frozen=True, slots=True)
class Assignment:
    """An assigned code, as :meth:`CodingAuthority.assign` answers it (the columns of a
    :class:`~national_node.models.CodeAssignmentRow`)."""

    code: str
    issuer: str
    object_type: int
    year: int
    serial: int
    registration: str
    subject_uscc: str
    requested_by: str
    request_id: str
    assigned_at: datetime


@dataclass(frozen=True, slots=True)
class Orphan:
    """A code the ledger does not hold, with the ledger's record of its registration (if any)."""

    assignment: CodeAssignmentRow
    record: sync_pb2.RegistrationRecord | None


_Registration = registration_pb2.Registration
_Application = registration_pb2.Application

_ASSIGNMENTS = CodeAssignmentRow.__table__  # type: ignore[attr-defined]
#: The columns of an assignment, in :class:`Assignment`'s order.
_COLUMNS = ", ".join(Assignment.__slots__)


def _read_sql(driver: Driver, nodes: int, names: int, request_ids: int) -> str:
    """One statement of three parts, each answered from its own index: the group's nodes (``n``:
    region, mode), the ledger's entries of its registrations (``l``: node, name, record), and the codes
    already assigned for its request ids or registrations (``a``: code). One statement, so that under
    READ COMMITTED a concurrent first attempt that commits between two reads cannot make a replay look
    like a second code for the registration."""
    m = driver.marks
    return (
        f"SELECT 'n', region, mode, NULL FROM nodes WHERE region IN ({m(nodes)})"
        f" UNION ALL SELECT 'l', node, name, record FROM ledger WHERE name IN ({m(names)})"
        f" UNION ALL SELECT 'a', code, NULL, NULL FROM code_assignments"
        f" WHERE (requested_by IN ({m(nodes)}) AND request_id IN ({m(request_ids)}))"
        f" OR registration IN ({m(names)})"
    )


#: Requests a group holds at most.
GROUP_SIZE = 64

_Outcome = tuple[Assignment, bool] | BaseException


class CodingAuthority:
    """Assigns and looks up codes in the national node's database, on the node's clock (a code
    carries the year of assignment in China Standard Time)."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        log: Appender,
        *,
        group_size: int = GROUP_SIZE,
        on_assigned: Callable[[Assignment], None] | None = None,
    ) -> None:
        """``on_assigned``: told of each new code once it is committed (the metrics count them)."""
        self._db, self._clock, self._log = db, clock, log
        self._on_assigned = on_assigned
        self._conflicts = integrity_errors(db.engine.dialect)
        self._groups: GroupCommit[CodeRequest, tuple[Assignment, bool]] = GroupCommit(
            self._assign_group, max_size=group_size
        )

    def assign(self, request: CodeRequest) -> tuple[Assignment, bool]:
        """Assign a code, or return the one this request got before. Returns (assignment, replayed).

        Checks, in order: the calling node is in the directory (NOT_FOUND), the issuer is its own
        namespace (PERMISSION_DENIED), a repeated request id (replay, or ALREADY_EXISTS if the content
        differs), the node runs its own registration and the subject is in its jurisdiction
        (PERMISSION_DENIED), the registration has no code yet (ALREADY_EXISTS), the ledger holds it,
        managed by the node and waiting for its code (FAILED_PRECONDITION), with the object type and
        subject asked for (INVALID_ARGUMENT). Concurrent calls are served in groups (see the module).
        """
        assignment, replayed = self._groups.submit(request)
        if not replayed and self._on_assigned is not None:
            self._on_assigned(assignment)
        return assignment, replayed

    def _assign_group(self, requests: Sequence[CodeRequest]) -> list[_Outcome]:
        for _attempt in range(5):
            try:
                return self._assign_together(requests)
            except self._conflicts:
                # A concurrent call with the same request id (or registration) committed first; this
                # transaction, counter increments included, was rolled back. Read its answer.
                logger.debug("assignment race in a group of %d; re-reading", len(requests))
            except Exception as error:
                if len(requests) == 1:
                    return [error]
                logger.warning(
                    "a group of %d code requests failed (%s: %s); each is tried alone",
                    len(requests),
                    type(error).__name__,
                    error,
                )
                return [self._assign_group([request])[0] for request in requests]
        return [RuntimeError("code assignment kept conflicting")] * len(requests)  # unreachable in practice

    def _assign_together(self, requests: Sequence[CodeRequest]) -> list[_Outcome]:
        """One transaction for ``requests``: each one's assignment, replay or error."""
        outcomes: list[_Outcome | None] = [None] * len(requests)
        with self._db.transaction() as session:
            driver = Driver(session)
            names = sorted({r.registration for r in requests})
            nodes = sorted({r.node for r in requests})
            request_ids = sorted({r.request_id for r in requests})
            modes: dict[str, str] = {}
            entries: dict[tuple[str, str], bytes] = {}
            coded: list[str] = []
            for kind, key, value, record in driver.rows(
                _read_sql(driver, len(nodes), len(names), len(request_ids)),
                [*nodes, *names, *nodes, *request_ids, *names],
            ):
                if kind == "n":
                    modes[key] = value
                elif kind == "l":
                    entries.setdefault((value, key), bytes(record))
                else:
                    coded.append(key)
            by_request: dict[tuple[str, str], Assignment] = {}
            by_registration: dict[str, Assignment] = {}
            for assignment in _assignments(driver, coded):
                _remember(assignment, by_request, by_registration)

            # Each request on its own; one that repeats an earlier one's request id or registration
            # waits for that one's assignment.
            taking: list[int] = []
            later: list[int] = []
            taken_ids: set[tuple[str, str]] = set()
            taken_names: set[str] = set()
            for i, request in enumerate(requests):
                if (request.node, request.request_id) in taken_ids or request.registration in taken_names:
                    later.append(i)
                    continue
                try:
                    replay = self._check(request, modes, entries, by_request, by_registration)
                except RegistryError as error:
                    outcomes[i] = error
                    continue
                if replay is not None:
                    outcomes[i] = (replay, True)
                    continue
                taking.append(i)
                taken_ids.add((request.node, request.request_id))
                taken_names.add(request.registration)

            if taking:
                now = self._clock.now()
                for i, assignment in zip(
                    taking, self._insert(driver, [requests[i] for i in taking], now), strict=True
                ):
                    outcomes[i] = (assignment, False)
                    _remember(assignment, by_request, by_registration)
                    self._log.add_code_assignment(session, assignment)  # appended at commit
            for i in later:
                try:
                    replay = self._check(requests[i], modes, entries, by_request, by_registration)
                except RegistryError as error:
                    outcomes[i] = error
                    continue
                if replay is None:  # it repeats one that was assigned: a replay or an error
                    raise RuntimeError(f"request {requests[i].request_id} was not told apart from its group")
                outcomes[i] = (replay, True)
        for outcome in outcomes:
            if isinstance(outcome, tuple) and not outcome[1]:
                a = outcome[0]
                logger.info("assigned %s to %s (request %s)", a.code, a.registration, a.request_id)
        return [o for o in outcomes if o is not None]

    def _check(
        self,
        request: CodeRequest,
        modes: Mapping[str, str],
        entries: Mapping[tuple[str, str], bytes],
        by_request: Mapping[tuple[str, str], Assignment],
        by_registration: Mapping[str, Assignment],
    ) -> Assignment | None:
        """The checks of :meth:`assign` in their order: an earlier assignment this request repeats,
        None if a code is to be assigned, or the error."""
        mode = modes.get(request.node)
        if mode is None:
            raise node_not_found(request.node)
        self._check_namespace(request)
        replay = self._replay(request, by_request.get((request.node, request.request_id)))
        if replay is not None:
            return replay
        self._check_allowed(mode, request)
        self._check_not_coded(request, by_registration.get(request.registration))
        self._check_ledger(request, entries.get((request.registration, request.node)))
        return None

    def get(self, code: str) -> CodeAssignmentRow:
        with self._db.transaction(write=False) as session:
            row = session.get(CodeAssignmentRow, code)
        if row is None:
            raise NotFound("CODE_NOT_ASSIGNED", f"code {code} has not been assigned", metadata={"code": code})
        return row

    def find(self, code: str) -> CodeAssignmentRow | None:
        with self._db.transaction(write=False) as session:
            return session.get(CodeAssignmentRow, code)

    def orphaned(self, *, grace: timedelta, after: str, limit: int) -> list[Orphan]:
        """Codes assigned at least ``grace`` ago that no ledger entry holds, in code order after
        ``after``, with the ledger's record of the registration each was assigned to."""
        holders = select(LedgerRow.uid).where(LedgerRow.code == CodeAssignmentRow.code)
        with self._db.transaction(write=False) as session:
            rows = session.exec(
                select(CodeAssignmentRow)
                .where(
                    col(CodeAssignmentRow.code) > after,
                    col(CodeAssignmentRow.assigned_at) <= self._clock.now() - grace,
                    ~holders.exists(),
                )
                .order_by(col(CodeAssignmentRow.code))
                .limit(limit)
            ).all()
            entries = {
                row.name: row.record
                for row in session.exec(
                    select(LedgerRow).where(col(LedgerRow.name).in_([r.registration for r in rows]))
                )
            }
        return [
            Orphan(
                row,
                sync_pb2.RegistrationRecord.FromString(entries[row.registration])
                if row.registration in entries
                else None,
            )
            for row in rows
        ]

    @staticmethod
    def _check_ledger(request: CodeRequest, record: bytes | None) -> None:
        """The ledger holds the registration (``record``), managed by the asking node, waiting for its
        code, and the request describes it as the ledger does."""
        if record is None:
            raise FailedPrecondition(
                "REGISTRATION_NOT_IN_LEDGER",
                f"the national ledger does not hold {request.registration} (yet): its node sends it up"
                " its change feed before it is coded; ask again when it has arrived",
                metadata={"field": "registration", "registration": request.registration},
            )
        reg = sync_pb2.RegistrationRecord.FromString(record).registration
        app = reg.current_application
        if not (
            reg.state == _Registration.PENDING
            and app.type == registration_pb2.INITIAL
            and app.state == _Application.AWAITING_CODE
        ):
            state, app_state = _Registration.State.Name(reg.state), _Application.State.Name(app.state)
            raise FailedPrecondition(
                "REGISTRATION_NOT_CODABLE",
                f"the national ledger holds {request.registration} as {state} with its application"
                f" {app_state}: only a registration whose initial application is AWAITING_CODE is coded",
                metadata={
                    "field": "registration",
                    "registration": request.registration,
                    "registration_state": state,
                    "application_state": app_state,
                },
            )
        wrong = []
        if reg.object_type != int(request.object_type):
            wrong.append(FieldViolation("object_type", "differs from the ledger's", "LEDGER_MISMATCH"))
        if reg.content.subject.uscc != request.subject_uscc:
            wrong.append(FieldViolation("subject_uscc", "differs from the ledger's", "LEDGER_MISMATCH"))
        if wrong:
            raise InvalidArgument(
                "LEDGER_MISMATCH",
                f"{', '.join(v.field for v in wrong)}: differs from the national ledger's record of"
                f" {request.registration}",
                metadata={"field": wrong[0].field, "registration": request.registration},
                violations=wrong,
            )

    @staticmethod
    def _replay(request: CodeRequest, row: Assignment | None) -> Assignment | None:
        """The assignment ``row`` made for this request's id before, if the request is the same."""
        if row is None:
            return None
        if not request.same_as(row):
            raise AlreadyExists(
                "REQUEST_ID_REUSED",
                f"request id {request.request_id} was already used by nodes/{request.node}"
                " for a different request",
                metadata={"field": "request_id", "request_id": request.request_id},
            )
        return row

    @staticmethod
    def _check_namespace(request: CodeRequest) -> None:
        if request.issuer != request.node:
            raise PermissionDenied(
                "FOREIGN_NAMESPACE",
                f"nodes/{request.node} may only obtain codes in its own namespace {request.node},"
                f" not {request.issuer}",
                metadata={"field": "issuer", "node": f"nodes/{request.node}", "issuer": request.issuer},
            )

    @staticmethod
    def _check_allowed(mode: str, request: CodeRequest) -> None:
        if mode not in (OWN_NODE, NATIONAL):
            raise PermissionDenied(
                "NODE_NOT_ONLINE",
                f"nodes/{request.node} is served by the national node (mode {mode});"
                " it cannot obtain codes itself",
                metadata={"field": "node", "node": f"nodes/{request.node}", "mode": mode},
            )
        if mode == OWN_NODE and request.subject_province != request.node:
            raise PermissionDenied(
                "SUBJECT_OUTSIDE_JURISDICTION",
                f"the subject's USCC places it in region {request.subject_province};"
                f" nodes/{request.node} registers subjects of region {request.node} only",
                metadata={
                    "field": "subject_uscc",
                    "subject_region": request.subject_province,
                    "node": f"nodes/{request.node}",
                },
            )

    @staticmethod
    def _check_not_coded(request: CodeRequest, row: Assignment | None) -> None:
        if row is not None:
            raise AlreadyExists(
                "REGISTRATION_ALREADY_CODED",
                f"{request.registration} already has code {row.code}",
                metadata={"field": "registration", "registration": request.registration, "code": row.code},
            )

    @staticmethod
    def _insert(driver: Driver, requests: Sequence[CodeRequest], now: datetime) -> list[Assignment]:
        """Serials for ``requests`` (in their order within each namespace), and their assignments."""
        year = now.astimezone(CHINA).year
        wanted: dict[tuple[str, int, int], int] = {}
        for request in requests:
            key = (request.issuer, int(request.object_type), year)
            wanted[key] = wanted.get(key, 0) + 1
        last = take_serials(driver, wanted)
        next_serial = {key: last[key] - count + 1 for key, count in wanted.items()}
        assignments = []
        for request in requests:
            key = (request.issuer, int(request.object_type), year)
            serial = next_serial[key]
            next_serial[key] = serial + 1
            assignments.append(
                Assignment(
                    code=codes.generate(request.object_type, request.issuer, year, serial),
                    issuer=request.issuer,
                    object_type=int(request.object_type),
                    year=year,
                    serial=serial,
                    registration=request.registration,
                    subject_uscc=request.subject_uscc,
                    requested_by=request.node,
                    request_id=request.request_id,
                    assigned_at=now,
                )
            )
        stored_at = driver.to_db(_ASSIGNMENTS.c.assigned_at)
        driver.many(
            f"INSERT INTO code_assignments ({_COLUMNS}) VALUES ({driver.marks(len(Assignment.__slots__))})",
            [(*_columns(a)[:-1], stored_at(a.assigned_at)) for a in assignments],
        )
        return assignments


def _remember(
    assignment: Assignment,
    by_request: dict[tuple[str, str], Assignment],
    by_registration: dict[str, Assignment],
) -> None:
    by_request[(assignment.requested_by, assignment.request_id)] = assignment
    by_registration[assignment.registration] = assignment


def _columns(assignment: Assignment) -> tuple[Any, ...]:
    return tuple(getattr(assignment, name) for name in Assignment.__slots__)


def _assignments(driver: Driver, coded: Sequence[str]) -> list[Assignment]:
    """The assignments of ``coded`` (codes), whole."""
    if not coded:
        return []
    read_at = driver.from_db(_ASSIGNMENTS.c.assigned_at)
    rows = driver.rows(
        f"SELECT {_COLUMNS} FROM code_assignments WHERE code IN ({driver.marks(len(coded))})", coded
    )
    return [
        Assignment(**dict(zip(Assignment.__slots__, (*row[:-1], read_at(row[-1])), strict=True)))
        for row in rows
    ]


def take_serials(
    driver: Driver, wanted: Mapping[tuple[str, int, int], int]
) -> dict[tuple[str, int, int], int]:
    """Add ``wanted[namespace]`` to each namespace's counter (made at that count if it is new) in one
    statement, in namespace order; returns the last serial of each. The counter rows stay locked until
    the transaction ends, so serials are taken in commit order, and a rollback gives them back."""
    keys = sorted(wanted)
    rows = driver.rows(
        "INSERT INTO code_counters (issuer, object_type, year, last_serial) VALUES "
        + ", ".join([f"({driver.marks(4)})"] * len(keys))
        + " ON CONFLICT (issuer, object_type, year) DO UPDATE"
        " SET last_serial = code_counters.last_serial + excluded.last_serial"
        " RETURNING issuer, object_type, year, last_serial",
        tuple(value for key in keys for value in (*key, wanted[key])),
    )
    last = {(issuer, object_type, year): serial for issuer, object_type, year, serial in rows}
    for key in keys:
        if last[key] > codes.MAX_SERIAL:
            issuer, object_type, year = key
            raise RuntimeError(f"namespace {issuer}/{object_type}/{year} is exhausted")
    return last
