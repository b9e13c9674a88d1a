"""Interconnection tables both tiers create (frozen; later changes are new migrations)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["create_shared_sync_tables"]


def create_shared_sync_tables() -> None:
    """What both tiers' interconnection needs: each registration's digest and the gapless counters."""
    op.add_column("registrations", sa.Column("digest", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "sequence_counters",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("last", sa.BigInteger(), nullable=False),
    )
