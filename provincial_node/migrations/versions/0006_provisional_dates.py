"""A provisional mark on each date of an application, and the deadline of an initial registration
under authorised operation (a node setting).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-15
"""

from common.registration.schema_deadlines import add_deadline_columns, drop_deadline_columns

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_deadline_columns()


def downgrade() -> None:
    drop_deadline_columns()
