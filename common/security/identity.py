"""Node identities: SPIFFE-style IDs in the URI SAN of the federation's node certificates.

Every node of the registry holds one certificate issued by the national certificate authority (see
:mod:`common.security.pki`). Its identity is the single URI subject alternative name
``spiffe://registry.data.gov.cn/nodes/<region>``, where ``<region>`` is the node's six-digit GB/T 2260
code (:data:`common.regions.NATIONAL`, ``100000``, for the national node). The shape follows the SPIFFE
X.509-SVID rules: exactly one URI SAN, scheme ``spiffe``, a lowercase trust domain without port or user
information, no query or fragment.

A serving node learns who calls it from the peer certificate that gRPC's TLS stack has already verified
against the CA (``require_client_auth=True``)::

    region = identity_from_auth_context(context.auth_context())

This module only *reads* identities; it does not verify certificate chains (the TLS handshake did that,
and :func:`common.security.pki.verify_chain` does it for operators). Never feed it a certificate that
nobody verified.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

from cryptography import x509

from common.regions import is_region
from common.security.errors import SecurityError

__all__ = [
    "CLIENT_PATH_PREFIX",
    "client_spiffe_id",
    "is_client_spiffe_id",
    "NATIONAL_SERVER_NAME",
    "NODE_PATH_PREFIX",
    "TRUST_DOMAIN",
    "IdentityError",
    "certificate_region",
    "identity_from_auth_context",
    "node_spiffe_id",
    "parse_spiffe_id",
    "peer_identity",
]

_log = logging.getLogger(__name__)

#: The SPIFFE trust domain of the registry federation.
TRUST_DOMAIN = "registry.data.gov.cn"
#: The DNS name the national CA gives the national node's certificate, and no other (the CA refuses it,
#: and every name under :data:`TRUST_DOMAIN`, to any other certificate): provinces verify the national
#: node by it (a province's certificate, valid for the same address in a local federation, cannot pass
#: for the national node's).
NATIONAL_SERVER_NAME = "national.registry.data.gov.cn"
#: The path under which node identities live: ``/nodes/<region>``.
NODE_PATH_PREFIX = "/nodes/"

_SPIFFE_PREFIX = "spiffe://"
# SPIFFE IDs are at most 2048 bytes; anything longer is not worth parsing.
_MAX_ID_LENGTH = 2048
_SHOWN_LENGTH = 80
_SIX_DIGITS = re.compile(r"[0-9]{6}")


class IdentityError(SecurityError):
    """A SPIFFE ID or a peer certificate does not name a registry node.

    ``reason`` is stable and machine-readable, ``message`` says it for people:

    * ``SPIFFE_MALFORMED`` — not a ``spiffe://`` URI of the allowed shape (query, fragment, bad type);
    * ``SPIFFE_WRONG_TRUST_DOMAIN`` — a trust domain other than :data:`TRUST_DOMAIN`;
    * ``SPIFFE_NOT_A_NODE`` — the path is not ``/nodes/<region>``;
    * ``SPIFFE_UNKNOWN_REGION`` — the last path segment is not a province-level or national region;
    * ``CERT_MALFORMED`` — the peer certificate could not be parsed;
    * ``CERT_NO_SPIFFE_ID`` — the certificate has no URI SAN;
    * ``CERT_MULTIPLE_URIS`` — the certificate has more than one URI SAN (an SVID has exactly one);
    * ``NO_PEER_CERTIFICATE`` — the connection carries no verified client certificate.
    """


def _shown(value: object) -> str:
    """A bounded ``repr`` for messages: identities come from peers and may be arbitrarily long."""
    text = repr(value)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "…"


def node_spiffe_id(region: str) -> str:
    """The SPIFFE ID of the node of ``region``: ``spiffe://registry.data.gov.cn/nodes/320000``.

    Raises :class:`IdentityError` (``SPIFFE_UNKNOWN_REGION``) unless ``region`` is a province-level region
    or the national level (:func:`common.regions.is_region`).
    """
    if not is_region(region):
        raise IdentityError(
            "SPIFFE_UNKNOWN_REGION",
            f"{_shown(region)} is not a region code (six digits, for example 320000 for Jiangsu)",
        )
    return f"{_SPIFFE_PREFIX}{TRUST_DOMAIN}{NODE_PATH_PREFIX}{region}"


_CLIENT_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
CLIENT_PATH_PREFIX = "/clients/"


def client_spiffe_id(name: str) -> str:
    """The SPIFFE ID of a client (a tool, not a node): ``spiffe://registry.data.gov.cn/clients/<name>``."""
    if not _CLIENT_NAME.fullmatch(name):
        raise IdentityError("SPIFFE_MALFORMED", f"{_shown(name)} is not a client name (a-z, 0-9, '-')")
    return f"{_SPIFFE_PREFIX}{TRUST_DOMAIN}{CLIENT_PATH_PREFIX}{name}"


def is_client_spiffe_id(uri: str) -> bool:
    """Whether ``uri`` is exactly a client identity of the registry's trust domain."""
    prefix = f"{_SPIFFE_PREFIX}{TRUST_DOMAIN}{CLIENT_PATH_PREFIX}"
    return uri.startswith(prefix) and bool(_CLIENT_NAME.fullmatch(uri[len(prefix) :]))


def parse_spiffe_id(uri: str) -> str:
    """The region of the node a SPIFFE ID names; :class:`IdentityError` for anything else.

    Accepted is exactly ``spiffe://registry.data.gov.cn/nodes/<region>`` with a region known to
    :func:`common.regions.is_region`. Matching is exact and case-sensitive, as SPIFFE requires lowercase
    scheme and trust domain: no port, user information, query, fragment, extra or empty path segment.
    """
    if not isinstance(uri, str) or len(uri) > _MAX_ID_LENGTH or not uri.isascii():
        raise IdentityError("SPIFFE_MALFORMED", f"{_shown(uri)} is not a SPIFFE ID")
    if not uri.startswith(_SPIFFE_PREFIX):
        raise IdentityError("SPIFFE_MALFORMED", f"{_shown(uri)} is not a spiffe:// URI")
    if "?" in uri or "#" in uri:
        raise IdentityError("SPIFFE_MALFORMED", f"{_shown(uri)}: a SPIFFE ID has no query or fragment")
    rest = uri[len(_SPIFFE_PREFIX) :]
    trust_domain, slash, path = rest.partition("/")
    if trust_domain != TRUST_DOMAIN:
        raise IdentityError(
            "SPIFFE_WRONG_TRUST_DOMAIN",
            f"{_shown(uri)} is not in the trust domain {TRUST_DOMAIN} of the registry",
        )
    segments = (slash + path).split("/")
    # "/nodes/320000".split("/") == ["", "nodes", "320000"]
    if len(segments) != 3 or segments[0] != "" or segments[1] != NODE_PATH_PREFIX.strip("/"):
        raise IdentityError(
            "SPIFFE_NOT_A_NODE", f"{_shown(uri)} does not name a node: the path must be /nodes/<region>"
        )
    region = segments[2]
    if not _SIX_DIGITS.fullmatch(region):
        raise IdentityError(
            "SPIFFE_UNKNOWN_REGION",
            f"{_shown(uri)}: {_shown(region)} is not a region code: it must be six digits",
        )
    if not is_region(region):
        raise IdentityError(
            "SPIFFE_UNKNOWN_REGION",
            f"{_shown(uri)}: {region} is not a province-level region code or the national level",
        )
    return region


def certificate_region(certificate: x509.Certificate) -> str:
    """The node region a certificate's single SPIFFE URI SAN names (see :func:`parse_spiffe_id`)."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise IdentityError("CERT_NO_SPIFFE_ID", "the certificate has no subject alternative names") from None
    except ValueError as exc:  # an extension that does not parse
        raise IdentityError("CERT_MALFORMED", f"the certificate's extensions are malformed: {exc}") from None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    if not uris:
        raise IdentityError("CERT_NO_SPIFFE_ID", "the certificate has no URI SAN naming a registry node")
    if len(uris) > 1:
        raise IdentityError(
            "CERT_MULTIPLE_URIS",
            f"the certificate has {len(uris)} URI SANs; a node certificate must have exactly one",
        )
    return parse_spiffe_id(uris[0])


def peer_identity(pem_chain: bytes | str) -> str:
    """The node region of a peer from its PEM certificate (or chain, leaf first).

    Meant for the verified peer certificate gRPC exposes on the serving side::

        peer_identity(context.auth_context()["x509_pem_cert"][0])

    Raises :class:`IdentityError`: ``CERT_MALFORMED`` when no certificate parses, otherwise the reasons
    of :func:`certificate_region`.
    """
    data = pem_chain.encode("ascii", "replace") if isinstance(pem_chain, str) else pem_chain
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise IdentityError("CERT_MALFORMED", "the peer certificate is not a PEM X.509 certificate") from None
    if not certificates:
        raise IdentityError("CERT_MALFORMED", "no certificate in the peer's PEM data")
    return certificate_region(certificates[0])


def identity_from_auth_context(auth_context: Mapping[str, Iterable[bytes] | bytes]) -> str:
    """The node region of the caller from grpc's ``context.auth_context()`` on a mutual-TLS server.

    grpc gives each property as a list of ``bytes``; a bare ``bytes`` value (as some type stubs declare
    it) is accepted too. Raises :class:`IdentityError` ``NO_PEER_CERTIFICATE`` when the connection carries
    no client certificate (plaintext, or TLS without client authentication), otherwise as
    :func:`peer_identity`.
    """
    value = auth_context.get("x509_pem_cert")
    pem = value if isinstance(value, bytes | str) or value is None else next(iter(value), None)
    if not pem:
        _log.debug("no x509_pem_cert in auth context (keys: %s)", sorted(auth_context))
        raise IdentityError("NO_PEER_CERTIFICATE", "the caller presented no client certificate")
    return peer_identity(pem)
