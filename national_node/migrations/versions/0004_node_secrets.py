"""The node's own keys (page tokens), shared by every process on the database.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from alembic import op

from common.db import create_node_secrets_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_node_secrets_table()


def downgrade() -> None:
    op.drop_table("node_secrets")
