"""The columns of ``applications`` that mark each provisional date, and Fujian's deadline for an
initial registration under authorised operation: called by each node's migration that adds them.

Frozen like :mod:`common.registration.schema`: what that revision added, whatever the models do later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

__all__ = ["add_deadline_columns", "drop_deadline_columns"]

#: One mark per date counted in working days.
_MARKS = {
    "acceptance_due_provisional": "acceptance_due",
    "review_due_provisional": "review_due",
    "announcement_end_provisional": "announcement_end",
}


def add_deadline_columns() -> None:
    """A provisional mark per date, and ``initial_registration_due`` with its mark and whether it was
    missed. Applications from before had one mark for all their dates (``deadlines_provisional``):
    each date they hold takes it (the dates are computed in order, so a provisional earlier date
    means a provisional later one, unless a schedule was supplied in between)."""
    for column in (*_MARKS, "initial_registration_due_provisional", "initial_registration_late"):
        op.add_column(
            "applications", sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.add_column("applications", sa.Column("initial_registration_due", sa.Date()))
    applications = sa.table(
        "applications",
        sa.column("deadlines_provisional", sa.Boolean()),
        *(sa.column(name, sa.Boolean()) for name in _MARKS),
        *(sa.column(name, sa.Date()) for name in _MARKS.values()),
    )
    for mark, day in _MARKS.items():
        op.execute(
            applications.update()
            .where(applications.c.deadlines_provisional, applications.c[day].is_not(None))
            .values({mark: sa.true()})
        )


def drop_deadline_columns() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("initial_registration_due")
        for column in ("initial_registration_late", "initial_registration_due_provisional", *_MARKS):
            batch.drop_column(column)
