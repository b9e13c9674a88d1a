"""The coding authority: node directory, code counters, code assignments.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "nodes",
        sa.Column("region", sa.String(6), primary_key=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("address", sa.String(255), nullable=False, server_default=""),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "code_counters",
        sa.Column("issuer", sa.String(6), primary_key=True),
        sa.Column("object_type", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "code_assignments",
        sa.Column("code", sa.String(19), primary_key=True),
        sa.Column("issuer", sa.String(6), nullable=False),
        sa.Column("object_type", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("registration", sa.String(200), nullable=False),
        sa.Column("subject_uscc", sa.String(18), nullable=False),
        sa.Column("requested_by", sa.String(6), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("issuer", "object_type", "year", "serial", name="uq_code_assignments_serial"),
        sa.UniqueConstraint("requested_by", "request_id", name="uq_code_assignments_request"),
        sa.UniqueConstraint("registration", name="uq_code_assignments_registration"),
    )


def downgrade() -> None:
    op.drop_table("code_assignments")
    op.drop_table("code_counters")
    op.drop_table("nodes")
