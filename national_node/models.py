"""Tables of the national node (SQLModel)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from common.db import UTCDateTime

__all__ = ["CodeAssignmentRow", "CodeCounterRow", "NodeRow"]


class NodeRow(SQLModel, table=True):
    """One directory entry: a province-level region (or the national node) and how it is served."""

    __tablename__ = "nodes"

    region: str = Field(primary_key=True, max_length=6)
    mode: str = Field(max_length=16)  # registry.v1.Node.Mode name: NATIONAL, OWN_NODE, PROXY
    address: str = Field(default="", max_length=255)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CodeCounterRow(SQLModel, table=True):
    """The last serial assigned in one namespace (issuer, object type, year)."""

    __tablename__ = "code_counters"

    issuer: str = Field(primary_key=True, max_length=6)
    object_type: int = Field(primary_key=True)
    year: int = Field(primary_key=True)
    last_serial: int = Field(default=0, sa_type=BigInteger)


class CodeAssignmentRow(SQLModel, table=True):
    """One assigned code: who asked, for which registration, when. Never deleted, never reused."""

    __tablename__ = "code_assignments"
    __table_args__ = (
        UniqueConstraint("issuer", "object_type", "year", "serial", name="uq_code_assignments_serial"),
        UniqueConstraint("requested_by", "request_id", name="uq_code_assignments_request"),
        UniqueConstraint("registration", name="uq_code_assignments_registration"),
    )

    code: str = Field(primary_key=True, max_length=19)
    issuer: str = Field(max_length=6)
    object_type: int
    year: int  # four digits
    serial: int = Field(sa_type=BigInteger)
    registration: str = Field(max_length=200)
    subject_uscc: str = Field(max_length=18)
    requested_by: str = Field(max_length=6)  # region code of the asking node
    request_id: str = Field(max_length=64)
    assigned_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
