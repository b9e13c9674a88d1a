"""Code leases: ranges of serials granted to provincial nodes ahead of need, the silences of each
node's link (when the national node heard nothing from it), and the lease a code was given from.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("issuer", sa.String(6), nullable=False),
        sa.Column("object_type", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("first_serial", sa.BigInteger(), nullable=False),
        sa.Column("last_serial", sa.BigInteger(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("offline_after", sa.Float(), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("signed", sa.Text(), nullable=False),
        sa.Column("log_index", sa.BigInteger()),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("revoke_reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("revoked_after", sa.BigInteger()),
        sa.Column("settled_at", UTCDateTime()),
        sa.Column("used", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("unused", sa.BigInteger(), nullable=False, server_default="0"),
        sa.UniqueConstraint("node", "request_id", name="uq_code_leases_request"),
    )
    op.create_index("ix_code_leases_namespace", "code_leases", ["issuer", "object_type", "year"])
    op.create_table(
        "link_silences",
        sa.Column("node", sa.String(6), primary_key=True),
        sa.Column("since", UTCDateTime(), primary_key=True),
        sa.Column("until", UTCDateTime(), nullable=False),
        sa.Column("head_before", sa.BigInteger(), nullable=False),
        sa.Column("head_after", sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table("sync_states") as batch:
        batch.add_column(sa.Column("heard_at", UTCDateTime()))
    with op.batch_alter_table("code_assignments") as batch:
        batch.add_column(sa.Column("code_lease", sa.String(64)))
        batch.add_column(sa.Column("sequence", sa.BigInteger()))


def downgrade() -> None:
    with op.batch_alter_table("code_assignments") as batch:
        batch.drop_column("sequence")
        batch.drop_column("code_lease")
    with op.batch_alter_table("sync_states") as batch:
        batch.drop_column("heard_at")
    op.drop_table("link_silences")
    op.drop_table("code_leases")
