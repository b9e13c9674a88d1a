"""Code leases this node holds (ranges of serials to code from while the national node cannot be
reached), and the codes it gave from them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_code_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("object_type", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("first_serial", sa.BigInteger(), nullable=False),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
        sa.Column("next_serial", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("offline_after", sa.Float(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("signed", sa.Text(), nullable=False),
    )
    op.create_table(
        "leased_codes",
        sa.Column("code", sa.String(19), primary_key=True),
        sa.Column("code_lease", sa.String(64), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        sa.Column("given_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leased_codes")
    op.drop_table("held_code_leases")
