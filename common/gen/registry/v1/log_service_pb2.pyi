import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetLogInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LogInfo(_message.Message):
    __slots__ = ("origin", "verifier_keys", "witnesses", "size")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    VERIFIER_KEYS_FIELD_NUMBER: _ClassVar[int]
    WITNESSES_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    origin: str
    verifier_keys: _containers.RepeatedScalarFieldContainer[str]
    witnesses: _containers.RepeatedCompositeFieldContainer[Witness]
    size: int
    def __init__(self, origin: _Optional[str] = ..., verifier_keys: _Optional[_Iterable[str]] = ..., witnesses: _Optional[_Iterable[_Union[Witness, _Mapping]]] = ..., size: _Optional[int] = ...) -> None: ...

class Witness(_message.Message):
    __slots__ = ("node", "verifier_key")
    NODE_FIELD_NUMBER: _ClassVar[int]
    VERIFIER_KEY_FIELD_NUMBER: _ClassVar[int]
    node: str
    verifier_key: str
    def __init__(self, node: _Optional[str] = ..., verifier_key: _Optional[str] = ...) -> None: ...

class GetCheckpointRequest(_message.Message):
    __slots__ = ("tree_size",)
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    tree_size: int
    def __init__(self, tree_size: _Optional[int] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("tree_size", "root_hash", "note", "cosigned_by", "create_time")
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    ROOT_HASH_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    COSIGNED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    tree_size: int
    root_hash: bytes
    note: str
    cosigned_by: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, tree_size: _Optional[int] = ..., root_hash: _Optional[bytes] = ..., note: _Optional[str] = ..., cosigned_by: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetInclusionProofRequest(_message.Message):
    __slots__ = ("index", "code", "revision", "tree_size")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    index: int
    code: str
    revision: int
    tree_size: int
    def __init__(self, index: _Optional[int] = ..., code: _Optional[str] = ..., revision: _Optional[int] = ..., tree_size: _Optional[int] = ...) -> None: ...

class InclusionProof(_message.Message):
    __slots__ = ("index", "entry", "hashes", "checkpoint", "tlog_proof", "witnesses_pending")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    TLOG_PROOF_FIELD_NUMBER: _ClassVar[int]
    WITNESSES_PENDING_FIELD_NUMBER: _ClassVar[int]
    index: int
    entry: bytes
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    checkpoint: Checkpoint
    tlog_proof: str
    witnesses_pending: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, index: _Optional[int] = ..., entry: _Optional[bytes] = ..., hashes: _Optional[_Iterable[bytes]] = ..., checkpoint: _Optional[_Union[Checkpoint, _Mapping]] = ..., tlog_proof: _Optional[str] = ..., witnesses_pending: _Optional[_Iterable[str]] = ...) -> None: ...

class GetConsistencyProofRequest(_message.Message):
    __slots__ = ("first_size", "second_size")
    FIRST_SIZE_FIELD_NUMBER: _ClassVar[int]
    SECOND_SIZE_FIELD_NUMBER: _ClassVar[int]
    first_size: int
    second_size: int
    def __init__(self, first_size: _Optional[int] = ..., second_size: _Optional[int] = ...) -> None: ...

class ConsistencyProof(_message.Message):
    __slots__ = ("first_size", "second_size", "hashes")
    FIRST_SIZE_FIELD_NUMBER: _ClassVar[int]
    SECOND_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    first_size: int
    second_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, first_size: _Optional[int] = ..., second_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ListEntriesRequest(_message.Message):
    __slots__ = ("start_index", "page_size")
    START_INDEX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    start_index: int
    page_size: int
    def __init__(self, start_index: _Optional[int] = ..., page_size: _Optional[int] = ...) -> None: ...

class ListEntriesResponse(_message.Message):
    __slots__ = ("entries", "next_index")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_INDEX_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LogEntry]
    next_index: int
    def __init__(self, entries: _Optional[_Iterable[_Union[LogEntry, _Mapping]]] = ..., next_index: _Optional[int] = ...) -> None: ...

class LogEntry(_message.Message):
    __slots__ = ("index", "entry")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ENTRY_FIELD_NUMBER: _ClassVar[int]
    index: int
    entry: bytes
    def __init__(self, index: _Optional[int] = ..., entry: _Optional[bytes] = ...) -> None: ...

class AddCosignatureRequest(_message.Message):
    __slots__ = ("node", "tree_size", "signature")
    NODE_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    node: str
    tree_size: int
    signature: str
    def __init__(self, node: _Optional[str] = ..., tree_size: _Optional[int] = ..., signature: _Optional[str] = ...) -> None: ...
