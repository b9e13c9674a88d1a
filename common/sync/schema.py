"""Interconnection tables as first created (frozen; later changes are new migrations)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

__all__ = ["create_national_sync_tables", "create_provincial_sync_tables"]


def _common() -> None:
    op.add_column("registrations", sa.Column("digest", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "sequence_counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last", sa.BigInteger(), nullable=False),
    )


def create_provincial_sync_tables() -> None:
    _common()
    op.create_table(
        "changes",
        sa.Column("sequence", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("committed_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )


def create_national_sync_tables() -> None:
    _common()
    op.create_table(
        "ledger",
        sa.Column("uid", sa.String(36), primary_key=True),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("code", sa.String(19)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("bucket", sa.String(2), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_ledger_node_bucket", "ledger", ["node", "bucket"])
    op.create_index("ix_ledger_code", "ledger", ["code"])
    op.create_table(
        "sync_states",
        sa.Column("node", sa.String(6), primary_key=True),
        sa.Column("acknowledged", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_commit", UTCDateTime()),
        sa.Column("head", sa.BigInteger(), nullable=False),
        sa.Column("head_time", UTCDateTime()),
        sa.Column("last_contact", UTCDateTime()),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("refused", sa.BigInteger(), nullable=False),
        sa.Column("downward_acknowledged", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "downward_changes",
        sa.Column("node", sa.String(6), primary_key=True),
        sa.Column("sequence", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("transfer_id", sa.String(36), nullable=False),
        sa.Column("record", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False, unique=True),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("code", sa.String(19), nullable=False),
        sa.Column("from_node", sa.String(6), nullable=False),
        sa.Column("to_node", sa.String(6), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("completed_at", UTCDateTime()),
    )
