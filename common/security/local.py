"""A federation's trust material in one folder: the CA, its revocation list, node certificates, and a
development token issuer. What ``registry-federation`` sets up on its first run, what
``registryctl pki`` works on, and what the tests use.

::

    <root>/pki/ca.crt ca.key crl.pem          the national CA and its revocation list
    <root>/pki/nodes/<region>.crt <region>.key one certificate per node
    <root>/pki/clients/<name>.crt <name>.key   one per tool (registryctl, the portal)
    <root>/tokens/jwks.json token-issuer.*     the development identity provider (never in production)
    <root>/log/log.key log.vkeys               the national log's signing key; its verifier keys
    <root>/log/witnesses/<region>.key          a province's cosignature key as a witness
    <root>/log/witnesses.vkeys                 the witnesses' verifier keys (the national node reads it)

A national coordinator keeps ``ca.key`` to themselves. A provincial operator makes their node's key and
a signing request (``registryctl pki request``), sends the request, and receives the ``.crt`` with
``ca.crt`` and ``crl.pem`` (see the README, "Trust").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from common import regions
from common.security.files import write_atomically
from common.security.identity import NATIONAL_SERVER_NAME
from common.security.pki import (
    DEFAULT_HOSTS,
    CertifiedKey,
    RevocationList,
    certificate_info,
    create_ca,
    empty_crl,
    issue_client_certificate,
    issue_node_certificate,
    load_certified_key,
    renew_node_certificate,
    republish,
    revoke,
    sign_node_request,
)
from common.security.tokens import TokenIssuer
from common.transparency import CosignatureSigner, Signer
from common.transparency.entry import ORIGIN, WITNESS_KEY_PREFIX

__all__ = ["DEVELOPMENT_ISSUER", "KeyFile", "LocalTrust", "read_key_lines"]

logger = logging.getLogger(__name__)

#: The ``iss`` of the development token issuer (a URL that is not one, so it is never mistaken).
DEVELOPMENT_ISSUER = "https://id.registry.invalid/development"
AUDIENCE = "registry.data.gov.cn"


class LocalTrust:
    """The trust material under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pki = root / "pki"
        self.tokens = root / "tokens"

    # -- paths ----------------------------------------------------------------------------------

    @property
    def ca_file(self) -> Path:
        return self.pki / "ca.crt"

    @property
    def crl_file(self) -> Path:
        return self.pki / "crl.pem"

    @property
    def jwks_file(self) -> Path:
        return self.tokens / "jwks.json"

    def cert_file(self, region: str) -> Path:
        return self.pki / "nodes" / f"{region}.crt"

    def key_file(self, region: str) -> Path:
        return self.pki / "nodes" / f"{region}.key"

    def client_cert_file(self, name: str) -> Path:
        return self.pki / "clients" / f"{name}.crt"

    def client_key_file(self, name: str) -> Path:
        return self.pki / "clients" / f"{name}.key"

    # -- the CA ---------------------------------------------------------------------------------

    def ca(self) -> CertifiedKey:
        return load_certified_key(self.pki / "ca.key", self.ca_file)

    def init_ca(self) -> bool:
        """Create the CA and an empty revocation list, unless they exist; True if created."""
        if self.ca_file.exists():
            return False
        ca = create_ca()
        self.pki.mkdir(parents=True, exist_ok=True)
        write_atomically(self.pki / "ca.key", ca.key_pem, 0o600)
        write_atomically(self.ca_file, ca.cert_pem, 0o644)
        write_atomically(self.crl_file, empty_crl(ca), 0o644)
        logger.info("created the federation's CA in %s", self.pki)
        return True

    def _write(self, region: str, node: CertifiedKey) -> None:
        folder = self.cert_file(region).parent
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self.key_file(region), node.key_pem, 0o600)
        write_atomically(self.cert_file(region), node.cert_pem, 0o644)

    def issue(
        self, region: str, *, hosts: Iterable[str] = DEFAULT_HOSTS, valid_days: int = 397
    ) -> CertifiedKey:
        """A certificate for the node of ``region`` (the national node also gets its server name)."""
        hosts = list(hosts)
        if region == regions.NATIONAL and NATIONAL_SERVER_NAME not in hosts:
            hosts.append(NATIONAL_SERVER_NAME)
        node = issue_node_certificate(self.ca(), region, hosts=hosts, valid_days=valid_days)
        self._write(region, node)
        return node

    def issue_client(self, name: str, *, valid_days: int = 397) -> CertifiedKey:
        """A client certificate for a tool (``registryctl``, ``portal``)."""
        client = issue_client_certificate(self.ca(), name, valid_days=valid_days)
        folder = self.client_cert_file(name).parent
        folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self.client_key_file(name), client.key_pem, 0o600)
        write_atomically(self.client_cert_file(name), client.cert_pem, 0o644)
        return client

    def ensure(self, regions_: Iterable[str], clients: Iterable[str] = ("registryctl",)) -> list[str]:
        """The CA, a certificate for each region and client that has none; returns what was issued."""
        self.init_ca()
        issued = []
        for region in regions_:
            if not self.cert_file(region).exists():
                self.issue(region)
                issued.append(region)
        for name in clients:
            if not self.client_cert_file(name).exists():
                self.issue_client(name)
                issued.append(name)
        return issued

    def sign(self, region: str, csr_pem: bytes, *, valid_days: int = 397) -> CertifiedKey:
        """The certificate for a node's signing request (its key stays with the node)."""
        node = sign_node_request(self.ca(), csr_pem, region=region, valid_days=valid_days)
        self.cert_file(region).parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.cert_file(region), node.cert_pem, 0o644)
        return node

    def republish(self) -> int:
        """Sign the revocation list again (same entries, next number); returns the new number."""
        crl = republish(self.ca(), self.crl_file.read_bytes())
        write_atomically(self.crl_file, crl, 0o644)
        return RevocationList.load(crl, self.ca().cert_pem).number

    def renew(self, region: str, *, valid_days: int = 397) -> CertifiedKey:
        node = renew_node_certificate(self.ca(), self.cert_file(region).read_bytes(), valid_days=valid_days)
        self._write(region, node)
        return node

    def revoke(self, region: str) -> int:
        """Put the node's current certificate on the revocation list; returns its serial."""
        serial = certificate_info(self.cert_file(region).read_bytes()).serial
        self.revoke_serial(serial)
        return serial

    def revoke_serial(self, serial: int) -> None:
        crl = revoke(self.ca(), self.crl_file.read_bytes(), serial)
        write_atomically(self.crl_file, crl, 0o644)

    # -- the development token issuer -----------------------------------------------------------

    def issuer(self) -> TokenIssuer:
        """The development token issuer, made on first use."""
        if (self.tokens / "jwks.json").exists():
            return TokenIssuer.load(self.tokens)
        issuer = TokenIssuer.generate(DEVELOPMENT_ISSUER, AUDIENCE)
        issuer.save(self.tokens)
        return issuer

    # -- the national log's keys ------------------------------------------------------------------

    @property
    def log_key_file(self) -> Path:
        return self.root / "log" / "log.key"

    @property
    def log_verifier_keys_file(self) -> Path:
        return self.root / "log" / "log.vkeys"

    def witness_key_file(self, region: str) -> Path:
        return self.root / "log" / "witnesses" / f"{region}.key"

    @property
    def witness_keys_file(self) -> Path:
        return self.root / "log" / "witnesses.vkeys"

    def ensure_log_keys(self, witnesses: Iterable[str]) -> list[str]:
        """The log's key, and a witness key for each region in ``witnesses``, unless they exist."""
        made = []
        if not self.log_key_file.exists():
            self.rotate_log_key()
            made.append("log")
        for region in witnesses:
            if not self.witness_key_file(region).exists():
                self.make_witness_key(region)
                made.append(f"witness {region}")
        return made

    def rotate_log_key(self) -> str:
        """A new signing key for the log; its verifier key goes first in ``log.vkeys``, the earlier
        ones stay (old checkpoints verify with them). Returns the new verifier key."""
        signer = Signer.generate(ORIGIN)
        self.log_key_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.log_key_file, signer.private_key_text().encode() + b"\n", 0o600)
        old = self.log_verifier_keys() if self.log_verifier_keys_file.exists() else []
        keys = [signer.verifier_key(), *(k for k in old if k != signer.verifier_key())]
        write_atomically(self.log_verifier_keys_file, "".join(k + "\n" for k in keys).encode(), 0o644)
        return signer.verifier_key()

    def log_verifier_keys(self) -> list[str]:
        return read_key_lines(self.log_verifier_keys_file)

    def make_witness_key(self, region: str) -> str:
        """A cosignature key for the witness ``region``, listed in ``witnesses.vkeys`` (replacing an
        earlier key of that region)."""
        signer = CosignatureSigner.generate(WITNESS_KEY_PREFIX + region)
        path = self.witness_key_file(region)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, signer.private_key_text().encode() + b"\n", 0o600)
        listed = read_key_lines(self.witness_keys_file) if self.witness_keys_file.exists() else []
        keys = [k for k in listed if not k.startswith(signer.name + "+")] + [signer.verifier_key()]
        write_atomically(self.witness_keys_file, "".join(k + "\n" for k in keys).encode(), 0o644)
        return signer.verifier_key()


class KeyFile:
    """A keys file (see :func:`read_key_lines`) read again when it changes; the last good contents are
    kept when it cannot be read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: int | None = None
        self._keys: list[str] = read_key_lines(path)
        self._stamp = path.stat().st_mtime_ns

    def keys(self) -> list[str]:
        try:
            stamp = self.path.stat().st_mtime_ns
            if stamp != self._stamp:
                self._keys, self._stamp = read_key_lines(self.path), stamp
        except OSError as error:
            logger.error("cannot read %s: %s; keeping the keys read before", self.path, error)
        return self._keys


def read_key_lines(path: Path) -> list[str]:
    """The key texts of a keys file: one per line, ``#`` starts a comment, blank lines ignored."""
    lines = (raw.split("#", 1)[0].strip() for raw in path.read_text().splitlines())
    return [line for line in lines if line]
