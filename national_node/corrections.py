"""Corrections by the national coordinators (更正): an error found in the one ledger, corrected by the node
that manages the registration.

A coordinator files a correction request at the national node (:meth:`CorrectionDesk.file`): the code,
what is wrong, the evidence. The national node checks the ledger (the registration is there, ACTIVE,
with no application in progress, no correction request of it still open, no transfer pending) and, in
one transaction, records the request by the caller's request id and puts a ``CORRECTION`` change into
the managing province's downward feed. The province opens a CORRECTION application with it in the
transaction that applies the change (:func:`common.sync.corrections.open_correction`), the coordinator
named in its history as the one who asked, and its staff take it through the procedure. The national
node's own registrations are opened in its own procedure, in the filing's transaction.

The outcome flows back up with the registration's changes: the application's history entries are in
the ledger's record, and a request's state and steps are read from there (:func:`_progress`), so they
are as current as the ledger. A refusal writes nothing; a retry with the same request id gets the
first answer and sends nothing twice; the same id with another request is ALREADY_EXISTS.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from sqlmodel import Session, col, select

from common import names, regions
from common.clock import Clock
from common.db import Database
from common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, InvalidValue, NotFound
from common.gen.registry.v1 import correction_pb2 as c
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import sync_pb2
from common.paging import PageTokens, newest_first, newest_position
from common.registration.content import validate_document
from common.registration.procedure import Procedure
from common.sync.corrections import open_correction
from common.sync.sequences import take_number
from common.validation import Checker, parse_code
from national_node.models import DownwardRow, LedgerCorrectionRow, LedgerRow, TransferRow

__all__ = ["CorrectionDesk"]

logger = logging.getLogger(__name__)

_PROBLEM = 2000
_MAX_EVIDENCE = 10
_A = r.Application
_FINAL = {_A.COMPLETED, _A.NOT_ACCEPTED, _A.REJECTED, _A.TERMINATED, _A.WITHDRAWN}
_OPEN = {c.LedgerCorrection.SENT, c.LedgerCorrection.OPEN}


def _progress(correction: c.LedgerCorrection, record: sync_pb2.RegistrationRecord | None) -> None:
    """Fill ``correction``'s state, application and steps from the ledger's ``record``."""
    correction.state = c.LedgerCorrection.SENT
    if record is None:
        return
    marker = f"{correction.name}:"
    application = ""
    for entry in record.history:
        if not application and entry.reason.startswith(marker):
            correction.history.append(entry)
            if entry.action == "correction_not_opened":
                correction.state = c.LedgerCorrection.NOT_OPENED
                return
            application = entry.application_id
            correction.application_id = application
            correction.state = c.LedgerCorrection.OPEN
        elif application and entry.application_id == application and entry not in correction.history:
            correction.history.append(entry)
    if not application:
        return
    state = correction.history[-1].application_state
    current = record.registration.current_application
    if current.id == application:
        state = current.state
    if state == _A.COMPLETED:
        correction.state = c.LedgerCorrection.CORRECTED
    elif state in _FINAL:
        correction.state = c.LedgerCorrection.NOT_CORRECTED


class CorrectionDesk:
    def __init__(self, db: Database, clock: Clock, tokens: PageTokens, *, own: Procedure) -> None:
        self.db, self.clock, self.tokens, self.own = db, clock, tokens, own

    # -- filing ---------------------------------------------------------------------------------

    def file(self, request: ns.FileLedgerCorrectionRequest, *, actor: str) -> c.LedgerCorrection:
        check = Checker()
        code = check.value("code", request.code, parse_code)
        problem = check.text("problem", request.problem, max_length=_PROBLEM)
        if not request.evidence:
            check.fail("evidence", "FIELD_REQUIRED", "names at least one document")
        elif len(request.evidence) > _MAX_EVIDENCE:
            check.fail("evidence", "FIELD_TOO_LONG", f"lists more than {_MAX_EVIDENCE} documents")
        for i, doc in enumerate(request.evidence[:_MAX_EVIDENCE]):
            validate_document(check, f"evidence[{i}]", doc, hash_required=True)
        check.request_id("request_id", request.request_id)
        check.done()
        assert code is not None
        digest = hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()
        with self.db.transaction() as session:
            earlier = session.exec(
                select(LedgerCorrectionRow).where(
                    LedgerCorrectionRow.requested_by == actor,
                    LedgerCorrectionRow.request_id == request.request_id,
                )
            ).first()
            if earlier is not None:
                if earlier.digest != digest:
                    raise AlreadyExists(
                        "REQUEST_ID_REUSED",
                        f"request id {request.request_id} was used for another correction request",
                        metadata={"field": "request_id"},
                    )
                return self._message(session, earlier)
            entry = session.exec(select(LedgerRow).where(LedgerRow.code == code).with_for_update()).first()
            if entry is None:
                raise NotFound(
                    "REGISTRATION_NOT_FOUND",
                    f"the national ledger has no registration coded {code}",
                    metadata={"field": "code", "code": code},
                )
            record = sync_pb2.RegistrationRecord.FromString(entry.record)
            self._check_correctable(session, entry, record)
            row = LedgerCorrectionRow(
                id=str(uuid.uuid4()),
                requested_by=actor,
                request_id=request.request_id,
                digest=digest,
                uid=entry.uid,
                registration=entry.name,
                code=code,
                node=entry.node,
                body=b"",
                filed_at=self.clock.now(),
            )
            correction = c.LedgerCorrection(
                name=f"ledgerCorrections/{row.id}",
                registration=entry.name,
                code=code,
                managing_node=names.node_name(entry.node),
                problem=problem,
                evidence=request.evidence,
                requested_by=actor,
            )
            correction.file_time.FromDatetime(row.filed_at)
            row.body = correction.SerializeToString(deterministic=True)
            session.add(row)
            if entry.node == regions.NATIONAL:
                open_correction(self.own, session, correction)  # its own registry: here, at once
            else:
                session.add(
                    DownwardRow(
                        node=entry.node,
                        sequence=take_number(session, f"down:{entry.node}"),
                        kind="CORRECTION",
                        uid=entry.uid,
                        record=b"",
                        notice=row.body,
                        created_at=row.filed_at,
                    )
                )
        logger.info("%s: %s asks nodes/%s to correct %s", correction.name, actor, row.node, code)
        with self.db.transaction(write=False) as session:
            return self._message(session, row)

    @staticmethod
    def _check_correctable(session: Session, entry: LedgerRow, record: sync_pb2.RegistrationRecord) -> None:
        reg = record.registration
        if reg.state != r.Registration.ACTIVE:
            raise FailedPrecondition(
                "REGISTRATION_NOT_ACTIVE",
                f"{entry.code} is {r.Registration.State.Name(reg.state)}: only an active registration is"
                " corrected",
                metadata={"registration_state": r.Registration.State.Name(reg.state)},
            )
        for other in session.exec(
            select(LedgerCorrectionRow).where(LedgerCorrectionRow.uid == entry.uid)
        ).all():
            earlier = c.LedgerCorrection.FromString(other.body)
            _progress(earlier, record)
            if earlier.state in _OPEN:
                raise FailedPrecondition(
                    "CORRECTION_OPEN",
                    f"{earlier.name} of {entry.code} is still {c.LedgerCorrection.State.Name(earlier.state)}",
                    metadata={"correction": earlier.name},
                )
        app = reg.current_application
        if app.id and app.state not in _FINAL:
            raise FailedPrecondition(
                "APPLICATION_IN_PROGRESS",
                f"application {app.id} of {entry.code} is {_A.State.Name(app.state)}: file the correction"
                " once it is finished",
                metadata={"state": _A.State.Name(app.state)},
            )
        pending = session.exec(
            select(TransferRow.id).where(TransferRow.uid == entry.uid, TransferRow.state == "PENDING")
        ).first()
        if pending is not None:
            raise FailedPrecondition(
                "TRANSFER_PENDING",
                f"{entry.code} is being transferred ({pending}): file the correction once the transfer"
                " completes",
                metadata={"transfer": pending},
            )

    # -- reading --------------------------------------------------------------------------------

    def _message(self, session: Session, row: LedgerCorrectionRow) -> c.LedgerCorrection:
        correction = c.LedgerCorrection.FromString(row.body)
        entry = session.exec(select(LedgerRow.record).where(LedgerRow.uid == row.uid)).first()
        _progress(correction, sync_pb2.RegistrationRecord.FromString(entry) if entry is not None else None)
        return correction

    def get(self, name: str) -> c.LedgerCorrection:
        correction_id = name.removeprefix("ledgerCorrections/")
        if not name.startswith("ledgerCorrections/") or not correction_id:
            raise InvalidArgument.for_field(
                "name", InvalidValue("FIELD_MALFORMED", "must look like ledgerCorrections/{id}")
            )
        with self.db.transaction(write=False) as session:
            row = session.get(LedgerCorrectionRow, correction_id[:36])
            if row is None or row.id != correction_id:
                raise NotFound(
                    "LEDGER_CORRECTION_NOT_FOUND", f"no correction request {name}", metadata={"name": name}
                )
            return self._message(session, row)

    def list(self, request: ns.ListLedgerCorrectionsRequest) -> ns.ListLedgerCorrectionsResponse:
        check = Checker()
        node = check.node_name("node", request.node) if request.node else None
        size = check.page_size("page_size", request.page_size, default=50, maximum=500)
        check.done()
        filters = [node or ""]
        after = self.tokens.decode("ListLedgerCorrections", request.page_token, filters)
        query = select(LedgerCorrectionRow)
        if node is not None:
            query = query.where(LedgerCorrectionRow.node == node)
        query = newest_first(
            query, col(LedgerCorrectionRow.filed_at), col(LedgerCorrectionRow.id), after
        ).limit(size + 1)
        with self.db.transaction(write=False) as session:
            rows = list(session.exec(query).all())
            more = len(rows) > size
            rows = rows[:size]
            found = [self._message(session, row) for row in rows]
        token = ""
        if more:
            token = self.tokens.encode(
                "ListLedgerCorrections", newest_position(rows[-1].filed_at, rows[-1].id), filters
            )
        return ns.ListLedgerCorrectionsResponse(ledger_corrections=found, next_page_token=token)
