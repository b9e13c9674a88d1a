"""The national node's own metrics: each province's link, the national log and its witnesses, codes.

Sampled every ``[metrics] interval`` by one process of the host (:mod:`common.metrics.telemetry`):

* each province running its own node (``region``, a GB/T 2260 code: ~35 values at most), from the
  same state ``registryctl sync status`` shows (one row per province, the newest downward change and
  cosignature each found through an index): upward lag in changes and seconds, the acknowledged and
  head sequences, the last contact, the downward feed's head, acknowledgement and lag, the largest
  checkpoint the province cosigned as a witness and when;
* the log's size (its counter row) and its newest checkpoint's size and time (by primary key).

``registry_codes_assigned_total{issuer, object_type}`` counts new codes where they are made
(:class:`~national_node.coding.CodingAuthority`), replays of a request not included.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import col, select

from common.codes import ObjectType
from common.db import Database
from common.gen.registry.v1 import demand_pb2 as d
from common.gen.registry.v1 import sync_pb2
from common.metrics.telemetry import Telemetry
from common.sync.sequences import current
from national_node.coding import Assignment
from national_node.demands import DemandDesk
from national_node.ledger import Ledger
from national_node.models import CheckpointRow
from national_node.shares import ShareDesk
from national_node.tlog.storage import COUNTER

__all__ = ["CodeMetrics", "watch_demands", "watch_national"]


class CodeMetrics:
    """``registry_codes_assigned_total``: what :meth:`assigned` is told, by issuer and object type."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.assigned_total = telemetry.counter(
            "registry_codes_assigned_total",
            "Unified registration codes assigned (a replayed request is not counted again).",
            ["issuer", "object_type"],
        )

    def assigned(self, assignment: Assignment) -> None:
        self.assigned_total.labels(assignment.issuer, ObjectType(assignment.object_type).name).inc()


def _region(node: str) -> str:
    return node.rsplit("/", 1)[-1]


def watch_national(telemetry: Telemetry, db: Database, ledger: Ledger) -> None:
    """Sample the provinces' links and the national log into ``telemetry``."""
    if not telemetry.sampling:
        return
    by_region = ["region"]

    def gauge(name: str, documentation: str) -> Callable[[str, float], None]:
        family = telemetry.gauge(name, documentation, by_region)
        return lambda region, value: family.labels(region).set(value)

    lag_changes = gauge(
        "registry_sync_lag_changes", "Changes a province reported that the ledger has not applied."
    )
    lag_seconds = gauge(
        "registry_sync_lag_seconds",
        "How long a province's oldest change not applied to the ledger has waited (0: caught up).",
    )
    acknowledged = gauge(
        "registry_sync_acknowledged_sequence", "The last change of a province applied to the ledger."
    )
    head = gauge("registry_sync_head_sequence", "The newest change a province reported.")
    contact = gauge(
        "registry_sync_last_contact_timestamp_seconds",
        "When a province last sent a batch (Unix time; 0: never).",
    )
    down_head = gauge(
        "registry_sync_downward_head_sequence", "The newest change in a province's downward feed."
    )
    down_acknowledged = gauge(
        "registry_sync_downward_acknowledged_sequence",
        "The last change of its downward feed a province applied.",
    )
    down_lag = gauge(
        "registry_sync_downward_lag_changes", "Changes of a province's downward feed it has not applied."
    )
    releasing = gauge(
        "registry_sync_transfers_releasing", "Transfers waiting for a province to release their registration."
    )
    cosigned = gauge(
        "registry_log_witness_cosigned_size_entries",
        "The largest checkpoint of the national log a province has cosigned as a witness (0: none).",
    )
    cosigned_at = gauge(
        "registry_log_witness_cosigned_timestamp_seconds",
        "When a province last cosigned (Unix time; 0: never).",
    )

    def links() -> None:
        for state in ledger.states(limit=100):
            region = _region(state.node)
            lag_changes(region, state.lag_changes)
            lag_seconds(region, state.lag_seconds)
            acknowledged(region, state.acknowledged_sequence)
            head(region, state.head_sequence)
            contact(region, _seconds(state, "last_contact_time"))
            down_head(region, state.downward_head)
            down_acknowledged(region, state.downward_acknowledged)
            down_lag(region, max(0, state.downward_head - state.downward_acknowledged))
            releasing(region, state.transfers_releasing)
            cosigned(region, state.witnessed_size)
            cosigned_at(region, _seconds(state, "witnessed_time"))

    size = telemetry.gauge("registry_log_size_entries", "Entries in the national log.")
    checkpoint = telemetry.gauge(
        "registry_log_checkpoint_size_entries", "The size of the newest signed checkpoint."
    )
    checkpoint_at = telemetry.gauge(
        "registry_log_checkpoint_timestamp_seconds",
        "When the newest checkpoint was signed (Unix time; 0: none).",
    )

    def log() -> None:
        with db.transaction(write=False) as session:
            entries = current(session, COUNTER)
            newest = session.exec(
                select(CheckpointRow).order_by(col(CheckpointRow.size).desc()).limit(1)
            ).first()
        size.set(entries)
        checkpoint.set(newest.size if newest is not None else 0)
        checkpoint_at.set(newest.created_at.timestamp() if newest is not None else 0)

    telemetry.sample("the provinces' links", links)
    telemetry.sample("the national log", log)


def watch_demands(telemetry: Telemetry, desk: DemandDesk) -> None:
    """Data demands by state, as every reader sees them (a demand past its deadline is CLOSED)."""
    family = telemetry.gauge("registry_demands", "Data demands by state.", ["state"])
    states = [name for name in d.Demand.State.keys() if name != "STATE_UNSPECIFIED"]  # noqa: SIM118

    def count() -> None:
        counts = desk.count()
        for state in states:
            family.labels(state).set(counts.get(state, 0))

    telemetry.sample("data demands", count)


def watch_shares(telemetry: Telemetry, desk: ShareDesk) -> None:
    """Share requests by the node that manages their registration and by state, and the overdue ones
    (a reply or a delivery past its limit): the national statistics of 《政务数据共享条例》's limits."""
    family = telemetry.gauge(
        "registry_share_requests",
        "Share requests by managing node (its region) and state.",
        ["region", "state"],
    )
    overdue = telemetry.gauge(
        "registry_share_requests_overdue",
        "Share requests whose reply or delivery is past its limit, by managing node (its region).",
        ["region"],
    )
    seen: set[tuple[str, str]] = set()
    seen_overdue: set[str] = set()

    def count() -> None:
        by_state, late = desk.count()
        for key in seen - by_state.keys():
            family.labels(*key).set(0)
        for key, number in by_state.items():
            family.labels(*key).set(number)
        seen.update(by_state)
        for node in seen_overdue | late.keys():
            overdue.labels(node).set(late.get(node, 0))
        seen_overdue.update(late)

    telemetry.sample("share requests", count)


def _seconds(message: sync_pb2.SyncState, field: str) -> float:
    if not message.HasField(field):
        return 0.0
    return float(getattr(message, field).ToNanoseconds()) / 1e9
