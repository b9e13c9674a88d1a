"""The duplicate check of applications at acceptance (the national node's own registry): its
candidates, or why it could not run.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from common.registration.schema_duplicates import add_duplicate_check_columns, drop_duplicate_check_columns

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_duplicate_check_columns()


def downgrade() -> None:
    drop_duplicate_check_columns()
