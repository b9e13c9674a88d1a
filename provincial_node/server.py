"""Builds a provincial node: its registry of the region's subjects, coded by the national node."""

from __future__ import annotations

from pathlib import Path

from common.db import Database, migrate
from common.gen.registry.v1 import registration_service_pb2, registration_service_pb2_grpc
from common.grpc_server import NodeServer
from common.registration.node import build_registration
from provincial_node.jurisdiction import ProvincialJurisdiction
from provincial_node.national_client import NationalClient
from provincial_node.settings import ProvincialSettings

__all__ = ["MIGRATIONS", "create_server"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SERVICE_NAMES = (registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"].full_name,)


def create_server(settings: ProvincialSettings) -> NodeServer:
    db = Database(settings.database_url, pool_size=min(settings.max_workers, 32))
    migrate(db.engine, MIGRATIONS)
    national = NationalClient(
        settings.national_address, region=settings.region, timeout=settings.national_timeout
    )
    registration = build_registration(
        db,
        node=settings.region,
        settings=settings,
        jurisdiction=ProvincialJurisdiction(settings.region),
        codes=national,
    )
    return NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        add_services=lambda s: registration_service_pb2_grpc.add_RegistrationServiceServicer_to_server(
            registration.servicer, s
        ),
        service_names=SERVICE_NAMES,
        shutdown_grace=settings.shutdown_grace,
        on_start=[registration.duties.start],
        on_stop=[registration.duties.stop, national.close, db.dispose],
    )
