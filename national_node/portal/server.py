"""The portal as a process: uvicorn serving :func:`~national_node.portal.app.create_app` in a thread."""

from __future__ import annotations

import logging
import socket
import threading

import uvicorn

from common.clock import make_clock
from common.db import Database
from common.metrics.telemetry import Telemetry
from common.paging import PageTokens
from national_node.portal.app import create_app
from national_node.portal.metrics import PortalMetrics
from national_node.portal.national import NationalGateway
from national_node.portal.service import Portal
from national_node.search import Search
from national_node.settings import NationalSettings
from national_node.synonyms import Synonyms

__all__ = ["PORTAL_CONNECTIONS", "PortalProcess", "build_portal", "portal_database"]

logger = logging.getLogger(__name__)


#: Connections the portal holds to the database, at most.
PORTAL_CONNECTIONS = 16


def portal_database(settings: NationalSettings) -> Database:
    """The ledger's database as the portal reads it. Every search is planned for its own words: a
    cached generic plan, which PostgreSQL adopts after five runs of a prepared statement, reads every
    match of a broad word (seconds at 10^6 registrations, where its own plan takes milliseconds).
    Without prepared statements (behind PgBouncer) every statement is planned for its own values
    anyway, and PgBouncer would refuse the ``options`` that set the plan cache's mode."""
    database = settings.database
    return Database(
        settings.portal.database_url or settings.database_url,
        pool_size=PORTAL_CONNECTIONS,
        pool_timeout=database.pool_timeout,
        prepared_statements=database.prepared_statements,
        postgres_settings={"plan_cache_mode": "force_custom_plan"} if database.prepared_statements else None,
    )


def build_portal(settings: NationalSettings) -> tuple[Portal, Database]:
    config = settings.portal
    db = portal_database(settings)
    national = NationalGateway(
        config.national_address or settings.listen,
        cert_file=config.cert_file,
        key_file=config.key_file,
        ca_file=settings.tls.ca_file,
        log_keys_file=config.log_verifier_keys_file,
        timeout=config.national_timeout,
        witness_keys_file=settings.transparency.witness_keys_file,
    )
    portal = Portal(
        settings=config,
        search=Search(
            db,
            facet_cache_seconds=config.count_cache_seconds,
            cached_results=config.cached_results,
            synonyms=Synonyms.load(config.synonyms_file),
        ),
        tokens=PageTokens(db.secret("portal_page_tokens")),
        national=national,
        clock=make_clock(settings.clock_start, settings.clock_speed, settings.clock_anchor),
        downloads=settings.golden.directory,
    )
    return portal, db


class PortalProcess:
    """What :func:`common.process.run_process` runs: start, stop, and where it serves."""

    def __init__(self, settings: NationalSettings) -> None:
        self.portal, self.db = build_portal(settings)
        # Its own endpoint ([portal.metrics]): the node's [metrics] address is the node's.
        self.telemetry = Telemetry.of(settings.portal.metrics)
        metrics = None
        if self.telemetry is not None:
            metrics = PortalMetrics(self.telemetry)
            self.telemetry.watch_database(self.db)
        host, _, port = settings.portal.listen.rpartition(":")
        self.socket = socket.socket(socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Inherited by every accepted connection (Linux): a response's head and body go out at once,
        # not 40 ms apart behind the client's delayed acknowledgement.
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.socket.bind((host.strip("[]"), int(port)))
        bound = self.socket.getsockname()[1]
        self.address = f"http://{host}:{bound}/"
        self.announcement = f"serving on {self.address}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                create_app(self.portal, metrics),
                log_level=settings.logging_level.lower(),
                # JSON lines: uvicorn's loggers go through the process's handler, not uvicorn's own.
                log_config=None if settings.log.format == "json" else uvicorn.config.LOGGING_CONFIG,
                access_log=False,
                timeout_graceful_shutdown=5,
                limit_concurrency=256,
                server_header=False,
                # The client's address is the portal's to decide (national_node.portal.web): uvicorn
                # would take X-Forwarded-For from any client on 127.0.0.1.
                proxy_headers=False,
            )
        )
        self.thread = threading.Thread(target=self._serve, name="portal", daemon=True)

    def _warm(self) -> None:
        try:
            self.portal.search.warm()
        except Exception:  # the first suggestion reads it then
            logger.warning(
                "reading the vocabulary for suggestions failed; it is read when first needed", exc_info=True
            )

    def _serve(self) -> None:
        self.server.run(sockets=[self.socket])

    def start(self) -> None:
        # The vocabulary for suggestions is read beside the start, not by the first query needing it.
        threading.Thread(target=self._warm, name="portal-warm", daemon=True).start()
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                break
            self.thread.join(0.05)
        if not self.server.started:
            raise RuntimeError("the portal's web server did not start")
        if self.telemetry is not None:
            self.telemetry.start()
        logger.info("the portal serves on %s", self.address)

    def stop(self) -> None:
        if self.telemetry is not None:
            self.telemetry.stop()
        self.server.should_exit = True
        self.thread.join(10)
        self.portal.national.close()
        self.db.dispose()
