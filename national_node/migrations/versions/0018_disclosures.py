"""Authorised-operation disclosure (DisclosureService): every version filed, the codes the latest
versions name, and the filings by request id.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosures",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("party_name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("latest", sa.Boolean(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
        sa.Column("log_index", sa.BigInteger()),
    )
    op.create_index("ix_disclosures_year_region", "disclosures", ["year", "region"])
    op.create_table(
        "disclosure_codes",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("code", sa.String(19), primary_key=True),
    )
    op.create_index("ix_disclosure_codes_code", "disclosure_codes", ["code"])
    op.create_table(
        "disclosure_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    for table in ("disclosure_requests", "disclosure_codes", "disclosures"):
        op.drop_table(table)
