import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from common.gen.registry.v1 import sync_pb2 as _sync_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetSyncStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SyncStatus(_message.Message):
    __slots__ = ("node", "head_sequence", "acknowledged_sequence", "lag_changes", "lag_seconds", "downward_applied", "last_contact_time", "last_error", "daemon_in_process")
    NODE_FIELD_NUMBER: _ClassVar[int]
    HEAD_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAG_CHANGES_FIELD_NUMBER: _ClassVar[int]
    LAG_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DOWNWARD_APPLIED_FIELD_NUMBER: _ClassVar[int]
    LAST_CONTACT_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    DAEMON_IN_PROCESS_FIELD_NUMBER: _ClassVar[int]
    node: str
    head_sequence: int
    acknowledged_sequence: int
    lag_changes: int
    lag_seconds: float
    downward_applied: int
    last_contact_time: _timestamp_pb2.Timestamp
    last_error: str
    daemon_in_process: bool
    def __init__(self, node: _Optional[str] = ..., head_sequence: _Optional[int] = ..., acknowledged_sequence: _Optional[int] = ..., lag_changes: _Optional[int] = ..., lag_seconds: _Optional[float] = ..., downward_applied: _Optional[int] = ..., last_contact_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., daemon_in_process: _Optional[bool] = ...) -> None: ...

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
