"""Objections filed with the national node (the public portal's form), sent to the node that decides them.

Anyone may object to a registration under announcement (登记公示), wherever it is managed. The national
node checks the announcement in its ledger (the search index holds it: under announcement, which
application, its last day), then, in one transaction, records the filing by its request id and puts a
``DownwardChange`` of kind ``OBJECTION`` into the managing province's downward feed: the province
pulls it over its mutually authenticated channel and files it in its own procedure, where it enters
the registration's history and the registrar's due items. The national node's own registrations (the
central bodies', and those it keeps for provinces without a node) are filed here, in its own
procedure, directly.

The node that decides is the one the national ledger names (the search index may lag behind a
transfer), read under the lock of the registration's pending transfer, if any: a transfer asks for the
release and completes under that lock, and the objections forwarded to the former node after it was
asked to release the registration follow it to the receiving node (:mod:`national_node.ledger`).

The announcement window is judged when the national node takes the objection (``file_time``), so an
objection filed on the last day counts however late it reaches the province. A retry with the same
request id gets the first answer and sends nothing twice; the same id with another objection is
ALREADY_EXISTS.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session, select

from common import names, regions
from common.clock import Clock
from common.db import Database
from common.errors import AlreadyExists, FailedPrecondition, NotFound
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import sync_pb2
from common.registration.content import to_date
from common.registration.service import RegistrationServicer, check_objection
from common.rpc.call import Call
from common.sync.sequences import take_number
from common.validation import Checker
from national_node.models import DownwardRow, LedgerRow, PublicObjectionRow, SearchRow, TransferRow

__all__ = ["ObjectionDesk", "forward_objection", "own_objection"]

logger = logging.getLogger(__name__)

#: Files an objection in the national node's own procedure (RegistrationService.CreateObjection).
OwnFiling = Callable[[rs.CreateObjectionRequest], r.Objection]


def _digest(request: ns.FileObjectionRequest) -> str:
    return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()


class ObjectionDesk:
    def __init__(self, db: Database, clock: Clock, own: OwnFiling) -> None:
        self.db, self.clock, self.own = db, clock, own

    def file(self, request: ns.FileObjectionRequest, *, actor: str) -> ns.FiledObjection:
        check = Checker()
        if len(request.registration) > 200:
            check.fail("registration", "FIELD_TOO_LONG", "is longer than 200 characters")
        else:
            check.pattern(
                "registration", request.registration, names.REGISTRATION, names.SHAPES["registration"]
            )
        check_objection(check, request.objection)
        check.request_id("request_id", request.request_id)
        check.done()
        digest = _digest(request)
        with self.db.transaction() as session:
            earlier = session.get(PublicObjectionRow, request.request_id)
            if earlier is not None:
                return self._replay(earlier, digest)
            row = self._announced(session, request.registration)
            session.exec(
                select(TransferRow.id)
                .where(TransferRow.uid == row.uid, TransferRow.state == "PENDING")
                .with_for_update()
            ).all()
            managing = session.exec(select(LedgerRow).where(LedgerRow.uid == row.uid)).first()
            node, name = (managing.node, managing.name) if managing is not None else (row.node, row.name)
            filing = self._filing(row, request, digest, node=node, name=name)
            if node != regions.NATIONAL:
                self._send_down(session, row, request, node=node, name=name, actor=actor, at=filing.filed_at)
                session.add(filing)
        if node == regions.NATIONAL:
            # The national node's own registration: filed in its own procedure (idempotent by the same
            # request id, so a retry after a crash between the two steps files it once), then recorded.
            self.own(
                rs.CreateObjectionRequest(
                    parent=name, objection=request.objection, request_id=request.request_id
                )
            )
            with self.db.transaction() as session:
                earlier = session.get(PublicObjectionRow, request.request_id)
                if earlier is not None:
                    return self._replay(earlier, digest)
                session.add(filing)
        logger.info("objection %s to %s, for nodes/%s", request.request_id, name, node)
        return _answer(filing)

    def _filing(
        self, row: SearchRow, request: ns.FileObjectionRequest, digest: str, *, node: str, name: str
    ) -> PublicObjectionRow:
        return PublicObjectionRow(
            request_id=request.request_id,
            digest=digest,
            registration=name,
            node=node,
            application_id=row.application_id,
            announcement_end=row.announcement_end,
            announcement_end_provisional=row.announcement_end_provisional,
            filed_at=self.clock.now(),
        )

    def _announced(self, session: Session, name: str) -> SearchRow:
        row = session.exec(select(SearchRow).where(SearchRow.name == name)).first()
        if row is None:
            raise NotFound(
                "REGISTRATION_NOT_FOUND",
                f"the national ledger has no registration {name}",
                metadata={"field": "registration", "name": name},
            )
        if not row.announced:
            raise FailedPrecondition(
                "NOT_ANNOUNCED",
                f"{name} is not under announcement; objections are taken only during one",
                metadata={"field": "registration", "state": row.state},
            )
        if row.announcement_end is not None and self.clock.today() > row.announcement_end:
            raise FailedPrecondition(
                "ANNOUNCEMENT_CLOSED",
                f"the announcement closed on {row.announcement_end}; objections are no longer taken",
                metadata={"announcement_end": str(row.announcement_end)},
            )
        return row

    @staticmethod
    def _send_down(
        session: Session,
        row: SearchRow,
        request: ns.FileObjectionRequest,
        *,
        node: str,
        name: str,
        actor: str,
        at: datetime,
    ) -> None:
        forwarded = sync_pb2.ForwardedObjection(
            registration=name,
            application_id=row.application_id,
            objection=r.Objection(
                objector=request.objection.objector,
                reason=request.objection.reason,
                evidence=request.objection.evidence,
            ),
            request_id=request.request_id,
            actor=actor,
        )
        forwarded.file_time.FromDatetime(at.astimezone(UTC))
        forward_objection(session, node, row.uid, forwarded, at=at)

    def _replay(self, earlier: PublicObjectionRow, digest: str) -> ns.FiledObjection:
        if earlier.digest != digest:
            raise AlreadyExists(
                "REQUEST_ID_REUSED",
                f"request id {earlier.request_id} was used for another objection",
                metadata={"field": "request_id"},
            )
        return _answer(earlier)


def forward_objection(
    session: Session, node: str, uid: str, forwarded: sync_pb2.ForwardedObjection, *, at: datetime
) -> None:
    """Put an objection into the downward feed of ``node``, which manages registration ``uid``."""
    session.add(
        DownwardRow(
            node=node,
            sequence=take_number(session, f"down:{node}"),
            kind="OBJECTION",
            uid=uid,
            record=b"",
            objection=forwarded.SerializeToString(deterministic=True),
            created_at=at,
        )
    )


def _answer(row: PublicObjectionRow) -> ns.FiledObjection:
    answer = ns.FiledObjection(
        registration=row.registration,
        managing_node=names.node_name(row.node),
        application_id=row.application_id,
    )
    answer.file_time.FromDatetime(row.filed_at)
    end = to_date(row.announcement_end)
    if end is not None:
        answer.announcement_end.CopyFrom(end)
        answer.announcement_end_provisional = row.announcement_end_provisional
    return answer


def own_objection(servicer: RegistrationServicer) -> OwnFiling:
    """Files in the national node's own procedure, as the public (the history says ``anonymous``)."""

    def file(request: rs.CreateObjectionRequest) -> r.Objection:
        return servicer.CreateObjection(request, Call(method="NationalService.FileObjection"))

    return file
