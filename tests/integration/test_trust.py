"""Trust, over real mutual TLS against real node processes with the built-in policy (as deployed).

* Every RPC × every role (and a caller with no token, and a node): allowed where the policy allows,
  refused with the right code everywhere else, and a refusal writes nothing.
* Every attack the review found, now refused, with the ledger, the directory, the codes and the
  province's database unchanged.
* Bad credentials: plaintext, a certificate of another CA, a revoked certificate, an expired token, a
  token signed by an unknown key.
* An applicant for subject A cannot see or change subject B's registrations.
* Rotation: a node's certificate renewed while it serves and syncs, without a restart or a lost change.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor

from common.errors import RegistryError
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import provincial_service_pb2 as ps
from common.gen.registry.v1 import provincial_service_pb2_grpc as ps_grpc
from common.gen.registry.v1 import registration_pb2 as r
from common.gen.registry.v1 import registration_service_pb2 as rs
from common.gen.registry.v1 import registration_service_pb2_grpc as rs_grpc
from common.gen.registry.v1 import sync_pb2
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from common.rpc.security import CONTRACT_METHODS
from common.security.pki import certificate_info, create_ca, issue_node_certificate
from common.security.policy import Policy, PolicyError
from common.security.tokens import Principal, TokenIssuer
from tests.cluster import Cluster
from tests.factories import make_content, make_uscc
from tests.nodes import NodeProcess, wait_until
from tests.rpc_support import NATIONAL_SERVICES, PROVINCIAL_SERVICES, Answer, call_raw, methods
from tests.trust import STAFF, channel, token, trust

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROLES = ("applicant", *STAFF)
POLICY = Policy.load(methods=CONTRACT_METHODS)
REFUSED = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def _counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}  # noqa: S608
        if "code_counters" in tables:
            counts["serials"] = conn.execute(
                "SELECT coalesce(sum(last_serial), 0) FROM code_counters"
            ).fetchone()[0]
        if "sync_states" in tables:
            counts["acknowledged"] = conn.execute(
                "SELECT coalesce(sum(acknowledged), 0) FROM sync_states"
            ).fetchone()[0]
        if "nodes" in tables:
            counts["directory"] = hash(
                tuple(conn.execute("SELECT region, mode, address FROM nodes ORDER BY region"))
            )
        if "ledger" in tables:
            counts["ledger"] = hash(
                tuple(conn.execute("SELECT uid, node, code, revision, digest FROM ledger ORDER BY uid"))
            )
    return counts


@pytest.fixture
def nodes(cluster: Cluster) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    cluster.own_nodes = ("320000", "440000")
    national, province = cluster.national(), cluster.province("320000")
    national.strict = province.strict = True
    national.start()
    province.start()
    wait_until(lambda: cluster.state("320000").HasField("last_contact_time"), message="the link is up")
    yield national, province


def _principal(role: str) -> Principal:
    return Principal(
        subject=f"a-{role}",
        name=role,
        roles=frozenset({role}),
        subjects=frozenset(),
        issuer="",
        expires=datetime.max.replace(tzinfo=UTC),
    )


def _expected(caller: str, method: MethodDescriptor) -> grpc.StatusCode | None:
    """The refusal the policy calls for, or None when the call is let through to the servicer."""
    short = f"{method.containing_service.name}.{method.name}"
    if caller == "anonymous":
        principal = Principal.anonymous()
    elif caller == "node":
        principal = Principal.node("440000")
    else:
        principal = _principal(caller)
    try:
        POLICY.authorize(principal, short)
    except RegistryError as error:
        return error.code
    return None


def _channel_as(caller: str, address: str) -> grpc.Channel:
    if caller == "anonymous":
        return channel(address)
    if caller == "node":
        return channel(address, node="440000")
    return channel(address, bearer=token(f"a-{caller}", (caller,)))


def test_every_rpc_for_every_role_is_allowed_or_refused_as_the_policy_says_and_a_refusal_writes_nothing(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, province = nodes
    dbs = (cluster.root / "national.db", cluster.root / "320000.db")
    checked = 0
    for caller in ("anonymous", "node", *ROLES):
        for node, services in ((national, NATIONAL_SERVICES), (province, PROVINCIAL_SERVICES)):
            link = _channel_as(caller, node.address)
            for method in methods(services):
                empty = message_factory.GetMessageClass(method.input_type)().SerializeToString()
                expected = _expected(caller, method)
                before = [_counts(db) for db in dbs] if expected else None
                answer: Answer = call_raw(link, method, [empty], timeout=10)
                if expected is None:
                    assert answer.code not in REFUSED, (caller, method.full_name, answer)
                else:
                    assert answer.code == expected, (caller, method.full_name, answer)
                    assert [_counts(db) for db in dbs] == before, (caller, method.full_name)
                checked += 1
    assert checked == 8 * (len(list(methods(NATIONAL_SERVICES))) + len(list(methods(PROVINCIAL_SERVICES))))


#: Hand-written, not read from the policy: what each role must never do.
NEVER = {
    "anonymous": [
        "AcceptApplication",
        "ApproveApplication",
        "AnnounceApplication",
        "CreateRegistration",
        "ListHistory",
    ],
    "applicant": [
        "AcceptApplication",
        "ApproveApplication",
        "AnnounceApplication",
        "ResolveObjection",
        "ListDueItems",
    ],
    "clerk": [
        "ApproveApplication",
        "RejectApplication",
        "AnnounceApplication",
        "CreateRegistration",
        "ResolveObjection",
    ],
    "reviewer": ["AcceptApplication", "ReturnApplication", "AnnounceApplication", "CreateRegistration"],
    "registrar": ["AcceptApplication", "ApproveApplication", "CreateRegistration"],
    "auditor": [
        m.name
        for m in NATIONAL_SERVICES[1].methods
        if not m.name.startswith(("Get", "List", "Lookup")) and m.name != "CreateObjection"
    ],
}


@pytest.mark.parametrize("caller", sorted(NEVER))
def test_the_policy_keeps_each_role_to_its_part(caller: str) -> None:
    for name in NEVER[caller]:
        method = NATIONAL_SERVICES[1].methods_by_name[name]
        assert _expected(caller, method) in REFUSED, (caller, name)
    # And the others may not do the coordinators' work.
    for name in ("OnboardNode", "TransferRegistration"):
        assert _expected(caller, NATIONAL_SERVICES[2].methods_by_name[name]) in REFUSED, (caller, name)


def test_a_policy_naming_a_method_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text('[roles.public.grants]\n"RegistrationService.AcceptAplication" = "any"\n')
    with pytest.raises(PolicyError, match="do not exist"):
        Policy.load(bad, methods=CONTRACT_METHODS)


# -- the attacks -----------------------------------------------------------------------------------


def _error(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def _apply(province: NodeProcess, subject: str) -> r.Registration:
    applicant = rs_grpc.RegistrationServiceStub(
        channel(province.address, bearer=token("applicant-a", ("applicant",), (subject,)))
    )
    return applicant.CreateRegistration(
        rs.CreateRegistrationRequest(
            parent="nodes/320000",
            registration=r.Registration(object_type=1, content=make_content(subject)),
            request_id=str(uuid.uuid4()),
        ),
        timeout=10,
    )


def test_writes_without_credentials_or_with_a_forged_actor_are_refused(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    _, province = nodes
    name = _apply(province, make_uscc("320106")).name
    before = _counts(cluster.root / "320000.db")
    anonymous = rs_grpc.RegistrationServiceStub(channel(province.address))
    for forged in ((), (("registry-actor", "system"),), (("registry-actor-bin", "张三".encode()),)):
        error = _error(
            lambda f=forged: anonymous.AcceptApplication(
                rs.AcceptApplicationRequest(name=name, request_id=str(uuid.uuid4())), metadata=f, timeout=5
            )
        )
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert _counts(cluster.root / "320000.db") == before


def _change(record: sync_pb2.RegistrationRecord, sequence: int) -> sync_pb2.Change:
    change = sync_pb2.Change(sequence=sequence, record=record)
    change.commit_time.FromDatetime(datetime.now(UTC))
    return change


def test_no_one_but_a_province_itself_writes_its_registrations_into_the_ledger(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, province = nodes
    reg = _apply(province, make_uscc("320106"))
    wait_until(
        lambda: cluster.state("320000").lag_changes == 0 and cluster.state("320000").acknowledged_sequence > 0
    )
    ledger = cluster.root / "national.db"
    before, acknowledged = _counts(ledger), cluster.state("320000").acknowledged_sequence
    forged_record = sync_pb2.RegistrationRecord(registration=reg, revision=999)
    forged_record.registration.content.data_name = "FORGED"
    forged_record.registration.state = r.Registration.DEREGISTERED
    batch = sync_pb2.ChangeBatch(node="nodes/320000", changes=[_change(forged_record, acknowledged + 1)])
    for caller in ("anonymous", "clerk", "coordinator", "node"):
        stub = ss_grpc.SyncServiceStub(_channel_as(caller, national.address))
        error = _error(lambda s=stub: list(s.PushChanges(iter([batch]), timeout=5)))
        assert error.code() in REFUSED, caller
    # Guangdong's node, naming itself, cannot change Jiangsu's registration either; nothing is acknowledged.
    guangdong = ss_grpc.SyncServiceStub(channel(national.address, node="440000", national=True))
    batch = sync_pb2.ChangeBatch(node="nodes/440000", changes=[_change(forged_record, 1)])
    [ack] = list(guangdong.PushChanges(iter([batch]), timeout=5))
    assert ack.refused and ack.acknowledged_sequence == 0
    after = _counts(ledger)
    # Guangdong's first contact is recorded (its own sync state); nothing else changed.
    assert {k: v for k, v in after.items() if k != "sync_states"} == {
        k: v for k, v in before.items() if k != "sync_states"
    }
    assert cluster.state("320000").acknowledged_sequence == acknowledged


def test_codes_never_assigned_or_of_another_province_are_refused_and_nothing_is_acknowledged(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, _ = nodes
    sync = ss_grpc.SyncServiceStub(channel(national.address, node="440000", national=True))
    subject = make_uscc("440104")
    invented = sync_pb2.RegistrationRecord(
        registration=r.Registration(
            name="nodes/440000/registrations/r-invented",
            uid=str(uuid.uuid4()),
            code="144000026000000001E",
            state=r.Registration.ACTIVE,
            object_type=1,
            content=make_content(subject),
            managing_node="nodes/440000",
        ),
        revision=2,
    )
    before = _counts(cluster.root / "national.db")
    [ack] = list(
        sync.PushChanges(
            iter([sync_pb2.ChangeBatch(node="nodes/440000", changes=[_change(invented, 1)])]), timeout=5
        )
    )
    assert ack.acknowledged_sequence == 0 and "never assigned" in ack.refused[0]
    # A code the authority assigned to a Jiangsu registration cannot be claimed by a Guangdong one.
    codes = ns_grpc.NationalServiceStub(channel(national.address, node="320000", national=True))
    code = codes.AssignCode(
        ns.AssignCodeRequest(
            node="nodes/320000",
            issuer="320000",
            object_type=r.PUBLIC_DATA_RESOURCE,
            registration="nodes/320000/registrations/r-real",
            subject_uscc=make_uscc("320106"),
            request_id=str(uuid.uuid4()),
        ),
        timeout=5,
    ).code
    invented.registration.code = code
    [ack] = list(
        sync.PushChanges(
            iter([sync_pb2.ChangeBatch(node="nodes/440000", changes=[_change(invented, 1)])]), timeout=5
        )
    )
    assert (
        ack.acknowledged_sequence == 0 and "assigned to nodes/320000/registrations/r-real" in ack.refused[0]
    )
    after = _counts(cluster.root / "national.db")
    assert after["ledger"] == before["ledger"]


def test_a_node_obtains_codes_only_in_its_own_namespace_for_its_own_registrations(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, _ = nodes
    guangdong = ns_grpc.NationalServiceStub(channel(national.address, node="440000", national=True))
    before = _counts(cluster.root / "national.db")
    in_jiangsu = ns.AssignCodeRequest(
        node="nodes/320000",
        issuer="320000",
        object_type=r.PUBLIC_DATA_RESOURCE,
        registration="nodes/320000/registrations/r-pending",
        subject_uscc=make_uscc("320106"),
        request_id=str(uuid.uuid4()),
    )
    error = _error(lambda: guangdong.AssignCode(in_jiangsu, timeout=5))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    # Naming itself, but pre-claiming Jiangsu's pending registration: refused too.
    pre_claim = ns.AssignCodeRequest()
    pre_claim.CopyFrom(in_jiangsu)
    pre_claim.node, pre_claim.issuer = "nodes/440000", "440000"
    error = _error(lambda: guangdong.AssignCode(pre_claim, timeout=5))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _counts(cluster.root / "national.db") == before


def test_only_a_coordinator_onboards_rewrites_the_directory_or_transfers(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, _ = nodes
    before = _counts(cluster.root / "national.db")
    for caller in ("anonymous", "node", "clerk", "registrar", "auditor", "applicant"):
        sync = ss_grpc.SyncServiceStub(_channel_as(caller, national.address))
        for call in (
            lambda s=sync: s.OnboardNode(
                ss.OnboardNodeRequest(node="nodes/510000", address="evil:1"), timeout=5
            ),
            lambda s=sync: s.OnboardNode(
                ss.OnboardNodeRequest(node="nodes/320000", address="evil:1"), timeout=5
            ),
            lambda s=sync: s.TransferRegistration(
                ss.TransferRegistrationRequest(
                    code="132000026000000001D", to_node="nodes/100000", request_id="x"
                ),
                timeout=5,
            ),
        ):
            assert _error(call).code() in REFUSED, caller
    assert _counts(cluster.root / "national.db") == before
    coordinator = ss_grpc.SyncServiceStub(_channel_as("coordinator", national.address))
    assert coordinator.OnboardNode(
        ss.OnboardNodeRequest(node="nodes/510000", address="10.0.0.5:50061"), timeout=5
    )


def test_the_ledger_feeds_and_histories_are_not_public(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, province = nodes
    reg = _apply(province, make_uscc("320106"))
    anonymous = ss_grpc.SyncServiceStub(channel(national.address))
    for call in (
        lambda: anonymous.LookupLedger(ss.LookupLedgerRequest(code="132000026000000001D"), timeout=5),
        lambda: anonymous.GetLedgerRecords(ss.GetLedgerRecordsRequest(uids=[reg.uid]), timeout=5),
        lambda: list(anonymous.PullChanges(ss.PullChangesRequest(node="nodes/320000"), timeout=5)),
        lambda: rs_grpc.RegistrationServiceStub(channel(province.address)).ListHistory(
            rs.ListHistoryRequest(parent=reg.name), timeout=5
        ),
    ):
        assert _error(call).code() == grpc.StatusCode.UNAUTHENTICATED
    guangdong = ss_grpc.SyncServiceStub(channel(national.address, node="440000", national=True))
    error = _error(lambda: list(guangdong.PullChanges(ss.PullChangesRequest(node="nodes/320000"), timeout=5)))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    wait_until(lambda: cluster.state("320000").lag_changes == 0)
    assert guangdong.GetLedgerRecords(ss.GetLedgerRecordsRequest(uids=[reg.uid]), timeout=5).records == []


def test_an_anonymous_or_clerical_repair_is_refused(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    _, province = nodes
    before = _counts(cluster.root / "320000.db")
    for caller in ("anonymous", "clerk", "applicant", "node"):
        stub = ps_grpc.ProvincialServiceStub(_channel_as(caller, province.address))
        error = _error(lambda s=stub: s.CheckAgreement(ps.CheckAgreementRequest(repair=True), timeout=10))
        assert error.code() in REFUSED, caller
    assert _counts(cluster.root / "320000.db") == before


# -- bad credentials ---------------------------------------------------------------------------------


def test_plaintext_a_foreign_ca_a_revoked_certificate_an_expired_or_unknown_token_are_refused(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess], tmp_path: Path
) -> None:
    national, province = nodes
    ask = ns.VerifyCodeRequest(code="132000026000000001D")  # a public method: only the transport is tested
    plaintext = ns_grpc.NationalServiceStub(grpc.insecure_channel(national.address))
    assert _error(lambda: plaintext.VerifyCode(ask, timeout=5)).code() == grpc.StatusCode.UNAVAILABLE

    other_ca = create_ca("An impostor CA")
    impostor = issue_node_certificate(other_ca, "320000")
    foreign = grpc.ssl_channel_credentials(trust().ca_file.read_bytes(), impostor.key_pem, impostor.cert_pem)
    stub = ns_grpc.NationalServiceStub(grpc.secure_channel(national.address, foreign))
    assert _error(lambda: stub.VerifyCode(ask, timeout=5)).code() == grpc.StatusCode.UNAVAILABLE

    revoked = trust().issue("650000")  # a certificate of ours for a region, then revoked
    trust().revoke_serial(revoked.serial)
    time.sleep(1.2)  # the nodes look at the revocation list once a second
    creds = grpc.ssl_channel_credentials(trust().ca_file.read_bytes(), revoked.key_pem, revoked.cert_pem)
    stub = ns_grpc.NationalServiceStub(grpc.secure_channel(national.address, creds))
    error = _error(lambda: stub.VerifyCode(ask, timeout=5))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in (error.details() or "")

    issuer = trust().issuer()
    expired = issuer.issue(
        "clerk-x",
        name="x",
        roles=["clerk"],
        now=datetime.now(UTC) - timedelta(hours=10),
        ttl=timedelta(hours=1),
    )
    unknown = TokenIssuer.generate(issuer.issuer, issuer.audience).issue("clerk-x", name="x", roles=["clerk"])
    for bad, reason in ((expired, "expired"), (unknown, "")):
        stub_r = rs_grpc.RegistrationServiceStub(channel(province.address, bearer=bad))
        error = _error(
            lambda s=stub_r: s.ListDueItems(rs.ListDueItemsRequest(parent="nodes/320000"), timeout=5)
        )
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert reason in (error.details() or "").lower()


# -- subjects ---------------------------------------------------------------------------------------


def test_an_applicant_for_one_subject_cannot_see_or_change_anothers(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    _, province = nodes
    a, b = make_uscc("320106"), make_uscc("320106")
    mine = _apply(province, a)
    other = rs_grpc.RegistrationServiceStub(
        channel(province.address, bearer=token("applicant-b", ("applicant",), (b,)))
    )
    before = _counts(cluster.root / "320000.db")
    for call in (
        lambda: other.GetRegistration(rs.GetRegistrationRequest(name=mine.name), timeout=5),
        lambda: other.ListHistory(rs.ListHistoryRequest(parent=mine.name), timeout=5),
        lambda: other.WithdrawApplication(
            rs.WithdrawApplicationRequest(name=mine.name, request_id=str(uuid.uuid4())), timeout=5
        ),
        lambda: other.ListRegistrations(
            rs.ListRegistrationsRequest(parent="nodes/320000", subject_uscc=a), timeout=5
        ),
        lambda: other.CreateRegistration(
            rs.CreateRegistrationRequest(
                parent="nodes/320000",
                registration=r.Registration(object_type=1, content=make_content(a)),
                request_id=str(uuid.uuid4()),
            ),
            timeout=5,
        ),
    ):
        error = _error(call)
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert _counts(cluster.root / "320000.db") == before
    assert (
        other.ListRegistrations(rs.ListRegistrationsRequest(parent="nodes/320000"), timeout=5).registrations
        == []
    )
    owner = rs_grpc.RegistrationServiceStub(
        channel(province.address, bearer=token("applicant-a", ("applicant",), (a,)))
    )
    listed = owner.ListRegistrations(
        rs.ListRegistrationsRequest(parent="nodes/320000"), timeout=5
    ).registrations
    assert [reg.name for reg in listed] == [mine.name]


# -- rotation -----------------------------------------------------------------------------------------


def test_a_renewed_certificate_is_used_without_a_restart_and_no_change_is_lost(
    cluster: Cluster, nodes: tuple[NodeProcess, NodeProcess]
) -> None:
    national, province = nodes
    for _ in range(3):
        _apply(province, make_uscc("320106"))
    wait_until(lambda: cluster.state("320000").lag_changes == 0)
    # The certificate the province serves and calls with now.
    old_serial = certificate_info(trust().cert_file("320000").read_bytes()).serial
    trust().renew("320000")
    trust().renew("100000")
    time.sleep(2.5)  # the province's channel looks at its files once a second and reconnects
    # The old certificate is revoked: if the province still used it, its calls would now be refused.
    trust().revoke_serial(old_serial)
    for _ in range(3):
        _apply(province, make_uscc("320106"))
    status = ps_grpc.ProvincialServiceStub(channel(province.address, bearer=token("reg", ("registrar",))))
    wait_until(
        lambda: (
            (s := status.GetSyncStatus(ps.GetSyncStatusRequest(), timeout=5)).lag_changes == 0
            and s.head_sequence == cluster.state("320000").acknowledged_sequence
            and not s.last_error
        ),
        timeout=30,
        message="sync to go on with the renewed certificates",
    )
    assert national.process is not None and national.process.poll() is None
    assert province.process is not None and province.process.poll() is None


# -- revocation reaches the provinces ------------------------------------------------------------------


def test_a_certificate_the_coordinators_revoke_is_refused_by_a_province_that_fetched_the_list(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.own_nodes = ("320000",)
    national, province = cluster.national(), cluster.province("320000")
    national.strict = province.strict = True
    # The province keeps its own copy of the list, as on a machine of its own, and fetches often.
    held = tmp_path / "province-crl.pem"
    held.write_bytes(trust().crl_file.read_bytes())
    province.env.update({"REGISTRY_TLS__CRL_FILE": str(held), "REGISTRY_TLS__CRL_REFRESH_SECONDS": "0.5"})
    national.start()
    province.start()
    tool = trust().issue_client(f"tool-{uuid.uuid4().hex[:8]}")
    creds = grpc.composite_channel_credentials(
        grpc.ssl_channel_credentials(trust().ca_file.read_bytes(), tool.key_pem, tool.cert_pem),
        grpc.access_token_call_credentials(token("clerk-r", ("clerk",))),
    )
    stub = rs_grpc.RegistrationServiceStub(grpc.secure_channel(province.address, creds))
    ask = rs.ListDueItemsRequest(parent="nodes/320000")
    stub.ListDueItems(ask, timeout=5)
    trust().revoke_serial(tool.serial)  # on the national node's list only

    def refused() -> bool:
        try:
            stub.ListDueItems(ask, timeout=5)
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in (error.details() or "")
            return True
        return False

    wait_until(refused, timeout=15, message="the province to fetch the new list and refuse the certificate")
    assert held.read_bytes() == trust().crl_file.read_bytes()
