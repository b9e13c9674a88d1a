"""Builds the national node: database, directory, services, gRPC server."""

from __future__ import annotations

import logging
from pathlib import Path

from common.db import Database, migrate
from common.gen.registry.v1 import national_service_pb2, national_service_pb2_grpc
from common.grpc_server import NodeServer
from national_node.directory import sync_directory
from national_node.service import NationalServicer
from national_node.settings import NationalSettings

__all__ = ["MIGRATIONS", "create_server"]

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SERVICE_NAMES = (national_service_pb2.DESCRIPTOR.services_by_name["NationalService"].full_name,)


def create_server(settings: NationalSettings) -> NodeServer:
    """A ready-to-start national node server; its database is migrated and its directory synced."""
    db = Database(settings.database_url, pool_size=min(settings.max_workers, 32))
    migrate(db.engine, MIGRATIONS)
    server = NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        add_services=lambda s: national_service_pb2_grpc.add_NationalServiceServicer_to_server(
            NationalServicer(db), s
        ),
        service_names=SERVICE_NAMES,
        shutdown_grace=settings.shutdown_grace,
        on_stop=[db.dispose],
    )
    sync_directory(db, national_address=server.address, nodes=settings.provincial_nodes)
    return server
