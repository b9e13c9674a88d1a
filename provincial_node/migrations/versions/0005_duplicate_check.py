"""The duplicate check of applications at acceptance: its candidates, or why it could not run.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from common.registration.schema_duplicates import add_duplicate_check_columns, drop_duplicate_check_columns

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_duplicate_check_columns()


def downgrade() -> None:
    drop_duplicate_check_columns()
