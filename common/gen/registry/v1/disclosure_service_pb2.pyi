from google.api import client_pb2 as _client_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from common.gen.registry.v1 import disclosure_pb2 as _disclosure_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FileDisclosureRequest(_message.Message):
    __slots__ = ("disclosure", "request_id")
    DISCLOSURE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    disclosure: _disclosure_pb2.Disclosure
    request_id: str
    def __init__(self, disclosure: _Optional[_Union[_disclosure_pb2.Disclosure, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetDisclosureRequest(_message.Message):
    __slots__ = ("name", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ListDisclosuresRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "year", "region", "role", "code")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    year: int
    region: str
    role: _disclosure_pb2.Disclosure.Role
    code: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., year: _Optional[int] = ..., region: _Optional[str] = ..., role: _Optional[_Union[_disclosure_pb2.Disclosure.Role, str]] = ..., code: _Optional[str] = ...) -> None: ...

class ListDisclosuresResponse(_message.Message):
    __slots__ = ("disclosures", "next_page_token")
    DISCLOSURES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    disclosures: _containers.RepeatedCompositeFieldContainer[_disclosure_pb2.Disclosure]
    next_page_token: str
    def __init__(self, disclosures: _Optional[_Iterable[_Union[_disclosure_pb2.Disclosure, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListOverdueDisclosuresRequest(_message.Message):
    __slots__ = ("year", "region")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    year: int
    region: str
    def __init__(self, year: _Optional[int] = ..., region: _Optional[str] = ...) -> None: ...

class OverdueDisclosure(_message.Message):
    __slots__ = ("name", "role", "party", "region", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: _disclosure_pb2.Disclosure.Role
    party: _disclosure_pb2.DisclosingParty
    region: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., role: _Optional[_Union[_disclosure_pb2.Disclosure.Role, str]] = ..., party: _Optional[_Union[_disclosure_pb2.DisclosingParty, _Mapping]] = ..., region: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ListOverdueDisclosuresResponse(_message.Message):
    __slots__ = ("deadline_passed", "overdue")
    DEADLINE_PASSED_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    deadline_passed: bool
    overdue: _containers.RepeatedCompositeFieldContainer[OverdueDisclosure]
    def __init__(self, deadline_passed: _Optional[bool] = ..., overdue: _Optional[_Iterable[_Union[OverdueDisclosure, _Mapping]]] = ...) -> None: ...
