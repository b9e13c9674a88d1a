"""What a node's registry owes, as metrics: ``registry_duties_due{kind}`` and
``registry_duties_overdue{kind}``, sampled from the same query as ``registryctl due`` (bounded by the
work open: applications waiting for the registry, pending objections, registrations near expiry, each
found through an index)."""

from __future__ import annotations

from collections import Counter

from common.db import Database
from common.metrics.telemetry import Telemetry
from common.registration import queries
from common.registration.domain import DueKind
from common.registration.procedure import Procedure

__all__ = ["watch_duties"]


def watch_duties(telemetry: Telemetry, db: Database, procedure: Procedure) -> None:
    """Sample the registry's duties of ``procedure``'s node into ``telemetry``."""
    if not telemetry.sampling:
        return
    due = telemetry.gauge(
        "registry_duties_due",
        "What the registry owes by a date (registryctl due), overdue included.",
        ["kind"],
    )
    overdue = telemetry.gauge(
        "registry_duties_overdue", "What the registry owes whose date has passed.", ["kind"]
    )

    def duties() -> None:
        with db.transaction(write=False) as session:
            items = queries.due_items(
                session,
                procedure.node,
                today=procedure.clock.today(),
                calendar=procedure.calendar,
                reminder_days=procedure.limits.expiry_reminder_days,
                overdue_only=False,
            )
        counted = Counter(item.kind for item in items)
        late = Counter(item.kind for item in items if item.overdue)
        for kind in DueKind:
            due.labels(kind.value).set(counted[kind])
            overdue.labels(kind.value).set(late[kind])

    telemetry.sample("the duties due", duties)
