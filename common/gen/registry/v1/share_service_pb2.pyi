from google.api import client_pb2 as _client_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from common.gen.registry.v1 import share_pb2 as _share_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateShareRequestRequest(_message.Message):
    __slots__ = ("share_request", "request_id")
    SHARE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    share_request: _share_pb2.ShareRequest
    request_id: str
    def __init__(self, share_request: _Optional[_Union[_share_pb2.ShareRequest, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetShareRequestRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListShareRequestsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "state", "node", "overdue_only")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ONLY_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    state: _share_pb2.ShareRequest.State
    node: str
    overdue_only: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_share_pb2.ShareRequest.State, str]] = ..., node: _Optional[str] = ..., overdue_only: _Optional[bool] = ...) -> None: ...

class ListShareRequestsResponse(_message.Message):
    __slots__ = ("share_requests", "next_page_token")
    SHARE_REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    share_requests: _containers.RepeatedCompositeFieldContainer[_share_pb2.ShareRequest]
    next_page_token: str
    def __init__(self, share_requests: _Optional[_Iterable[_Union[_share_pb2.ShareRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ReplyShareRequestRequest(_message.Message):
    __slots__ = ("name", "decision", "note", "request_id")
    class Decision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        DECISION_UNSPECIFIED: _ClassVar[ReplyShareRequestRequest.Decision]
        AGREE: _ClassVar[ReplyShareRequestRequest.Decision]
        REFUSE: _ClassVar[ReplyShareRequestRequest.Decision]
        NEEDS_MATERIALS: _ClassVar[ReplyShareRequestRequest.Decision]
    DECISION_UNSPECIFIED: ReplyShareRequestRequest.Decision
    AGREE: ReplyShareRequestRequest.Decision
    REFUSE: ReplyShareRequestRequest.Decision
    NEEDS_MATERIALS: ReplyShareRequestRequest.Decision
    NAME_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    decision: ReplyShareRequestRequest.Decision
    note: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., decision: _Optional[_Union[ReplyShareRequestRequest.Decision, str]] = ..., note: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ExtendShareRequestRequest(_message.Message):
    __slots__ = ("name", "days", "approval", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    days: int
    approval: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., days: _Optional[int] = ..., approval: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class SupplementShareRequestRequest(_message.Message):
    __slots__ = ("name", "note", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    note: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., note: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class DeliverShareRequestRequest(_message.Message):
    __slots__ = ("name", "note", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    note: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., note: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RecordUsageRequest(_message.Message):
    __slots__ = ("name", "record", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    record: _share_pb2.UsageRecord
    request_id: str
    def __init__(self, name: _Optional[str] = ..., record: _Optional[_Union[_share_pb2.UsageRecord, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...
