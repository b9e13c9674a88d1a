"""The change log (upward feed) and sync cursors.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime
from common.sync.schema import create_shared_sync_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def downgrade() -> None:
    raise NotImplementedError("the change log is not dropped: nothing acknowledged is ever lost")


def upgrade() -> None:
    create_shared_sync_tables()
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
