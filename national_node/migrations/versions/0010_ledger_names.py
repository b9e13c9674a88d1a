"""The ledger's entries found by registration name: the coding authority reads the entry of the
registration a node asks a code for.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ledger_name", "ledger", ["name"])


def downgrade() -> None:
    op.drop_index("ix_ledger_name", table_name="ledger")
