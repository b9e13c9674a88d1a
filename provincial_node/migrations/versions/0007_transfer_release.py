"""A registration released to a transfer: the node changes it no more, and the change log's entry
that releases it names the transfer.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-16
"""

import sqlalchemy as sa
from alembic import op

from common.registration.schema_transfers import add_transfer_columns, drop_transfer_columns

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_transfer_columns()
    op.add_column("changes", sa.Column("transfer_id", sa.String(36), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("changes") as batch:
        batch.drop_column("transfer_id")
    drop_transfer_columns()
