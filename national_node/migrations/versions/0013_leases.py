"""Duties done once by the national node's many processes: a lease per duty (the log's checkpoints,
the registration duties, the search index), held by one process at a time and renewed while it lives;
and the upward stream each province may apply through, whichever process it reached.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-20
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("holder", sa.String(96), nullable=False),
        # Seconds since the epoch, by the database's clock (every process and host reads the same one).
        sa.Column("expires", sa.Float(), nullable=False),
    )
    op.add_column("sync_states", sa.Column("upward_stream", sa.String(96), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("sync_states") as batch:
        batch.drop_column("upward_stream")
    op.drop_table("leases")
