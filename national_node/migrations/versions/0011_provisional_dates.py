"""A provisional mark on each date of an application, and the deadline of an initial registration
under authorised operation (the national node's own registry); the mark of an announcement's end in
the search index and in the answers to objections filed with the national node.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-15
"""

import sqlalchemy as sa
from alembic import op

from common.gen.registry.v1 import sync_pb2
from common.registration.schema_deadlines import add_deadline_columns, drop_deadline_columns

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_deadline_columns()
    for table in ("search_index", "public_objections"):
        mark = sa.Column(
            "announcement_end_provisional", sa.Boolean(), nullable=False, server_default=sa.false()
        )
        op.add_column(table, mark)
    # The announcements in progress take their mark from the ledger's record (from before, the one
    # mark of all the application's dates; the announcement's end is the latest of them).
    bind = op.get_bind()
    announced = bind.execute(
        sa.text("SELECT s.uid, l.record FROM search_index s JOIN ledger l ON l.uid = s.uid WHERE s.announced")
    ).all()
    for uid, data in announced:
        record = sync_pb2.RegistrationRecord.FromString(data)
        application = record.registration.current_application
        if application.announcement_end_provisional or application.deadlines_provisional:
            bind.execute(
                sa.text("UPDATE search_index SET announcement_end_provisional = :yes WHERE uid = :uid"),
                {"yes": True, "uid": uid},
            )


def downgrade() -> None:
    for table in ("public_objections", "search_index"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("announcement_end_provisional")
    drop_deadline_columns()
