"""A provincial node's own metrics: its link to the national node, as the province sees it, and the
national log as its witness sees it.

Sampled every ``[metrics] interval`` (:mod:`common.metrics.telemetry`) from the sync daemon's status
(what ``registryctl sync status --node`` shows; a few reads by index): whether the national node
answered the last exchange and when it last did, the change log's head and what the national node
acknowledged, the lag in changes and seconds, the downward feed applied here; the checkpoint the
witness verified last and its open alarms by kind (``TRUNCATED``, ``FORKED``, ``INCONSISTENT``,
``SPLIT_VIEW``). With the daemon in its own process, the node asks the national node what it
acknowledged at each sample, and that call is the link's state.
"""

from __future__ import annotations

from sqlmodel import col, func, select

from common.clock import CHINA, Clock, SystemClock
from common.codes import ObjectType
from common.db import Database
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.metrics.telemetry import Telemetry
from provincial_node.code_leases import OPEN, HeldLeaseRow, LeasedCodeRow
from provincial_node.sync import SyncDaemon
from provincial_node.witness import LogAlarmRow

__all__ = ["ALARM_KINDS", "watch_province"]

#: Every kind of witness alarm: each has its series, at 0 when none is open.
ALARM_KINDS = tuple(k for k in ps.LogAlarm.Kind.keys() if not k.endswith("UNSPECIFIED"))


def watch_province(
    telemetry: Telemetry,
    db: Database,
    daemon: SyncDaemon,
    clock: Clock | None = None,
    *,
    leases: bool = False,
) -> None:
    if not telemetry.sampling:
        return
    if leases:
        _watch_leases(telemetry, db, clock or SystemClock())
    up = telemetry.gauge(
        "registry_upstream_up", "1 when the national node answered the sync daemon's last exchange, else 0."
    )
    contact = telemetry.gauge(
        "registry_upstream_last_contact_timestamp_seconds",
        "When the national node last answered the sync daemon (Unix time; 0: not since the node started).",
    )
    head = telemetry.gauge("registry_upstream_head_sequence", "The newest change in this node's change log.")
    acknowledged = telemetry.gauge(
        "registry_upstream_acknowledged_sequence",
        "The newest change the national node acknowledged, as last heard.",
    )
    lag_changes = telemetry.gauge(
        "registry_upstream_lag_changes", "Changes of this node the national node has not acknowledged."
    )
    lag_seconds = telemetry.gauge(
        "registry_upstream_lag_seconds",
        "How long the oldest change not acknowledged has waited (0: caught up).",
    )
    downward = telemetry.gauge(
        "registry_downward_applied_sequence", "The last change of the downward feed applied here."
    )
    verified = telemetry.gauge(
        "registry_witness_verified_size_entries",
        "The national log's size at the checkpoint this witness verified last.",
    )
    verified_at = telemetry.gauge(
        "registry_witness_verified_timestamp_seconds",
        "When this witness last verified a checkpoint (Unix time).",
    )
    alarms = telemetry.gauge(
        "registry_witness_alarms_open", "Alarms about the national log's history not resolved yet.", ["kind"]
    )

    def link() -> None:
        status = daemon.status()
        heard = status.HasField("last_contact_time")
        up.set(1 if daemon.national_answers else 0)
        contact.set(status.last_contact_time.ToNanoseconds() / 1e9 if heard else 0)
        head.set(status.head_sequence)
        acknowledged.set(status.acknowledged_sequence)
        lag_changes.set(status.lag_changes)
        lag_seconds.set(status.lag_seconds)
        downward.set(status.downward_applied)
        if status.HasField("witness"):
            verified.set(status.witness.verified_size)
            if status.witness.HasField("verify_time"):
                verified_at.set(status.witness.verify_time.ToNanoseconds() / 1e9)

    def open_alarms() -> None:
        with db.transaction(write=False) as session:
            counts = dict(
                session.exec(
                    select(LogAlarmRow.kind, func.count())
                    .where(col(LogAlarmRow.resolved_at).is_(None))
                    .group_by(col(LogAlarmRow.kind))
                ).all()
            )
        for kind in ALARM_KINDS:
            alarms.labels(kind).set(counts.get(kind, 0))

    telemetry.sample("the link to the national node", link)
    telemetry.sample("the witness's alarms", open_alarms)


def _watch_leases(telemetry: Telemetry, db: Database, clock: Clock) -> None:
    """The node's code leases: the serials it could code from in an outage now, per object type, and
    the codes it gave from leases."""
    usable = telemetry.gauge(
        "registry_code_lease_serials_usable",
        "Serials of this node's open code leases, in their term and year, not used yet: what it can code"
        " while the national node is unreachable.",
        ["object_type"],
    )
    given = telemetry.gauge(
        "registry_code_lease_codes_given", "Codes this node gave from its code leases (since it began).", []
    )

    def sample() -> None:
        now = clock.now()
        with db.transaction(write=False) as session:
            left = dict(
                session.exec(
                    select(
                        HeldLeaseRow.object_type,
                        func.sum(HeldLeaseRow.last_serial - HeldLeaseRow.next_serial + 1),
                    )
                    .where(
                        HeldLeaseRow.state == OPEN,
                        HeldLeaseRow.year == now.astimezone(CHINA).year,
                        col(HeldLeaseRow.valid_from) <= now,
                        col(HeldLeaseRow.valid_until) > now,
                    )
                    .group_by(col(HeldLeaseRow.object_type))
                ).all()
            )
            count = session.exec(select(func.count()).select_from(LeasedCodeRow)).one()
        for object_type in ObjectType:
            usable.labels(object_type.name).set(int(left.get(int(object_type)) or 0))
        given.set(count)

    telemetry.sample("the code leases", sample)
