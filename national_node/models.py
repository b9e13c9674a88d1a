"""Tables of the national node (SQLModel)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine
from sqlmodel import Field, SQLModel

from common.db import UTCDateTime

__all__ = [
    "CheckpointRow",
    "CosignatureRow",
    "LogEntryRow",
    "LogHashRow",
    "CodeAssignmentRow",
    "CodeCounterRow",
    "CodeLeaseRow",
    "LedgerCorrectionRow",
    "LinkSilenceRow",
    "DemandAnswerRow",
    "DisclosureCodeRow",
    "DisclosureRequestRow",
    "DisclosureRow",
    "DemandEventRow",
    "DemandMatchRow",
    "DemandRequestRow",
    "DemandRow",
    "DownwardRow",
    "LedgerRow",
    "NodeRow",
    "PublicObjectionRow",
    "SearchRow",
    "ShareEventRow",
    "ShareRequestRow",
    "ShareWriteRow",
    "SyncStateRow",
    "TransferRow",
    "UsageRecordRow",
]


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
    #: The lease a node gave the code from while the national node was unreachable (its name).
    code_lease: str | None = Field(default=None, max_length=64)
    #: The node's change that carried such a code.
    sequence: int | None = Field(default=None, sa_type=BigInteger)


class CodeLeaseRow(SQLModel, table=True):
    """A range of serials of one namespace granted to a node, to code from while the national node is
    unreachable (:mod:`national_node.code_leases`)."""

    __tablename__ = "code_leases"
    __table_args__ = (
        UniqueConstraint("node", "request_id", name="uq_code_leases_request"),
        Index("ix_code_leases_namespace", "issuer", "object_type", "year"),
    )

    name: str = Field(primary_key=True, max_length=64)
    node: str = Field(max_length=6)
    issuer: str = Field(max_length=6)
    object_type: int
    year: int  # four digits
    first_serial: int = Field(sa_type=BigInteger)
    last_serial: int = Field(sa_type=BigInteger)
    valid_from: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    valid_until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    offline_after: float  # seconds
    granted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    request_id: str = Field(max_length=64)
    #: The lease as the log's key signed it (a signed note).
    signed: str = Field(sa_column=Column(Text, nullable=False))
    log_index: int | None = Field(default=None, sa_type=BigInteger)
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    revoke_reason: str = Field(default="", max_length=500)
    #: The node's last reported change when the lease was revoked.
    revoked_after: int | None = Field(default=None, sa_type=BigInteger)
    settled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    used: int = Field(default=0, sa_type=BigInteger)
    unused: int = Field(default=0, sa_type=BigInteger)


class LedgerCorrectionRow(SQLModel, table=True):
    """A correction request of the national coordinators (:mod:`national_node.corrections`)."""

    __tablename__ = "ledger_corrections"
    __table_args__ = (
        UniqueConstraint("requested_by", "request_id", name="uq_ledger_corrections_request"),
        Index("ix_ledger_corrections_uid", "uid"),
        Index("ix_ledger_corrections_node", "node", "filed_at"),
    )

    id: str = Field(primary_key=True, max_length=36)
    requested_by: str = Field(max_length=200)
    request_id: str = Field(max_length=64)
    digest: str = Field(max_length=64)
    uid: str = Field(max_length=36)
    registration: str = Field(max_length=200)
    code: str = Field(max_length=19)
    node: str = Field(max_length=6)
    #: The request as filed (``registry.v1.LedgerCorrection`` without its state and history).
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    filed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class LinkSilenceRow(SQLModel, table=True):
    """A time the national node heard nothing from a node's upward stream, long enough to count
    (real time, whatever the nodes' clocks): the heads the node reported before and after it bound
    the changes it committed meanwhile."""

    __tablename__ = "link_silences"

    node: str = Field(primary_key=True, max_length=6)
    since: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    until: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    head_before: int = Field(sa_type=BigInteger)
    head_after: int = Field(sa_type=BigInteger)


class LedgerRow(SQLModel, table=True):
    """The national ledger: every registration in the country at its latest revision."""

    __tablename__ = "ledger"
    __table_args__ = (
        Index("ix_ledger_node_bucket", "node", "bucket"),
        Index("ix_ledger_code", "code"),
        Index("ix_ledger_name", "name"),
    )

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
    #: The national log's entry of this revision (what a confirmation of it proves).
    log_index: int | None = Field(default=None, sa_type=BigInteger)


class SyncStateRow(SQLModel, table=True):
    """The national node's view of one provincial node's link."""

    __tablename__ = "sync_states"

    node: str = Field(primary_key=True, max_length=6)
    acknowledged: int = 0
    acknowledged_commit: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    head: int = 0
    head_time: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_contact: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: When the national node last heard the node's upward stream, in real time (``last_contact`` is on
    #: the node's clock, which a demonstration may run fast): what link silences are measured with.
    heard_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_error: str = ""
    refused: int = 0
    downward_acknowledged: int = 0
    #: The stream the node's upward changes are applied from (process and stream; the newest opened).
    upward_stream: str = Field(default="", max_length=96)


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
    #: For an OBJECTION: the ``sync_pb2.ForwardedObjection`` (``record`` is empty then).
    objection: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    #: For a DEMAND: the ``registry.v1.Demand``; for a SHARE_REQUEST: the ``registry.v1.ShareRequest``.
    notice: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class TransferRow(SQLModel, table=True):
    """A transfer of management of one registration between nodes."""

    __tablename__ = "transfers"
    __table_args__ = (
        Index("ix_transfers_from_state", "from_node", "state"),
        Index("ix_transfers_uid", "uid"),
    )

    id: str = Field(primary_key=True, max_length=36)
    request_id: str = Field(max_length=64, unique=True)
    uid: str = Field(max_length=36)
    code: str = Field(max_length=19)
    from_node: str = Field(max_length=6)
    to_node: str = Field(max_length=6)
    state: str = Field(max_length=16)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    completed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: The receiving node confirmed it (the national node, at once for a transfer to itself).
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    #: Where the ``TRANSFER_RELEASE`` sits in the sending node's downward feed (once confirmed).
    release_sequence: int | None = Field(default=None, sa_type=BigInteger)
    #: The ledger applied the sending node's release (a transfer completed before releases existed
    #: has none).
    released_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class LogEntryRow(SQLModel, table=True):
    """One entry of the national log (see ``log_service.proto``): appended, never changed."""

    __tablename__ = "log_entries"

    index: int = Field(primary_key=True, sa_type=BigInteger)
    entry: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    #: Its leaf hash, SHA-256(0x00 || entry): the level-0 subtree hash.
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class LogHashRow(SQLModel, table=True):
    """The hash of a perfect subtree of the log, of the leaves ``[index * 2**level, (index + 1) *
    2**level)``, from level ``national_node.tlog.storage.STORED_LEVEL`` up (level 0 is the entries'
    ``hash``, the levels between are folded from it). Every proof is made of O(log n) of these."""

    __tablename__ = "log_hashes"

    level: int = Field(primary_key=True)
    index: int = Field(primary_key=True, sa_type=BigInteger)
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CheckpointRow(SQLModel, table=True):
    """A checkpoint the log signed (the note as signed, without cosignatures)."""

    __tablename__ = "log_checkpoints"

    size: int = Field(primary_key=True, sa_type=BigInteger)
    root: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    note: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class CosignatureRow(SQLModel, table=True):
    """A witness's cosignature of a checkpoint (its signature line)."""

    __tablename__ = "log_cosignatures"

    size: int = Field(primary_key=True, sa_type=BigInteger)
    witness: str = Field(primary_key=True, max_length=6)  # the witnessing node's region
    line: str
    timestamp: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class WordList(TypeDecorator[list[str]]):
    """A document's words: a ``text[]`` with a GIN index on PostgreSQL (``words @> ARRAY[...]``), and
    on SQLite one string with a space before and after every word (``LIKE '% 气象 %'``)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Text))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return " " + " ".join(value) + " "

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str] | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return list(value)
        return str(value).split()


class SearchRow(SQLModel, table=True):
    """The public search index: one row per registration in the ledger, written by the indexer that
    follows the ledger's log (:mod:`national_node.indexer`), holding only what the public may see
    (and the keys to find duplicates by)."""

    __tablename__ = "search_index"
    __table_args__ = (
        Index("ix_search_created", "created_at", "uid"),
        Index("ix_search_code", "code"),
        Index("ix_search_name", "name"),
        Index("ix_search_announced", "announcement_end", postgresql_where=text("announced")),
        Index("ix_search_subject", "subject_uscc"),
        Index("ix_search_subject_org", "subject_org"),
        Index("ix_search_subject_key", "subject_key"),
        Index("ix_search_name_key", "name_key"),
    )

    uid: str = Field(primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    code: str | None = Field(default=None, max_length=19)
    node: str = Field(max_length=6)  # the managing node's region
    region: str = Field(max_length=6)  # the province-level region of the subject (100000: central)
    object_type: str = Field(max_length=32)
    state: str = Field(max_length=16)
    announced: bool = False  # the current application is under announcement
    application_id: str = Field(default="", max_length=36)
    announcement_end: date | None = None
    #: ``announcement_end`` was computed on weekends alone (no published schedule for its year).
    announcement_end_provisional: bool = False
    subject_uscc: str = Field(max_length=18)
    subject_org: str = Field(max_length=9)  # USCC characters 9-17: the organisation code
    subject_name: str = Field(max_length=200)
    subject_key: str = Field(max_length=200)
    data_name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    summary: str = Field(sa_type=Text)
    update_frequency: str = Field(max_length=100)
    data_format: str = Field(max_length=100)
    #: The access terms' sharing and open attributes (AccessTerms enum names; empty: not stated) and
    #: the kinds of its channels (AccessChannel.Kind names, space-separated; each is a tag too).
    sharing_attribute: str = Field(default="", max_length=32)
    open_attribute: str = Field(default="", max_length=32)
    channel_kinds: str = Field(default="", max_length=200)
    valid_from: date | None = None
    valid_until: date | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    revision: int = Field(sa_type=BigInteger)
    #: The digest of the text the words were made from: unchanged text is not segmented again.
    text_digest: str = Field(max_length=32)
    #: The digest of the public fields: a change that alters none of them writes nothing.
    fields_digest: str = Field(max_length=32)
    words: list[str] = Field(sa_column=Column(WordList(), nullable=False))


class SearchWordRow(SQLModel, table=True):
    """A word of the data names and subject names the search index has held, for "did you mean"
    (:mod:`national_node.spelling`). Written by the indexer with the rows, never removed (a word no
    name holds any more finds nothing, and is then never suggested); ``id`` grows, so the portal reads
    only the words added since it last looked."""

    __tablename__ = "search_words"

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    word: str = Field(max_length=32, unique=True)


class SearchCursorRow(SQLModel, table=True):
    """How far the search index has followed the national log: every registration entry before
    ``next_index`` is in the index. One row; the indexer advances it in the transaction that writes
    the rows, so a crash repeats a batch at most (rows are written by uid: repeating is harmless)."""

    __tablename__ = "search_cursor"

    name: str = Field(primary_key=True, max_length=16)
    next_index: int = Field(sa_type=BigInteger)
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class PublicObjectionRow(SQLModel, table=True):
    """An objection filed with the national node (NationalService.FileObjection), by request id: a
    retry gets the first answer, and the managing node gets it once."""

    __tablename__ = "public_objections"

    request_id: str = Field(primary_key=True, max_length=64)
    digest: str = Field(max_length=64)  # of the request, to tell a retry from a reused id
    registration: str = Field(max_length=200)
    node: str = Field(max_length=6)  # the managing node
    application_id: str = Field(max_length=36)
    announcement_end: date | None = None
    announcement_end_provisional: bool = False
    filed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DemandRow(SQLModel, table=True):
    """A data demand (DemandService): the demand as posted (``body``, a ``registry.v1.Demand`` holding
    only what the organisation gave) and what the national node keeps of it to list and filter."""

    __tablename__ = "demands"
    __table_args__ = (
        Index("ix_demands_created", "created_at", "id"),
        Index("ix_demands_organisation", "organisation_uscc"),
    )

    id: str = Field(primary_key=True, max_length=36)
    organisation_uscc: str = Field(max_length=18)
    organisation_name: str = Field(max_length=200)
    region: str = Field(default="", max_length=6)
    #: OPEN, ANSWERED, MATCHED, CLOSED or WITHDRAWN (registry.v1.Demand.State); past its deadline an
    #: open, answered or matched demand is CLOSED to every reader (:mod:`national_node.demands`).
    state: str = Field(max_length=16)
    deadline: date
    #: The title and the purpose, folded as a query is (lower case, simplified characters), to search.
    text_key: str = Field(sa_column=Column(Text, nullable=False))
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DemandMatchRow(SQLModel, table=True):
    """A registration of the ledger that matched a demand when it was posted, by rank (0: best)."""

    __tablename__ = "demand_matches"

    demand_id: str = Field(primary_key=True, max_length=36)
    rank: int = Field(primary_key=True)
    registration: str = Field(max_length=200)
    code: str = Field(default="", max_length=19)
    data_name: str = Field(max_length=200)
    subject_name: str = Field(max_length=200)
    subject_uscc: str = Field(max_length=18)
    complete: bool = True


class DemandAnswerRow(SQLModel, table=True):
    """A supplier's answer to a demand: one per registration."""

    __tablename__ = "demand_answers"

    demand_id: str = Field(primary_key=True, max_length=36)
    registration: str = Field(primary_key=True, max_length=200)
    kind: str = Field(max_length=16)  # registry.v1.DemandAnswer.Kind name
    code: str = Field(default="", max_length=19)
    register_by: date | None = None
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    subject_name: str = Field(max_length=200)
    subject_uscc: str = Field(max_length=18)
    answered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DemandEventRow(SQLModel, table=True):
    """A step of a demand's history."""

    __tablename__ = "demand_events"
    __table_args__ = (Index("ix_demand_events_demand", "demand_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    demand_id: str = Field(max_length=36)
    action: str = Field(max_length=16)
    party: str = Field(max_length=16)  # registry.v1.DemandEvent.Party name
    on_behalf_of: str = Field(default="", max_length=18)
    actor: str = Field(default="", max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DemandRequestRow(SQLModel, table=True):
    """The writes of DemandService by request id, every method together: a retry of the same request
    gets the demand as it is now and changes nothing; another request under a used id is refused."""

    __tablename__ = "demand_requests"

    request_id: str = Field(primary_key=True, max_length=64)
    digest: str = Field(max_length=64)  # the method and the request, to tell a retry from a reused id
    demand_id: str = Field(max_length=36)


class ShareRequestRow(SQLModel, table=True):
    """A share request (ShareService): what the requester gave (``body``, a ``registry.v1.ShareRequest``
    holding only that and the access terms' conditions) and what the national node keeps to list,
    filter and time it."""

    __tablename__ = "share_requests"
    __table_args__ = (
        Index("ix_share_requests_created", "created_at", "id"),
        Index("ix_share_requests_requester", "requester_uscc"),
        Index("ix_share_requests_supplier", "supplier_uscc"),
    )

    id: str = Field(primary_key=True, max_length=36)
    registration: str = Field(max_length=200)
    node: str = Field(max_length=6)
    requester_uscc: str = Field(max_length=18)
    requester_name: str = Field(max_length=200)
    supplier_uscc: str = Field(max_length=18)
    supplier_name: str = Field(max_length=200)
    #: registry.v1.ShareRequest.State name.
    state: str = Field(max_length=16)
    conditional: bool
    extended: bool = False
    reply_due: date | None = None
    delivery_due: date | None = None
    due_provisional: bool = False
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ShareEventRow(SQLModel, table=True):
    """A step of a share request's history."""

    __tablename__ = "share_events"
    __table_args__ = (Index("ix_share_events_share", "share_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    share_id: str = Field(max_length=36)
    action: str = Field(max_length=16)
    on_behalf_of: str = Field(default="", max_length=18)
    actor: str = Field(default="", max_length=200)
    note: str = Field(default="", sa_column=Column(Text, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class UsageRecordRow(SQLModel, table=True):
    """A requester's record of its use of shared data (《政务数据共享条例》 Art. 29), kept until
    ``keep_until`` at least: nothing in the node deletes it."""

    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_records_share", "share_id", "id"),)

    id: int | None = Field(default=None, sa_type=BigInteger, primary_key=True)
    share_id: str = Field(max_length=36)
    kind: str = Field(max_length=16)  # registry.v1.UsageRecord.Kind name
    note: str = Field(sa_column=Column(Text, nullable=False))
    actor: str = Field(max_length=200)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    keep_until: date


class ShareWriteRow(SQLModel, table=True):
    """The writes of ShareService by request id, every method together (as ``demand_requests``)."""

    __tablename__ = "share_writes"

    request_id: str = Field(primary_key=True, max_length=64)
    digest: str = Field(max_length=64)
    share_id: str = Field(max_length=36)


class DisclosureRow(SQLModel, table=True):
    """A version of an authorised-operation disclosure (DisclosureService): ``body`` is the
    ``registry.v1.Disclosure`` as filed (its content), the rest what is listed and filtered."""

    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_year_region", "year", "region"),)

    name: str = Field(primary_key=True, max_length=80)
    version: int = Field(primary_key=True)
    year: int
    role: str = Field(max_length=24)  # registry.v1.Disclosure.Role name
    uscc: str = Field(max_length=18)
    party_name: str = Field(max_length=200)
    region: str = Field(max_length=6)
    latest: bool = True
    late: bool = False
    content_sha256: str = Field(max_length=64)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    filed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    log_index: int | None = Field(default=None, sa_type=BigInteger)


class DisclosureCodeRow(SQLModel, table=True):
    """A registration code a disclosure's latest version names: its registration's page links to it."""

    __tablename__ = "disclosure_codes"
    __table_args__ = (Index("ix_disclosure_codes_code", "code"),)

    name: str = Field(primary_key=True, max_length=80)
    code: str = Field(primary_key=True, max_length=19)


class DisclosureRequestRow(SQLModel, table=True):
    """The filings by request id (a retry gets the version it filed)."""

    __tablename__ = "disclosure_requests"

    request_id: str = Field(primary_key=True, max_length=64)
    digest: str = Field(max_length=64)
    name: str = Field(max_length=80)
    version: int
