"""Code leases: a province codes through an outage of the national node, and nothing else gets a code.

Against a real national node (mutual TLS, its own process), as the province's sync daemon would push:

* the checks of a code given from a lease, each with the attacker's attempt: a code outside any lease,
  in another node's lease, of another object type, from a revoked lease, a second registration with a
  code already given, and a code given while the national node was in fact reachable, are all refused
  and write nothing; the honest one is entered in the log with its lease;
* who may grant, list and revoke leases; a grant is idempotent; a node holds at most two open leases
  of a namespace;
* a revoked lease is settled once the node has sent up what it committed before: its serials are
  recorded never used, in the log.

And a real province behind a proxy that refuses the national node for a while, under steady
registering: it codes from its leases, and after the heal every code it gave is in the national log,
cosigned, with no serial used twice and every serial of each namespace accounted for
(:func:`account`, from the log alone).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf import json_format

from common import codes
from common.clock import CHINA
from common.gen.registry.v1 import code_pb2, sync_pb2
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.transparency.entry import open_lease
from tests.cluster import Cluster
from tests.nodes import registryctl
from tests.outage import account, log_entries, run_outage
from tests.sync_support import activated, awaiting_code
from tests.trust import channel, token, trust

pytestmark = [pytest.mark.integration]

#: The national node's lease settings in these tests: a silence of 4 s lets a node code from a lease.
LEASE_ENV = {
    "REGISTRY_CODE_LEASES__OFFLINE_AFTER_SECONDS": "4",
    "REGISTRY_CODE_LEASES__SILENCE_GRACE_SECONDS": "0",
    "REGISTRY_CODE_LEASES__SIZE": "100",
    "REGISTRY_CODE_LEASES__SETTLE_SECONDS": "0.5",
}


def _national(cluster: Cluster, **extra: str) -> ns_grpc.NationalServiceStub:
    node = cluster.national()
    node.env |= LEASE_ENV | extra
    node.start()
    return ns_grpc.NationalServiceStub(channel(cluster.national_address, national=True))


def _as(cluster: Cluster, region: str | None, role: str = "") -> ns_grpc.NationalServiceStub:
    bearer = token(role or "operator", (role,)) if role else None
    return ns_grpc.NationalServiceStub(
        channel(cluster.national_address, node=region, bearer=bearer, national=True)
    )


def _grant(
    stub: ns_grpc.NationalServiceStub, region: str, object_type: int, request_id: str
) -> code_pb2.CodeLease:
    year = datetime.now(UTC).astimezone(CHINA).year
    return stub.GrantCodeLease(
        ns.GrantCodeLeaseRequest(
            node=f"nodes/{region}", object_type=object_type, year=year, request_id=request_id
        ),
        timeout=10,
    )


def _code(lease: code_pb2.CodeLease, offset: int = 0) -> str:
    return codes.generate(lease.object_type, lease.issuer, lease.year, lease.first_serial + offset)


def _change(sequence: int, record: sync_pb2.RegistrationRecord) -> sync_pb2.Change:
    change = sync_pb2.Change(sequence=sequence, record=record)
    change.commit_time.FromDatetime(datetime.now(UTC))
    return change


class Feed:
    """Pushes one change at a time as nodes/320000's sync daemon would, reporting ``head``."""

    def __init__(self, cluster: Cluster) -> None:
        self.stub = cluster.sync(node="320000")

    def push(self, *changes: sync_pb2.Change, head: int = 0) -> sync_pb2.ChangeAck:
        batch = sync_pb2.ChangeBatch(
            node="nodes/320000", changes=changes, head_sequence=head or max(c.sequence for c in changes)
        )
        [ack] = list(self.stub.PushChanges(iter([batch]), timeout=10))
        return ack


def _assigned(cluster: Cluster) -> set[str]:
    with sqlite3.connect(cluster.root / "national.db") as conn:
        return {code for (code,) in conn.execute("SELECT code FROM code_assignments")}


def test_only_a_code_given_from_the_nodes_own_lease_while_the_national_node_was_silent_is_entered(
    cluster: Cluster,
) -> None:
    cluster.own_nodes = ("320000", "440000")
    _national(cluster, REGISTRY_CLOCK_SPEED="1")
    jiangsu, guangdong = _as(cluster, "320000"), _as(cluster, "440000")

    # Granting: idempotent by request id, two open leases of a namespace at most, own node only.
    first = _grant(jiangsu, "320000", 1, "lease-a")
    assert _grant(jiangsu, "320000", 1, "lease-a") == first
    second = _grant(jiangsu, "320000", 1, "lease-b")
    assert second.first_serial == first.last_serial + 1  # taken from the namespace's counter
    with pytest.raises(grpc.RpcError) as error:
        _grant(jiangsu, "320000", 1, "lease-c")
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION  # type: ignore[attr-defined]
    assert "CODE_LEASES_OPEN" in str(error.value.trailing_metadata())  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as error:
        _grant(guangdong, "320000", 1, "stolen")  # Guangdong asks for a lease of Jiangsu's
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as error:
        guangdong.ListCodeLeases(ns.ListCodeLeasesRequest(node="nodes/320000"), timeout=5)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    with pytest.raises(grpc.RpcError) as error:
        jiangsu.RevokeCodeLease(ns.RevokeCodeLeaseRequest(name=first.name, reason="mine"), timeout=5)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED  # type: ignore[attr-defined]
    other_type = _grant(jiangsu, "320000", 2, "lease-type-2")
    foreign = _grant(guangdong, "440000", 1, "lease-gd")
    # The lease as signed: the province checks it with the log's verifier keys.
    keys = trust().log_verifier_keys_file.read_text().split()
    entry = open_lease(first.signed_lease, keys)
    assert (entry["node"], entry["first_serial"], entry["last_serial"]) == (
        "nodes/320000",
        first.first_serial,
        first.last_serial,
    )
    listed = jiangsu.ListCodeLeases(ns.ListCodeLeasesRequest(node="nodes/320000"), timeout=5).code_leases
    assert {lease.name for lease in listed} == {first.name, second.name, other_type.name}

    # A coordinator lists the leases and revokes the second one, on the command line.
    where = cluster.national_address
    bearer = token("coordinator-wu", ("coordinator",))
    shown = registryctl(where, "codes", "leases", bearer=bearer, national=where, json_output=False)
    assert shown.returncode == 0 and "4 code leases" in shown.stdout, shown.stderr
    revoked = json_format.Parse(
        registryctl(
            where,
            "codes",
            "revoke-lease",
            second.name,
            "--reason",
            "the node's key was exposed",
            bearer=bearer,
            national=where,
        ).stdout,
        code_pb2.CodeLease(),
    )
    assert (revoked.name, revoked.state) == (second.name, code_pb2.CodeLease.REVOKED)
    again = _as(cluster, None, "coordinator").RevokeCodeLease(
        ns.RevokeCodeLeaseRequest(name=second.name, reason="again"), timeout=5
    )
    assert again.revoke_reason == "the node's key was exposed"  # revoking again changes nothing

    feed = Feed(cluster)
    a = awaiting_code("nodes/320000/registrations/leased-a")
    assert feed.push(_change(1, a)).acknowledged_sequence == 1
    time.sleep(4.5)  # the national node hears nothing from the node: a silence long enough

    before = _assigned(cluster)
    attacks = {
        "outside every lease": codes.generate(1, "320000", first.year, first.last_serial + 5000),
        "another node's lease": _code(foreign),
        "another object type": _code(other_type),
        "a revoked lease": _code(second),
    }
    for attack, code in attacks.items():
        ack = feed.push(_change(2, activated(a, code)))
        assert ack.acknowledged_sequence == 1 and ack.refused, attack
    assert _assigned(cluster) == before, "a refused code was recorded"

    honest = _code(first)
    ack = feed.push(_change(2, activated(a, honest)))
    assert (ack.acknowledged_sequence, list(ack.refused)) == (2, [])
    assignment = jiangsu.GetCodeAssignment(ns.GetCodeAssignmentRequest(name=f"codes/{honest}"), timeout=5)
    assert (assignment.code_lease, assignment.registration) == (first.name, a.registration.name)

    # Live link: a second registration with the same code, and a fresh lease serial while reachable.
    b = awaiting_code("nodes/320000/registrations/leased-b")
    assert feed.push(_change(3, b)).acknowledged_sequence == 3
    for code in (honest, _code(first, 1)):
        ack = feed.push(_change(4, activated(b, code)))
        assert ack.acknowledged_sequence == 3 and ack.refused, code
    assert "while the national node was unreachable" in ack.refused[0]
    assert _assigned(cluster) == before | {honest}

    # The revoked lease is settled: every serial of it recorded never used.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        settled = [e for e in log_entries(cluster.national_address) if e["kind"] == "code_lease_settlement"]
        if settled:
            break
        time.sleep(0.3)
    assert settled and settled[0]["code_lease"] == second.name
    assert (settled[0]["used"], settled[0]["unused"]) == (0, f"{second.first_serial}-{second.last_serial}")
    entries = log_entries(cluster.national_address)
    kinds = [e["kind"] for e in entries]
    assert kinds.count("code_lease") == 4 and kinds.count("code_lease_revocation") == 1
    [leased] = [e for e in entries if e["kind"] == "code_assignment"]
    assert (leased["code"], leased["code_lease"], leased["sequence"]) == (honest, first.name, 2)
    assert account(entries)[("320000", "PUBLIC_DATA_RESOURCE", first.year % 100)] == {
        "assigned": 0,
        "leased_used": 1,
        "open": first.last_serial - first.first_serial,
        "never_used": second.last_serial - second.first_serial + 1,
    }


#: The outage in CI; ``python -m benchmarks.offline_coding`` runs the same scenario for 60 s.
OUTAGE_SECONDS = 15.0


@pytest.mark.slow
def test_a_province_codes_through_a_national_outage_under_load_and_every_code_verifies_after(
    cluster: Cluster, report: Callable[[str], None]
) -> None:
    outage = run_outage(cluster, OUTAGE_SECONDS)
    report(outage.summary())
    jiangsu = outage.namespaces[("320000", "PUBLIC_DATA_RESOURCE", 27)]
    assert jiangsu["leased_used"] == outage.coded_offline
    assert jiangsu["assigned"] > 0, "the province also coded online, before and after the outage"
