"""How a registration's data is obtained, in the search index: its sharing and open attributes and
the kinds of its channels, to filter by. Registrations indexed before have no access terms (they did
not exist), so every row starts with none stated; a registration that states them later is indexed
again when its change reaches the ledger.

Revision ID: 0014
Revises: 0013
Create Date: 2027-01-12
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COLUMNS = (("sharing_attribute", 32), ("open_attribute", 32), ("channel_kinds", 200))


def upgrade() -> None:
    for name, length in _COLUMNS:
        op.add_column("search_index", sa.Column(name, sa.String(length), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("search_index") as batch:
        for name, _ in _COLUMNS:
            batch.drop_column(name)
