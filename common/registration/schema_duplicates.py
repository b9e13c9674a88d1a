"""The duplicate check's columns of ``applications``: called by each node's migration that adds them.

Frozen like :mod:`common.registration.schema`: what that revision added, whatever the models do later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["add_duplicate_check_columns", "drop_duplicate_check_columns"]


def add_duplicate_check_columns() -> None:
    """``duplicates_checked``, ``possible_duplicates`` (JSON) and ``duplicate_check_error``; applications
    from before count as unchecked, with nothing found."""
    op.add_column(
        "applications",
        sa.Column("duplicates_checked", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column(
        "applications", sa.Column("possible_duplicates", sa.Text(), nullable=False, server_default="[]")
    )
    op.add_column(
        "applications", sa.Column("duplicate_check_error", sa.Text(), nullable=False, server_default="")
    )


def drop_duplicate_check_columns() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("duplicate_check_error")
        batch.drop_column("possible_duplicates")
        batch.drop_column("duplicates_checked")
