import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Department(_message.Message):
    __slots__ = ("uscc", "name")
    USCC_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    uscc: str
    name: str
    def __init__(self, uscc: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ShareRequest(_message.Message):
    __slots__ = ("name", "registration", "requester", "basis", "scenario", "scope", "method", "use_until", "supplier", "data_name", "code", "conditional", "sharing_conditions", "state", "reply_due", "delivery_due", "extended", "due_provisional", "history", "usage_records", "create_time", "update_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[ShareRequest.State]
        SUBMITTED: _ClassVar[ShareRequest.State]
        NEEDS_MATERIALS: _ClassVar[ShareRequest.State]
        AGREED: _ClassVar[ShareRequest.State]
        REFUSED: _ClassVar[ShareRequest.State]
        DELIVERED: _ClassVar[ShareRequest.State]
    STATE_UNSPECIFIED: ShareRequest.State
    SUBMITTED: ShareRequest.State
    NEEDS_MATERIALS: ShareRequest.State
    AGREED: ShareRequest.State
    REFUSED: ShareRequest.State
    DELIVERED: ShareRequest.State
    class Method(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        METHOD_UNSPECIFIED: _ClassVar[ShareRequest.Method]
        API: _ClassVar[ShareRequest.Method]
        BATCH_EXCHANGE: _ClassVar[ShareRequest.Method]
        FILE_DOWNLOAD: _ClassVar[ShareRequest.Method]
    METHOD_UNSPECIFIED: ShareRequest.Method
    API: ShareRequest.Method
    BATCH_EXCHANGE: ShareRequest.Method
    FILE_DOWNLOAD: ShareRequest.Method
    NAME_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    USE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    SUPPLIER_FIELD_NUMBER: _ClassVar[int]
    DATA_NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    CONDITIONAL_FIELD_NUMBER: _ClassVar[int]
    SHARING_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REPLY_DUE_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_DUE_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_FIELD_NUMBER: _ClassVar[int]
    DUE_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    USAGE_RECORDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    registration: str
    requester: Department
    basis: str
    scenario: str
    scope: str
    method: ShareRequest.Method
    use_until: _date_pb2.Date
    supplier: Department
    data_name: str
    code: str
    conditional: bool
    sharing_conditions: str
    state: ShareRequest.State
    reply_due: _date_pb2.Date
    delivery_due: _date_pb2.Date
    extended: bool
    due_provisional: bool
    history: _containers.RepeatedCompositeFieldContainer[ShareEvent]
    usage_records: _containers.RepeatedCompositeFieldContainer[UsageRecord]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., registration: _Optional[str] = ..., requester: _Optional[_Union[Department, _Mapping]] = ..., basis: _Optional[str] = ..., scenario: _Optional[str] = ..., scope: _Optional[str] = ..., method: _Optional[_Union[ShareRequest.Method, str]] = ..., use_until: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., supplier: _Optional[_Union[Department, _Mapping]] = ..., data_name: _Optional[str] = ..., code: _Optional[str] = ..., conditional: _Optional[bool] = ..., sharing_conditions: _Optional[str] = ..., state: _Optional[_Union[ShareRequest.State, str]] = ..., reply_due: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., delivery_due: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., extended: _Optional[bool] = ..., due_provisional: _Optional[bool] = ..., history: _Optional[_Iterable[_Union[ShareEvent, _Mapping]]] = ..., usage_records: _Optional[_Iterable[_Union[UsageRecord, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ShareEvent(_message.Message):
    __slots__ = ("action", "on_behalf_of", "actor", "time", "note")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    action: str
    on_behalf_of: str
    actor: str
    time: _timestamp_pb2.Timestamp
    note: str
    def __init__(self, action: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., actor: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ...) -> None: ...

class UsageRecord(_message.Message):
    __slots__ = ("kind", "note", "actor", "record_time", "keep_until")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[UsageRecord.Kind]
        SCENARIO: _ClassVar[UsageRecord.Kind]
        PROCESS: _ClassVar[UsageRecord.Kind]
        EFFECT: _ClassVar[UsageRecord.Kind]
        STORAGE: _ClassVar[UsageRecord.Kind]
        DESTRUCTION: _ClassVar[UsageRecord.Kind]
    KIND_UNSPECIFIED: UsageRecord.Kind
    SCENARIO: UsageRecord.Kind
    PROCESS: UsageRecord.Kind
    EFFECT: UsageRecord.Kind
    STORAGE: UsageRecord.Kind
    DESTRUCTION: UsageRecord.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    RECORD_TIME_FIELD_NUMBER: _ClassVar[int]
    KEEP_UNTIL_FIELD_NUMBER: _ClassVar[int]
    kind: UsageRecord.Kind
    note: str
    actor: str
    record_time: _timestamp_pb2.Timestamp
    keep_until: _date_pb2.Date
    def __init__(self, kind: _Optional[_Union[UsageRecord.Kind, str]] = ..., note: _Optional[str] = ..., actor: _Optional[str] = ..., record_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., keep_until: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...
