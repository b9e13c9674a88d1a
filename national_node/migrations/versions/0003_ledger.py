"""The national ledger, sync states, downward feeds and transfers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from common.sync.schema import create_national_sync_tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_national_sync_tables()


def downgrade() -> None:
    raise NotImplementedError("the ledger is not dropped: nothing acknowledged is ever lost")
