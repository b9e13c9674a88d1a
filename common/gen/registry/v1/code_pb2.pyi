import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
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
    __slots__ = ("name", "code", "object_type", "issuer", "year", "serial", "registration", "subject_uscc", "requested_by", "request_id", "assign_time")
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
    def __init__(self, name: _Optional[str] = ..., code: _Optional[str] = ..., object_type: _Optional[_Union[_registration_pb2.ObjectType, str]] = ..., issuer: _Optional[str] = ..., year: _Optional[int] = ..., serial: _Optional[int] = ..., registration: _Optional[str] = ..., subject_uscc: _Optional[str] = ..., requested_by: _Optional[str] = ..., request_id: _Optional[str] = ..., assign_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
