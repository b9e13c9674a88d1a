"""Builds a provincial node: its registry of the region's subjects, coded by the national node, and
its link with the national ledger (the change log and the sync daemon)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from common.clock import Clock, make_clock
from common.db import Database, migrate
from common.gen.registry.v1 import provincial_service_pb2, registration_service_pb2
from common.metrics.telemetry import Telemetry
from common.registration import build_registration
from common.registration.metrics import watch_duties
from common.rpc import NodeServer
from common.rpc.security import node_security
from common.security.local import KeyFile
from provincial_node.changelog import ChangeLog
from provincial_node.code_leases import LeasedProofs, LeaseKeeper, OfflineCoding
from provincial_node.jurisdiction import ProvincialJurisdiction
from provincial_node.metrics import watch_province
from provincial_node.national_client import NationalClient
from provincial_node.provincial_service import ProvincialServicer
from provincial_node.revocations import RevocationFeed
from provincial_node.settings import ProvincialSettings
from provincial_node.sync import SYNC_CONNECTIONS, CodingGate, SyncDaemon

__all__ = ["MIGRATIONS", "create_server"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
logger = logging.getLogger(__name__)

REGISTRATION_SERVICE = registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"]
PROVINCIAL_SERVICE = provincial_service_pb2.DESCRIPTOR.services_by_name["ProvincialService"]


def lease_keeper(
    db: Database, settings: ProvincialSettings, clock: Clock, national: NationalClient
) -> LeaseKeeper | None:
    """The keeper of the node's code leases, when they are on and the log's keys are configured."""
    config = settings.code_leases
    if not config.enabled:
        return None
    keys_file = settings.transparency.log_verifier_keys_file
    if keys_file is None:
        logger.warning(
            "code leases need transparency.log_verifier_keys_file to check their signatures: this node"
            " does not code while the national node is unreachable"
        )
        return None
    return LeaseKeeper(
        db,
        clock,
        region=settings.region,
        stub=lambda: national.stub,
        log_keys=KeyFile(keys_file).keys,
        check_seconds=config.check_seconds,
        renew_below=config.renew_below,
        renew_before=timedelta(hours=config.renew_before_hours),
        timeout=settings.national_timeout,
    )


def create_server(settings: ProvincialSettings) -> NodeServer:
    telemetry = Telemetry.of(settings.metrics)
    security = node_security(settings)
    db = Database.for_node(
        settings.database_url,
        settings.database,
        shared=0 if settings.sync_in_process else SYNC_CONNECTIONS,
    )
    migrate(db.engine, MIGRATIONS)
    clock = make_clock(settings.clock_start, settings.clock_speed, settings.clock_anchor)
    national = NationalClient(
        settings.national_address,
        region=settings.region,
        files=security.files,
        timeout=settings.national_timeout,
    )
    log = ChangeLog(clock)
    registration = build_registration(
        db,
        node=settings.region,
        settings=settings,
        clock=clock,
        jurisdiction=ProvincialJurisdiction(settings.region),
        codes=national,
        on_change=log.record,
        proofs=LeasedProofs(db, national),
        duplicates=national,
    )
    daemon = SyncDaemon.from_settings(db, settings, clock=clock, in_process=settings.sync_in_process)
    gate = CodingGate(db, log, daemon)
    registration.duties.may_code, registration.duties.on_activated = gate.open, gate.activated
    on_start: list[Callable[[], None]] = [registration.duties.start]
    on_stop: list[Callable[[], None]] = [registration.duties.stop]
    keeper = lease_keeper(db, settings, clock, national)
    if keeper is not None:
        # Codes through an outage of the national node: from leases taken ahead of need.
        registration.duties.offline = OfflineCoding(settings.region, clock)
        if settings.sync_in_process:
            registration.duties.silent_for = daemon.silent_for
        on_start.append(keeper.start)
        on_stop.append(keeper.stop)
    if settings.sync_in_process:
        on_start.append(daemon.start)
        on_stop.append(daemon.stop)
    tls = settings.tls
    if tls.crl_file is not None and tls.ca_file is not None and tls.crl_refresh_seconds > 0:
        revocations = RevocationFeed(
            national.revocation_list,
            crl_file=tls.crl_file,
            ca_file=tls.ca_file,
            interval=tls.crl_refresh_seconds,
        )
        on_start.append(revocations.start)
        on_stop.append(revocations.stop)
    if telemetry is not None:
        telemetry.watch_database(db)
        telemetry.watch_trust(settings.tls.cert_file, settings.tls.crl_file)
        watch_province(telemetry, db, daemon, clock, leases=keeper is not None)
        watch_duties(telemetry, db, registration.procedure)
        on_start.append(telemetry.start)
        on_stop.insert(0, telemetry.stop)
    return NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        services=[
            (REGISTRATION_SERVICE, registration.servicer),
            (PROVINCIAL_SERVICE, ProvincialServicer(daemon)),
        ],
        shutdown_grace=settings.shutdown_grace,
        credentials=security.credentials,
        authenticator=security.authenticator,
        policy=security.policy,
        on_start=on_start,
        on_stop=[*on_stop, national.close, db.dispose],
        health_listen=settings.health_listen,
        metrics=telemetry.grpc if telemetry else None,
    )
