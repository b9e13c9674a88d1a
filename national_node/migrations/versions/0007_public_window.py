"""The public window: the search index of the ledger, and objections in the downward feed.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime
from national_node.models import WordList

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_index",
        sa.Column("uid", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("code", sa.String(19)),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("announcement_end", sa.Date()),
        sa.Column("subject_uscc", sa.String(18), nullable=False),
        sa.Column("subject_org", sa.String(9), nullable=False),
        sa.Column("subject_name", sa.String(200), nullable=False),
        sa.Column("subject_key", sa.String(200), nullable=False),
        sa.Column("data_name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("update_frequency", sa.String(100), nullable=False),
        sa.Column("data_format", sa.String(100), nullable=False),
        sa.Column("valid_from", sa.Date()),
        sa.Column("valid_until", sa.Date()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("text_digest", sa.String(32), nullable=False),
        sa.Column("fields_digest", sa.String(32), nullable=False),
        sa.Column("words", WordList(), nullable=False),
    )
    op.create_index("ix_search_created", "search_index", ["created_at", "uid"])
    op.create_index("ix_search_code", "search_index", ["code"])
    op.create_index(
        "ix_search_announced", "search_index", ["announcement_end"], postgresql_where=sa.text("announced")
    )
    op.create_index("ix_search_subject", "search_index", ["subject_uscc"])
    op.create_index("ix_search_subject_org", "search_index", ["subject_org"])
    op.create_index("ix_search_subject_key", "search_index", ["subject_key"])
    op.create_index("ix_search_name_key", "search_index", ["name_key"])
    if op.get_bind().dialect.name == "postgresql":
        # Every word query is `words @> ARRAY[...]`: a GIN index answers it.
        op.execute("CREATE INDEX ix_search_words ON search_index USING gin (words)")
    op.create_index("ix_search_name", "search_index", ["name"])
    op.add_column("downward_changes", sa.Column("objection", sa.LargeBinary()))
    op.create_table(
        "public_objections",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("registration", sa.String(200), nullable=False),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("announcement_end", sa.Date()),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("public_objections")
    op.drop_column("downward_changes", "objection")
    op.drop_table("search_index")
