"""The national CA's revocation list, kept current on a provincial node.

The national node publishes the CRL (``NationalService.GetRevocationList``); a provincial node fetches
it every ``tls.crl_refresh_seconds`` and, when it is signed by the federation's CA and newer (a higher
CRL number) than the one in its ``tls.crl_file``, writes it there atomically. The node's boundary reads
the file again within a second (:class:`common.rpc.auth.RevocationFile`), so a certificate the
coordinators revoke is refused by every province within about one refresh interval.

The CRL's signature, not the channel, is what is trusted: a list that does not verify, or is older
than the one held, is logged and ignored, and the node keeps the list it has. While the national node
is unreachable the node keeps its list too (and says so in its log once the list is past its next
update).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import grpc

from common.security.files import write_atomically
from common.security.pki import PKIError, RevocationList

__all__ = ["RevocationFeed"]

logger = logging.getLogger(__name__)


class RevocationFeed:
    """Fetches the published CRL and installs it when it is genuine and newer."""

    def __init__(
        self, fetch: Callable[[], bytes], *, crl_file: Path, ca_file: Path, interval: float = 60.0
    ) -> None:
        self._fetch, self.crl_file, self.ca_file, self.interval = fetch, crl_file, ca_file, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _held(self) -> RevocationList | None:
        try:
            return RevocationList.load(self.crl_file.read_bytes(), self.ca_file.read_bytes())
        except (OSError, PKIError):
            return None

    def install(self, der: bytes) -> bool:
        """Install ``der`` if it is the CA's and newer than the held list; whether it was installed."""
        try:
            published = RevocationList.load(der, self.ca_file.read_bytes())
        except PKIError as error:
            logger.error("the published revocation list is refused: %s (%s)", error.message, error.reason)
            return False
        held = self._held()
        if held is not None and published.number <= held.number:
            if published.number < held.number:
                logger.warning(
                    "the published revocation list %d is older than the held %d; kept the held one",
                    published.number,
                    held.number,
                )
            return False
        try:
            write_atomically(self.crl_file, published.pem(), 0o644)
        except OSError as error:  # a read-only mount (a Kubernetes Secret, say): keep the held list
            logger.error(
                "cannot install revocation list %d in %s: %s; the node keeps the list it holds",
                published.number,
                self.crl_file,
                error,
            )
            return False
        logger.info(
            "revocation list %d installed (%d revoked)", published.number, len(published.revoked_serials)
        )
        return True

    def refresh(self) -> None:
        try:
            der = self._fetch()
        except grpc.RpcError as error:
            logger.info("revocation list not fetched: %s", error.code())
            return
        self.install(der)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.refresh()
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="revocations", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
