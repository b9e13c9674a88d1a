"""Builds the national node: database, directory, coding authority, registration, ledger, gRPC server."""

from __future__ import annotations

import logging
from pathlib import Path

from common import regions
from common.clock import make_clock
from common.db import Database, migrate
from common.gen.registry.v1 import national_service_pb2, registration_service_pb2, sync_service_pb2
from common.paging import PageTokens
from common.registration import build_registration
from common.rpc import NodeServer
from common.rpc.security import node_security
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
NATIONAL_SERVICE = national_service_pb2.DESCRIPTOR.services_by_name["NationalService"]
REGISTRATION_SERVICE = registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"]
SYNC_SERVICE = sync_service_pb2.DESCRIPTOR.services_by_name["SyncService"]


def create_server(settings: NationalSettings) -> NodeServer:
    """A ready-to-start national node server; its database is migrated and its directory synced."""
    security = node_security(settings)
    db = Database(settings.database_url, pool_size=min(settings.max_workers, 32))
    migrate(db.engine, MIGRATIONS)
    clock = make_clock(settings.clock_start, settings.clock_speed)
    authority = CodingAuthority(db, clock)
    ledger = Ledger(db, clock)
    registration = build_registration(
        db,
        node=regions.NATIONAL,
        settings=settings,
        clock=clock,
        jurisdiction=NationalJurisdiction(db),
        codes=NationalCodes(authority),
        on_change=ledger.record_own,
    )
    tokens = PageTokens(db.secret("page_tokens"))
    server = NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        services=[
            (NATIONAL_SERVICE, NationalServicer(db, authority, tokens, security.authenticator.revocations)),
            (REGISTRATION_SERVICE, registration.servicer),
            (SYNC_SERVICE, SyncServicer(ledger, tokens)),
        ],
        shutdown_grace=settings.shutdown_grace,
        credentials=security.credentials,
        authenticator=security.authenticator,
        policy=security.policy,
        on_start=[registration.duties.start],
        on_stop=[registration.duties.stop, db.dispose],
    )
    sync_directory(db, national_address=server.address, nodes=settings.provincial_nodes)
    return server
