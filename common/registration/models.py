"""Tables of the registration procedure, used by every node (SQLModel).

Queried attributes are columns; the registered materials (RegistrationContent) are stored as
canonical JSON, the same bytes whose SHA-256 the confirmation carries.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from common.db import UTCDateTime

__all__ = [
    "ApplicationRow",
    "DemandNoticeRow",
    "DisclosureNoticeRow",
    "HistoryRow",
    "ObjectionRow",
    "RegistrationRow",
    "RequestRow",
    "ShareNoticeRow",
    "VersionRow",
]


def _utc(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class RegistrationRow(SQLModel, table=True):
    __tablename__ = "registrations"
    __table_args__ = (
        Index("ix_registrations_node_created", "node", "created_at", "id"),
        Index("ix_registrations_subject", "subject_uscc"),
        Index("ix_registrations_state_until", "state", "valid_until"),
    )

    id: str = Field(primary_key=True, max_length=64)  # r-xxxxxxxxxxxx, unique within a node
    node: str = Field(max_length=6)  # managing node's region
    uid: str = Field(max_length=36, unique=True)
    code: str | None = Field(default=None, max_length=19, unique=True)
    object_type: int
    state: str = Field(max_length=16)  # registry.v1.Registration.State name
    version: int = 0
    subject_uscc: str = Field(max_length=18)
    subject_region: str = Field(max_length=6)
    data_name: str = Field(max_length=200)
    content: str = Field(sa_column=Column(Text, nullable=False))
    current_application: str | None = Field(default=None, max_length=16)
    applications: int = 0  # how many applications were made (for ids a-1, a-2, ...)
    objections: int = 0  # how many objections were filed (for ids o-1, o-2, ...)
    valid_from: date | None = None
    valid_until: date | None = None
    reminded_for: date | None = None  # the valid_until an expiry reminder was sent for
    revision: int = 1
    digest: str = Field(default="", max_length=64)  # of its exported record (common.sync.records)
    #: A transfer takes it to ``transfer_to`` (a region): this node released it (its change log says
    #: so) and changes it no more (common.registration.queries.load).
    transfer_id: str | None = Field(default=None, max_length=36)
    transfer_to: str | None = Field(default=None, max_length=6)
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())


class ApplicationRow(SQLModel, table=True):
    __tablename__ = "applications"
    __table_args__ = (Index("ix_applications_state", "state"),)

    registration_id: str = Field(primary_key=True, foreign_key="registrations.id", max_length=64)
    id: str = Field(primary_key=True, max_length=16)
    type: str = Field(max_length=16)  # registry.v1.RegistrationType name
    state: str = Field(max_length=24)  # registry.v1.Application.State name
    content: str = Field(sa_column=Column(Text, nullable=False))
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    defects: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    decision_reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    acceptance_due: date | None = None
    review_due: date | None = None
    announcement_start: date | None = None
    announcement_end: date | None = None
    #: Any of the application's dates is provisional; each date has its own mark.
    deadlines_provisional: bool = False
    acceptance_due_provisional: bool = False
    review_due_provisional: bool = False
    announcement_end_provisional: bool = False
    #: The subject's initial registration under authorised operation is due by this day (a node
    #: setting, Fujian's rule); ``initial_registration_late``: first submitted after it.
    initial_registration_due: date | None = None
    initial_registration_due_provisional: bool = False
    initial_registration_late: bool = False
    submitted_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())
    #: The duplicate check ran (common.registration.duplicates); its candidates (JSON) or its error.
    duplicates_checked: bool = False
    possible_duplicates: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    duplicate_check_error: str = Field(default="", sa_column=Column(Text, nullable=False))


class ObjectionRow(SQLModel, table=True):
    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_state", "state"),)

    registration_id: str = Field(primary_key=True, foreign_key="registrations.id", max_length=64)
    id: str = Field(primary_key=True, max_length=16)
    application_id: str = Field(max_length=16)
    objector: str = Field(max_length=200)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    evidence: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    state: str = Field(max_length=16)
    outcome: str = Field(default="OUTCOME_UNSPECIFIED", max_length=24)
    resolution: str = Field(default="", sa_column=Column(Text, nullable=False))
    resolve_by: date
    resolve_by_provisional: bool = False
    created_at: datetime = Field(sa_column=_utc())
    resolved_at: datetime | None = Field(default=None, sa_column=_utc(nullable=True))


class HistoryRow(SQLModel, table=True):
    __tablename__ = "history"

    registration_id: str = Field(primary_key=True, foreign_key="registrations.id", max_length=64)
    sequence: int = Field(primary_key=True)
    time: datetime = Field(sa_column=_utc())
    actor: str = Field(max_length=100)
    action: str = Field(max_length=32)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    application_id: str = Field(default="", max_length=16)
    registration_state: str = Field(max_length=16)
    application_state: str = Field(default="STATE_UNSPECIFIED", max_length=24)
    version: int = 0


class VersionRow(SQLModel, table=True):
    """A confirmed version of a registration: what the confirmation of that version certifies."""

    __tablename__ = "versions"

    registration_id: str = Field(primary_key=True, foreign_key="registrations.id", max_length=64)
    version: int = Field(primary_key=True)
    content: str = Field(sa_column=Column(Text, nullable=False))
    content_sha256: str = Field(max_length=64)
    confirmed_at: datetime = Field(sa_column=_utc())


class RequestRow(SQLModel, table=True):
    """A write already done: its request id, what was asked (hash) and the answer given."""

    __tablename__ = "requests"
    __table_args__ = (UniqueConstraint("request_id", name="uq_requests_request_id"),)

    request_id: str = Field(primary_key=True, max_length=64)
    method: str = Field(max_length=64)
    fingerprint: str = Field(max_length=64)
    response: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=_utc())


class DemandNoticeRow(SQLModel, table=True):
    """A data demand that matches one of this node's registrations, as the national node last sent
    it (:mod:`common.sync.notices`): a due item while the subject has not answered."""

    __tablename__ = "demand_notices"

    demand_id: str = Field(primary_key=True, max_length=36)
    registration_id: str = Field(primary_key=True, max_length=64)
    title: str = Field(max_length=200)
    organisation_name: str = Field(max_length=200)
    organisation_uscc: str = Field(max_length=18)
    state: str = Field(max_length=16)
    deadline: date
    answered: bool = False
    answer_due: date
    answer_due_provisional: bool = False
    updated_at: datetime = Field(sa_column=_utc())


class DisclosureNoticeRow(SQLModel, table=True):
    """An operating entity's authorised-operation disclosure (its latest version), as the national node
    sent it to the node of the entity's region (:mod:`common.sync.notices`): where the node requires
    every product made from authorised data registered (Hainan), each product it names without a code
    is a due item until the entity registers one of that name here."""

    __tablename__ = "disclosure_notices"

    name: str = Field(primary_key=True, max_length=80)
    uscc: str = Field(max_length=18)
    party_name: str = Field(max_length=200)
    version: int
    #: The names of the products it lists without a code, as a JSON list.
    unregistered: str = Field(sa_column=Column(Text, nullable=False))
    filed_at: datetime = Field(sa_column=_utc())
    due: date | None = None
    due_provisional: bool = False


class ShareNoticeRow(SQLModel, table=True):
    """A share request for one of this node's registrations, as the national node last sent it
    (:mod:`common.sync.notices`): a due item while it waits for the subject's reply or delivery."""

    __tablename__ = "share_notices"

    id: str = Field(primary_key=True, max_length=36)
    registration_id: str = Field(max_length=64)
    requester_name: str = Field(max_length=200)
    requester_uscc: str = Field(max_length=18)
    state: str = Field(max_length=16)
    due: date | None = None
    due_provisional: bool = False
    updated_at: datetime = Field(sa_column=_utc())
