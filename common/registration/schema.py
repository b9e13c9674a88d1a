"""The registration tables as first created: called by each node's first registration migration.

Frozen: later schema changes are new migrations, never edits here (the models in ``models.py`` move
on; this records what revision "registration tables" created).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from common.db import UTCDateTime

__all__ = ["create_registration_tables", "drop_registration_tables"]


def _id(name: str = "registration_id") -> sa.Column[str]:
    return sa.Column(name, sa.String(64), sa.ForeignKey("registrations.id"), primary_key=True)


def create_registration_tables() -> None:
    op.create_table(
        "registrations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("uid", sa.String(36), nullable=False, unique=True),
        sa.Column("code", sa.String(19), unique=True),
        sa.Column("object_type", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject_uscc", sa.String(18), nullable=False),
        sa.Column("subject_region", sa.String(6), nullable=False),
        sa.Column("data_name", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("current_application", sa.String(16)),
        sa.Column("applications", sa.Integer(), nullable=False),
        sa.Column("objections", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date()),
        sa.Column("valid_until", sa.Date()),
        sa.Column("reminded_for", sa.Date()),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_registrations_node_created", "registrations", ["node", "created_at", "id"])
    op.create_index("ix_registrations_subject", "registrations", ["subject_uscc"])
    op.create_index("ix_registrations_state_until", "registrations", ["state", "valid_until"])
    op.create_table(
        "applications",
        _id(),
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("defects", sa.Text(), nullable=False),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("acceptance_due", sa.Date()),
        sa.Column("review_due", sa.Date()),
        sa.Column("announcement_start", sa.Date()),
        sa.Column("announcement_end", sa.Date()),
        sa.Column("deadlines_provisional", sa.Boolean(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_applications_state", "applications", ["state"])
    op.create_table(
        "objections",
        _id(),
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("application_id", sa.String(16), nullable=False),
        sa.Column("objector", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=False),
        sa.Column("resolve_by", sa.Date(), nullable=False),
        sa.Column("resolve_by_provisional", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime()),
    )
    op.create_index("ix_objections_state", "objections", ["state"])
    op.create_table(
        "history",
        _id(),
        sa.Column("sequence", sa.Integer(), primary_key=True),
        sa.Column("time", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("application_id", sa.String(16), nullable=False),
        sa.Column("registration_state", sa.String(16), nullable=False),
        sa.Column("application_state", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "versions",
        _id(),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "requests",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def drop_registration_tables() -> None:
    for table in ("requests", "versions", "history", "objections", "applications", "registrations"):
        op.drop_table(table)
