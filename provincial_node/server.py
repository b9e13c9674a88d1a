"""Builds a provincial node: its registry of the region's subjects, coded by the national node, and
its link with the national ledger (the change log and the sync daemon)."""

from __future__ import annotations

from pathlib import Path

from common.db import Database, migrate
from common.gen.registry.v1 import (
    provincial_service_pb2,
    provincial_service_pb2_grpc,
    registration_service_pb2,
    registration_service_pb2_grpc,
)
from common.grpc_server import NodeServer
from common.registration.node import build_registration, clock_from
from common.sync.changelog import ChangeLog
from provincial_node.jurisdiction import ProvincialJurisdiction
from provincial_node.national_client import NationalClient
from provincial_node.provincial_service import ProvincialServicer
from provincial_node.settings import ProvincialSettings
from provincial_node.sync import SyncDaemon

__all__ = ["MIGRATIONS", "create_server"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SERVICE_NAMES = (
    registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"].full_name,
    provincial_service_pb2.DESCRIPTOR.services_by_name["ProvincialService"].full_name,
)


def create_server(settings: ProvincialSettings) -> NodeServer:
    db = Database(settings.database_url, pool_size=min(settings.max_workers, 32))
    migrate(db.engine, MIGRATIONS)
    clock = clock_from(settings)
    national = NationalClient(
        settings.national_address, region=settings.region, timeout=settings.national_timeout
    )
    log = ChangeLog(clock)
    registration = build_registration(
        db,
        node=settings.region,
        settings=settings,
        jurisdiction=ProvincialJurisdiction(settings.region),
        codes=national,
        on_change=log.record,
        clock=clock,
    )
    daemon = SyncDaemon(
        db,
        region=settings.region,
        national_address=settings.national_address,
        clock=clock,
        batch_size=settings.sync_batch_size,
        timeout=settings.national_timeout,
        in_process=settings.sync_in_process,
    )
    on_start, on_stop = [registration.duties.start], [registration.duties.stop]
    if settings.sync_in_process:
        on_start.append(daemon.start)
        on_stop.append(daemon.stop)

    def add_services(server) -> None:  # noqa: ANN001
        registration_service_pb2_grpc.add_RegistrationServiceServicer_to_server(registration.servicer, server)
        provincial_service_pb2_grpc.add_ProvincialServiceServicer_to_server(
            ProvincialServicer(daemon), server
        )

    return NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        add_services=add_services,
        service_names=SERVICE_NAMES,
        shutdown_grace=settings.shutdown_grace,
        on_start=on_start,
        on_stop=[*on_stop, national.close, db.dispose],
    )
