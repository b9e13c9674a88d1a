"""The change log (upward feed) and sync cursors.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from common.sync.schema import create_provincial_sync_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_provincial_sync_tables()


def downgrade() -> None:
    raise NotImplementedError("the change log is not dropped: nothing acknowledged is ever lost")
