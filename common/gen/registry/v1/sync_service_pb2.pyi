import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from common.gen.registry.v1 import sync_pb2 as _sync_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PullChangesRequest(_message.Message):
    __slots__ = ("node", "after_sequence", "max_changes")
    NODE_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MAX_CHANGES_FIELD_NUMBER: _ClassVar[int]
    node: str
    after_sequence: int
    max_changes: int
    def __init__(self, node: _Optional[str] = ..., after_sequence: _Optional[int] = ..., max_changes: _Optional[int] = ...) -> None: ...

class AcknowledgeDownwardRequest(_message.Message):
    __slots__ = ("node", "sequence")
    NODE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    node: str
    sequence: int
    def __init__(self, node: _Optional[str] = ..., sequence: _Optional[int] = ...) -> None: ...

class GetSyncStateRequest(_message.Message):
    __slots__ = ("node",)
    NODE_FIELD_NUMBER: _ClassVar[int]
    node: str
    def __init__(self, node: _Optional[str] = ...) -> None: ...

class ListSyncStatesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSyncStatesResponse(_message.Message):
    __slots__ = ("states", "next_page_token")
    STATES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedCompositeFieldContainer[_sync_pb2.SyncState]
    next_page_token: str
    def __init__(self, states: _Optional[_Iterable[_Union[_sync_pb2.SyncState, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CompareDigestsRequest(_message.Message):
    __slots__ = ("node", "ranges")
    NODE_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    node: str
    ranges: _containers.RepeatedCompositeFieldContainer[_sync_pb2.RangeDigest]
    def __init__(self, node: _Optional[str] = ..., ranges: _Optional[_Iterable[_Union[_sync_pb2.RangeDigest, _Mapping]]] = ...) -> None: ...

class CompareDigestsResponse(_message.Message):
    __slots__ = ("differing", "leaves", "ranges_compared")
    DIFFERING_FIELD_NUMBER: _ClassVar[int]
    LEAVES_FIELD_NUMBER: _ClassVar[int]
    RANGES_COMPARED_FIELD_NUMBER: _ClassVar[int]
    differing: _containers.RepeatedCompositeFieldContainer[_sync_pb2.RangeDigest]
    leaves: _containers.RepeatedCompositeFieldContainer[_sync_pb2.LeafDigest]
    ranges_compared: int
    def __init__(self, differing: _Optional[_Iterable[_Union[_sync_pb2.RangeDigest, _Mapping]]] = ..., leaves: _Optional[_Iterable[_Union[_sync_pb2.LeafDigest, _Mapping]]] = ..., ranges_compared: _Optional[int] = ...) -> None: ...

class GetLedgerRecordsRequest(_message.Message):
    __slots__ = ("uids",)
    UIDS_FIELD_NUMBER: _ClassVar[int]
    uids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, uids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetLedgerRecordsResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[_sync_pb2.RegistrationRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[_sync_pb2.RegistrationRecord, _Mapping]]] = ...) -> None: ...

class LookupLedgerRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class OnboardNodeRequest(_message.Message):
    __slots__ = ("node", "address")
    NODE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    node: str
    address: str
    def __init__(self, node: _Optional[str] = ..., address: _Optional[str] = ...) -> None: ...

class OnboardNodeResponse(_message.Message):
    __slots__ = ("handed_over", "downward_head")
    HANDED_OVER_FIELD_NUMBER: _ClassVar[int]
    DOWNWARD_HEAD_FIELD_NUMBER: _ClassVar[int]
    handed_over: int
    downward_head: int
    def __init__(self, handed_over: _Optional[int] = ..., downward_head: _Optional[int] = ...) -> None: ...

class Transfer(_message.Message):
    __slots__ = ("id", "uid", "code", "from_node", "to_node", "state", "create_time", "confirm_time", "release_time", "complete_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Transfer.State]
        PENDING: _ClassVar[Transfer.State]
        COMPLETED: _ClassVar[Transfer.State]
    STATE_UNSPECIFIED: Transfer.State
    PENDING: Transfer.State
    COMPLETED: Transfer.State
    ID_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    FROM_NODE_FIELD_NUMBER: _ClassVar[int]
    TO_NODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_TIME_FIELD_NUMBER: _ClassVar[int]
    RELEASE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    uid: str
    code: str
    from_node: str
    to_node: str
    state: Transfer.State
    create_time: _timestamp_pb2.Timestamp
    confirm_time: _timestamp_pb2.Timestamp
    release_time: _timestamp_pb2.Timestamp
    complete_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., uid: _Optional[str] = ..., code: _Optional[str] = ..., from_node: _Optional[str] = ..., to_node: _Optional[str] = ..., state: _Optional[_Union[Transfer.State, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., confirm_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., release_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TransferRegistrationRequest(_message.Message):
    __slots__ = ("code", "to_node", "request_id")
    CODE_FIELD_NUMBER: _ClassVar[int]
    TO_NODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    code: str
    to_node: str
    request_id: str
    def __init__(self, code: _Optional[str] = ..., to_node: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ConfirmTransferRequest(_message.Message):
    __slots__ = ("node", "transfer_id")
    NODE_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    node: str
    transfer_id: str
    def __init__(self, node: _Optional[str] = ..., transfer_id: _Optional[str] = ...) -> None: ...
