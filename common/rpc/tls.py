"""TLS for the nodes: server and channel credentials from the node's files, renewed without a restart.

A node serves TLS with its certificate and requires one of every client, verified against the
federation's CA: mutual TLS everywhere. A node's certificate names the node, a tool's names the tool;
a person adds a bearer token; the boundary decides what each may do. When the certificate or key files
change, new connections use the new ones: the server's credentials are dynamic (gRPC asks for them at
every handshake, and they are read again when the files' stamp changed), and
:class:`~common.rpc.channels.ReplaceableChannel` rebuilds its channel when the stamp changes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import cast

import grpc

from common.settings import TlsSettings

__all__ = ["Files", "NotConfigured"]

logger = logging.getLogger(__name__)


class NotConfigured(ValueError):
    """A node needs its certificate, key and the federation's CA."""


class Files:
    """The node's certificate, key and CA files, and whether they changed since they were read."""

    def __init__(self, tls: TlsSettings) -> None:
        if tls.cert_file is None or tls.key_file is None or tls.ca_file is None:
            raise NotConfigured(
                "tls.cert_file, tls.key_file and tls.ca_file are required: every node serves TLS"
            )
        self.cert_file, self.key_file, self.ca_file = tls.cert_file, tls.key_file, tls.ca_file
        for path in (self.cert_file, self.key_file, self.ca_file):
            if not path.is_file():
                raise NotConfigured(f"{path} does not exist")

    def stamp(self) -> tuple[int, ...]:
        """The files' modification times: a new stamp means new files."""
        return tuple(p.stat().st_mtime_ns for p in (self.cert_file, self.key_file, self.ca_file))

    def read(self) -> tuple[bytes, bytes, bytes]:
        """(certificate chain, key, CA) as they are now."""
        return self.cert_file.read_bytes(), self.key_file.read_bytes(), self.ca_file.read_bytes()

    # -- server ---------------------------------------------------------------------------------

    def _config(self) -> grpc.ServerCertificateConfiguration:
        chain, key, ca = self.read()
        return grpc.ssl_server_certificate_configuration([(key, chain)], root_certificates=ca)

    def server_credentials(self) -> grpc.ServerCredentials:
        served = [self.stamp()]
        lock = threading.Lock()

        def fetch() -> grpc.ServerCertificateConfiguration | None:
            try:
                with lock:
                    stamp = self.stamp()
                    if stamp == served[0]:
                        return None
                    served[0] = stamp
                logger.info("the node's certificate files changed; new connections use them")
                return self._config()
            except (OSError, ValueError):
                logger.exception("cannot read the node's certificate files; keeping the ones in use")
                return None

        # gRPC takes None from the fetcher as "no change"; its type stubs do not say so.
        fetcher = cast(Callable[[], grpc.ServerCertificateConfiguration], fetch)
        return grpc.dynamic_ssl_server_credentials(
            self._config(), fetcher, require_client_authentication=True
        )

    # -- client ---------------------------------------------------------------------------------

    def channel_credentials(self) -> grpc.ChannelCredentials:
        chain, key, ca = self.read()
        return grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=chain)
