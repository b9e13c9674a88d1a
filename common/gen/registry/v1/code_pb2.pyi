import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from common.gen.registry.v1 import registration_pb2 as _registration_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CodeDefect(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CODE_DEFECT_UNSPECIFIED: _ClassVar[CodeDefect]
    CODE_DEFECT_EMPTY: _ClassVar[CodeDefect]
    CODE_DEFECT_WRONG_LENGTH: _ClassVar[CodeDefect]
    CODE_DEFECT_BAD_CHARACTER: _ClassVar[CodeDefect]
    CODE_DEFECT_UNKNOWN_OBJECT_TYPE: _ClassVar[CodeDefect]
    CODE_DEFECT_UNKNOWN_ISSUER: _ClassVar[CodeDefect]
    CODE_DEFECT_BAD_YEAR: _ClassVar[CodeDefect]
    CODE_DEFECT_BAD_SERIAL: _ClassVar[CodeDefect]
    CODE_DEFECT_CHECK_MISMATCH: _ClassVar[CodeDefect]
CODE_DEFECT_UNSPECIFIED: CodeDefect
CODE_DEFECT_EMPTY: CodeDefect
CODE_DEFECT_WRONG_LENGTH: CodeDefect
CODE_DEFECT_BAD_CHARACTER: CodeDefect
CODE_DEFECT_UNKNOWN_OBJECT_TYPE: CodeDefect
CODE_DEFECT_UNKNOWN_ISSUER: CodeDefect
CODE_DEFECT_BAD_YEAR: CodeDefect
CODE_DEFECT_BAD_SERIAL: CodeDefect
CODE_DEFECT_CHECK_MISMATCH: CodeDefect

class CodeAssignment(_message.Message):
    __slots__ = ("name", "code", "object_type", "issuer", "year", "serial", "registration", "subject_uscc", "requested_by", "request_id", "assign_time", "code_lease")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_USCC_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ASSIGN_TIME_FIELD_NUMBER: _ClassVar[int]
    CODE_LEASE_FIELD_NUMBER: _ClassVar[int]
    name: str
    code: str
    object_type: _registration_pb2.ObjectType
    issuer: str
    year: int
    serial: int
    registration: str
    subject_uscc: str
    requested_by: str
    request_id: str
    assign_time: _timestamp_pb2.Timestamp
    code_lease: str
    def __init__(self, name: _Optional[str] = ..., code: _Optional[str] = ..., object_type: _Optional[_Union[_registration_pb2.ObjectType, str]] = ..., issuer: _Optional[str] = ..., year: _Optional[int] = ..., serial: _Optional[int] = ..., registration: _Optional[str] = ..., subject_uscc: _Optional[str] = ..., requested_by: _Optional[str] = ..., request_id: _Optional[str] = ..., assign_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., code_lease: _Optional[str] = ...) -> None: ...

class CodeLease(_message.Message):
    __slots__ = ("name", "node", "issuer", "object_type", "year", "first_serial", "last_serial", "valid_from", "valid_until", "offline_after", "grant_time", "state", "revoke_time", "revoke_reason", "settle_time", "used_count", "unused_count", "signed_lease", "log_index")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[CodeLease.State]
        OPEN: _ClassVar[CodeLease.State]
        REVOKED: _ClassVar[CodeLease.State]
        SETTLED: _ClassVar[CodeLease.State]
    STATE_UNSPECIFIED: CodeLease.State
    OPEN: CodeLease.State
    REVOKED: CodeLease.State
    SETTLED: CodeLease.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    FIRST_SERIAL_FIELD_NUMBER: _ClassVar[int]
    LAST_SERIAL_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_AFTER_FIELD_NUMBER: _ClassVar[int]
    GRANT_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVOKE_REASON_FIELD_NUMBER: _ClassVar[int]
    SETTLE_TIME_FIELD_NUMBER: _ClassVar[int]
    USED_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNUSED_COUNT_FIELD_NUMBER: _ClassVar[int]
    SIGNED_LEASE_FIELD_NUMBER: _ClassVar[int]
    LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    name: str
    node: str
    issuer: str
    object_type: _registration_pb2.ObjectType
    year: int
    first_serial: int
    last_serial: int
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    offline_after: _duration_pb2.Duration
    grant_time: _timestamp_pb2.Timestamp
    state: CodeLease.State
    revoke_time: _timestamp_pb2.Timestamp
    revoke_reason: str
    settle_time: _timestamp_pb2.Timestamp
    used_count: int
    unused_count: int
    signed_lease: str
    log_index: int
    def __init__(self, name: _Optional[str] = ..., node: _Optional[str] = ..., issuer: _Optional[str] = ..., object_type: _Optional[_Union[_registration_pb2.ObjectType, str]] = ..., year: _Optional[int] = ..., first_serial: _Optional[int] = ..., last_serial: _Optional[int] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., offline_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., grant_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[CodeLease.State, str]] = ..., revoke_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoke_reason: _Optional[str] = ..., settle_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., used_count: _Optional[int] = ..., unused_count: _Optional[int] = ..., signed_lease: _Optional[str] = ..., log_index: _Optional[int] = ...) -> None: ...
