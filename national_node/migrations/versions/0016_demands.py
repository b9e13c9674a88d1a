"""Data demands (DemandService): the demands, the registrations matched to each, the suppliers'
answers, every step's history, and the writes by request id.

Revision ID: 0016
Revises: 0015
Create Date: 2027-01-20
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demands",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("organisation_uscc", sa.String(18), nullable=False),
        sa.Column("organisation_name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("text_key", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_demands_created", "demands", ["created_at", "id"])
    op.create_index("ix_demands_organisation", "demands", ["organisation_uscc"])
    op.create_table(
        "demand_matches",
        sa.Column("demand_id", sa.String(36), primary_key=True),
        sa.Column("rank", sa.Integer(), primary_key=True),
        sa.Column("registration", sa.String(200), nullable=False),
        sa.Column("code", sa.String(19), nullable=False),
        sa.Column("data_name", sa.String(200), nullable=False),
        sa.Column("subject_name", sa.String(200), nullable=False),
        sa.Column("subject_uscc", sa.String(18), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "demand_answers",
        sa.Column("demand_id", sa.String(36), primary_key=True),
        sa.Column("registration", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(19), nullable=False),
        sa.Column("register_by", sa.Date()),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("subject_name", sa.String(200), nullable=False),
        sa.Column("subject_uscc", sa.String(18), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "demand_events",
        # BIGINT on PostgreSQL; INTEGER on SQLite, where only an INTEGER PRIMARY KEY is the rowid.
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("demand_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("on_behalf_of", sa.String(18), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_demand_events_demand", "demand_events", ["demand_id", "id"])
    op.create_table(
        "demand_requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("demand_id", sa.String(36), nullable=False),
    )


def downgrade() -> None:
    for table in ("demand_requests", "demand_events", "demand_answers", "demand_matches", "demands"):
        op.drop_table(table)
