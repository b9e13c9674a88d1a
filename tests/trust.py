"""The tests' federation trust: one CA, node and client certificates, a token issuer, for the session.

Every node process a test starts serves mutual TLS with a certificate of this CA and checks bearer
tokens of this issuer (:func:`node_env`). Tests call nodes the way operators and nodes do
(:func:`channel`): with a client certificate (a tool's, or a node's to act as that node) and, for a
person, a bearer token.

Tests that are about something else than authorisation run their nodes with a policy that adds one
role, ``tester``, allowed every method (:data:`TESTER`), and with separation of duties off; the tests of
trust (``tests/integration/test_trust.py``) use the built-in policy and defaults, as a deployment does.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path

import grpc

from common.rpc.security import CONTRACT_METHODS
from common.security.identity import NATIONAL_SERVER_NAME
from common.security.local import DEVELOPMENT_ISSUER, LocalTrust

__all__ = [
    "client_certificate",
    "log_env",
    "TESTER",
    "BUILT_IN_POLICY",
    "channel",
    "credentials",
    "metadata",
    "node_env",
    "token",
    "trust",
]

#: The role of the tests' policy that may call everything.
TESTER = "tester"
BUILT_IN_POLICY = Path(str(resources.files("common.security").joinpath("policy.toml")))

_lock = threading.Lock()


#: The environment variable through which processes started by a test (load generators, nodes) use
#: the same trust as the test.
SHARED = "REGISTRY_TEST_TRUST"


@functools.cache
def trust() -> LocalTrust:
    shared = os.environ.get(SHARED)
    if shared and (Path(shared) / "test-policy.toml").exists():
        return LocalTrust(Path(shared))
    root = Path(tempfile.mkdtemp(prefix="registry-trust-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    os.environ[SHARED] = str(root)
    local = LocalTrust(root)
    local.ensure(["100000"], clients=("tester",))
    local.issuer()
    local.ensure_log_keys([])
    methods = "\n".join(f'"{m}" = "any"' for m in sorted(CONTRACT_METHODS))
    (root / "test-policy.toml").write_text(
        BUILT_IN_POLICY.read_text()
        + f'\n[roles.{TESTER}]\ndescription = "the tests: every method"\ncredential = "token"\n'
        + f"[roles.{TESTER}.grants]\n{methods}\n"
    )
    return local


@contextlib.contextmanager
def _issuing(local: LocalTrust) -> Iterator[None]:
    """One issuer at a time, across threads and processes (a benchmark's load generators share the
    trust): a key and its certificate are written as a pair."""
    with _lock, (local.root / ".issuing.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _certificate(region: str) -> tuple[Path, Path]:
    local = trust()
    with _issuing(local):
        if not local.cert_file(region).exists():
            local.issue(region)
    return local.cert_file(region), local.key_file(region)


def client_certificate(name: str) -> tuple[Path, Path]:
    """A tool's client certificate (``portal``, ...), issued the first time it is asked for."""
    local = trust()
    with _issuing(local):
        if not local.client_cert_file(name).exists():
            local.issue_client(name)
    return local.client_cert_file(name), local.client_key_file(name)


def _witness_key(region: str) -> Path:
    local = trust()
    with _issuing(local):
        if not local.witness_key_file(region).exists():
            local.make_witness_key(region)
    return local.witness_key_file(region)


def log_env(region: str) -> dict[str, str]:
    """The national log's keys: its signing key for the national node; for a province, the log's
    verifier keys and the province's own witness key."""
    local = trust()
    if region == "100000":
        return {
            "REGISTRY_TRANSPARENCY__LOG_KEY_FILE": str(local.log_key_file),
            "REGISTRY_TRANSPARENCY__WITNESS_KEYS_FILE": str(local.witness_keys_file),
            "REGISTRY_TRANSPARENCY__CHECKPOINT_INTERVAL": "0.5",
        }
    return {
        "REGISTRY_TRANSPARENCY__LOG_VERIFIER_KEYS_FILE": str(local.log_verifier_keys_file),
        "REGISTRY_TRANSPARENCY__WITNESS_KEY_FILE": str(_witness_key(region)),
        "REGISTRY_TRANSPARENCY__GOSSIP_INTERVAL": "1",
    }


def node_env(region: str, *, strict: bool = False) -> dict[str, str]:
    """The settings that give a node process its certificate, the tests' token issuer and the
    national log's keys; with ``strict``, the built-in policy and separation of duties, as deployed."""
    local = trust()
    cert, key = _certificate(region)
    return {
        **log_env(region),
        "REGISTRY_TLS__CERT_FILE": str(cert),
        "REGISTRY_TLS__KEY_FILE": str(key),
        "REGISTRY_TLS__CA_FILE": str(local.ca_file),
        "REGISTRY_TLS__CRL_FILE": str(local.crl_file),
        "REGISTRY_AUTH__JWKS_FILE": str(local.jwks_file),
        "REGISTRY_AUTH__ISSUER": DEVELOPMENT_ISSUER,
        "REGISTRY_AUTH__POLICY_FILE": str(BUILT_IN_POLICY if strict else local.root / "test-policy.toml"),
        "REGISTRY_AUTH__SEPARATION_OF_DUTIES": "true" if strict else "false",
    }


@functools.lru_cache(maxsize=512)
def token(subject: str = "tester", roles: tuple[str, ...] = (TESTER,), subjects: tuple[str, ...] = ()) -> str:
    """A bearer token of the tests' issuer."""
    return trust().issuer().issue(subject, name=subject, roles=roles, subjects=subjects)


def metadata(bearer: str | None) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {bearer}"),) if bearer else ()


def credentials(
    *, node: str | None = None, bearer: str | None = None, client: str = "tester"
) -> grpc.ChannelCredentials:
    """Mutual-TLS credentials: the node ``node``'s certificate, or the tool ``client``'s (``tester``
    unless named); with ``bearer`` sent on every call."""
    local = trust()
    if node is not None:
        cert, key = _certificate(node)
    elif client != "tester":
        cert, key = client_certificate(client)
    else:
        cert, key = local.client_cert_file("tester"), local.client_key_file("tester")
    ca = local.ca_file.read_bytes()
    made = grpc.ssl_channel_credentials(ca, key.read_bytes(), cert.read_bytes())
    if bearer:
        made = grpc.composite_channel_credentials(made, grpc.access_token_call_credentials(bearer))
    return made


def channel(
    address: str,
    *,
    node: str | None = None,
    bearer: str | None = None,
    client: str = "tester",
    national: bool = False,
    options: Iterable[tuple[str, object]] = (),
) -> grpc.Channel:
    """A mutual-TLS channel (see :func:`credentials`); ``national`` checks that the server is the
    national node."""
    extra = [("grpc.ssl_target_name_override", NATIONAL_SERVER_NAME)] if national else []
    made = credentials(node=node, bearer=bearer, client=client)
    return grpc.secure_channel(address, made, options=[*extra, *options])
