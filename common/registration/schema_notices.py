"""The tables of demands and share requests a node is told of (``demand_notices``, ``share_notices``):
called by each node's migration that adds them.

Frozen like :mod:`common.registration.schema`: what that revision added, whatever the models do later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

__all__ = [
    "create_disclosure_notices",
    "create_notice_tables",
    "drop_disclosure_notices",
    "drop_notice_tables",
]


def create_notice_tables() -> None:
    op.create_table(
        "demand_notices",
        sa.Column("demand_id", sa.String(36), primary_key=True),
        sa.Column("registration_id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("organisation_name", sa.String(200), nullable=False),
        sa.Column("organisation_uscc", sa.String(18), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("answer_due_provisional", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "share_notices",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("registration_id", sa.String(64), nullable=False),
        sa.Column("requester_name", sa.String(200), nullable=False),
        sa.Column("requester_uscc", sa.String(18), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due", sa.Date()),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def drop_notice_tables() -> None:
    op.drop_table("share_notices")
    op.drop_table("demand_notices")


def create_disclosure_notices() -> None:
    """``disclosure_notices``: operating entities' disclosures (Hainan's full registration)."""
    op.create_table(
        "disclosure_notices",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("party_name", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("unregistered", sa.Text(), nullable=False),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
        sa.Column("due", sa.Date()),
        sa.Column("due_provisional", sa.Boolean(), nullable=False),
    )


def drop_disclosure_notices() -> None:
    op.drop_table("disclosure_notices")
