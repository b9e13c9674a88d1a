"""A province coding through an outage of the national node: the scenario of
``tests/integration/test_code_leases.py`` (a short outage) and ``python -m benchmarks.offline_coding``
(the 60 s one).

A national node and Jiangsu's node as real processes on SQLite, mutual TLS, one simulated time between
them (two days a second, from a Monday in January, so that announcements close while the outage lasts),
a TCP proxy between the province and the national node. The province registers about five
registrations a second throughout (tests.integration.test_partitions.Writer); after a warm-up, the proxy
refuses the national node for ``seconds``, then forwards again. Measured: the codes the province gave
from its leases during the outage, the time from the heal until the national node has entered every one
of them, and until the last one's confirmation is a full one, cosigned by the province as a witness.
Checked: every code the province holds is in the national log once, no serial of any namespace is used
twice or lost (:func:`account`), the confirmations verify offline with the log's key, and the province
and the national ledger agree.
"""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from common.clock import SystemClock
from common.db import Database
from common.gen.registry.v1 import log_service_pb2 as ls
from common.gen.registry.v1 import log_service_pb2_grpc as ls_grpc
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.transparency.entry import parse_entry, verify_confirmation
from provincial_node.agreement import check_agreement
from provincial_node.changelog import ChangeLog
from tests.cluster import Cluster
from tests.integration.test_partitions import Writer
from tests.nodes import wait_until
from tests.proxy import Proxy
from tests.trust import channel, trust

__all__ = ["Outage", "account", "log_entries", "run_outage"]

#: The national node's lease settings: a province codes from a lease once the national node has been
#: unreachable for 5 s; one lease of 1,000 serials lasts the rest of the simulated year.
NATIONAL_ENV = {
    "REGISTRY_CODE_LEASES__OFFLINE_AFTER_SECONDS": "5",
    "REGISTRY_CODE_LEASES__TERM_HOURS": "8784",
    "REGISTRY_CODE_LEASES__CLOCK_TOLERANCE_SECONDS": "86400",
}
#: One simulated time for both nodes, starting on Monday 4 January 2027 (a year of 180 real seconds).
CLOCK_START = "2027-01-04T09:00:00+08:00"


@dataclass
class Outage:
    """What the run measured."""

    seconds: float
    registered: int
    coded_offline: int  # codes the province gave from its leases, in all
    entered_after: float  # seconds from the heal until the national node entered every code given by then
    confirmed_after: float  # ... until the last one's confirmation was a full, cosigned one
    namespaces: dict[tuple[str, str, int], dict[str, int]]

    def summary(self) -> str:
        return (
            f"national outage of {self.seconds:.0f} s under load ({self.registered} registrations announced):"
            f" {self.coded_offline} codes given from leases; those given by the heal all entered in the"
            f" national log"
            f" {self.entered_after:.1f} s after the heal, the last one's confirmation full and cosigned"
            f" {self.confirmed_after:.1f} s after it; no serial used twice"
        )


def log_entries(address: str) -> list[dict[str, object]]:
    """Every entry of the national log, parsed (as any monitor reads it)."""
    stub = ls_grpc.LogServiceStub(channel(address, national=True))
    entries: list[dict[str, object]] = []
    while True:
        page = stub.ListEntries(ls.ListEntriesRequest(start_index=len(entries), page_size=1000), timeout=10)
        if not page.entries:
            return entries
        entries.extend(parse_entry(e.entry) for e in page.entries)


def account(entries: list[dict[str, object]]) -> dict[tuple[str, str, int], dict[str, int]]:
    """Every serial of each namespace, from the log alone: ``assigned`` when asked, ``leased_used``
    (given from a lease), ``open`` (in a lease not settled yet), ``never_used`` (a settled lease's).
    Raises AssertionError when a serial is used twice, used outside its lease, or a namespace's serials
    do not run from 1 without a gap."""
    serials: dict[tuple[str, str, int], dict[int, str]] = defaultdict(dict)
    leases: dict[str, tuple[tuple[str, str, int], int, int]] = {}

    def mark(namespace: tuple[str, str, int], serial: int, what: str) -> None:
        held = serials[namespace].get(serial)
        if not (held is None or (held == "leased" and what in ("leased_used", "never_used"))):
            raise AssertionError(f"serial {serial} of {namespace} is {held} and {what}")
        serials[namespace][serial] = what

    for entry in entries:
        kind = entry["kind"]
        if kind in ("code_lease", "code_assignment"):
            namespace = (str(entry["issuer"]), str(entry["object_type"]), int(str(entry["year"])))
        if kind == "code_lease":
            first, last = int(str(entry["first_serial"])), int(str(entry["last_serial"]))
            leases[str(entry["code_lease"])] = (namespace, first, last)
            for serial in range(first, last + 1):
                mark(namespace, serial, "leased")
        elif kind == "code_assignment":
            serial = int(str(entry["serial"]))
            if "code_lease" in entry:
                held_in, first, last = leases[str(entry["code_lease"])]
                if held_in != namespace or not first <= serial <= last:
                    raise AssertionError(f"{entry['code']} is outside {entry['code_lease']}")
                mark(namespace, serial, "leased_used")
            else:
                mark(namespace, serial, "assigned")
        elif kind == "code_lease_settlement":
            held_in, _, _ = leases[str(entry["code_lease"])]
            for part in filter(None, str(entry["unused"]).split(",")):
                low, high = (int(x) for x in part.split("-"))
                for serial in range(low, high + 1):
                    mark(held_in, serial, "never_used")
    result: dict[tuple[str, str, int], dict[str, int]] = {}
    for namespace, marks in serials.items():
        if sorted(marks) != list(range(1, len(marks) + 1)):
            raise AssertionError(f"the serials of {namespace} have a gap")
        counts = {"assigned": 0, "leased_used": 0, "open": 0, "never_used": 0}
        for what in marks.values():
            counts["open" if what == "leased" else what] += 1
        result[namespace] = counts
    return result


def _rows(db: str, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql))


def run_outage(cluster: Cluster, seconds: float) -> Outage:
    """The scenario (see the module): returns the figures, raises AssertionError when a check fails."""
    anchor = datetime.now(UTC).isoformat()
    clock = {"REGISTRY_CLOCK_START": CLOCK_START, "REGISTRY_CLOCK_ANCHOR": anchor}
    national = cluster.national()
    national.env |= NATIONAL_ENV | clock
    national.start()
    proxy = Proxy(national.address)
    try:
        province = cluster.province("320000")
        province.env |= clock | {
            "REGISTRY_NATIONAL_ADDRESS": proxy.address,
            "REGISTRY_CODE_LEASES__ENABLED": "true",
            "REGISTRY_CODE_LEASES__CHECK_SECONDS": "0.5",
        }
        province.start()
        db_file, ledger_file = str(cluster.root / "320000.db"), str(cluster.root / "national.db")
        wait_until(
            lambda: _rows(db_file, "SELECT count(*) FROM held_code_leases")[0][0] >= 3,
            timeout=30,
            message="the province holds a lease of each object type",
        )
        writer = Writer(province)
        try:
            time.sleep(3.0)
            proxy.set("refuse")
            time.sleep(seconds)
            proxy.set("forward")
            healed = time.monotonic()
            leased = {str(code) for (code,) in _rows(db_file, "SELECT code FROM leased_codes")}
            assert leased, "the province gave no code from its leases during the outage"
            last = str(
                _rows(db_file, "SELECT code FROM leased_codes ORDER BY given_at DESC, code DESC LIMIT 1")[0][
                    0
                ]
            )

            def entered() -> bool:
                found = {
                    str(code)
                    for (code,) in _rows(
                        ledger_file, "SELECT code FROM code_assignments WHERE code_lease IS NOT NULL"
                    )
                }
                return leased <= found

            wait_until(entered, timeout=60, interval=0.1, message="the national node enters the leased codes")
            entered_after = time.monotonic() - healed
            registry = rs_grpc.RegistrationServiceStub(province.channel())

            def confirmed(code: str) -> bool:
                found = registry.GetConfirmation(rs.GetConfirmationRequest(code=code), timeout=15)
                return bool(found.tlog_proof) and "nodes/320000" in found.cosigned_by

            wait_until(lambda: confirmed(last), timeout=60, interval=0.2, message="a full confirmation")
            confirmed_after = time.monotonic() - healed
        finally:
            writer.stop()
        registered = len(writer.announced)
        assert writer.failures == [], writer.failures[:3]

        # Every confirmation of a code given offline verifies with the log's key, and names its lease.
        keys = trust().log_verifier_keys_file.read_text().split()
        for code in sorted(leased):
            found = registry.GetConfirmation(rs.GetConfirmationRequest(code=code), timeout=15)
            assert found.code_lease.startswith("codeLeases/320000-"), code
            assert verify_confirmation(found.tlog_proof, keys).code == code

        # The registering stopped: everything converges, and the proof of agreement holds.
        status = ps_grpc.ProvincialServiceStub(province.channel())

        def converged() -> bool:
            waiting = _rows(
                db_file,
                "SELECT count(*) FROM applications WHERE state IN ('ANNOUNCED', 'AWAITING_CODE')",
            )[0][0]
            if waiting:
                return False
            sync = status.GetSyncStatus(ps.GetSyncStatusRequest(), timeout=5)
            return (
                not sync.lag_changes and cluster.state("320000").acknowledged_sequence == sync.head_sequence
            )

        wait_until(converged, timeout=60, interval=0.2, message="convergence after the outage")
        db = Database(cluster.db_url("320000"))
        try:
            agreement = check_agreement(db, "320000", cluster.sync(), ChangeLog(SystemClock()), repair=False)
        finally:
            db.dispose()
        assert agreement.in_agreement, agreement

        # The log, read as a monitor reads it: every code the province holds, once; no serial twice.
        entries = log_entries(cluster.national_address)
        namespaces = account(entries)
        in_log = [str(e["code"]) for e in entries if e["kind"] == "code_assignment"]
        assert len(in_log) == len(set(in_log)), "a code entered twice"
        held = {
            str(code) for (code,) in _rows(db_file, "SELECT code FROM registrations WHERE code IS NOT NULL")
        }
        assert held <= set(in_log), f"codes the log does not hold: {sorted(held - set(in_log))[:5]}"
        # Every code the province gave from a lease (also in the moments after the heal, before it heard
        # the national node again) is in the log as given from its lease, and no other code is.
        given = {str(code) for (code,) in _rows(db_file, "SELECT code FROM leased_codes")}
        from_leases = {
            str(e["code"]) for e in entries if e["kind"] == "code_assignment" and "code_lease" in e
        }
        assert given == from_leases, (sorted(given - from_leases)[:5], sorted(from_leases - given)[:5])
        return Outage(seconds, registered, len(given), entered_after, confirmed_after, namespaces)
    finally:
        proxy.close()
