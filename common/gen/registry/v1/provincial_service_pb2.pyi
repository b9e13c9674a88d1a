import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from common.gen.registry.v1 import sync_pb2 as _sync_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetWitnessedCheckpointRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WitnessedCheckpoint(_message.Message):
    __slots__ = ("node", "note", "tree_size", "verify_time")
    NODE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    VERIFY_TIME_FIELD_NUMBER: _ClassVar[int]
    node: str
    note: str
    tree_size: int
    verify_time: _timestamp_pb2.Timestamp
    def __init__(self, node: _Optional[str] = ..., note: _Optional[str] = ..., tree_size: _Optional[int] = ..., verify_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResolveLogAlarmRequest(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class WitnessStatus(_message.Message):
    __slots__ = ("verified_size", "verified_root", "verify_time", "alarm", "last_error")
    VERIFIED_SIZE_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_ROOT_FIELD_NUMBER: _ClassVar[int]
    VERIFY_TIME_FIELD_NUMBER: _ClassVar[int]
    ALARM_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    verified_size: int
    verified_root: bytes
    verify_time: _timestamp_pb2.Timestamp
    alarm: LogAlarm
    last_error: str
    def __init__(self, verified_size: _Optional[int] = ..., verified_root: _Optional[bytes] = ..., verify_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., alarm: _Optional[_Union[LogAlarm, _Mapping]] = ..., last_error: _Optional[str] = ...) -> None: ...

class LogAlarm(_message.Message):
    __slots__ = ("kind", "message", "verified_checkpoint", "conflicting_checkpoint", "source", "detect_time")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[LogAlarm.Kind]
        INCONSISTENT: _ClassVar[LogAlarm.Kind]
        TRUNCATED: _ClassVar[LogAlarm.Kind]
        FORKED: _ClassVar[LogAlarm.Kind]
        SPLIT_VIEW: _ClassVar[LogAlarm.Kind]
    KIND_UNSPECIFIED: LogAlarm.Kind
    INCONSISTENT: LogAlarm.Kind
    TRUNCATED: LogAlarm.Kind
    FORKED: LogAlarm.Kind
    SPLIT_VIEW: LogAlarm.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    CONFLICTING_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DETECT_TIME_FIELD_NUMBER: _ClassVar[int]
    kind: LogAlarm.Kind
    message: str
    verified_checkpoint: str
    conflicting_checkpoint: str
    source: str
    detect_time: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[LogAlarm.Kind, str]] = ..., message: _Optional[str] = ..., verified_checkpoint: _Optional[str] = ..., conflicting_checkpoint: _Optional[str] = ..., source: _Optional[str] = ..., detect_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetSyncStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SyncStatus(_message.Message):
    __slots__ = ("node", "head_sequence", "acknowledged_sequence", "lag_changes", "lag_seconds", "downward_applied", "last_contact_time", "last_error", "daemon_in_process", "witness")
    NODE_FIELD_NUMBER: _ClassVar[int]
    HEAD_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAG_CHANGES_FIELD_NUMBER: _ClassVar[int]
    LAG_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DOWNWARD_APPLIED_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    DAEMON_IN_PROCESS_FIELD_NUMBER: _ClassVar[int]
    WITNESS_FIELD_NUMBER: _ClassVar[int]
    node: str
    head_sequence: int
    acknowledged_sequence: int
    lag_changes: int
    lag_seconds: float
    downward_applied: int
    last_contact_time: _timestamp_pb2.Timestamp
    last_error: str
    daemon_in_process: bool
    witness: WitnessStatus
    def __init__(self, node: _Optional[str] = ..., head_sequence: _Optional[int] = ..., acknowledged_sequence: _Optional[int] = ..., lag_changes: _Optional[int] = ..., lag_seconds: _Optional[float] = ..., downward_applied: _Optional[int] = ..., last_contact_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., daemon_in_process: _Optional[bool] = ..., witness: _Optional[_Union[WitnessStatus, _Mapping]] = ...) -> None: ...

class CheckAgreementRequest(_message.Message):
    __slots__ = ("repair",)
    REPAIR_FIELD_NUMBER: _ClassVar[int]
    repair: bool
    def __init__(self, repair: _Optional[bool] = ...) -> None: ...

class AgreementReport(_message.Message):
    __slots__ = ("in_agreement", "ranges_compared", "differing_ranges", "ledger_newer", "node_newer", "repaired")
    IN_AGREEMENT_FIELD_NUMBER: _ClassVar[int]
    RANGES_COMPARED_FIELD_NUMBER: _ClassVar[int]
    DIFFERING_RANGES_FIELD_NUMBER: _ClassVar[int]
    LEDGER_NEWER_FIELD_NUMBER: _ClassVar[int]
    NODE_NEWER_FIELD_NUMBER: _ClassVar[int]
    REPAIRED_FIELD_NUMBER: _ClassVar[int]
    in_agreement: bool
    ranges_compared: int
    differing_ranges: _containers.RepeatedCompositeFieldContainer[_sync_pb2.RangeDigest]
    ledger_newer: _containers.RepeatedScalarFieldContainer[str]
    node_newer: _containers.RepeatedScalarFieldContainer[str]
    repaired: bool
    def __init__(self, in_agreement: _Optional[bool] = ..., ranges_compared: _Optional[int] = ..., differing_ranges: _Optional[_Iterable[_Union[_sync_pb2.RangeDigest, _Mapping]]] = ..., ledger_newer: _Optional[_Iterable[str]] = ..., node_newer: _Optional[_Iterable[str]] = ..., repaired: _Optional[bool] = ...) -> None: ...
