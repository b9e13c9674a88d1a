"""The data demands and share requests the national node sends down for this node's registrations.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from common.registration.schema_notices import create_notice_tables, drop_notice_tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_notice_tables()


def downgrade() -> None:
    drop_notice_tables()
