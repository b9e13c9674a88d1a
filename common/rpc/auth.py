"""Who calls: the boundary's one decision, made from what the connection and the call prove.

* A **node** proves itself by its TLS client certificate, verified by the TLS handshake against the
  federation's CA; its identity is the SPIFFE URI in the certificate
  (``spiffe://registry.data.gov.cn/nodes/320000``), read from ``context.auth_context()``, never from
  a request field. A certificate on the national CA's revocation list is refused.
* A **person** sends ``authorization: Bearer <JWT>``, verified against the key set of the identity
  provider the node trusts (:class:`~common.security.tokens.TokenVerifier`). A call with a token is the
  person's, even on a connection with a client certificate.
* A connection with a client certificate of a tool (``spiffe://registry.data.gov.cn/clients/...``,
  registryctl, the public portal) and no token is **anonymous**: the public's rights only.

Every connection is mutual TLS: a client without a certificate of the federation's CA cannot connect.

Bad credentials are UNAUTHENTICATED with the reason (``TOKEN_EXPIRED``, ``CERT_REVOKED``, ...); a
token the node cannot check now (its identity provider unreachable) is UNAVAILABLE.

A call is authenticated when it starts, but a stream may last for hours: what its principal rests on
(:class:`Proof`: the peer certificate's serial and end, the token's end) is checked again by
:meth:`Authenticator.check` while it lasts (:mod:`common.rpc.handlers` does so before every message
and four times a second), so that a certificate revoked or expired, or a token expired, ends the
streams opened with it as it refuses new calls.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from common.errors import Unauthenticated, Unavailable
from common.security.identity import IdentityError, certificate_region, is_client_spiffe_id
from common.security.pki import PKIError, RevocationList
from common.security.tokens import Principal, TokenError, TokenVerifier

__all__ = ["Authenticator", "Proof", "RevocationFile"]

logger = logging.getLogger(__name__)

_BEARER = "bearer "


class RevocationFile:
    """The national CA's revocation list, read again when the file changes (looked at every
    ``look_every`` seconds at most, twice a second by default: with the streams' watcher, a revoked
    certificate is refused everywhere within a second of the file's change)."""

    def __init__(self, crl_file: Path, ca_file: Path, *, look_every: float = 0.5) -> None:
        self.crl_file, self.ca_file = crl_file, ca_file
        self.look_every = look_every
        self._lock = threading.Lock()
        self._stamp: int | None = None
        self._looked = 0.0
        self._list = self._load()

    def _load(self) -> RevocationList:
        self._stamp = self.crl_file.stat().st_mtime_ns
        loaded = RevocationList.load(self.crl_file.read_bytes(), self.ca_file.read_bytes())
        if loaded.is_stale():
            logger.warning(
                "the revocation list %s (number %d) is past its next update %s: the CA should publish a"
                " newer one (registryctl pki republish)",
                self.crl_file,
                loaded.number,
                loaded.next_update,
            )
        return loaded

    def is_revoked(self, serial: int) -> bool:
        return self.current().is_revoked(serial)

    def current(self) -> RevocationList:
        """The list as the file holds it now (looked at every ``look_every`` seconds at most)."""
        with self._lock:
            now = time.monotonic()
            if now - self._looked >= self.look_every:
                self._looked = now
                try:
                    if self.crl_file.stat().st_mtime_ns != self._stamp:
                        self._list = self._load()
                        logger.info("revocation list %d loaded", self._list.number)
                except (OSError, PKIError) as error:
                    logger.error(
                        "cannot read the revocation list %s: %s; keeping the last one", self.crl_file, error
                    )
            return self._list


@functools.lru_cache(maxsize=256)
def _peer(pem: bytes) -> tuple[str | None, int, datetime]:
    """(node region, or None for a client identity; serial; end of validity) of a peer certificate."""
    certificate = x509.load_pem_x509_certificates(pem)[0]
    try:
        region: str | None = certificate_region(certificate)
    except IdentityError as error:
        if error.reason != "SPIFFE_NOT_A_NODE":
            raise
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        if not is_client_spiffe_id(san.get_values_for_type(x509.UniformResourceIdentifier)[0]):
            raise
        region = None
    return region, certificate.serial_number, certificate.not_valid_after_utc


def _first(value: Iterable[bytes] | bytes | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return next(iter(value), None)


class _VerifiedTokens:
    """Tokens verified recently, so that a client sending the same token on every call pays for its
    signature once a minute instead of on every call (about 150 µs each, see the README).

    An entry is used until the token expires or for ``ttl`` seconds, whichever comes first: a key the
    identity provider withdraws stops being honoured within ``ttl``. Bounded; the oldest entries go.
    """

    def __init__(self, *, ttl: float = 60.0, size: int = 4096) -> None:
        self.ttl, self.size = ttl, size
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def get(self, token: str) -> Principal | None:
        with self._lock:
            entry = self._entries.get(token)
            if entry is None:
                return None
            until, principal = entry
            if time.monotonic() >= until or principal.expires <= datetime.now(UTC):
                del self._entries[token]
                return None
            return principal

    def put(self, token: str, principal: Principal) -> None:
        with self._lock:
            self._entries[token] = (time.monotonic() + self.ttl, principal)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Proof:
    """What a call's principal rests on, to be checked again while the call lasts."""

    #: The serial of the peer's certificate (every connection is mutual TLS), None without one.
    serial: int | None = None
    #: When the peer's certificate ends.
    certificate_expires: datetime | None = None
    #: When the bearer token ends, if the call has one.
    token_expires: datetime | None = None


class Authenticator:
    """Turns a call's transport and metadata into a verified :class:`Principal`."""

    def __init__(
        self, tokens: TokenVerifier | None, revocations: RevocationFile | None, *, cache_tokens: bool = True
    ) -> None:
        self.tokens, self.revocations = tokens, revocations
        self._verified = _VerifiedTokens() if cache_tokens else None

    def identify(self, auth_context: Mapping[str, Any], metadata: Iterable[tuple[str, Any]]) -> Principal:
        return self.authenticate(auth_context, metadata)[0]

    def authenticate(
        self, auth_context: Mapping[str, Any], metadata: Iterable[tuple[str, Any]]
    ) -> tuple[Principal, Proof]:
        """The caller, and what to check again while its call lasts (:meth:`check`)."""
        token = None
        for key, value in metadata:
            if key == "authorization":
                text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                if not text[: len(_BEARER)].lower() == _BEARER:
                    raise Unauthenticated("TOKEN_MALFORMED", "authorization must be 'Bearer <token>'")
                token = text[len(_BEARER) :].strip()
        pem = _first(auth_context.get("x509_pem_cert"))
        # Every connection is mutual TLS, so every caller has a certificate: a revoked one is refused
        # whoever holds it; a token then says which person acts.
        node, proof = self._certificate(pem) if pem else (Principal.anonymous(), Proof())
        if token is not None:
            person = self._person(token)
            return person, Proof(proof.serial, proof.certificate_expires, person.expires)
        return node, proof

    def check(self, proof: Proof, *, now: datetime | None = None) -> None:
        """UNAUTHENTICATED if what a call rests on no longer holds: its certificate revoked
        (``CERT_REVOKED``) or past its end (``CERT_EXPIRED``), its token past its end
        (``TOKEN_EXPIRED``)."""
        now = now or datetime.now(UTC)
        if proof.serial is not None and self.revocations is not None:
            if self.revocations.is_revoked(proof.serial):
                raise Unauthenticated(
                    "CERT_REVOKED", f"the client certificate (serial {proof.serial:x}) is revoked"
                )
        if proof.certificate_expires is not None and proof.certificate_expires <= now:
            raise Unauthenticated(
                "CERT_EXPIRED",
                f"the client certificate ended at {proof.certificate_expires:%Y-%m-%d %H:%M:%S} UTC",
            )
        if proof.token_expires is not None and proof.token_expires <= now:
            raise Unauthenticated("TOKEN_EXPIRED", "the token has expired")

    def _person(self, token: str) -> Principal:
        if self.tokens is None:
            raise Unauthenticated("TOKENS_NOT_ACCEPTED", "this node is configured to accept no bearer tokens")
        if self._verified is not None and (known := self._verified.get(token)) is not None:
            return known
        try:
            principal = self.tokens.verify(token)
        except TokenError as error:
            if error.reason == "TOKEN_KEYS_UNAVAILABLE":
                raise Unavailable(error.reason, error.message) from None
            raise Unauthenticated(error.reason, error.message) from None
        if len(principal.subject) > 100:
            raise Unauthenticated("TOKEN_CLAIMS", "the token's subject is longer than 100 characters")
        if self._verified is not None:
            self._verified.put(token, principal)
        return principal

    def _certificate(self, pem: bytes) -> tuple[Principal, Proof]:
        try:
            region, serial, not_after = _peer(pem)
        except (IdentityError, ValueError, IndexError) as error:
            reason = getattr(error, "reason", "CERT_NOT_A_NODE")
            raise Unauthenticated(reason, "the client certificate names no registry node") from None
        proof = Proof(serial=serial, certificate_expires=not_after)
        # The handshake checked the certificate when the connection opened; a connection outlives
        # neither its certificate's revocation nor its end.
        self.check(proof)
        if region is None:
            return Principal.anonymous(), proof  # a tool of the federation, acting for nobody in particular
        return Principal.node(region, expires=not_after), proof
