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

class DemandOrganisation(_message.Message):
    __slots__ = ("uscc", "name")
    USCC_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    uscc: str
    name: str
    def __init__(self, uscc: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class Demand(_message.Message):
    __slots__ = ("name", "title", "purpose", "region", "fields", "period_start", "period_end", "frequency", "deadline", "organisation", "state", "matches", "answers", "history", "create_time", "update_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Demand.State]
        OPEN: _ClassVar[Demand.State]
        ANSWERED: _ClassVar[Demand.State]
        MATCHED: _ClassVar[Demand.State]
        CLOSED: _ClassVar[Demand.State]
        WITHDRAWN: _ClassVar[Demand.State]
    STATE_UNSPECIFIED: Demand.State
    OPEN: Demand.State
    ANSWERED: Demand.State
    MATCHED: Demand.State
    CLOSED: Demand.State
    WITHDRAWN: Demand.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    title: str
    purpose: str
    region: str
    fields: _containers.RepeatedScalarFieldContainer[str]
    period_start: _date_pb2.Date
    period_end: _date_pb2.Date
    frequency: str
    deadline: _date_pb2.Date
    organisation: DemandOrganisation
    state: Demand.State
    matches: _containers.RepeatedCompositeFieldContainer[DemandMatch]
    answers: _containers.RepeatedCompositeFieldContainer[DemandAnswer]
    history: _containers.RepeatedCompositeFieldContainer[DemandEvent]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., title: _Optional[str] = ..., purpose: _Optional[str] = ..., region: _Optional[str] = ..., fields: _Optional[_Iterable[str]] = ..., period_start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., period_end: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., frequency: _Optional[str] = ..., deadline: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., organisation: _Optional[_Union[DemandOrganisation, _Mapping]] = ..., state: _Optional[_Union[Demand.State, str]] = ..., matches: _Optional[_Iterable[_Union[DemandMatch, _Mapping]]] = ..., answers: _Optional[_Iterable[_Union[DemandAnswer, _Mapping]]] = ..., history: _Optional[_Iterable[_Union[DemandEvent, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DemandMatch(_message.Message):
    __slots__ = ("registration", "code", "data_name", "subject_name", "subject_uscc", "complete")
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DATA_NAME_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_USCC_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    registration: str
    code: str
    data_name: str
    subject_name: str
    subject_uscc: str
    complete: bool
    def __init__(self, registration: _Optional[str] = ..., code: _Optional[str] = ..., data_name: _Optional[str] = ..., subject_name: _Optional[str] = ..., subject_uscc: _Optional[str] = ..., complete: _Optional[bool] = ...) -> None: ...

class DemandAnswer(_message.Message):
    __slots__ = ("registration", "kind", "code", "register_by", "reason", "subject_name", "answer_time")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[DemandAnswer.Kind]
        CAN_SUPPLY: _ClassVar[DemandAnswer.Kind]
        COULD_REGISTER: _ClassVar[DemandAnswer.Kind]
        CANNOT: _ClassVar[DemandAnswer.Kind]
    KIND_UNSPECIFIED: DemandAnswer.Kind
    CAN_SUPPLY: DemandAnswer.Kind
    COULD_REGISTER: DemandAnswer.Kind
    CANNOT: DemandAnswer.Kind
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REGISTER_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    ANSWER_TIME_FIELD_NUMBER: _ClassVar[int]
    registration: str
    kind: DemandAnswer.Kind
    code: str
    register_by: _date_pb2.Date
    reason: str
    subject_name: str
    answer_time: _timestamp_pb2.Timestamp
    def __init__(self, registration: _Optional[str] = ..., kind: _Optional[_Union[DemandAnswer.Kind, str]] = ..., code: _Optional[str] = ..., register_by: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., reason: _Optional[str] = ..., subject_name: _Optional[str] = ..., answer_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DemandEvent(_message.Message):
    __slots__ = ("action", "party", "on_behalf_of", "actor", "time", "note")
    class Party(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        PARTY_UNSPECIFIED: _ClassVar[DemandEvent.Party]
        DEMANDER: _ClassVar[DemandEvent.Party]
        SUPPLIER: _ClassVar[DemandEvent.Party]
        NATIONAL: _ClassVar[DemandEvent.Party]
    PARTY_UNSPECIFIED: DemandEvent.Party
    DEMANDER: DemandEvent.Party
    SUPPLIER: DemandEvent.Party
    NATIONAL: DemandEvent.Party
    ACTION_FIELD_NUMBER: _ClassVar[int]
    PARTY_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    action: str
    party: DemandEvent.Party
    on_behalf_of: str
    actor: str
    time: _timestamp_pb2.Timestamp
    note: str
    def __init__(self, action: _Optional[str] = ..., party: _Optional[_Union[DemandEvent.Party, str]] = ..., on_behalf_of: _Optional[str] = ..., actor: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., note: _Optional[str] = ...) -> None: ...
