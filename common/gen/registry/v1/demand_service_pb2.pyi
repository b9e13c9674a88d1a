from google.api import client_pb2 as _client_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from common.gen.registry.v1 import demand_pb2 as _demand_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateDemandRequest(_message.Message):
    __slots__ = ("demand", "request_id")
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    demand: _demand_pb2.Demand
    request_id: str
    def __init__(self, demand: _Optional[_Union[_demand_pb2.Demand, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetDemandRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListDemandsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "query", "region", "state", "organisation_uscc")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ORGANISATION_USCC_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    query: str
    region: str
    state: _demand_pb2.Demand.State
    organisation_uscc: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., query: _Optional[str] = ..., region: _Optional[str] = ..., state: _Optional[_Union[_demand_pb2.Demand.State, str]] = ..., organisation_uscc: _Optional[str] = ...) -> None: ...

class ListDemandsResponse(_message.Message):
    __slots__ = ("demands", "next_page_token")
    DEMANDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    demands: _containers.RepeatedCompositeFieldContainer[_demand_pb2.Demand]
    next_page_token: str
    def __init__(self, demands: _Optional[_Iterable[_Union[_demand_pb2.Demand, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AnswerDemandRequest(_message.Message):
    __slots__ = ("name", "answer", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    answer: _demand_pb2.DemandAnswer
    request_id: str
    def __init__(self, name: _Optional[str] = ..., answer: _Optional[_Union[_demand_pb2.DemandAnswer, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CloseDemandRequest(_message.Message):
    __slots__ = ("name", "note", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    note: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., note: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class WithdrawDemandRequest(_message.Message):
    __slots__ = ("name", "note", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    note: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., note: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...
