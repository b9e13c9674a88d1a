"""The federation's PKI: CA, node certificates, SPIFFE identities, revocation, and mutual TLS in gRPC."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from common.security import identity, pki
from common.security.identity import IdentityError
from common.security.pki import CertifiedKey, PKIError

TIMEOUT = 5.0


@pytest.fixture(scope="module")
def ca() -> CertifiedKey:
    return pki.create_ca()


@pytest.fixture(scope="module")
def other_ca() -> CertifiedKey:
    # Same name as ours: only the key tells them apart.
    return pki.create_ca()


@pytest.fixture(scope="module")
def jiangsu(ca: CertifiedKey) -> CertifiedKey:
    return pki.issue_node_certificate(ca, "320000", hosts=("localhost", "127.0.0.1", "js.registry.example"))


def _certificate_with_uris(ca: CertifiedKey, uris: list[str]) -> bytes:
    """A certificate ``ca`` signs like a node certificate, but with exactly these URI SANs."""
    ca_certificate = ca.certificate
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(uri) for uri in uris]
    names.append(x509.DNSName("localhost"))
    ca_ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")]))
        .issuer_name(ca_certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca.private_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


# ------------------------------------------------------------------------------------------- identities


def test_node_spiffe_id_round_trips_for_every_region() -> None:
    from common.regions import all_regions

    for region in all_regions():
        spiffe_id = identity.node_spiffe_id(region.code)
        assert spiffe_id == f"spiffe://registry.data.gov.cn/nodes/{region.code}"
        assert identity.parse_spiffe_id(spiffe_id) == region.code


def test_node_spiffe_id_refuses_a_non_region() -> None:
    with pytest.raises(IdentityError) as caught:
        identity.node_spiffe_id("999999")
    assert caught.value.reason == "SPIFFE_UNKNOWN_REGION"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("spiffe://evil.example/nodes/320000", "SPIFFE_WRONG_TRUST_DOMAIN"),
        ("spiffe://REGISTRY.DATA.GOV.CN/nodes/320000", "SPIFFE_WRONG_TRUST_DOMAIN"),
        ("spiffe://registry.data.gov.cn:443/nodes/320000", "SPIFFE_WRONG_TRUST_DOMAIN"),
        ("spiffe://user@registry.data.gov.cn/nodes/320000", "SPIFFE_WRONG_TRUST_DOMAIN"),
        ("spiffe://registry.data.gov.cn.evil.example/nodes/320000", "SPIFFE_WRONG_TRUST_DOMAIN"),
        ("spiffe://registry.data.gov.cn/nodes/999999", "SPIFFE_UNKNOWN_REGION"),
        ("spiffe://registry.data.gov.cn/nodes/32000", "SPIFFE_UNKNOWN_REGION"),
        ("spiffe://registry.data.gov.cn/nodes/320106", "SPIFFE_UNKNOWN_REGION"),
        ("spiffe://registry.data.gov.cn/nodes/３２００００", "SPIFFE_MALFORMED"),
        ("spiffe://registry.data.gov.cn/nodes/320000/", "SPIFFE_NOT_A_NODE"),
        ("spiffe://registry.data.gov.cn/nodes//320000", "SPIFFE_NOT_A_NODE"),
        ("spiffe://registry.data.gov.cn/people/320000", "SPIFFE_NOT_A_NODE"),
        ("spiffe://registry.data.gov.cn/nodes/320000/extra", "SPIFFE_NOT_A_NODE"),
        ("spiffe://registry.data.gov.cn", "SPIFFE_NOT_A_NODE"),
        ("spiffe://registry.data.gov.cn/nodes/320000?x=1", "SPIFFE_MALFORMED"),
        ("spiffe://registry.data.gov.cn/nodes/320000#f", "SPIFFE_MALFORMED"),
        ("SPIFFE://registry.data.gov.cn/nodes/320000", "SPIFFE_MALFORMED"),
        ("https://registry.data.gov.cn/nodes/320000", "SPIFFE_MALFORMED"),
        ("", "SPIFFE_MALFORMED"),
        ("spiffe://registry.data.gov.cn/nodes/" + "1" * 5000, "SPIFFE_MALFORMED"),
    ],
)
def test_other_spiffe_ids_are_refused_with_a_reason(uri: str, reason: str) -> None:
    with pytest.raises(IdentityError) as caught:
        identity.parse_spiffe_id(uri)
    assert caught.value.reason == reason
    assert isinstance(caught.value, ValueError)
    assert len(caught.value.message) < 300


def test_a_node_certificate_names_its_region(ca: CertifiedKey, jiangsu: CertifiedKey) -> None:
    assert identity.peer_identity(jiangsu.cert_pem) == "320000"
    assert identity.peer_identity(jiangsu.cert_pem.decode("ascii")) == "320000"
    # a chain, leaf first
    assert identity.peer_identity(jiangsu.cert_pem + ca.cert_pem) == "320000"
    national = pki.issue_node_certificate(ca, "100000")
    assert identity.peer_identity(national.cert_pem) == "100000"


@pytest.mark.parametrize(
    ("uris", "reason"),
    [
        (
            ["spiffe://registry.data.gov.cn/nodes/320000", "spiffe://registry.data.gov.cn/nodes/440000"],
            "CERT_MULTIPLE_URIS",
        ),
        (["spiffe://registry.data.gov.cn/nodes/320000", "https://example.org/"], "CERT_MULTIPLE_URIS"),
        ([], "CERT_NO_SPIFFE_ID"),
        (["spiffe://evil.example/nodes/320000"], "SPIFFE_WRONG_TRUST_DOMAIN"),
    ],
)
def test_certificates_without_exactly_one_node_identity_are_refused(
    ca: CertifiedKey, uris: list[str], reason: str
) -> None:
    with pytest.raises(IdentityError) as caught:
        identity.peer_identity(_certificate_with_uris(ca, uris))
    assert caught.value.reason == reason


def test_a_ca_certificate_has_no_identity_and_garbage_is_malformed(ca: CertifiedKey) -> None:
    with pytest.raises(IdentityError) as caught:
        identity.peer_identity(ca.cert_pem)
    assert caught.value.reason == "CERT_NO_SPIFFE_ID"
    for garbage in (
        b"",
        b"not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ):
        with pytest.raises(IdentityError) as caught:
            identity.peer_identity(garbage)
        assert caught.value.reason == "CERT_MALFORMED"
    with pytest.raises(IdentityError) as caught:
        identity.identity_from_auth_context({"transport_security_type": [b"ssl"]})
    assert caught.value.reason == "NO_PEER_CERTIFICATE"


# --------------------------------------------------------------------------------------- certificates


def test_the_ca_certificate_is_a_constrained_ca(ca: CertifiedKey) -> None:
    certificate = ca.certificate
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    assert ca.serial == certificate.serial_number
    assert ca.not_after - datetime.now(UTC) > timedelta(days=3600)
    assert "key_pem" not in repr(ca) and "PRIVATE" not in repr(ca)
    info = pki.certificate_info(ca.cert_pem)
    assert info.is_ca and info.region is None and info.spiffe_id is None


def test_a_node_certificate_has_identity_hosts_and_both_usages(
    ca: CertifiedKey, jiangsu: CertifiedKey
) -> None:
    certificate = jiangsu.certificate
    assert certificate.issuer == ca.certificate.subject
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku and ExtendedKeyUsageOID.CLIENT_AUTH in eku
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_cert_sign
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest and ski.digest != ca_ski.digest
    info = pki.certificate_info(jiangsu.cert_pem)
    assert info.spiffe_id == "spiffe://registry.data.gov.cn/nodes/320000"
    assert info.region == "320000"
    assert info.hosts == ("localhost", "127.0.0.1", "js.registry.example")
    assert info.serial == jiangsu.serial and info.not_after == jiangsu.not_after
    assert info.not_before < datetime.now(UTC) < info.not_after
    assert "Public Data Registry CA" in info.issuer and not info.is_ca
    assert len(info.fingerprint_sha256) == 64
    assert pki.verify_chain(jiangsu.cert_pem, ca.cert_pem) == "320000"


def test_serials_are_random_and_inputs_are_checked(ca: CertifiedKey) -> None:
    serials = {pki.issue_node_certificate(ca, "440000").serial for _ in range(3)}
    assert len(serials) == 3
    with pytest.raises(IdentityError):
        pki.issue_node_certificate(ca, "999999")
    with pytest.raises(ValueError):
        pki.issue_node_certificate(ca, "440000", hosts=("bad host",))
    with pytest.raises(ValueError):
        pki.issue_node_certificate(ca, "440000", valid_days=0)


def test_a_certificate_from_another_ca_does_not_verify(ca: CertifiedKey, other_ca: CertifiedKey) -> None:
    foreign = pki.issue_node_certificate(other_ca, "320000")
    assert pki.verify_chain(foreign.cert_pem, other_ca.cert_pem) == "320000"
    with pytest.raises(PKIError) as caught:
        pki.verify_chain(foreign.cert_pem, ca.cert_pem)
    assert caught.value.reason == "CERT_UNTRUSTED"


def test_an_expired_or_not_a_node_certificate_does_not_verify(
    ca: CertifiedKey, jiangsu: CertifiedKey
) -> None:
    with pytest.raises(PKIError) as caught:
        pki.verify_chain(jiangsu.cert_pem, ca.cert_pem, at=jiangsu.not_after + timedelta(days=1))
    assert caught.value.reason == "CERT_UNTRUSTED"
    for uris in (["spiffe://evil.example/nodes/320000"], [], [identity.node_spiffe_id("320000")] * 2):
        with pytest.raises(PKIError) as caught:
            pki.verify_chain(_certificate_with_uris(ca, uris), ca.cert_pem)
        assert caught.value.reason == "CERT_NOT_A_NODE"


def test_renewal_keeps_identity_and_hosts(ca: CertifiedKey, jiangsu: CertifiedKey) -> None:
    renewed = pki.renew_node_certificate(ca, jiangsu.cert_pem, valid_days=30)
    old, new = pki.certificate_info(jiangsu.cert_pem), pki.certificate_info(renewed.cert_pem)
    assert new.spiffe_id == old.spiffe_id and new.region == "320000"
    assert new.hosts == old.hosts
    assert renewed.serial != jiangsu.serial
    assert renewed.not_after != jiangsu.not_after
    assert renewed.key_pem != jiangsu.key_pem
    assert pki.verify_chain(renewed.cert_pem, ca.cert_pem) == "320000"

    same_key = pki.renew_node_certificate(ca, jiangsu.cert_pem, new_key=False, key_pem=jiangsu.key_pem)
    assert same_key.key_pem == jiangsu.key_pem and same_key.serial != jiangsu.serial
    assert same_key.certificate.public_key() == jiangsu.certificate.public_key()
    with pytest.raises(ValueError):
        pki.renew_node_certificate(ca, jiangsu.cert_pem, new_key=False)
    with pytest.raises(PKIError) as caught:
        pki.renew_node_certificate(ca, jiangsu.cert_pem, new_key=False, key_pem=renewed.key_pem)
    assert caught.value.reason == "KEY_MISMATCH"


def test_renewal_refuses_a_certificate_of_another_ca(ca: CertifiedKey, other_ca: CertifiedKey) -> None:
    foreign = pki.issue_node_certificate(other_ca, "320000")
    with pytest.raises(PKIError) as caught:
        pki.renew_node_certificate(ca, foreign.cert_pem)
    assert caught.value.reason == "CERT_UNTRUSTED"


# ------------------------------------------------------------------------------------------ revocation


def test_revocation_round_trip(ca: CertifiedKey, jiangsu: CertifiedKey) -> None:
    other = pki.issue_node_certificate(ca, "440000")
    crl1 = pki.empty_crl(ca)
    first = pki.RevocationList.load(crl1, ca.cert_pem)
    assert first.number == 1 and not first.revoked_serials
    assert not first.is_revoked(jiangsu.serial)
    assert first.next_update is not None and first.next_update > datetime.now(UTC) + timedelta(days=6)
    assert not first.is_stale()
    assert first.is_stale(first.next_update + timedelta(seconds=1))

    crl2 = pki.revoke(ca, crl1, jiangsu.serial)
    second = pki.RevocationList.load(crl2, ca.cert_pem)
    assert second.is_revoked(jiangsu.serial) and not second.is_revoked(other.serial)
    assert second.number == 2

    crl3 = pki.revoke(ca, crl2, other.serial, reason=x509.ReasonFlags.superseded)
    third = pki.RevocationList.load(crl3, ca.cert_pem)
    assert third.is_revoked(jiangsu.serial) and third.is_revoked(other.serial)
    assert third.number == 3

    again = pki.RevocationList.load(pki.revoke(ca, crl3, other.serial), ca.cert_pem)
    assert again.revoked_serials == third.revoked_serials and again.number == 4

    parsed = x509.load_pem_x509_crl(crl3)
    reasons = {
        entry.serial_number: entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        for entry in parsed
    }
    assert reasons == {
        jiangsu.serial: x509.ReasonFlags.key_compromise,
        other.serial: x509.ReasonFlags.superseded,
    }

    with pytest.raises(PKIError) as caught:
        pki.verify_chain(jiangsu.cert_pem, ca.cert_pem, crl=third)
    assert caught.value.reason == "CERT_REVOKED"
    assert pki.verify_chain(jiangsu.cert_pem, ca.cert_pem, crl=first) == "320000"

    der = parsed.public_bytes(serialization.Encoding.DER)
    assert pki.RevocationList.load(der, ca.cert_pem).revoked_serials == third.revoked_serials


def test_a_crl_signed_by_another_ca_is_refused(ca: CertifiedKey, other_ca: CertifiedKey) -> None:
    forged = pki.revoke(other_ca, pki.empty_crl(other_ca), 12345)
    with pytest.raises(PKIError) as caught:
        pki.RevocationList.load(forged, ca.cert_pem)
    assert caught.value.reason == "CRL_BAD_SIGNATURE"
    with pytest.raises(PKIError) as caught:
        pki.revoke(ca, forged, 6789)
    assert caught.value.reason == "CRL_BAD_SIGNATURE"
    renamed = pki.create_ca("Somebody Else CA")
    with pytest.raises(PKIError) as caught:
        pki.RevocationList.load(pki.empty_crl(renamed), ca.cert_pem)
    assert caught.value.reason == "CRL_WRONG_ISSUER"
    with pytest.raises(PKIError) as caught:
        pki.RevocationList.load(b"garbage", ca.cert_pem)
    assert caught.value.reason == "CRL_MALFORMED"
    with pytest.raises(PKIError) as caught:
        pki.revoke(ca, pki.empty_crl(ca), 1, reason=x509.ReasonFlags.remove_from_crl)
    assert caught.value.reason == "CRL_BAD_REASON"


# --------------------------------------------------------------------------------------------- files


def test_a_signing_request_is_certified_for_the_node_it_names_and_the_key_stays_with_the_node(
    ca: CertifiedKey,
) -> None:
    request = pki.create_node_request("510000", hosts=("sc.registry.example.cn", "10.0.0.5"))
    assert b"PRIVATE KEY" not in request.csr_pem
    signed = pki.sign_node_request(ca, request.csr_pem, region="510000", valid_days=30)
    assert signed.key_pem == b""
    info = pki.certificate_info(signed.cert_pem)
    assert info.region == "510000" and set(info.hosts) == {"sc.registry.example.cn", "10.0.0.5"}
    pki.verify_chain(signed.cert_pem, ca.cert_pem)
    # The certificate is for the node's own key: the node can load the pair.
    key = serialization.load_pem_private_key(request.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert x509.load_pem_x509_certificate(signed.cert_pem).public_key() == key.public_key()


def test_a_signing_request_for_another_node_or_with_a_forged_signature_is_not_certified(
    ca: CertifiedKey,
) -> None:
    guangdong = pki.create_node_request("440000")
    with pytest.raises(PKIError) as refused:
        pki.sign_node_request(ca, guangdong.csr_pem, region="320000")
    assert refused.value.reason == "CSR_WRONG_IDENTITY"
    # A request whose body was changed after signing (another identity spliced in) does not verify.
    csr = x509.load_pem_x509_csr(guangdong.csr_pem)
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    at = der.find(b"nodes/440000")
    der[at : at + len(b"nodes/440000")] = b"nodes/320000"
    with pytest.raises(PKIError) as refused:
        pki.sign_node_request(ca, bytes(der), region="320000")
    assert refused.value.reason == "CSR_INVALID" and "signature" in refused.value.message
    for garbage in (b"", b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"):
        with pytest.raises(PKIError) as refused:
            pki.sign_node_request(ca, garbage, region="320000")
        assert refused.value.reason == "CSR_INVALID"
    with pytest.raises(PKIError):
        pki.sign_node_request(ca, b"0" * (pki.MAX_REQUEST_BYTES + 1), region="320000")


def test_a_signing_request_without_an_identity_or_with_another_key_type_is_not_certified(
    ca: CertifiedKey,
) -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "320000")])
    no_san = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    with pytest.raises(PKIError) as refused:
        pki.sign_node_request(ca, no_san.public_bytes(serialization.Encoding.PEM), region="320000")
    assert refused.value.reason == "KEY_UNSUPPORTED"
    p256 = ec.generate_private_key(ec.SECP256R1())
    no_san = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(p256, hashes.SHA256())
    with pytest.raises(PKIError) as refused:
        pki.sign_node_request(ca, no_san.public_bytes(serialization.Encoding.PEM), region="320000")
    assert refused.value.reason == "CSR_INVALID"


def _request_naming(region: str, hosts: Sequence[str]) -> bytes:
    """A signing request made by hand, as an attacker would (``create_node_request`` refuses these
    hosts already): the node's own identity, and whatever host names it likes."""
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(identity.node_spiffe_id(region))]
    names += [x509.DNSName(host) for host in hosts]
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, region)]))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize(
    "host",
    [
        identity.NATIONAL_SERVER_NAME,
        "National.Registry.Data.Gov.CN",
        "registry.data.gov.cn",
        "portal.registry.data.gov.cn",
        "*.registry.data.gov.cn",
        "*.data.gov.cn",
    ],
)
def test_a_province_is_never_certified_for_a_name_of_the_registrys_own_domain(
    ca: CertifiedKey, host: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger=pki.__name__)
    request = _request_naming("440000", ["gd.registry.example.cn", host])
    with pytest.raises(PKIError) as refused:
        pki.sign_node_request(ca, request, region="440000")
    assert refused.value.reason == "HOST_RESERVED"
    assert host.lower() in refused.value.message and "nodes/440000" in refused.value.message
    # Every other path to a certificate refuses it too: issuing, and the province's own request.
    with pytest.raises(PKIError) as refused:
        pki.issue_node_certificate(ca, "440000", hosts=("localhost", host))
    assert refused.value.reason == "HOST_RESERVED"
    with pytest.raises(PKIError) as refused:
        pki.create_node_request("440000", hosts=(host,))
    assert refused.value.reason == "HOST_RESERVED"
    # Refused before anything was signed.
    assert not [r for r in caplog.records if r.getMessage().startswith("issued certificate")]


def test_names_beside_the_registrys_domain_are_a_provinces_to_carry(ca: CertifiedKey) -> None:
    hosts = ("xregistry.data.gov.cn", "registry.data.gov.cn.example.org", "*.gd.data.gov.cn")
    signed = pki.sign_node_request(ca, _request_naming("440000", hosts), region="440000")
    assert pki.certificate_info(signed.cert_pem).hosts == hosts


def test_the_national_node_is_certified_for_its_name(ca: CertifiedKey) -> None:
    hosts = ("localhost", identity.NATIONAL_SERVER_NAME)
    issued = pki.issue_node_certificate(ca, "100000", hosts=hosts)
    assert pki.certificate_info(issued.cert_pem).hosts == hosts
    renewed = pki.renew_node_certificate(ca, issued.cert_pem)
    assert pki.certificate_info(renewed.cert_pem).hosts == hosts
    request = pki.create_node_request("100000", hosts=hosts)
    signed = pki.sign_node_request(ca, request.csr_pem, region="100000")
    assert pki.certificate_info(signed.cert_pem).hosts == hosts
    assert pki.verify_chain(signed.cert_pem, ca.cert_pem) == "100000"


def test_republishing_keeps_every_revocation_under_a_higher_number(
    ca: CertifiedKey, jiangsu: CertifiedKey
) -> None:
    crl = pki.revoke(ca, pki.empty_crl(ca), jiangsu.serial)
    again = pki.republish(ca, crl, next_update_days=14)
    before, after = pki.RevocationList.load(crl, ca.cert_pem), pki.RevocationList.load(again, ca.cert_pem)
    assert after.number == before.number + 1
    assert after.revoked_serials == before.revoked_serials == {jiangsu.serial}
    assert after.next_update is not None and after.next_update > datetime.now(UTC) + timedelta(days=13)
    assert pki.RevocationList.load(after.pem(), ca.cert_pem).der == after.der


def test_write_and_load_certified_key(tmp_path: Path, ca: CertifiedKey, jiangsu: CertifiedKey) -> None:
    key_path, cert_path = pki.write_certified_key(tmp_path / "tls", "node", jiangsu)
    assert key_path.name == "node.key" and cert_path.name == "node.crt"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert key_path.read_bytes() == jiangsu.key_pem
    loaded = pki.load_certified_key(key_path, cert_path)
    assert loaded == jiangsu
    assert sorted(p.name for p in key_path.parent.iterdir()) == ["node.crt", "node.key"]

    other = pki.issue_node_certificate(ca, "440000")
    pki.write_certified_key(tmp_path / "mixed", "node", other)
    (tmp_path / "mixed" / "node.crt").write_bytes(jiangsu.cert_pem)
    with pytest.raises(PKIError) as caught:
        pki.load_certified_key(tmp_path / "mixed" / "node.key", tmp_path / "mixed" / "node.crt")
    assert caught.value.reason == "KEY_MISMATCH"


# ------------------------------------------------------------------------------------ mutual TLS in gRPC

_WHOAMI = "/registry.test.WhoAmI/Get"


@dataclass
class _WhoAmI(grpc.GenericRpcHandler):  # type: ignore[type-arg]  # generic only in grpc-stubs
    """Answers with the caller's region and URI SANs as the server's TLS stack saw them.

    Also refuses callers whose certificate serial the current revocation list names: gRPC's Python TLS
    credentials do not read CRLs, so this is how a serving node applies one without a restart.
    """

    ca_pem: bytes
    crl: list[pki.RevocationList] = field(default_factory=list)

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Any:
        if handler_call_details.method != _WHOAMI:
            return None
        return grpc.unary_unary_rpc_method_handler(self._get)

    def _get(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        # grpc-stubs declares Mapping[str, bytes]; grpc really gives lists of bytes.
        auth = cast(Mapping[str, Sequence[bytes]], context.auth_context())
        pem = auth["x509_pem_cert"][0]
        if self.crl and self.crl[-1].is_revoked(pki.certificate_info(pem).serial):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "certificate revoked")
        answer = {
            "region": identity.identity_from_auth_context(auth),
            "uris": [v.decode() for v in auth.get("peer_uri", [])],
            "sans": [v.decode() for v in auth.get("x509_subject_alternative_name", [])],
        }
        return json.dumps(answer).encode()


@contextmanager
def _serving(ca: CertifiedKey, server_key: CertifiedKey) -> Iterator[tuple[int, _WhoAmI]]:
    """A mutual-TLS gRPC server on 127.0.0.1 with the health service and :class:`_WhoAmI`."""
    handler = _WhoAmI(ca.cert_pem)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    server.add_generic_rpc_handlers((handler,))
    credentials = grpc.ssl_server_credentials(
        [(server_key.key_pem, server_key.cert_pem)], root_certificates=ca.cert_pem, require_client_auth=True
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    try:
        yield port, handler
    finally:
        server.stop(grace=None).wait(TIMEOUT)


@pytest.fixture
def tls_server(ca: CertifiedKey) -> Iterator[tuple[int, _WhoAmI]]:
    with _serving(ca, pki.issue_node_certificate(ca, "100000")) as served:
        yield served


def _secure_channel(port: int, roots: bytes, client: CertifiedKey | None) -> grpc.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=roots,
        private_key=client.key_pem if client else None,
        certificate_chain=client.cert_pem if client else None,
    )
    return grpc.secure_channel(f"127.0.0.1:{port}", credentials)


def _health(channel: grpc.Channel) -> Any:
    stub = health_pb2_grpc.HealthStub(channel)
    return stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT)


def _whoami(channel: grpc.Channel) -> dict[str, Any]:
    call: Callable[..., bytes] = channel.unary_unary(
        _WHOAMI, request_serializer=None, response_deserializer=None
    )
    result: dict[str, Any] = json.loads(call(b"", timeout=TIMEOUT))
    return result


def test_mutual_tls_admits_our_nodes_and_refuses_others(
    tls_server: tuple[int, _WhoAmI], ca: CertifiedKey, other_ca: CertifiedKey, jiangsu: CertifiedKey
) -> None:
    port, handler = tls_server

    with _secure_channel(port, ca.cert_pem, jiangsu) as channel:
        assert _health(channel).status == health_pb2.HealthCheckResponse.SERVING
        seen = _whoami(channel)
    assert seen["region"] == "320000"
    assert seen["uris"] == ["spiffe://registry.data.gov.cn/nodes/320000"]
    assert "spiffe://registry.data.gov.cn/nodes/320000" in seen["sans"]

    foreign = pki.issue_node_certificate(other_ca, "320000")
    with _secure_channel(port, ca.cert_pem, foreign) as channel, pytest.raises(grpc.RpcError) as caught:
        _health(channel)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

    with _secure_channel(port, ca.cert_pem, None) as channel, pytest.raises(grpc.RpcError) as caught:
        _health(channel)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel, pytest.raises(grpc.RpcError) as caught:
        _health(channel)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

    # A client that trusts another CA refuses our server (its own certificate is fine).
    with _secure_channel(port, other_ca.cert_pem, jiangsu) as channel, pytest.raises(grpc.RpcError) as caught:
        _health(channel)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE

    # Revocation takes effect at the next call, on the same server.
    handler.crl.append(
        pki.RevocationList.load(pki.revoke(ca, pki.empty_crl(ca), jiangsu.serial), ca.cert_pem)
    )
    with _secure_channel(port, ca.cert_pem, jiangsu) as channel, pytest.raises(grpc.RpcError) as caught:
        _whoami(channel)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_clients_verify_the_server_host_name(ca: CertifiedKey, jiangsu: CertifiedKey) -> None:
    """The DNS/IP SANs make ordinary hostname verification work: 127.0.0.1 must be in the certificate."""
    with _serving(ca, pki.issue_node_certificate(ca, "100000", hosts=("localhost",))) as (port, _):
        with _secure_channel(port, ca.cert_pem, jiangsu) as channel, pytest.raises(grpc.RpcError) as caught:
            _health(channel)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
