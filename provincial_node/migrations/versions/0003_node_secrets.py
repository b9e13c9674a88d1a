"""The node's own keys (page tokens), shared by every process on the database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from alembic import op

from common.db import create_node_secrets_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_node_secrets_table()


def downgrade() -> None:
    op.drop_table("node_secrets")
