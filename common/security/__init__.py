"""Authentication for the registry federation: mutual TLS between nodes, bearer tokens for people.

* :mod:`common.security.identity` — node identities, the SPIFFE URI SAN
  ``spiffe://registry.data.gov.cn/nodes/<region>`` of node certificates, and reading it from a peer.
* :mod:`common.security.pki` — the national CA: node certificates (ECDSA P-256), renewal, revocation
  lists, inspection and files.
* :mod:`common.security.tokens` — JWT bearer tokens of operators and applicants: verification against a
  JWKS file or an OIDC issuer, and a development token issuer for the local federation.
"""

from __future__ import annotations

from common.security.identity import (
    TRUST_DOMAIN,
    IdentityError,
    certificate_region,
    identity_from_auth_context,
    node_spiffe_id,
    parse_spiffe_id,
    peer_identity,
)
from common.security.pki import (
    CertificateInfo,
    CertifiedKey,
    PKIError,
    RevocationList,
    certificate_info,
    create_ca,
    empty_crl,
    issue_node_certificate,
    load_certified_key,
    renew_node_certificate,
    revoke,
    verify_chain,
    write_certified_key,
)
from common.security.tokens import (
    ALLOWED_ALGORITHMS,
    Principal,
    PrincipalKind,
    TokenError,
    TokenIssuer,
    TokenVerifier,
)

__all__ = [
    "ALLOWED_ALGORITHMS",
    "TRUST_DOMAIN",
    "CertificateInfo",
    "CertifiedKey",
    "IdentityError",
    "PKIError",
    "Principal",
    "PrincipalKind",
    "RevocationList",
    "TokenError",
    "TokenIssuer",
    "TokenVerifier",
    "certificate_info",
    "certificate_region",
    "create_ca",
    "empty_crl",
    "identity_from_auth_context",
    "issue_node_certificate",
    "load_certified_key",
    "node_spiffe_id",
    "parse_spiffe_id",
    "peer_identity",
    "renew_node_certificate",
    "revoke",
    "verify_chain",
    "write_certified_key",
]
