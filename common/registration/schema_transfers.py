"""The columns of ``registrations`` that hold a node's release of a registration to a transfer: called
by each node's migration that adds them.

Frozen like :mod:`common.registration.schema`: what that revision added, whatever the models do later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["add_transfer_columns", "drop_transfer_columns"]


def add_transfer_columns() -> None:
    """``transfer_id`` and ``transfer_to``: the transfer a registration was released to, and where."""
    op.add_column("registrations", sa.Column("transfer_id", sa.String(36)))
    op.add_column("registrations", sa.Column("transfer_to", sa.String(6)))


def drop_transfer_columns() -> None:
    with op.batch_alter_table("registrations") as batch:
        batch.drop_column("transfer_to")
        batch.drop_column("transfer_id")
