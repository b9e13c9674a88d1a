"""Share requests (ShareService): the requests, each step's history, the requesters' usage records and
the writes by request id; the demands and share requests the national node's own registry is told of;
and the notices (a demand, a share request) in a province's downward feed.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime
from common.registration.schema_notices import create_notice_tables, drop_notice_tables

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "share_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("registration", sa.String(200), nullable=False),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("requester_uscc", sa.String(18), nullable=False),
        sa.Column("requester_name", sa.String(200), nullable=False),
        sa.Column("supplier_uscc", sa.String(18), nullable=False),
        sa.Column("supplier_name", sa.String(200), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("conditional", sa.Boolean(), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("reply_due", sa.Date()),
        sa.Column("delivery_due", sa.Date()),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_share_requests_created", "share_requests", ["created_at", "id"])
    op.create_index("ix_share_requests_requester", "share_requests", ["requester_uscc"])
    op.create_index("ix_share_requests_supplier", "share_requests", ["supplier_uscc"])
    op.create_table(
        "share_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("share_id", sa.String(36), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("on_behalf_of", sa.String(18), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_share_events_share", "share_events", ["share_id", "id"])
    op.create_table(
        "usage_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("share_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("keep_until", sa.Date(), nullable=False),
    )
    op.create_index("ix_usage_records_share", "usage_records", ["share_id", "id"])
    op.create_table(
        "share_writes",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("share_id", sa.String(36), nullable=False),
    )
    create_notice_tables()
    op.add_column("downward_changes", sa.Column("notice", sa.LargeBinary()))


def downgrade() -> None:
    with op.batch_alter_table("downward_changes") as batch:
        batch.drop_column("notice")
    drop_notice_tables()
    for table in ("share_writes", "usage_records", "share_events", "share_requests"):
        op.drop_table(table)
