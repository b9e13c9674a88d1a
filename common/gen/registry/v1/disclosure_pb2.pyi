import datetime

from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from common.gen.registry.v1 import registration_pb2 as _registration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DisclosingParty(_message.Message):
    __slots__ = ("uscc", "name")
    USCC_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    uscc: str
    name: str
    def __init__(self, uscc: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class Authorisation(_message.Message):
    __slots__ = ("codes", "grantee", "start", "end")
    CODES_FIELD_NUMBER: _ClassVar[int]
    GRANTEE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    codes: _containers.RepeatedScalarFieldContainer[str]
    grantee: DisclosingParty
    start: _date_pb2.Date
    end: _date_pb2.Date
    def __init__(self, codes: _Optional[_Iterable[str]] = ..., grantee: _Optional[_Union[DisclosingParty, _Mapping]] = ..., start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class DisclosedProduct(_message.Message):
    __slots__ = ("code", "fees", "name")
    CODE_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    code: str
    fees: _containers.RepeatedCompositeFieldContainer[_registration_pb2.Fee]
    name: str
    def __init__(self, code: _Optional[str] = ..., fees: _Optional[_Iterable[_Union[_registration_pb2.Fee, _Mapping]]] = ..., name: _Optional[str] = ...) -> None: ...

class Disclosure(_message.Message):
    __slots__ = ("name", "year", "role", "party", "profile", "authorisations", "fee_cap", "resources", "products", "region", "version", "file_time", "late", "log_index", "content_sha256")
    class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        ROLE_UNSPECIFIED: _ClassVar[Disclosure.Role]
        IMPLEMENTING_BODY: _ClassVar[Disclosure.Role]
        OPERATING_ENTITY: _ClassVar[Disclosure.Role]
    ROLE_UNSPECIFIED: Disclosure.Role
    IMPLEMENTING_BODY: Disclosure.Role
    OPERATING_ENTITY: Disclosure.Role
    NAME_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTY_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    AUTHORISATIONS_FIELD_NUMBER: _ClassVar[int]
    FEE_CAP_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FILE_TIME_FIELD_NUMBER: _ClassVar[int]
    LATE_FIELD_NUMBER: _ClassVar[int]
    LOG_INDEX_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    name: str
    year: int
    role: Disclosure.Role
    party: DisclosingParty
    profile: str
    authorisations: _containers.RepeatedCompositeFieldContainer[Authorisation]
    fee_cap: str
    resources: _containers.RepeatedScalarFieldContainer[str]
    products: _containers.RepeatedCompositeFieldContainer[DisclosedProduct]
    region: str
    version: int
    file_time: _timestamp_pb2.Timestamp
    late: bool
    log_index: int
    content_sha256: str
    def __init__(self, name: _Optional[str] = ..., year: _Optional[int] = ..., role: _Optional[_Union[Disclosure.Role, str]] = ..., party: _Optional[_Union[DisclosingParty, _Mapping]] = ..., profile: _Optional[str] = ..., authorisations: _Optional[_Iterable[_Union[Authorisation, _Mapping]]] = ..., fee_cap: _Optional[str] = ..., resources: _Optional[_Iterable[str]] = ..., products: _Optional[_Iterable[_Union[DisclosedProduct, _Mapping]]] = ..., region: _Optional[str] = ..., version: _Optional[int] = ..., file_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., late: _Optional[bool] = ..., log_index: _Optional[int] = ..., content_sha256: _Optional[str] = ...) -> None: ...
