"""The coding authority: assigns unified registration codes, once, in order, never twice.

Serials are sequential per (issuer, object type, year). The counter row of a namespace is incremented
with ``UPDATE ... RETURNING`` inside the transaction that inserts the assignment, so concurrent
callers (threads or national node processes on one PostgreSQL database) queue on that row's lock and
each gets the next serial; a failed insert rolls the increment back, so serials have no gaps.

Idempotency: (requesting node, request id) is unique. A repeat finds the committed assignment and
returns it, also after a crash between commit and reply; two concurrent first attempts race on the
unique constraint and the loser re-reads the winner's answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from common import codes
from common.clock import CHINA, Clock
from common.db import Database, insert_for
from common.errors import AlreadyExists, NotFound, PermissionDenied
from national_node.directory import NATIONAL, OWN_NODE, get_node
from national_node.models import CodeAssignmentRow, CodeCounterRow, NodeRow
from national_node.tlog import TransparencyLog

__all__ = ["CodeRequest", "CodingAuthority"]

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

    def same_as(self, row: CodeAssignmentRow) -> bool:
        return (row.issuer, row.object_type, row.registration, row.subject_uscc) == (
            self.issuer,
            int(self.object_type),
            self.registration,
            self.subject_uscc,
        )


class CodingAuthority:
    """Assigns and looks up codes in the national node's database, on the node's clock (a code
    carries the year of assignment in China Standard Time)."""

    def __init__(self, db: Database, clock: Clock, log: TransparencyLog) -> None:
        self._db, self._clock, self._log = db, clock, log

    def assign(self, request: CodeRequest) -> tuple[CodeAssignmentRow, bool]:
        """Assign a code, or return the one this request got before. Returns (assignment, replayed).

        Checks, in order: the calling node is in the directory (NOT_FOUND), the issuer is its own
        namespace (PERMISSION_DENIED), a repeated request id (replay, or ALREADY_EXISTS if the content
        differs), the node runs its own registration and the subject is in its jurisdiction
        (PERMISSION_DENIED), the registration has no code yet (ALREADY_EXISTS).
        """
        for _attempt in range(5):
            try:
                with self._db.transaction() as session:
                    node = get_node(session, request.node)
                    self._check_namespace(request)
                    existing = self._existing(session, request)
                    replay = self._replay(request, existing)
                    if replay is not None:
                        return replay, True
                    self._check_allowed(node, request)
                    self._check_not_coded(request, existing)
                    return self._insert(session, request, self._clock.now()), False
            except IntegrityError:
                # A concurrent call with the same request id (or registration) committed first;
                # this transaction, counter increment included, was rolled back. Read its answer.
                logger.debug("assignment race for %s/%s; re-reading", request.node, request.request_id)
        raise RuntimeError("code assignment kept conflicting")  # unreachable in practice

    def get(self, code: str) -> CodeAssignmentRow:
        with self._db.transaction(write=False) as session:
            row = session.get(CodeAssignmentRow, code)
        if row is None:
            raise NotFound("CODE_NOT_ASSIGNED", f"code {code} has not been assigned", metadata={"code": code})
        return row

    def find(self, code: str) -> CodeAssignmentRow | None:
        with self._db.transaction(write=False) as session:
            return session.get(CodeAssignmentRow, code)

    @staticmethod
    def _existing(session: Session, request: CodeRequest) -> list[CodeAssignmentRow]:
        """Assignments made for this request id or this registration, read in one statement.

        One statement, so that under READ COMMITTED a concurrent first attempt that commits between
        two separate reads cannot make a replay look like a second code for the registration.
        """
        return list(
            session.exec(
                select(CodeAssignmentRow).where(
                    (
                        (CodeAssignmentRow.requested_by == request.node)
                        & (CodeAssignmentRow.request_id == request.request_id)
                    )
                    | (CodeAssignmentRow.registration == request.registration)
                )
            )
        )

    @staticmethod
    def _replay(request: CodeRequest, existing: list[CodeAssignmentRow]) -> CodeAssignmentRow | None:
        for row in existing:
            if (row.requested_by, row.request_id) != (request.node, request.request_id):
                continue
            if not request.same_as(row):
                raise AlreadyExists(
                    "REQUEST_ID_REUSED",
                    f"request id {request.request_id} was already used by nodes/{request.node}"
                    " for a different request",
                    metadata={"field": "request_id", "request_id": request.request_id},
                )
            return row
        return None

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
    def _check_allowed(node: NodeRow, request: CodeRequest) -> None:
        if node.mode not in (OWN_NODE, NATIONAL):
            raise PermissionDenied(
                "NODE_NOT_ONLINE",
                f"nodes/{request.node} is served by the national node (mode {node.mode});"
                " it cannot obtain codes itself",
                metadata={"field": "node", "node": f"nodes/{request.node}", "mode": node.mode},
            )
        if node.mode == OWN_NODE and request.subject_province != request.node:
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
    def _check_not_coded(request: CodeRequest, existing: list[CodeAssignmentRow]) -> None:
        for row in existing:
            if row.registration == request.registration:
                raise AlreadyExists(
                    "REGISTRATION_ALREADY_CODED",
                    f"{request.registration} already has code {row.code}",
                    metadata={
                        "field": "registration",
                        "registration": request.registration,
                        "code": row.code,
                    },
                )

    def _insert(self, session: Session, request: CodeRequest, now: datetime) -> CodeAssignmentRow:
        year = now.astimezone(CHINA).year
        serial = self._next_serial(session, request.issuer, int(request.object_type), year)
        row = CodeAssignmentRow(
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
        session.add(row)
        session.flush()
        self._log.add_code_assignment(session, row)  # appended to the national log at commit
        logger.info("assigned %s to %s (request %s)", row.code, row.registration, row.request_id)
        return row

    def _next_serial(self, session: Session, issuer: str, object_type: int, year: int) -> int:
        # One statement: create the namespace's counter at 1, or add one to it; either way the row
        # stays locked until this transaction ends.
        statement = insert_for(session)(CodeCounterRow).values(
            issuer=issuer, object_type=object_type, year=year, last_serial=1
        )
        statement = statement.on_conflict_do_update(
            index_elements=["issuer", "object_type", "year"],
            set_={"last_serial": CodeCounterRow.last_serial + 1},
        ).returning(CodeCounterRow.last_serial)
        serial: int = session.execute(statement).scalar_one()
        if serial > codes.MAX_SERIAL:
            raise RuntimeError(f"namespace {issuer}/{object_type}/{year} is exhausted")
        return serial
