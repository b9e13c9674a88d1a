"""The authorisation policy, its scopes, and how a call's credentials become a principal.

The policy is tested as an operator writes it (TOML files, including broken ones) and as the boundary
asks it (``authorize`` per role); the authenticator with real certificates of a real CA and real
tokens. The same rules over real gRPC and mutual TLS are in ``tests/integration/test_trust.py``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from common.errors import PermissionDenied, RegistryError, Unauthenticated
from common.rpc.auth import Authenticator, Proof, RevocationFile
from common.rpc.security import CONTRACT_METHODS
from common.security import pki
from common.security.local import AUDIENCE, DEVELOPMENT_ISSUER, LocalTrust
from common.security.policy import Credential, Grant, Policy, PolicyError, Scope
from common.security.scope import (
    all_own,
    own_region,
    require_own_node,
    require_own_subject,
    visible_subjects,
)
from common.security.tokens import Principal, TokenIssuer, TokenVerifier

POLICY = Policy.load(methods=CONTRACT_METHODS)
POLICY_TEXT = Path(__file__).resolve().parents[2].joinpath("common/security/policy.toml").read_text()


def person(*roles: str, subjects: tuple[str, ...] = ()) -> Principal:
    return Principal(
        subject="p-1",
        name="p",
        roles=frozenset(roles),
        subjects=frozenset(subjects),
        issuer=DEVELOPMENT_ISSUER,
        expires=datetime.now(UTC) + timedelta(hours=1),
    )


def test_the_built_in_policy_names_only_methods_of_the_contract_and_grants_every_method_to_someone() -> None:
    granted = {method for role in POLICY.roles.values() for method in role.grants}
    assert granted <= CONTRACT_METHODS
    # Nothing of the contract is unreachable by every role: a method nobody may call is a mistake.
    assert CONTRACT_METHODS - granted == set()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[roles.public.grants]\n"NationalService.VerifyCode" = "everything"\n', "unknown scope"),
        ('[roles.public.grants]\n"NationalService.VerifyCodes" = "any"\n', "do not exist"),
        (
            '[roles.clerk]\ncredential = "token"\n'
            '[roles.clerk.grants]\n"NationalService.VerifyCode" = "any"\n',
            "no role 'public'",
        ),
        # A role that leaves its credential open (a policy written before roles said it) is refused:
        # read as a token role, "node" would be granted to tokens.
        (
            '[roles.public]\n[roles.node.grants]\n"SyncService.GetLedgerRecords" = "own_node"\n',
            "credential must be 'token' or 'certificate', not None",
        ),
        ("[roles.public]\ngrant = {}\n", "only 'description', 'credential' and 'grants'"),
        ('[roles.public]\n[roles.clerk]\ncredential = "password"\n', "credential must be 'token' or"),
        ('[roles.public]\ncredential = "token"\n', "takes no credential"),
        ("[users]\n", "unknown keys"),
        ("[roles.public\n", "not valid TOML"),
    ],
)
def test_a_broken_policy_file_is_refused_with_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=message):
        Policy.load(path, methods=CONTRACT_METHODS)


def test_without_credentials_only_the_public_methods_pass_and_the_rest_ask_for_credentials() -> None:
    anonymous = Principal.anonymous()
    assert POLICY.authorize(anonymous, "NationalService.VerifyCode") == Grant("public", Scope.ANY)
    assert POLICY.authorize(anonymous, "RegistrationService.CreateObjection").role == "public"
    with pytest.raises(Unauthenticated) as refused:
        POLICY.authorize(anonymous, "RegistrationService.AcceptApplication")
    assert refused.value.reason == "CREDENTIALS_REQUIRED"
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED


def test_a_person_without_the_role_is_refused_naming_them_and_their_roles() -> None:
    with pytest.raises(PermissionDenied) as refused:
        POLICY.authorize(person("clerk"), "RegistrationService.ApproveApplication")
    assert refused.value.reason == "ROLE_NOT_ALLOWED"
    assert refused.value.metadata == {"method": "RegistrationService.ApproveApplication", "principal": "p-1"}
    assert "roles: clerk" in refused.value.message


def test_the_broadest_grant_among_the_callers_roles_wins() -> None:
    applicant = person("applicant", subjects=("91320106MA1XXXXX0X",))
    assert POLICY.authorize(applicant, "RegistrationService.GetRegistration").scope == Scope.OWN_SUBJECTS
    both = person("applicant", "clerk")
    assert POLICY.authorize(both, "RegistrationService.GetRegistration") == Grant("clerk", Scope.ANY)


def test_a_token_naming_a_role_the_policy_does_not_know_gains_nothing() -> None:
    with pytest.raises(PermissionDenied):
        POLICY.authorize(person("root", "admin", "*"), "SyncService.OnboardNode")


def test_a_node_may_act_for_itself_only() -> None:
    node = Principal.node("320000")
    grant = POLICY.authorize(node, "NationalService.AssignCode")
    assert grant == Grant("node", Scope.OWN_NODE)
    require_own_node(node, grant, "320000", field="node")
    with pytest.raises(PermissionDenied) as refused:
        require_own_node(node, grant, "440000", field="node")
    assert refused.value.reason == "NOT_YOUR_NODE" and refused.value.metadata["field"] == "node"
    assert all_own(node, grant, ["320000", "320000"]) and not all_own(node, grant, ["320000", "440000"])
    # A coordinator's grant is not limited to one node.
    coordinator = person("coordinator")
    require_own_node(
        coordinator, POLICY.authorize(coordinator, "SyncService.GetSyncState"), "440000", field="node"
    )


def test_an_applicant_sees_and_acts_on_its_own_subjects_only() -> None:
    mine, other = "91320106MA1XXXXX0X", "91320106MA1YYYYY0Y"
    applicant = person("applicant", subjects=(mine,))
    grant = POLICY.authorize(applicant, "RegistrationService.GetRegistration")
    require_own_subject(applicant, grant, mine, field="name")
    with pytest.raises(PermissionDenied) as refused:
        require_own_subject(applicant, grant, other, field="name")
    assert refused.value.reason == "NOT_YOUR_SUBJECT"
    assert visible_subjects(applicant, grant) == {mine}
    clerk = person("clerk")
    assert visible_subjects(clerk, POLICY.authorize(clerk, "RegistrationService.ListRegistrations")) is None


def test_a_token_naming_a_role_only_a_certificate_proves_is_refused_whatever_it_asks() -> None:
    # The attack: a token with the role "node" read another province's ledger records and asked
    # for duplicates. Roles a certificate proves never come from a token, alone or beside others.
    certificate_roles = POLICY.role_names(Credential.CERTIFICATE)
    assert certificate_roles == ["node"]
    for roles in (("node",), ("node", "coordinator"), ("clerk", "node")):
        for method in (
            "SyncService.GetLedgerRecords",
            "NationalService.FindDuplicates",
            "NationalService.VerifyCode",
        ):
            with pytest.raises(Unauthenticated) as refused:
                POLICY.authorize(person(*roles), method)
            assert refused.value.reason == "TOKEN_CLAIMS", (roles, method)
    # A node holds it by its certificate, and carries no role a token could imitate.
    node = Principal.node("320000")
    assert node.roles == frozenset() and POLICY.held_roles(node) == {"node"}
    assert POLICY.authorize(node, "NationalService.FindDuplicates") == Grant("node", Scope.ANY)


def test_a_scope_whose_caller_lacks_what_it_compares_refuses_and_never_passes(tmp_path: Path) -> None:
    # A policy (an operator's own) granting a token role a node's scope: a person has no region.
    own = tmp_path / "policy.toml"
    own.write_text(
        POLICY_TEXT.replace(
            "[roles.clerk.grants]\n", '[roles.clerk.grants]\n"SyncService.GetLedgerRecords" = "own_node"\n'
        )
    )
    policy = Policy.load(own, methods=CONTRACT_METHODS)
    with pytest.raises(PermissionDenied) as refused:
        policy.authorize(person("clerk"), "SyncService.GetLedgerRecords")
    assert refused.value.reason == "NOT_YOUR_NODE"
    # An applicant whose token names no subject.
    for method in ("RegistrationService.GetRegistration", "RegistrationService.ListRegistrations"):
        with pytest.raises(PermissionDenied) as refused:
            POLICY.authorize(person("applicant"), method)
        assert refused.value.reason == "NOT_YOUR_SUBJECT"
    # The scope checks themselves fail closed, whatever the policy let through.
    clerk = person("clerk")
    own_node, own_subjects = Grant("clerk", Scope.OWN_NODE), Grant("applicant", Scope.OWN_SUBJECTS)
    for check in (
        lambda: own_region(clerk, own_node),
        lambda: require_own_node(clerk, own_node, "320000", field="node"),
        lambda: visible_subjects(clerk, own_subjects),
        lambda: require_own_subject(clerk, own_subjects, "91320106MA1XXXXX0X", field="name"),
    ):
        with pytest.raises(PermissionDenied):
            check()
    assert not all_own(clerk, own_node, [])
    assert own_region(Principal.node("320000"), Grant("node", Scope.OWN_NODE)) == "320000"
    assert own_region(clerk, Grant("coordinator", Scope.ANY)) is None


def test_the_policy_table_lists_every_grant_once() -> None:
    rows = POLICY.table()
    assert rows == sorted(rows) and len(rows) == len(set(rows))
    assert ("RegistrationService.ApproveApplication", "reviewer", "any") in rows
    assert not any(role == "clerk" and method.endswith("ApproveApplication") for method, role, _ in rows)


# -- the authenticator --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> LocalTrust:
    trust = LocalTrust(tmp_path_factory.mktemp("trust"))
    trust.ensure(["320000"], clients=("registryctl",))
    trust.issuer()
    return trust


def authenticator(local: LocalTrust, *, cache: bool = True) -> Authenticator:
    verifier = TokenVerifier.from_jwks_file(local.jwks_file, issuer=DEVELOPMENT_ISSUER, audience=AUDIENCE)
    return Authenticator(verifier, RevocationFile(local.crl_file, local.ca_file), cache_tokens=cache)


def context(pem: bytes) -> dict[str, list[bytes]]:
    """What ``context.auth_context()`` holds for a verified mutual-TLS peer."""
    return {"x509_pem_cert": [pem], "transport_security_type": [b"ssl"]}


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def test_a_node_is_who_its_certificate_says_and_a_tool_without_a_token_is_anonymous(
    local: LocalTrust,
) -> None:
    auth = authenticator(local)
    node = auth.identify(context(local.cert_file("320000").read_bytes()), [])
    assert (node.kind, node.region) == ("node", "320000")
    tool = auth.identify(context(local.client_cert_file("registryctl").read_bytes()), [])
    assert tool.kind == "anonymous"


def test_a_token_says_who_acts_and_metadata_naming_someone_else_does_not(local: LocalTrust) -> None:
    auth = authenticator(local)
    token = local.issuer().issue("zhang.san", name="张三", roles=["clerk"])
    metadata = [("registry-actor", "system"), *bearer(token)]
    principal = auth.identify(context(local.client_cert_file("registryctl").read_bytes()), metadata)
    assert (principal.subject, principal.roles) == ("zhang.san", frozenset({"clerk"}))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("Basic dXNlcjpwYXNz", "TOKEN_MALFORMED"),
        ("Bearer not.a.jwt", "TOKEN_MALFORMED"),
        ("Bearer ", "TOKEN_MALFORMED"),
    ],
)
def test_bad_authorization_metadata_is_unauthenticated(local: LocalTrust, value: str, reason: str) -> None:
    with pytest.raises(Unauthenticated) as refused:
        authenticator(local).identify(
            context(local.cert_file("320000").read_bytes()), [("authorization", value)]
        )
    assert refused.value.reason == reason


def test_a_revoked_certificate_is_refused_whoever_holds_it_even_with_a_valid_token(
    tmp_path: Path, local: LocalTrust
) -> None:
    trust = LocalTrust(tmp_path)
    trust.ensure(["440000"], clients=())
    trust.issuer()
    auth = authenticator(trust)
    pem = trust.cert_file("440000").read_bytes()
    assert auth.identify(context(pem), []).region == "440000"
    trust.revoke("440000")
    token = trust.issuer().issue("zhang.san", name="x", roles=["coordinator"])
    # The revocation file is looked at once a second.
    deadline = datetime.now(UTC) + timedelta(seconds=3)
    while True:
        try:
            auth.identify(context(pem), bearer(token))
        except RegistryError as error:
            assert error.reason == "CERT_REVOKED"
            break
        assert datetime.now(UTC) < deadline, "the revocation did not take effect"


def test_a_verified_token_is_remembered_but_never_past_its_expiry(local: LocalTrust) -> None:
    verifier = TokenVerifier.from_jwks_file(
        local.jwks_file, issuer=DEVELOPMENT_ISSUER, audience=AUDIENCE, leeway=0
    )
    auth = Authenticator(verifier, None)
    pem = local.cert_file("320000").read_bytes()
    short = local.issuer().issue("li.si", name="x", roles=["reviewer"], ttl=timedelta(seconds=2))
    first = auth.identify(context(pem), bearer(short))
    assert auth.identify(context(pem), bearer(short)) is first  # remembered: not verified again
    time.sleep(max(0.0, (first.expires - datetime.now(UTC)).total_seconds()) + 0.1)
    with pytest.raises(Unauthenticated) as refused:
        auth.identify(context(pem), bearer(short))
    assert refused.value.reason == "TOKEN_EXPIRED"


def test_a_token_of_an_unknown_key_is_refused_also_after_a_good_one_was_cached(local: LocalTrust) -> None:
    auth = authenticator(local)
    pem = local.cert_file("320000").read_bytes()
    good = local.issuer().issue("li.si", name="x", roles=["reviewer"])
    auth.identify(context(pem), bearer(good))
    stranger = TokenIssuer.generate(DEVELOPMENT_ISSUER, AUDIENCE).issue("li.si", name="x", roles=["reviewer"])
    with pytest.raises(Unauthenticated) as refused:
        auth.identify(context(pem), bearer(stranger))
    assert refused.value.reason == "TOKEN_UNKNOWN_KEY"


def test_a_certificate_of_the_ca_that_names_no_registry_identity_is_refused(local: LocalTrust) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca = local.ca()
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "320000")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier("spiffe://example.org/nodes/320000")]
            ),
            critical=False,
        )
        .sign(ca.private_key, hashes.SHA256())
    )
    with pytest.raises(Unauthenticated) as refused:
        authenticator(local).identify(context(certificate.public_bytes(serialization.Encoding.PEM)), [])
    assert refused.value.reason == "SPIFFE_WRONG_TRUST_DOMAIN"
    assert pki.certificate_info(certificate.public_bytes(serialization.Encoding.PEM)).region is None


def test_what_a_call_rests_on_is_checked_again_revoked_expired_or_token_expired(
    tmp_path: Path, local: LocalTrust
) -> None:
    trust = LocalTrust(tmp_path)
    trust.ensure(["440000"], clients=())
    trust.issuer()
    auth = Authenticator(None, RevocationFile(trust.crl_file, trust.ca_file, look_every=0))
    pem = trust.cert_file("440000").read_bytes()
    principal, proof = auth.authenticate(context(pem), [])
    assert proof.certificate_expires == principal.expires and proof.token_expires is None
    auth.check(proof)
    later = proof.certificate_expires + timedelta(seconds=1)  # type: ignore[operator]
    with pytest.raises(Unauthenticated) as refused:
        auth.check(proof, now=later)
    assert refused.value.reason == "CERT_EXPIRED"
    expired = Proof(proof.serial, proof.certificate_expires, datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(Unauthenticated) as refused:
        auth.check(expired)
    assert refused.value.reason == "TOKEN_EXPIRED"
    trust.revoke("440000")
    with pytest.raises(Unauthenticated) as refused:
        auth.check(proof)
    assert refused.value.reason == "CERT_REVOKED"
