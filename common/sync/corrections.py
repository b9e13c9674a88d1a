"""A national coordinators' correction request, opened as a CORRECTION application by the node that
manages the registration (:mod:`national_node.corrections` files it).

Opened in the caller's transaction: the one that moves a province's downward cursor (so once, however
often the change arrives), or the national node's filing, for its own registrations. The application's
reason begins with the request's name, which is how the national node finds its steps in the ledger's
record; the coordinator is named as the one who asked (``{coordinator} via nodes/100000``). When the
procedure cannot open it (another application is in progress, or the registration is no longer active),
the refusal is recorded in the registration's history instead, with the same name, so that it flows
back up too: a feed must not stop on it, and the request must not vanish.
"""

from __future__ import annotations

import logging

from sqlmodel import Session

from common import names
from common.errors import RegistryError
from common.gen.registry.v1 import correction_pb2
from common.regions import NATIONAL
from common.registration import queries
from common.registration.domain import Target
from common.registration.procedure import Procedure
from common.registration.states import ApplicationType

__all__ = ["NOT_OPENED", "open_correction"]

logger = logging.getLogger(__name__)

#: The history's action when a correction request could not be opened.
NOT_OPENED = "correction_not_opened"


def open_correction(
    procedure: Procedure, session: Session, correction: correction_pb2.LedgerCorrection
) -> bool:
    """Open ``correction`` in ``procedure``; whether it was opened (else its refusal is recorded)."""
    local_id = names.parse_registration(correction.registration).id
    actor = f"{correction.requested_by} via {names.node_name(NATIONAL)}"
    evidence = "; ".join(f"{d.title} <{d.uri}> sha256:{d.sha256}" for d in correction.evidence)
    reason = f"{correction.name}: {correction.problem} (evidence: {evidence})"
    try:
        with session.begin_nested():
            procedure.submit(
                session, Target(local_id, None), ApplicationType.CORRECTION, None, reason, actor=actor
            )
    except RegistryError as error:
        if error.reason in ("TRANSFER_PENDING", "NOT_MANAGED_HERE", "REGISTRATION_NOT_FOUND"):
            logger.warning(
                "%s: %s not opened here (%s)", correction.name, correction.registration, error.message
            )
            return False
        reg = queries.load(session, procedure.node, local_id, for_update=True)
        procedure.record(
            session, reg, None, actor=actor, action=NOT_OPENED, reason=f"{correction.name}: {error.message}"
        )
        logger.warning(
            "%s could not be opened for %s: %s", correction.name, correction.registration, error.message
        )
        return False
    logger.info("%s opened as a correction application of %s", correction.name, correction.registration)
    return True
