"""Builds the national node: database, directory, coding authority, registration, ledger, gRPC server."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from common import regions
from common.clock import Clock, make_clock
from common.db import Database, migrate
from common.gen.registry.v1 import (
    log_service_pb2,
    national_service_pb2,
    registration_service_pb2,
    sync_service_pb2,
)
from common.paging import PageTokens
from common.registration import build_registration
from common.rpc import NodeServer
from common.rpc.security import node_security
from common.transparency import NoteError, Signer
from national_node import words
from national_node.coding import CodingAuthority
from national_node.directory import sync_directory
from national_node.duplicates import DuplicateFinder
from national_node.indexer import IndexerChild
from national_node.jurisdiction import NationalCodes, NationalJurisdiction
from national_node.ledger import Ledger
from national_node.log_service import LogServicer
from national_node.objections import ObjectionDesk, own_objection
from national_node.service import NationalServicer
from national_node.settings import NationalSettings
from national_node.sync_service import SyncServicer
from national_node.tlog import TransparencyLog, WitnessKeys

__all__ = ["MIGRATIONS", "create_server"]

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
NATIONAL_SERVICE = national_service_pb2.DESCRIPTOR.services_by_name["NationalService"]
REGISTRATION_SERVICE = registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"]
SYNC_SERVICE = sync_service_pb2.DESCRIPTOR.services_by_name["SyncService"]
LOG_SERVICE = log_service_pb2.DESCRIPTOR.services_by_name["LogService"]


def national_log(db: Database, settings: NationalSettings, clock: Clock) -> TransparencyLog:
    """The national log with the node's signing key (ValueError when it has none)."""
    config = settings.transparency
    if config.log_key_file is None:
        raise ValueError(
            "transparency.log_key_file is not set: the national node signs its log's checkpoints with it"
            " (registry-federation makes one; see the README, 'The national log')"
        )
    try:
        signer = Signer.from_key(config.log_key_file.read_text().strip())
    except (OSError, NoteError) as error:
        raise ValueError(f"transparency.log_key_file {config.log_key_file}: {error}") from None
    return TransparencyLog(
        db,
        clock,
        signer,
        old_keys=config.old_verifier_keys,
        witnesses=WitnessKeys(config.witness_keys_file),
        interval=config.checkpoint_interval,
        min_interval=config.checkpoint_min_interval,
    )


class NationalProofs:
    """Confirmations of the national node's own registrations, proved from its own log."""

    def __init__(self, log: TransparencyLog) -> None:
        self.log = log

    def tlog_proof(self, code: str, revision: int) -> tuple[str, str]:
        return self.log.tlog_proof_of(code, revision)


def create_server(settings: NationalSettings) -> NodeServer:
    """A ready-to-start national node server; its database is migrated and its directory synced."""
    security = node_security(settings)
    db = Database(settings.database_url, pool_size=min(settings.max_workers, 32))
    migrate(db.engine, MIGRATIONS)
    clock = make_clock(settings.clock_start, settings.clock_speed)
    log = national_log(db, settings, clock)
    log.backfill()  # a ledger from before the log: logged once
    authority = CodingAuthority(db, clock, log)
    ledger = Ledger(db, clock, log)
    # The search index follows the log in a process of its own (it indexes the ledger the first time).
    indexer = IndexerChild(settings) if settings.indexer.embedded else None
    # The words' dictionary loads beside the start, not inside the first sync batch.
    threading.Thread(target=words.warm, name="jieba-warm", daemon=True).start()
    duplicates = DuplicateFinder(db)  # its own registry asks in-process, provinces by FindDuplicates
    registration = build_registration(
        db,
        node=regions.NATIONAL,
        settings=settings,
        clock=clock,
        jurisdiction=NationalJurisdiction(db),
        codes=NationalCodes(authority),
        on_change=ledger.record_own,
        proofs=NationalProofs(log),
        duplicates=duplicates,
    )
    tokens = PageTokens(db.secret("page_tokens"))
    server = NodeServer(
        listen=settings.listen,
        max_workers=settings.max_workers,
        services=[
            (
                NATIONAL_SERVICE,
                NationalServicer(
                    db,
                    authority,
                    tokens,
                    security.authenticator.revocations,
                    objections=ObjectionDesk(db, clock, own=own_objection(registration.servicer)),
                    duplicates=duplicates,
                ),
            ),
            (REGISTRATION_SERVICE, registration.servicer),
            (SYNC_SERVICE, SyncServicer(ledger, tokens)),
            (LOG_SERVICE, LogServicer(log)),
        ],
        shutdown_grace=settings.shutdown_grace,
        credentials=security.credentials,
        authenticator=security.authenticator,
        policy=security.policy,
        on_start=[log.start, registration.duties.start, *([indexer.start] if indexer else [])],
        on_stop=[*([indexer.stop] if indexer else []), registration.duties.stop, log.stop, db.dispose],
    )
    sync_directory(db, national_address=server.address, nodes=settings.provincial_nodes)
    return server
