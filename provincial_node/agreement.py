"""Proof of agreement between a province and the national ledger, and repair of what differs.

Both sides digest each registration (:func:`common.sync.records.record_digest`) and each range of
registrations (uids sharing their first two hexadecimal digits). Only ranges whose digests differ
are looked at more closely, and only the registrations that differ are sent: what the ledger holds
newer (or this node lacks) is taken from the ledger; what this node holds newer (or the ledger lacks)
is put in the change log again, so the sync daemon sends it up the usual way.
"""

from __future__ import annotations

import logging

from sqlmodel import select

from common.db import Database
from common.gen.registry.v1 import provincial_service_pb2, sync_pb2, sync_service_pb2, sync_service_pb2_grpc
from common.registration.models import RegistrationRow
from common.sync.records import bucket_digests, import_record, record_digest
from provincial_node.changelog import ChangeLog

__all__ = ["check_agreement"]

logger = logging.getLogger(__name__)


def _leaves(db: Database, region: str) -> dict[str, tuple[int, str]]:
    with db.transaction(write=False) as session:
        rows = session.exec(
            select(RegistrationRow.uid, RegistrationRow.revision, RegistrationRow.digest).where(
                RegistrationRow.node == region
            )
        ).all()
    return {uid: (revision, digest) for uid, revision, digest in rows}


def _compare(
    db: Database, region: str, stub: sync_service_pb2_grpc.SyncServiceStub, timeout: float
) -> tuple[sync_service_pb2.CompareDigestsResponse, dict[str, tuple[int, str]]]:
    local = _leaves(db, region)
    ranges = [
        sync_pb2.RangeDigest(prefix=prefix, digest=digest, count=count)
        for prefix, (digest, count) in sorted(bucket_digests((u, d) for u, (_, d) in local.items()).items())
    ]
    answer = stub.CompareDigests(
        sync_service_pb2.CompareDigestsRequest(node=f"nodes/{region}", ranges=ranges), timeout=timeout
    )
    return answer, local


def check_agreement(
    db: Database,
    region: str,
    stub: sync_service_pb2_grpc.SyncServiceStub,
    log: ChangeLog,
    *,
    repair: bool,
    timeout: float = 30.0,
) -> provincial_service_pb2.AgreementReport:
    answer, local = _compare(db, region, stub, timeout)
    differing = {r.prefix for r in answer.differing}
    theirs = {leaf.uid: (leaf.revision, leaf.digest) for leaf in answer.leaves}
    ledger_newer, node_newer = [], []
    for uid in sorted({u for u in local if u[:2] in differing} | set(theirs)):
        mine, ledger = local.get(uid), theirs.get(uid)
        if mine == ledger:
            continue
        if mine is None or (ledger is not None and ledger[0] >= mine[0]):
            ledger_newer.append(uid)  # same revision with other content: the ledger's acknowledged copy wins
        else:
            node_newer.append(uid)
    report = provincial_service_pb2.AgreementReport(
        in_agreement=not differing,
        ranges_compared=answer.ranges_compared,
        differing_ranges=answer.differing,
        ledger_newer=ledger_newer,
        node_newer=node_newer,
    )
    if not repair or not differing:
        return report
    for start in range(0, len(ledger_newer), 500):
        records = stub.GetLedgerRecords(
            sync_service_pb2.GetLedgerRecordsRequest(uids=ledger_newer[start : start + 500]), timeout=timeout
        ).records
        for record in records:
            with db.transaction() as session:
                row = import_record(session, record, node=region)
                row.digest = record_digest(record)
                session.add(row)
    for uid in node_newer:
        with db.transaction() as session:
            row = session.exec(select(RegistrationRow).where(RegistrationRow.uid == uid)).one()
            log.record(session, row)  # sent up again by the sync daemon
    logger.info(
        "repair: %d registrations taken from the ledger, %d resent", len(ledger_newer), len(node_newer)
    )
    report.repaired = True
    return report
