"""Registration tables of a provincial node.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from common.registration.schema import create_registration_tables, drop_registration_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_registration_tables()


def downgrade() -> None:
    drop_registration_tables()
