"""Telling the node that manages a registration of a data demand that matches it, or of a share request
made for it (:mod:`common.sync.notices` is the receiving end).

A province's notice goes into its downward feed (``DownwardChange`` of kind ``DEMAND`` or
``SHARE_REQUEST``), in the transaction of the step it reports, so a step is never taken without its
notice, nor a notice sent for a step that was not taken. The national node's own registry is told in
that same transaction.
"""

from __future__ import annotations

from sqlmodel import Session

from common import regions
from common.calendar import WorkingCalendar
from common.clock import Clock
from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import share_pb2 as sh
from common.settings import TimeLimits
from common.sync.notices import note_demand, note_share_request
from common.sync.sequences import take_number
from national_node.models import DownwardRow

__all__ = ["Notices"]


class Notices:
    """Sends notices; ``calendar`` and ``limits`` are the national node's own registry's."""

    def __init__(self, clock: Clock, calendar: WorkingCalendar, limits: TimeLimits) -> None:
        self.clock, self.calendar, self.limits = clock, calendar, limits

    def demand(self, session: Session, node: str, demand: d.Demand) -> None:
        """``demand``, its matches and answers limited to ``node``'s registrations."""
        if node == regions.NATIONAL:
            note_demand(session, node, demand, calendar=self.calendar, limits=self.limits)
        else:
            self._send(session, node, "DEMAND", demand.name.removeprefix("demands/"), demand)

    def share_request(self, session: Session, node: str, request: sh.ShareRequest) -> None:
        if node == regions.NATIONAL:
            note_share_request(session, node, request, calendar=self.calendar, limits=self.limits)
        else:
            self._send(session, node, "SHARE_REQUEST", request.name.removeprefix("shareRequests/"), request)

    def _send(
        self, session: Session, node: str, kind: str, key: str, message: d.Demand | sh.ShareRequest
    ) -> None:
        session.add(
            DownwardRow(
                node=node,
                sequence=take_number(session, f"down:{node}"),
                kind=kind,
                uid=key,
                record=b"",
                notice=message.SerializeToString(deterministic=True),
                created_at=self.clock.now(),
            )
        )
