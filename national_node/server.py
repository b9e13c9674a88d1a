"""Builds the national node: database, directory, coding authority, registration, ledger, gRPC server."""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path

from common import names, regions
from common.clock import Clock, make_clock
from common.db import Database, migrate
from common.errors import DataLoss, FailedPrecondition, NotFound
from common.gen.registry.v1 import (
    demand_service_pb2,
    disclosure_service_pb2,
    log_service_pb2,
    national_service_pb2,
    registration_service_pb2,
    share_service_pb2,
    sync_service_pb2,
)
from common.leases import Leases
from common.metrics.telemetry import Telemetry
from common.paging import PageTokens
from common.registration import build_registration
from common.registration.metrics import watch_duties
from common.registration.service import ConfirmationFile
from common.rpc import NodeServer
from common.rpc.security import node_security
from common.sync.objections import file_forwarded
from common.transparency import NoteError, Signer
from national_node import words
from national_node.code_leases import CodeLeases, LeaseSettler
from national_node.coding import CodingAuthority
from national_node.corrections import CorrectionDesk
from national_node.demand_service import DemandServicer
from national_node.demands import DemandDesk
from national_node.directory import sync_directory
from national_node.disclosure_service import DisclosureServicer
from national_node.disclosures import DisclosureDesk
from national_node.duplicates import DuplicateFinder
from national_node.golden import DailyCopies, GoldenCopies
from national_node.indexer import INDEXER_CONNECTIONS, IndexerChild
from national_node.jurisdiction import NationalCodes, NationalJurisdiction
from national_node.ledger import Ledger
from national_node.log_service import LogServicer
from national_node.metrics import CodeMetrics, watch_demands, watch_national, watch_shares
from national_node.notices import Notices
from national_node.objections import ObjectionDesk, own_objection
from national_node.service import NationalServicer
from national_node.settings import NationalSettings
from national_node.share_service import ShareServicer
from national_node.shares import ShareDesk
from national_node.sync_service import SyncServicer
from national_node.tlog import ProofServer, TransparencyLog, WitnessKeys

__all__ = ["MIGRATIONS", "create_server"]

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
NATIONAL_SERVICE = national_service_pb2.DESCRIPTOR.services_by_name["NationalService"]
REGISTRATION_SERVICE = registration_service_pb2.DESCRIPTOR.services_by_name["RegistrationService"]
SYNC_SERVICE = sync_service_pb2.DESCRIPTOR.services_by_name["SyncService"]
LOG_SERVICE = log_service_pb2.DESCRIPTOR.services_by_name["LogService"]
DEMAND_SERVICE = demand_service_pb2.DESCRIPTOR.services_by_name["DemandService"]
SHARE_SERVICE = share_service_pb2.DESCRIPTOR.services_by_name["ShareService"]
DISCLOSURE_SERVICE = disclosure_service_pb2.DESCRIPTOR.services_by_name["DisclosureService"]
#: How long a process that stops renewing (killed, cut off) holds its duties: another takes them after.
LEASE_SECONDS = 3.0


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

    def __init__(self, proofs: ProofServer) -> None:
        self.proofs = proofs

    def tlog_proof(self, code: str, revision: int) -> ConfirmationFile:
        try:
            entry = self.proofs.find_entry(code=code, revision=revision)
            path, checkpoint, cosignatures = self.proofs.inclusion(entry)
        except (NotFound, FailedPrecondition, DataLoss) as error:
            return ConfirmationFile(status=error.message)
        return ConfirmationFile(
            tlog_proof=self.proofs.tlog_proof(entry, path, checkpoint, cosignatures),
            cosigned_by=tuple(names.node_name(c.witness) for c in cosignatures),
            witnesses_pending=tuple(names.node_name(w) for w in self.proofs.pending_witnesses(cosignatures)),
        )


def create_server(
    settings: NationalSettings, *, worker: bool = False, telemetry: Telemetry | None = None
) -> NodeServer:
    """A ready-to-start national node server; its database is migrated and its directory synced.

    ``worker``: one of several processes serving ``settings.listen`` together
    (:mod:`national_node.workers`, which runs the indexer for them all, serves their metrics and
    gives them their ``telemetry``); otherwise the node serves its own metrics when
    ``[metrics] listen`` is set."""
    if not worker:
        telemetry = Telemetry.of(settings.metrics)
    security = node_security(settings)
    db = Database.for_node(
        settings.database_url,
        settings.database,
        processes=settings.worker_count(),  # this host's workers share its budget
        shared=INDEXER_CONNECTIONS if settings.indexer.embedded else 0,
    )
    migrate(db.engine, MIGRATIONS)
    clock = make_clock(settings.clock_start, settings.clock_speed, settings.clock_anchor)
    log = national_log(db, settings, clock)
    log.appender.backfill()  # a ledger from before the log: logged once
    authority = CodingAuthority(
        db, clock, log.appender, on_assigned=CodeMetrics(telemetry).assigned if telemetry else None
    )
    ledger = Ledger(db, clock, log.appender, recover_lost_codes=settings.recover_lost_codes)
    # The search index follows the log in a process of its own (it indexes the ledger the first time).
    indexer = IndexerChild(settings) if settings.indexer.embedded and not worker else None
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
        proofs=NationalProofs(log.proofs),
        duplicates=duplicates,
    )
    # Duties done once, whichever of the node's processes and hosts are up: by the holder of the lease.
    leases = Leases(db, ["checkpoints", "duties", "golden", "code_leases"], ttl=LEASE_SECONDS)
    log.checkpoints.on_duty = lambda: leases.held("checkpoints")
    registration.duties.on_duty = lambda: leases.held("duties")
    # Code leases: granted to provincial nodes, checked when their codes arrive, settled (one process).
    code_leases = CodeLeases(db, clock, log.appender, log.checkpoints.signer, settings.code_leases)
    ledger.code_leases = code_leases
    settler = LeaseSettler(
        code_leases, on_duty=lambda: leases.held("code_leases"), interval=settings.code_leases.settle_seconds
    )
    # Objections that follow a registration transferred to the national node go to its own registry.
    ledger.own_objections = functools.partial(file_forwarded, registration.procedure)
    tokens = PageTokens(db.secret("page_tokens"))
    # Demands and share requests are told to the nodes that manage their registrations.
    notices = Notices(clock, registration.procedure.calendar, registration.procedure.limits)
    demands = DemandDesk(db, clock, tokens, notices=notices)
    shares = ShareDesk(db, clock, tokens, registration.procedure.calendar, notices)
    # The golden copy of the ledger, every day (by the holder of the lease).
    daily = settings.golden.daily()
    golden = (
        DailyCopies(
            GoldenCopies(
                db, log.checkpoints.signer, settings.golden.directory, clock=clock, keep=settings.golden.keep
            ),
            daily,
            on_duty=lambda: leases.held("golden"),
        )
        if daily is not None
        else None
    )
    if telemetry is not None:
        telemetry.watch_database(db)
        telemetry.watch_trust(settings.tls.cert_file, settings.tls.crl_file)
        watch_national(telemetry, db, ledger)
        watch_duties(telemetry, db, registration.procedure)
        watch_demands(telemetry, demands)
        watch_shares(telemetry, shares)
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
                    code_leases=code_leases,
                    corrections=CorrectionDesk(db, clock, tokens, own=registration.procedure),
                ),
            ),
            (REGISTRATION_SERVICE, registration.servicer),
            (SYNC_SERVICE, SyncServicer(ledger, tokens)),
            (LOG_SERVICE, LogServicer(log)),
            (DEMAND_SERVICE, DemandServicer(demands)),
            (SHARE_SERVICE, ShareServicer(shares)),
            (DISCLOSURE_SERVICE, DisclosureServicer(DisclosureDesk(db, clock, tokens, log.appender))),
        ],
        shutdown_grace=settings.shutdown_grace,
        credentials=security.credentials,
        authenticator=security.authenticator,
        policy=security.policy,
        on_start=[
            leases.start,
            log.start,
            registration.duties.start,
            settler.start,
            *([golden.start] if golden else []),
            *([indexer.start] if indexer else []),
            *([telemetry.start] if telemetry else []),
        ],
        on_stop=[
            *([telemetry.stop] if telemetry else []),
            *([indexer.stop] if indexer else []),
            *([golden.stop] if golden else []),
            registration.duties.stop,
            settler.stop,
            log.stop,
            leases.stop,
            db.dispose,
        ],
        reuse_port=worker,
        health_listen=settings.health_listen,
        metrics=telemetry.grpc if telemetry else None,
    )
    sync_directory(db, national_address=server.address, nodes=settings.provincial_nodes)
    return server
