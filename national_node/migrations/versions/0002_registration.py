"""Registration tables: the national node registers central bodies and proxied regions' subjects.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from common.registration.schema import create_registration_tables, drop_registration_tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_registration_tables()


def downgrade() -> None:
    drop_registration_tables()
