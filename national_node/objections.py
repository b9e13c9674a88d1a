"""Objections filed with the national node (the public portal's form), sent to the node that decides them.

Anyone may object to a registration under announcement (登记公示), wherever it is managed. The national
node checks the announcement in its ledger (the search index holds it: under announcement, which
application, its last day), then, in one transaction, records the filing by its request id and puts a
``DownwardChange`` of kind ``OBJECTION`` into the managing province's downward feed: the province
pulls it over its mutually authenticated channel and files it in its own procedure, where it enters
the registration's history and the registrar's due items. The national node's own registrations (the
central bodies', and those it keeps for provinces without a node) are filed here, in its own
procedure, directly.

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
from national_node.models import DownwardRow, PublicObjectionRow, SearchRow

__all__ = ["ObjectionDesk", "own_objection"]

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
            filing = self._filing(row, request, digest)
            if row.node != regions.NATIONAL:
                self._send_down(session, row, request, actor=actor, filed_at=filing.filed_at)
                session.add(filing)
        if row.node == regions.NATIONAL:
            # The national node's own registration: filed in its own procedure (idempotent by the same
            # request id, so a retry after a crash between the two steps files it once), then recorded.
            self.own(
                rs.CreateObjectionRequest(
                    parent=row.name, objection=request.objection, request_id=request.request_id
                )
            )
            with self.db.transaction() as session:
                earlier = session.get(PublicObjectionRow, request.request_id)
                if earlier is not None:
                    return self._replay(earlier, digest)
                session.add(filing)
        logger.info("objection %s to %s, for nodes/%s", request.request_id, row.name, row.node)
        return _answer(filing)

    def _filing(self, row: SearchRow, request: ns.FileObjectionRequest, digest: str) -> PublicObjectionRow:
        return PublicObjectionRow(
            request_id=request.request_id,
            digest=digest,
            registration=row.name,
            node=row.node,
            application_id=row.application_id,
            announcement_end=row.announcement_end,
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

    def _send_down(
        self,
        session: Session,
        row: SearchRow,
        request: ns.FileObjectionRequest,
        *,
        actor: str,
        filed_at: datetime,
    ) -> None:
        forwarded = sync_pb2.ForwardedObjection(
            registration=row.name,
            application_id=row.application_id,
            objection=r.Objection(
                objector=request.objection.objector,
                reason=request.objection.reason,
                evidence=request.objection.evidence,
            ),
            request_id=request.request_id,
            actor=actor,
        )
        forwarded.file_time.FromDatetime(filed_at.astimezone(UTC))
        sequence = take_number(session, f"down:{row.node}")
        session.add(
            DownwardRow(
                node=row.node,
                sequence=sequence,
                kind="OBJECTION",
                uid=row.uid,
                record=b"",
                objection=forwarded.SerializeToString(deterministic=True),
                created_at=filed_at,
            )
        )

    def _replay(self, earlier: PublicObjectionRow, digest: str) -> ns.FiledObjection:
        if earlier.digest != digest:
            raise AlreadyExists(
                "REQUEST_ID_REUSED",
                f"request id {earlier.request_id} was used for another objection",
                metadata={"field": "request_id"},
            )
        return _answer(earlier)


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
    return answer


def own_objection(servicer: RegistrationServicer) -> OwnFiling:
    """Files in the national node's own procedure, as the public (the history says ``anonymous``)."""

    def file(request: rs.CreateObjectionRequest) -> r.Objection:
        return servicer.CreateObjection(request, Call(method="NationalService.FileObjection"))

    return file
