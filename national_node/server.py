"""Builds the national node: database, directory, coding authority, registration, gRPC server."""

from __future__ import annotations

import logging
from pathlib import Path

from common import regions
from common.db import Database, migrate
from common.gen.registry.v1 import (
    national_service_pb2,
    national_service_pb2_grpc,
    registration_service_pb2,
    registration_service_pb2_grpc,
    sync_service_pb2,
    sync_service_pb2_grpc,
)
from common.grpc_server import NodeServer
from common.registration.node import build_registration, clock_from
from national_node.coding import CodingAuthority
from national_node.directory import sync_directory
from national_node.jurisdiction import NationalCodes, NationalJurisdiction
from national_node.ledger import Ledger
from national_node.service import NationalServicer
from national_node.settings import NationalSettings
from national_node.sync_service import SyncServicer

__all__ = ["MIGRATIONS", "create_server"]

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SERVICE_NAMES = (
    national_service_pb2.DESCRIPTOR.services_by_name["NationalService"].full_name,
    registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"].full_name,
    sync_service_pb2.DESCRIPTOR.services_by_name["SyncService"].full_name,
)


def create_server(settings: NationalSettings) -> NodeServer:
    """A ready-to-start national node server; its database is migrated and its directory synced."""
    db = Database(settings.database_url, pool_size=min(settings.max_workers, 32))
    migrate(db.engine, MIGRATIONS)
    authority = CodingAuthority(db)
    clock = clock_from(settings)
    ledger = Ledger(db, clock)
    registration = build_registration(
        db,
        node=regions.NATIONAL,
        settings=settings,
        jurisdiction=NationalJurisdiction(db),
        codes=NationalCodes(authority),
        on_change=ledger.record_own,
        clock=clock,
    )

    def add_services(server) -> None:  # noqa: ANN001
        national_service_pb2_grpc.add_NationalServiceServicer_to_server(NationalServicer(db), server)
        sync_service_pb2_grpc.add_SyncServiceServicer_to_server(SyncServicer(ledger), server)
        registration_service_pb2_grpc.add_RegistrationServiceServicer_to_server(registration.servicer, server)

    server = NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        add_services=add_services,
        service_names=SERVICE_NAMES,
        shutdown_grace=settings.shutdown_grace,
        on_start=[registration.duties.start],
        on_stop=[registration.duties.stop, db.dispose],
    )
    sync_directory(db, national_address=server.address, nodes=settings.provincial_nodes)
    return server
