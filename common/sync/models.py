"""Tables of interconnection: change logs, gapless counters, the national ledger, feeds, transfers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from common.db import UTCDateTime

__all__ = [
    "ChangeRow",
    "CounterRow",
    "CursorRow",
    "DownwardRow",
    "LedgerRow",
    "SyncStateRow",
    "TransferRow",
]


class CounterRow(SQLModel, table=True):
    """A gapless sequence: the last number handed out. Taken with ``UPDATE ... RETURNING`` inside the
    transaction that uses the number, so numbers become visible in commit order and never skip."""

    __tablename__ = "sequence_counters"

    name: str = Field(primary_key=True, max_length=32)
    last: int = 0


class CursorRow(SQLModel, table=True):
    """A position this node keeps (e.g. the last downward change it applied)."""

    __tablename__ = "sync_cursors"

    name: str = Field(primary_key=True, max_length=32)
    value: int = 0


class ChangeRow(SQLModel, table=True):
    """One entry of a provincial node's change log (upward feed)."""

    __tablename__ = "changes"

    sequence: int = Field(primary_key=True)
    uid: str = Field(max_length=36)
    revision: int
    record: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    committed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class LedgerRow(SQLModel, table=True):
    """The national ledger: every registration in the country at its latest revision."""

    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_node_bucket", "node", "bucket"), Index("ix_ledger_code", "code"))

    uid: str = Field(primary_key=True, max_length=36)
    node: str = Field(max_length=6)  # the managing node's region
    name: str = Field(max_length=200)
    code: str | None = Field(default=None, max_length=19)
    state: str = Field(max_length=16)
    revision: int
    digest: str = Field(max_length=64)
    bucket: str = Field(max_length=2)  # the uid's first two hexadecimal digits: the digest range
    record: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class SyncStateRow(SQLModel, table=True):
    """The national node's view of one provincial node's link."""

    __tablename__ = "sync_states"

    node: str = Field(primary_key=True, max_length=6)
    acknowledged: int = 0
    acknowledged_commit: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    head: int = 0
    head_time: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_contact: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: str = ""
    refused: int = 0
    downward_acknowledged: int = 0


class DownwardRow(SQLModel, table=True):
    """One entry of a province's downward feed."""

    __tablename__ = "downward_changes"

    node: str = Field(primary_key=True, max_length=6)
    sequence: int = Field(primary_key=True)
    kind: str = Field(max_length=16)
    uid: str = Field(max_length=36)
    transfer_id: str = Field(default="", max_length=36)
    record: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class TransferRow(SQLModel, table=True):
    __tablename__ = "transfers"

    id: str = Field(primary_key=True, max_length=36)
    request_id: str = Field(max_length=64, unique=True)
    uid: str = Field(max_length=36)
    code: str = Field(max_length=19)
    from_node: str = Field(max_length=6)
    to_node: str = Field(max_length=6)
    state: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
