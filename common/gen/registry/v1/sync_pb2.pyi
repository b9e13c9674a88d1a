import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from common.gen.registry.v1 import correction_pb2 as _correction_pb2
from common.gen.registry.v1 import demand_pb2 as _demand_pb2
from common.gen.registry.v1 import disclosure_pb2 as _disclosure_pb2
from common.gen.registry.v1 import registration_pb2 as _registration_pb2
from common.gen.registry.v1 import share_pb2 as _share_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RegistrationRecord(_message.Message):
    __slots__ = ("registration", "history", "confirmation", "revision")
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    CONFIRMATION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    registration: _registration_pb2.Registration
    history: _containers.RepeatedCompositeFieldContainer[_registration_pb2.HistoryEntry]
    confirmation: _registration_pb2.Confirmation
    revision: int
    def __init__(self, registration: _Optional[_Union[_registration_pb2.Registration, _Mapping]] = ..., history: _Optional[_Iterable[_Union[_registration_pb2.HistoryEntry, _Mapping]]] = ..., confirmation: _Optional[_Union[_registration_pb2.Confirmation, _Mapping]] = ..., revision: _Optional[int] = ...) -> None: ...

class Change(_message.Message):
    __slots__ = ("sequence", "record", "commit_time", "transfer_id")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    record: RegistrationRecord
    commit_time: _timestamp_pb2.Timestamp
    transfer_id: str
    def __init__(self, sequence: _Optional[int] = ..., record: _Optional[_Union[RegistrationRecord, _Mapping]] = ..., commit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transfer_id: _Optional[str] = ...) -> None: ...

class ChangeBatch(_message.Message):
    __slots__ = ("node", "changes", "head_sequence", "head_time")
    NODE_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    HEAD_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HEAD_TIME_FIELD_NUMBER: _ClassVar[int]
    node: str
    changes: _containers.RepeatedCompositeFieldContainer[Change]
    head_sequence: int
    head_time: _timestamp_pb2.Timestamp
    def __init__(self, node: _Optional[str] = ..., changes: _Optional[_Iterable[_Union[Change, _Mapping]]] = ..., head_sequence: _Optional[int] = ..., head_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChangeAck(_message.Message):
    __slots__ = ("acknowledged_sequence", "expected_sequence", "refused")
    ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    acknowledged_sequence: int
    expected_sequence: int
    refused: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, acknowledged_sequence: _Optional[int] = ..., expected_sequence: _Optional[int] = ..., refused: _Optional[_Iterable[str]] = ...) -> None: ...

class DownwardChange(_message.Message):
    __slots__ = ("sequence", "kind", "record", "transfer_id", "objection", "demand", "share_request", "correction", "disclosure")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[DownwardChange.Kind]
        HANDOVER: _ClassVar[DownwardChange.Kind]
        TRANSFER_OFFER: _ClassVar[DownwardChange.Kind]
        TRANSFER_IN: _ClassVar[DownwardChange.Kind]
        TRANSFER_OUT: _ClassVar[DownwardChange.Kind]
        RESTORE: _ClassVar[DownwardChange.Kind]
        OBJECTION: _ClassVar[DownwardChange.Kind]
        TRANSFER_RELEASE: _ClassVar[DownwardChange.Kind]
        DEMAND: _ClassVar[DownwardChange.Kind]
        SHARE_REQUEST: _ClassVar[DownwardChange.Kind]
        CORRECTION: _ClassVar[DownwardChange.Kind]
        DISCLOSURE: _ClassVar[DownwardChange.Kind]
    KIND_UNSPECIFIED: DownwardChange.Kind
    HANDOVER: DownwardChange.Kind
    TRANSFER_OFFER: DownwardChange.Kind
    TRANSFER_IN: DownwardChange.Kind
    TRANSFER_OUT: DownwardChange.Kind
    RESTORE: DownwardChange.Kind
    OBJECTION: DownwardChange.Kind
    TRANSFER_RELEASE: DownwardChange.Kind
    DEMAND: DownwardChange.Kind
    SHARE_REQUEST: DownwardChange.Kind
    CORRECTION: DownwardChange.Kind
    DISCLOSURE: DownwardChange.Kind
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    SHARE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    CORRECTION_FIELD_NUMBER: _ClassVar[int]
    DISCLOSURE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    kind: DownwardChange.Kind
    record: RegistrationRecord
    transfer_id: str
    objection: ForwardedObjection
    demand: _demand_pb2.Demand
    share_request: _share_pb2.ShareRequest
    correction: _correction_pb2.LedgerCorrection
    disclosure: _disclosure_pb2.Disclosure
    def __init__(self, sequence: _Optional[int] = ..., kind: _Optional[_Union[DownwardChange.Kind, str]] = ..., record: _Optional[_Union[RegistrationRecord, _Mapping]] = ..., transfer_id: _Optional[str] = ..., objection: _Optional[_Union[ForwardedObjection, _Mapping]] = ..., demand: _Optional[_Union[_demand_pb2.Demand, _Mapping]] = ..., share_request: _Optional[_Union[_share_pb2.ShareRequest, _Mapping]] = ..., correction: _Optional[_Union[_correction_pb2.LedgerCorrection, _Mapping]] = ..., disclosure: _Optional[_Union[_disclosure_pb2.Disclosure, _Mapping]] = ...) -> None: ...

class ForwardedObjection(_message.Message):
    __slots__ = ("registration", "application_id", "objection", "request_id", "file_time", "actor")
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    registration: str
    application_id: str
    objection: _registration_pb2.Objection
    request_id: str
    file_time: _timestamp_pb2.Timestamp
    actor: str
    def __init__(self, registration: _Optional[str] = ..., application_id: _Optional[str] = ..., objection: _Optional[_Union[_registration_pb2.Objection, _Mapping]] = ..., request_id: _Optional[str] = ..., file_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ...) -> None: ...

class SyncState(_message.Message):
    __slots__ = ("node", "acknowledged_sequence", "head_sequence", "lag_changes", "lag_seconds", "last_contact_time", "downward_head", "downward_acknowledged", "last_error", "refused_changes", "witnessed_size", "witnessed_time", "transfers_releasing")
    NODE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HEAD_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAG_CHANGES_FIELD_NUMBER: _ClassVar[int]
    LAG_SECONDS_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    DOWNWARD_HEAD_FIELD_NUMBER: _ClassVar[int]
    DOWNWARD_ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    REFUSED_CHANGES_FIELD_NUMBER: _ClassVar[int]
    WITNESSED_SIZE_FIELD_NUMBER: _ClassVar[int]
    WITNESSED_TIME_FIELD_NUMBER: _ClassVar[int]
    TRANSFERS_RELEASING_FIELD_NUMBER: _ClassVar[int]
    node: str
    acknowledged_sequence: int
    head_sequence: int
    lag_changes: int
    lag_seconds: float
    last_contact_time: _timestamp_pb2.Timestamp
    downward_head: int
    downward_acknowledged: int
    last_error: str
    refused_changes: int
    witnessed_size: int
    witnessed_time: _timestamp_pb2.Timestamp
    transfers_releasing: int
    def __init__(self, node: _Optional[str] = ..., acknowledged_sequence: _Optional[int] = ..., head_sequence: _Optional[int] = ..., lag_changes: _Optional[int] = ..., lag_seconds: _Optional[float] = ..., last_contact_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., downward_head: _Optional[int] = ..., downward_acknowledged: _Optional[int] = ..., last_error: _Optional[str] = ..., refused_changes: _Optional[int] = ..., witnessed_size: _Optional[int] = ..., witnessed_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transfers_releasing: _Optional[int] = ...) -> None: ...

class RangeDigest(_message.Message):
    __slots__ = ("prefix", "digest", "count")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    digest: str
    count: int
    def __init__(self, prefix: _Optional[str] = ..., digest: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class LeafDigest(_message.Message):
    __slots__ = ("uid", "revision", "digest")
    UID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    uid: str
    revision: int
    digest: str
    def __init__(self, uid: _Optional[str] = ..., revision: _Optional[int] = ..., digest: _Optional[str] = ...) -> None: ...
