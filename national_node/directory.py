"""The node directory: every province-level region and whether it runs its own node."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Sequence

from sqlalchemy import text
from sqlmodel import Session, select

from common import regions
from common.db import Database, utcnow
from common.errors import NotFound
from national_node.models import NodeRow
from national_node.settings import ProvincialNodeEntry

__all__ = ["get_node", "list_nodes", "node_not_found", "sync_directory"]

logger = logging.getLogger(__name__)

NATIONAL, OWN_NODE, PROXY = "NATIONAL", "OWN_NODE", "PROXY"
_DIRECTORY_LOCK = zlib.crc32(b"national_node/directory")


def sync_directory(db: Database, *, national_address: str, nodes: Sequence[ProvincialNodeEntry]) -> None:
    """Make the directory hold every region, with the configured ones as OWN_NODE and others PROXY.

    A region already recorded as running its own node stays so even when the configuration no longer
    lists it: a province that came online does not silently go back to being served by proxy.
    """
    configured = {entry.region: entry.address for entry in nodes}
    now = utcnow()
    with db.transaction() as session:
        if not db.is_sqlite:
            # Processes starting together (a host's workers, several hosts) sync it one after another,
            # each seeing what the one before wrote (SQLite's write transactions queue by themselves).
            # Transaction-scoped, so it holds through PgBouncer in transaction mode.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DIRECTORY_LOCK})
        existing = {row.region: row for row in session.exec(select(NodeRow))}
        for region in regions.all_regions():
            row = existing.get(region.code)
            if region.code == regions.NATIONAL:
                mode, address = NATIONAL, national_address
            elif region.code in configured:
                mode, address = OWN_NODE, configured[region.code]
            elif row is not None and row.mode == OWN_NODE:
                mode, address = OWN_NODE, row.address
            else:
                mode, address = PROXY, ""
            if row is None:
                session.add(NodeRow(region=region.code, mode=mode, address=address, updated_at=now))
            elif (row.mode, row.address) != (mode, address):
                logger.info("directory: %s %s -> %s", region.code, row.mode, mode)
                row.mode, row.address, row.updated_at = mode, address, now
                session.add(row)


def get_node(session: Session, region: str) -> NodeRow:
    row = session.get(NodeRow, region)
    if row is None:
        raise node_not_found(region)
    return row


def node_not_found(region: str) -> NotFound:
    return NotFound(
        "NODE_NOT_FOUND",
        f"nodes/{region} is not in the node directory",
        metadata={"field": "node", "node": f"nodes/{region}"},
    )


def list_nodes(session: Session, *, after: str, limit: int) -> list[NodeRow]:
    """Entries in region-code order, starting after region ``after`` ('' for the first page)."""
    statement = select(NodeRow).where(NodeRow.region > after).order_by(NodeRow.region).limit(limit)
    return list(session.exec(statement))
