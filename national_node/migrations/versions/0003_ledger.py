"""The national ledger, sync states, downward feeds and transfers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime
from common.sync.schema import create_shared_sync_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def downgrade() -> None:
    raise NotImplementedError("the ledger is not dropped: nothing acknowledged is ever lost")


def upgrade() -> None:
    create_shared_sync_tables()
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
