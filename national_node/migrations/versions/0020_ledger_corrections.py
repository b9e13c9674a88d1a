"""Correction requests of the national coordinators (NationalService.FileLedgerCorrection).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_corrections",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False),
        sa.Column("registration", sa.String(200), nullable=False),
        sa.Column("code", sa.String(19), nullable=False),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("requested_by", "request_id", name="uq_ledger_corrections_request"),
    )
    op.create_index("ix_ledger_corrections_uid", "ledger_corrections", ["uid"])
    op.create_index("ix_ledger_corrections_node", "ledger_corrections", ["node", "filed_at"])


def downgrade() -> None:
    op.drop_table("ledger_corrections")
