"""The federation's X.509 public key infrastructure, built on ``cryptography``.

The national node operates a small certificate authority: one self-signed CA certificate
(:func:`create_ca`) that issues one certificate per node (:func:`issue_node_certificate`). Each node
certificate carries the node's identity as its single SPIFFE URI SAN (:mod:`common.security.identity`),
plus DNS names / IP addresses so that ordinary hostname verification of a server works, and is valid for
both TLS server and client authentication, so every node-to-node gRPC call runs over mutual TLS.

Keys are ECDSA P-256, signatures ECDSA with SHA-256: what TLS 1.2 and 1.3 in gRPC (BoringSSL) accept.
Private keys are written as unencrypted PKCS#8 PEM with mode 0600 (:func:`write_certified_key`).

Revocation is by certificate revocation list (:func:`empty_crl`, :func:`revoke`) that the national CA
publishes; :class:`RevocationList` loads one after checking the CA signed it. gRPC's Python TLS
credentials do not consult CRLs, so serving nodes check the peer certificate's serial against the
current :class:`RevocationList` themselves (per call, which makes a revocation effective at once).

Renewal is issuing again (:func:`renew_node_certificate`), with a fresh key or the same one.

A province that keeps its key to itself makes a signing request (:func:`create_node_request`) and the
coordinators sign it (:func:`sign_node_request`) after checking it names the node they mean; renewal
is then a new request.

The registry's own DNS domain (:data:`~common.security.identity.TRUST_DOMAIN` and every name below it,
:data:`~common.security.identity.NATIONAL_SERVER_NAME` among them) belongs to the national node: clients
verify the national node by that name, whatever address they dial, so a certificate of any other node
or tool carrying one of these names, or a wildcard that covers one, could pass for it. Every
certificate this CA makes goes through one function that refuses them (``HOST_RESERVED``) before
anything is signed, whichever path asked: issuing, renewing, or signing a request.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from common import regions
from common.security.errors import SecurityError
from common.security.files import write_atomically
from common.security.identity import (
    TRUST_DOMAIN,
    IdentityError,
    certificate_region,
    client_spiffe_id,
    node_spiffe_id,
    parse_spiffe_id,
)

__all__ = [
    "DEFAULT_HOSTS",
    "MAX_REQUEST_BYTES",
    "CertificateInfo",
    "CertifiedKey",
    "NodeRequest",
    "PKIError",
    "RevocationList",
    "certificate_info",
    "create_ca",
    "create_node_request",
    "empty_crl",
    "issue_node_certificate",
    "load_certified_key",
    "renew_node_certificate",
    "republish",
    "revoke",
    "sign_node_request",
    "verify_chain",
    "write_certified_key",
]

_log = logging.getLogger(__name__)

#: Hosts a node certificate names when none are given: enough for a local federation.
DEFAULT_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1")

_ORGANIZATION = "Public Data Registry"
# Certificates start a little in the past so that peers whose clocks lag slightly accept them at once.
_BACKDATE = timedelta(minutes=5)
_HOSTNAME = re.compile(r"(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


class PKIError(SecurityError):
    """A certificate, key or CRL is unusable: ``reason`` is stable, ``message`` is for people.

    Reasons: ``CERT_MALFORMED``, ``CERT_UNTRUSTED`` (not issued by the CA, expired, wrong usage),
    ``CERT_REVOKED``, ``CERT_NOT_A_NODE`` (no valid node identity), ``KEY_MALFORMED``,
    ``KEY_MISMATCH`` (key and certificate do not belong together), ``KEY_UNSUPPORTED`` (not EC P-256),
    ``CRL_MALFORMED``, ``CRL_WRONG_ISSUER``, ``CRL_BAD_SIGNATURE``, ``CRL_BAD_REASON``,
    ``CSR_INVALID`` (not a request, a bad signature or hosts), ``CSR_WRONG_IDENTITY`` (the request
    names another node than the one to certify), ``HOST_RESERVED`` (a name of the registry's own domain,
    which only the national node's certificate carries).
    """


@dataclass(frozen=True, slots=True)
class CertifiedKey:
    """A private key and its certificate, both PEM; ``cert_pem`` may hold a chain, leaf first.

    The key is left out of ``repr`` so that logging a :class:`CertifiedKey` does not leak it.
    """

    key_pem: bytes = field(repr=False)
    cert_pem: bytes
    serial: int
    not_after: datetime

    @property
    def certificate(self) -> x509.Certificate:
        """The (leaf) certificate."""
        return _load_certificate(self.cert_pem)

    @property
    def private_key(self) -> ec.EllipticCurvePrivateKey:
        """The private key."""
        return _load_ec_key(self.key_pem)


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """What an operator wants to see of a certificate."""

    serial: int
    subject: str
    issuer: str
    #: The single URI SAN when it is a ``spiffe://`` URI, else ``None``.
    spiffe_id: str | None
    #: The node region that SPIFFE ID names, ``None`` when it names none (a CA certificate, say).
    region: str | None
    #: DNS names and IP addresses in the SAN, in certificate order.
    hosts: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    is_ca: bool
    #: SHA-256 fingerprint of the DER certificate, lowercase hex.
    fingerprint_sha256: str


# --------------------------------------------------------------------------------------------- helpers


def _now() -> datetime:
    return datetime.now(UTC)


def _load_certificate(pem: bytes | str) -> x509.Certificate:
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else pem
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise PKIError("CERT_MALFORMED", "not a PEM X.509 certificate") from None
    if not certificates:
        raise PKIError("CERT_MALFORMED", "no certificate in the PEM data")
    return certificates[0]


def _load_ec_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise PKIError("KEY_MALFORMED", "not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise PKIError("KEY_UNSUPPORTED", "federation keys are ECDSA P-256")
    return key


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _same_public_key(a: ec.EllipticCurvePublicKey, certificate: x509.Certificate) -> bool:
    der = serialization.Encoding.DER
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_bytes(der, spki) == certificate.public_key().public_bytes(der, spki)


def _ca_parts(ca: CertifiedKey) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ca.private_key
    certificate = ca.certificate
    if not _same_public_key(key.public_key(), certificate):
        raise PKIError("KEY_MISMATCH", "the CA key does not belong to the CA certificate")
    return key, certificate


def _authority_key_id(ca_certificate: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(_ec_public_key(ca_certificate))
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _ec_public_key(certificate: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise PKIError("KEY_UNSUPPORTED", "federation keys are ECDSA P-256")
    return key


def _general_names(hosts: Sequence[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    seen: set[str] = set()
    for host in hosts:
        if not isinstance(host, str) or not host.strip():
            raise ValueError(f"{host!r} is not a host name or IP address")
        text = host.strip().lower()
        name: x509.GeneralName
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            if len(text) > 253 or not text.isascii() or not _HOSTNAME.fullmatch(text):
                raise ValueError(f"{host!r} is not a host name or IP address") from None
            name, key = x509.DNSName(text), f"dns:{text}"
        else:
            name, key = x509.IPAddress(address), f"ip:{address}"
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names


def _covers_a_registry_name(host: str) -> bool:
    """Whether a certificate naming ``host`` (lowercase, as :func:`_general_names` leaves it) would be
    taken for a name of the registry's own domain: :data:`TRUST_DOMAIN` or a name below it, or a
    wildcard matching one (a wildcard stands for exactly one label, so ``*.data.gov.cn`` covers
    ``registry.data.gov.cn``)."""
    base = host.removeprefix("*.")
    if base == TRUST_DOMAIN or base.endswith("." + TRUST_DOMAIN):
        return True
    return host.startswith("*.") and base == TRUST_DOMAIN.split(".", 1)[1]


def _refuse_reserved(spiffe_id: str, names: Sequence[x509.GeneralName]) -> None:
    """:class:`PKIError` ``HOST_RESERVED`` when a certificate for ``spiffe_id`` that is not the national
    node's would carry a name of the registry's own domain (see the module's notes)."""
    if spiffe_id == node_spiffe_id(regions.NATIONAL):
        return
    for name in names:
        if isinstance(name, x509.DNSName) and _covers_a_registry_name(name.value):
            raise PKIError(
                "HOST_RESERVED",
                f"{name.value} is a name of the national node (the registry's domain {TRUST_DOMAIN} is"
                f" its own): the certificate of {spiffe_id} may not carry it",
            )


def _hosts_of(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    hosts: list[str] = []
    for name in san:
        if isinstance(name, x509.DNSName):
            hosts.append(name.value)
        elif isinstance(name, x509.IPAddress):
            hosts.append(str(name.value))
    return tuple(hosts)


def _check_days(days: int, what: str) -> None:
    if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
        raise ValueError(f"{what} must be a positive number of days, not {days!r}")


# ------------------------------------------------------------------------------------ CA and issuance


def create_ca(name: str = "Public Data Registry CA", *, valid_days: int = 3650) -> CertifiedKey:
    """A new self-signed certificate authority: basicConstraints CA:true pathlen 0, certSign + cRLSign."""
    _check_days(valid_days, "valid_days")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    now = _now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    _log.info("created CA %r serial %x", name, certificate.serial_number)
    return CertifiedKey(
        key_pem=_key_pem(key),
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        serial=certificate.serial_number,
        not_after=certificate.not_valid_after_utc,
    )


def issue_node_certificate(
    ca: CertifiedKey,
    region: str,
    *,
    hosts: Sequence[str] = DEFAULT_HOSTS,
    valid_days: int = 397,
    key_pem: bytes | None = None,
) -> CertifiedKey:
    """A certificate for the node of ``region``, signed by ``ca``; a new P-256 key unless ``key_pem``.

    SAN: ``spiffe://registry.data.gov.cn/nodes/<region>`` plus a DNS name or IP address per entry of
    ``hosts``. EKU serverAuth + clientAuth, keyUsage digitalSignature, basicConstraints CA:false,
    subject and authority key identifiers, a random 159-bit serial. The validity ends at ``valid_days``
    from now or at the CA's own end, whichever comes first. Only the national node's certificate may
    name a host of the registry's own domain (``HOST_RESERVED`` otherwise).
    """
    return _issue(
        ca,
        node_spiffe_id(region),  # IdentityError for a non-region
        unit="nodes",
        common_name=region,
        hosts=hosts,
        usages=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        valid_days=valid_days,
        key_pem=key_pem,
    )


def issue_client_certificate(ca: CertifiedKey, name: str, *, valid_days: int = 397) -> CertifiedKey:
    """A client certificate ``spiffe://registry.data.gov.cn/clients/<name>`` (EKU clientAuth only):
    for the tools of operators (registryctl, grpcurl) and the public portal. It proves a connection
    comes from the federation's tools; who acts is proven by a bearer token, and without one the caller
    has the public's rights only."""
    return _issue(
        ca,
        client_spiffe_id(name),
        unit="clients",
        common_name=name,
        hosts=(),
        usages=[ExtendedKeyUsageOID.CLIENT_AUTH],
        valid_days=valid_days,
        key_pem=None,
    )


def _issue(
    ca: CertifiedKey,
    spiffe_id: str,
    *,
    unit: str,
    common_name: str,
    hosts: Sequence[str],
    usages: list[x509.ObjectIdentifier],
    valid_days: int,
    key_pem: bytes | None,
) -> CertifiedKey:
    key = _load_ec_key(key_pem) if key_pem is not None else ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate(
        ca,
        spiffe_id,
        key.public_key(),
        unit=unit,
        common_name=common_name,
        hosts=hosts,
        usages=usages,
        valid_days=valid_days,
    )
    return CertifiedKey(
        key_pem=_key_pem(key),
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        serial=certificate.serial_number,
        not_after=certificate.not_valid_after_utc,
    )


def _certificate(
    ca: CertifiedKey,
    spiffe_id: str,
    public_key: ec.EllipticCurvePublicKey,
    *,
    unit: str,
    common_name: str,
    hosts: Sequence[str],
    usages: list[x509.ObjectIdentifier],
    valid_days: int,
) -> x509.Certificate:
    _check_days(valid_days, "valid_days")
    names = _general_names(hosts) if hosts else []
    _refuse_reserved(spiffe_id, names)
    ca_key, ca_certificate = _ca_parts(ca)
    now = _now()
    not_after = min(now + timedelta(days=valid_days), ca_certificate.not_valid_after_utc)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(usages),
            critical=False,
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id), *names]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_authority_key_id(ca_certificate), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _log.info("issued certificate for %s serial %x until %s", spiffe_id, certificate.serial_number, not_after)
    return certificate


# ------------------------------------------------------------------- certificate signing requests

#: The most a signing request may be: a P-256 key and a few dozen names are far below it.
MAX_REQUEST_BYTES = 16 * 1024


@dataclass(frozen=True)
class NodeRequest:
    """A node's certificate signing request (PKCS#10) and the key that stays with the node."""

    key_pem: bytes = field(repr=False)
    csr_pem: bytes


def create_node_request(region: str, *, hosts: Sequence[str] = DEFAULT_HOSTS) -> NodeRequest:
    """A new P-256 key and a signing request for the node of ``region`` serving on ``hosts``.

    The provincial operator makes this; only the request goes to the national coordinators, the key
    never leaves the node. The request names the node's SPIFFE identity and hosts in its SAN. A name
    the CA would refuse to certify (``HOST_RESERVED``) is refused here already.
    """
    spiffe_id = node_spiffe_id(region)  # IdentityError for a non-region
    names = _general_names(hosts)
    _refuse_reserved(spiffe_id, names)
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, _ORGANIZATION),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "nodes"),
                    x509.NameAttribute(NameOID.COMMON_NAME, region),
                ]
            )
        )
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(spiffe_id), *names]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return NodeRequest(key_pem=_key_pem(key), csr_pem=csr.public_bytes(serialization.Encoding.PEM))


def sign_node_request(
    ca: CertifiedKey, csr_pem: bytes, *, region: str, valid_days: int = 397
) -> CertifiedKey:
    """The certificate for a node's signing request, after checking it.

    ``region`` is the node the coordinators mean to certify: the request must name exactly that node's
    SPIFFE identity, carry a P-256 key and a valid signature by it (proof that its maker holds the key).
    Only the identity and the hosts are taken from the request; everything else (usages, validity,
    constraints) is the CA's. A host of the registry's own domain is refused (``HOST_RESERVED``) unless
    ``region`` is the national node's. The returned :class:`CertifiedKey` has no ``key_pem``: the node
    has it.
    """
    if len(csr_pem) > MAX_REQUEST_BYTES:
        raise PKIError("CSR_INVALID", f"a signing request is at most {MAX_REQUEST_BYTES} bytes")
    try:
        csr = (
            x509.load_pem_x509_csr(csr_pem)
            if csr_pem.lstrip().startswith(b"-----")
            else x509.load_der_x509_csr(csr_pem)
        )
    except ValueError:
        raise PKIError("CSR_INVALID", "not a PEM or DER certificate signing request") from None
    if not csr.is_signature_valid:
        raise PKIError("CSR_INVALID", "the request's signature does not verify: its key did not sign it")
    public_key = csr.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name != "secp256r1":
        raise PKIError("KEY_UNSUPPORTED", "federation keys are ECDSA P-256")
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise PKIError("CSR_INVALID", "the request names no identity (no subjectAltName)") from None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    expected = node_spiffe_id(region)
    if uris != [expected]:
        raise PKIError(
            "CSR_WRONG_IDENTITY", f"the request names {', '.join(uris) or 'no identity'}, not {expected}"
        )
    hosts = [
        *san.get_values_for_type(x509.DNSName),
        *(str(address) for address in san.get_values_for_type(x509.IPAddress)),
    ]
    try:
        _general_names(hosts)
    except ValueError as error:
        raise PKIError("CSR_INVALID", f"the request's hosts: {error}") from None
    certificate = _certificate(
        ca,
        expected,
        public_key,
        unit="nodes",
        common_name=region,
        hosts=hosts,
        usages=[ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        valid_days=valid_days,
    )
    return CertifiedKey(
        key_pem=b"",
        cert_pem=certificate.public_bytes(serialization.Encoding.PEM),
        serial=certificate.serial_number,
        not_after=certificate.not_valid_after_utc,
    )


def renew_node_certificate(
    ca: CertifiedKey,
    cert_pem: bytes,
    *,
    valid_days: int = 397,
    new_key: bool = True,
    key_pem: bytes | None = None,
) -> CertifiedKey:
    """Issue again the node certificate ``cert_pem``: same identity and hosts, new serial and validity.

    With ``new_key`` (the default) the renewed certificate gets a fresh key. Without, the node keeps its
    key, which must then be given as ``key_pem`` (a certificate holds only the public half) and must
    match ``cert_pem``. Only certificates this CA issued are renewed (expired ones included).
    """
    old = _load_certificate(cert_pem)
    _, ca_certificate = _ca_parts(ca)
    try:
        old.verify_directly_issued_by(ca_certificate)
    except (ValueError, TypeError, InvalidSignature):
        raise PKIError("CERT_UNTRUSTED", "the certificate to renew was not issued by this CA") from None
    try:
        region = certificate_region(old)
    except IdentityError as exc:
        raise PKIError("CERT_NOT_A_NODE", f"the certificate to renew names no node: {exc.message}") from None
    if new_key:
        key_pem = None
    elif key_pem is None:
        raise ValueError("renewing with the same key needs that key (key_pem)")
    elif not _same_public_key(_load_ec_key(key_pem).public_key(), old):
        raise PKIError("KEY_MISMATCH", "the key does not belong to the certificate to renew")
    hosts = _hosts_of(old)
    _log.info("renewing node certificate %x of %s (new key: %s)", old.serial_number, region, new_key)
    return issue_node_certificate(ca, region, hosts=hosts, valid_days=valid_days, key_pem=key_pem)


# ------------------------------------------------------------------------------------------ revocation


def _parse_crl(crl_pem: bytes) -> x509.CertificateRevocationList:
    try:
        if crl_pem.lstrip().startswith(b"-----"):
            return x509.load_pem_x509_crl(crl_pem)
        return x509.load_der_x509_crl(crl_pem)
    except ValueError:
        raise PKIError("CRL_MALFORMED", "not an X.509 certificate revocation list") from None


def _build_crl(
    ca: CertifiedKey,
    number: int,
    revoked: Sequence[x509.RevokedCertificate],
    next_update_days: int,
) -> bytes:
    _check_days(next_update_days, "next_update_days")
    ca_key, ca_certificate = _ca_parts(ca)
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_certificate.subject)
        .last_update(now)
        .next_update(now + timedelta(days=next_update_days))
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(_authority_key_id(ca_certificate), critical=False)
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(ca_key, hashes.SHA256())
    return crl.public_bytes(serialization.Encoding.PEM)


def empty_crl(ca: CertifiedKey, *, next_update_days: int = 7) -> bytes:
    """A CRL (PEM) of ``ca`` revoking nothing, CRL number 1: what a new CA publishes first."""
    return _build_crl(ca, 1, (), next_update_days)


def republish(ca: CertifiedKey, crl_pem: bytes, *, next_update_days: int = 7) -> bytes:
    """The same revocations, signed again with a new number and ``next_update``: what the CA does
    before its CRL goes stale (``nextUpdate`` passed), also when nothing was revoked."""
    current = RevocationList.load(crl_pem, ca.cert_pem)
    return _build_crl(ca, current.number + 1, list(_parse_crl(crl_pem)), next_update_days)


def revoke(
    ca: CertifiedKey,
    crl_pem: bytes,
    serial: int,
    *,
    reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise,
    next_update_days: int = 7,
) -> bytes:
    """A new CRL (PEM): every entry of ``crl_pem`` plus ``serial``, CRL number one higher.

    ``crl_pem`` must be a CRL this CA signed. Revoking a serial already listed keeps its first entry.
    ``reason`` ``unspecified`` is encoded by leaving the reason out (RFC 5280 §5.3.1);
    ``remove_from_crl`` belongs to delta CRLs and is refused.
    """
    if reason is x509.ReasonFlags.remove_from_crl:
        raise PKIError("CRL_BAD_REASON", "removeFromCRL is only for delta CRLs")
    if not isinstance(serial, int) or isinstance(serial, bool) or serial <= 0:
        raise ValueError(f"{serial!r} is not a certificate serial number")
    current = RevocationList.load(crl_pem, ca.cert_pem)
    entries: list[x509.RevokedCertificate] = list(_parse_crl(crl_pem))
    if current.is_revoked(serial):
        _log.info("serial %x is already revoked; republishing the CRL", serial)
    else:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(_now())
        if reason is not x509.ReasonFlags.unspecified:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        entries.append(entry.build())
        _log.info("revoking serial %x (%s)", serial, reason.value)
    return _build_crl(ca, current.number + 1, entries, next_update_days)


@dataclass(frozen=True, slots=True)
class RevocationList:
    """A CRL of the federation's CA whose signature has been checked; see :meth:`load`."""

    number: int
    last_update: datetime
    next_update: datetime | None
    issuer: str
    revoked_serials: frozenset[int]
    #: The CRL itself, DER-encoded: what the national node publishes.
    der: bytes = field(default=b"", repr=False)

    @classmethod
    def load(cls, crl_pem: bytes, ca_cert_pem: bytes) -> RevocationList:
        """Parse a CRL (PEM or DER) and check that the CA of ``ca_cert_pem`` issued and signed it.

        Raises :class:`PKIError`: ``CRL_MALFORMED``, ``CRL_WRONG_ISSUER`` (another issuer name) or
        ``CRL_BAD_SIGNATURE`` (not signed by the CA's key, e.g. by another CA with the same name).
        A CRL past its ``next_update`` still loads (see :meth:`is_stale`): refusing it would stop
        every node when the CA is late publishing, which is a choice for the caller to make.
        """
        ca_certificate = _load_certificate(ca_cert_pem)
        crl = _parse_crl(crl_pem)
        if crl.issuer != ca_certificate.subject:
            raise PKIError(
                "CRL_WRONG_ISSUER",
                f"the CRL is issued by {crl.issuer.rfc4514_string()}, "
                f"not by {ca_certificate.subject.rfc4514_string()}",
            )
        try:
            valid = crl.is_signature_valid(_ec_public_key(ca_certificate))
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise PKIError("CRL_BAD_SIGNATURE", "the CRL is not signed by the federation's CA")
        try:
            number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
        except x509.ExtensionNotFound:
            raise PKIError("CRL_MALFORMED", "the CRL has no CRL number") from None
        return cls(
            number=number,
            last_update=crl.last_update_utc,
            next_update=crl.next_update_utc,
            issuer=crl.issuer.rfc4514_string(),
            revoked_serials=frozenset(entry.serial_number for entry in crl),
            der=crl.public_bytes(serialization.Encoding.DER),
        )

    def pem(self) -> bytes:
        """The CRL as PEM, as a node keeps it in its ``crl_file``."""
        return x509.load_der_x509_crl(self.der).public_bytes(serialization.Encoding.PEM)

    def is_revoked(self, serial: int) -> bool:
        """Whether the certificate with this serial number is revoked."""
        return serial in self.revoked_serials

    def is_stale(self, at: datetime | None = None) -> bool:
        """Whether the CA should have published a newer CRL by ``at`` (default: now)."""
        return self.next_update is not None and (at or _now()) > self.next_update


# ---------------------------------------------------------------------------------------- verification


def verify_chain(
    cert_pem: bytes | str,
    ca_pem: bytes | str,
    *,
    at: datetime | None = None,
    crl: RevocationList | None = None,
) -> str:
    """Verify a node certificate against the CA as a TLS peer would; return the region it names.

    Uses ``cryptography``'s RFC 5280 path validation (:class:`~cryptography.x509.verification.
    ClientVerifier`: signature, validity at ``at``, key usages, clientAuth EKU, CA constraints), then
    requires a valid node identity and, given ``crl``, that the serial is not revoked.

    Raises :class:`PKIError` ``CERT_UNTRUSTED``, ``CERT_NOT_A_NODE`` or ``CERT_REVOKED``.
    """
    leaf = _load_certificate(cert_pem)
    ca_certificate = _load_certificate(ca_pem)
    verifier = PolicyBuilder().store(Store([ca_certificate])).time(at or _now()).build_client_verifier()
    try:
        verifier.verify(leaf, [])
    except VerificationError as exc:
        raise PKIError("CERT_UNTRUSTED", f"the certificate does not verify against the CA: {exc}") from None
    try:
        region = certificate_region(leaf)
    except IdentityError as exc:
        raise PKIError("CERT_NOT_A_NODE", exc.message) from None
    if crl is not None and crl.is_revoked(leaf.serial_number):
        raise PKIError("CERT_REVOKED", f"certificate {leaf.serial_number:x} of {region} is revoked")
    return region


def certificate_info(cert_pem: bytes | str) -> CertificateInfo:
    """The facts of a (leaf) certificate an operator tool shows; never raises for a missing identity."""
    certificate = _load_certificate(cert_pem)
    spiffe_id: str | None = None
    region: str | None = None
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    if len(uris) == 1 and uris[0].startswith("spiffe://"):
        spiffe_id = uris[0]
        try:
            region = parse_spiffe_id(spiffe_id)
        except IdentityError:
            region = None
    try:
        is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    return CertificateInfo(
        serial=certificate.serial_number,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        spiffe_id=spiffe_id,
        region=region,
        hosts=_hosts_of(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        is_ca=is_ca,
        fingerprint_sha256=certificate.fingerprint(hashes.SHA256()).hex(),
    )


# --------------------------------------------------------------------------------------------- files


def load_certified_key(key_path: str | os.PathLike[str], cert_path: str | os.PathLike[str]) -> CertifiedKey:
    """Read a PEM key and certificate (chain, leaf first) and check that they belong together.

    Logs a warning when the key file is readable by group or others.
    """
    key_file, cert_file = Path(key_path), Path(cert_path)
    key_pem = key_file.read_bytes()
    cert_pem = cert_file.read_bytes()
    mode = key_file.stat().st_mode
    if mode & 0o077:
        _log.warning("private key %s is readable by group or others (mode %o)", key_file, mode & 0o777)
    key = _load_ec_key(key_pem)
    certificate = _load_certificate(cert_pem)
    if not _same_public_key(key.public_key(), certificate):
        raise PKIError("KEY_MISMATCH", f"the key {key_file} does not belong to the certificate {cert_file}")
    return CertifiedKey(
        key_pem=key_pem,
        cert_pem=cert_pem,
        serial=certificate.serial_number,
        not_after=certificate.not_valid_after_utc,
    )


def write_certified_key(directory: str | os.PathLike[str], stem: str, ck: CertifiedKey) -> tuple[Path, Path]:
    """Write ``<stem>.key`` (mode 0600) and ``<stem>.crt`` (0644) into ``directory``; return both paths.

    Each file is replaced atomically. The certificate is written after the key, so a watcher that
    reloads on a new certificate finds the matching key already in place.
    """
    if not stem or "/" in stem or stem.startswith("."):
        raise ValueError(f"{stem!r} is not a file name stem")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = folder / f"{stem}.key", folder / f"{stem}.crt"
    write_atomically(key_path, ck.key_pem, 0o600)
    write_atomically(cert_path, ck.cert_pem, 0o644)
    return key_path, cert_path
