"""An objection the national node took (its public window), filed in the procedure of the node that
manages the registration: a province, when the objection comes down its feed, or the national node's
own registry, when a transfer brings it the registration.

Filed in the caller's transaction (the one that moves the province's downward cursor, or completes the
transfer), so exactly once. One the procedure refuses (the application ended meanwhile) is logged and
passed over: a feed must not stop on it. A node that released the registration to a transfer refuses
it too (``TRANSFER_PENDING``): the national node sends it on to the receiving node when the transfer
completes.
"""

from __future__ import annotations

import logging
from datetime import UTC

from sqlmodel import Session

from common import names
from common.clock import CHINA
from common.errors import RegistryError
from common.gen.registry.v1 import sync_pb2
from common.regions import NATIONAL
from common.registration.domain import DocumentRef, ObjectionFiling, Target
from common.registration.procedure import Procedure

__all__ = ["file_forwarded"]

logger = logging.getLogger(__name__)


def file_forwarded(procedure: Procedure, session: Session, forwarded: sync_pb2.ForwardedObjection) -> bool:
    """File ``forwarded`` in ``procedure``; whether it was filed."""
    evidence = tuple(
        DocumentRef(title=d.title, uri=d.uri, sha256=d.sha256) for d in forwarded.objection.evidence
    )
    filing = ObjectionFiling(
        objector=forwarded.objection.objector.strip(),
        reason=forwarded.objection.reason.strip(),
        evidence=evidence,
    )
    local_id = names.parse_registration(forwarded.registration).id
    filed_on = forwarded.file_time.ToDatetime(tzinfo=UTC).astimezone(CHINA).date()
    actor = f"{forwarded.actor or 'anonymous'} via {names.node_name(NATIONAL)}"
    try:
        with session.begin_nested():
            procedure.object(
                session,
                Target(local_id, forwarded.application_id or None),
                filing,
                actor=actor,
                filed_on=filed_on,
            )
    except RegistryError as error:
        if error.reason == "TRANSFER_PENDING":
            logger.info(
                "objection %s to %s goes with the transfer to %s",
                forwarded.request_id,
                forwarded.registration,
                error.metadata.get("node", "the receiving node"),
            )
        else:
            logger.warning(
                "objection %s to %s not filed: %s", forwarded.request_id, forwarded.registration, error
            )
        return False
    return True
