import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from common.gen.registry.v1 import registration_pb2 as _registration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LedgerCorrection(_message.Message):
    __slots__ = ("name", "registration", "code", "managing_node", "problem", "evidence", "requested_by", "file_time", "state", "application_id", "history")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[LedgerCorrection.State]
        SENT: _ClassVar[LedgerCorrection.State]
        OPEN: _ClassVar[LedgerCorrection.State]
        CORRECTED: _ClassVar[LedgerCorrection.State]
        NOT_CORRECTED: _ClassVar[LedgerCorrection.State]
        NOT_OPENED: _ClassVar[LedgerCorrection.State]
    STATE_UNSPECIFIED: LedgerCorrection.State
    SENT: LedgerCorrection.State
    OPEN: LedgerCorrection.State
    CORRECTED: LedgerCorrection.State
    NOT_CORRECTED: LedgerCorrection.State
    NOT_OPENED: LedgerCorrection.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MANAGING_NODE_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    FILE_TIME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    name: str
    registration: str
    code: str
    managing_node: str
    problem: str
    evidence: _containers.RepeatedCompositeFieldContainer[_registration_pb2.Document]
    requested_by: str
    file_time: _timestamp_pb2.Timestamp
    state: LedgerCorrection.State
    application_id: str
    history: _containers.RepeatedCompositeFieldContainer[_registration_pb2.HistoryEntry]
    def __init__(self, name: _Optional[str] = ..., registration: _Optional[str] = ..., code: _Optional[str] = ..., managing_node: _Optional[str] = ..., problem: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[_registration_pb2.Document, _Mapping]]] = ..., requested_by: _Optional[str] = ..., file_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., state: _Optional[_Union[LedgerCorrection.State, str]] = ..., application_id: _Optional[str] = ..., history: _Optional[_Iterable[_Union[_registration_pb2.HistoryEntry, _Mapping]]] = ...) -> None: ...
