"""The national log's entries keep only their index, bytes and hash; a ledger row points at its entry.

The kind, code, uid and revision of an entry are inside its bytes; the columns and their indexes only
slowed every append. Finding a registration's entry now goes through its ledger row (``log_index``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_log_entries_code", table_name="log_entries")
    op.drop_index("ix_log_entries_uid", table_name="log_entries")
    with op.batch_alter_table("log_entries") as batch:
        for column in ("kind", "code", "uid", "revision"):
            batch.drop_column(column)
    op.add_column("ledger", sa.Column("log_index", sa.BigInteger()))
    # Ledger rows written before this revision learn their entry from the log itself: the newest
    # registration entry of their uid and revision (entries hold them in their canonical JSON).
    # The node does it at start (the log's Appender.backfill links the rows it finds unlinked).


def downgrade() -> None:
    raise NotImplementedError("the national log is append-only: it is never dropped")
