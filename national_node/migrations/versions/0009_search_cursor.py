"""The search index follows the national log: how far it has got. The index is emptied, to be rebuilt
by the indexer's first start: its rows now hold their filter values among their words.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No row yet: the indexer's first start indexes what the ledger holds and then follows the log.
    op.create_table(
        "search_cursor",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("next_index", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.execute("DELETE FROM search_index")


def downgrade() -> None:
    op.drop_table("search_cursor")
