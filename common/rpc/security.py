"""A node's security from its settings: TLS files, the token verifier, revocations and the policy."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from common.gen.registry.v1 import (
    demand_service_pb2,
    disclosure_service_pb2,
    log_service_pb2,
    national_service_pb2,
    provincial_service_pb2,
    registration_service_pb2,
    share_service_pb2,
    sync_service_pb2,
)
from common.rpc.auth import Authenticator, RevocationFile
from common.rpc.tls import Files
from common.security.policy import Policy
from common.security.tokens import TokenVerifier
from common.settings import NodeSettings

__all__ = ["CONTRACT_METHODS", "NodeSecurity", "node_security"]

#: Every method of the contract, as the policy names them (``Service.Method``).
CONTRACT_METHODS = frozenset(
    f"{service.name}.{method.name}"
    for module, name in (
        (national_service_pb2, "NationalService"),
        (registration_service_pb2, "RegistrationService"),
        (sync_service_pb2, "SyncService"),
        (provincial_service_pb2, "ProvincialService"),
        (log_service_pb2, "LogService"),
        (demand_service_pb2, "DemandService"),
        (share_service_pb2, "ShareService"),
        (disclosure_service_pb2, "DisclosureService"),
    )
    for service in (module.DESCRIPTOR.services_by_name[name],)
    for method in service.methods
)


@dataclass(frozen=True)
class NodeSecurity:
    files: Files
    credentials: grpc.ServerCredentials
    authenticator: Authenticator
    policy: Policy


def node_security(settings: NodeSettings) -> NodeSecurity:
    """Everything the node needs to prove itself and to check its callers (ValueError if not set up)."""
    files = Files(settings.tls)
    auth = settings.auth
    if auth.jwks_file is not None:
        tokens: TokenVerifier | None = TokenVerifier.from_jwks_file(
            auth.jwks_file, issuer=auth.issuer, audience=auth.audience
        )
    elif auth.oidc_issuer is not None:
        tokens = TokenVerifier.from_oidc_issuer(auth.oidc_issuer, audience=auth.audience)
    else:
        tokens = None  # a node that only nodes call (people are refused)
    crl = settings.tls.crl_file
    revocations = RevocationFile(crl, files.ca_file) if crl is not None else None
    return NodeSecurity(
        files=files,
        credentials=files.server_credentials(),
        authenticator=Authenticator(tokens, revocations),
        policy=Policy.load(auth.policy_file, methods=CONTRACT_METHODS),
    )
