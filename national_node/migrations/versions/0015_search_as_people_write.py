"""Search as people write: the words of the data names and subject names the index has held (for
"did you mean"). The index is emptied, to be rebuilt by the indexer's first start: its words are now
read with traditional characters as simplified ones, and the words of the data name are tagged apart
from the subject's (a match on the name comes first).

Revision ID: 0015
Revises: 0014
Create Date: 2027-01-14
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_words",
        # BIGINT on PostgreSQL; INTEGER on SQLite, where only an INTEGER PRIMARY KEY is the rowid.
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("word", sa.String(32), nullable=False, unique=True),
    )
    # No cursor: the indexer's first start indexes what the ledger holds and then follows the log.
    op.execute("DELETE FROM search_cursor")
    op.execute("DELETE FROM search_index")


def downgrade() -> None:
    op.drop_table("search_words")
    op.execute("DELETE FROM search_cursor")
    op.execute("DELETE FROM search_index")
