"""A transfer completes only once the sending node has released the registration through its own
change feed: when the receiving node confirmed it, where the release request sits in the sending
node's downward feed, and when the ledger applied the release. Transfers still pending were not
confirmed (a confirmation completed them at once before), so they take the new way as they are;
completed ones have no release.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-16
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime
from common.registration.schema_transfers import add_transfer_columns, drop_transfer_columns

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_transfer_columns()  # the national node's own registry releases in its own transaction
    op.add_column("transfers", sa.Column("confirmed_at", UTCDateTime()))
    op.add_column("transfers", sa.Column("release_sequence", sa.BigInteger()))
    op.add_column("transfers", sa.Column("released_at", UTCDateTime()))
    op.create_index("ix_transfers_from_state", "transfers", ["from_node", "state"])
    op.create_index("ix_transfers_uid", "transfers", ["uid"])


def downgrade() -> None:
    op.drop_index("ix_transfers_uid", table_name="transfers")
    op.drop_index("ix_transfers_from_state", table_name="transfers")
    with op.batch_alter_table("transfers") as batch:
        batch.drop_column("released_at")
        batch.drop_column("release_sequence")
        batch.drop_column("confirmed_at")
    drop_transfer_columns()
