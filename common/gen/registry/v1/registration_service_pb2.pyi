import datetime

from google.api import client_pb2 as _client_pb2
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

class GetBusinessRulesRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class BusinessRules(_message.Message):
    __slots__ = ("name", "display_name", "time_limits", "variants", "calendar_years", "calendar_file", "calendar_file_sha256", "separation_of_duties", "effective_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMITS_FIELD_NUMBER: _ClassVar[int]
    VARIANTS_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_YEARS_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FILE_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FILE_SHA256_FIELD_NUMBER: _ClassVar[int]
    SEPARATION_OF_DUTIES_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    time_limits: ProcedureTimeLimits
    variants: _containers.RepeatedCompositeFieldContainer[RuleVariant]
    calendar_years: _containers.RepeatedCompositeFieldContainer[CalendarYear]
    calendar_file: str
    calendar_file_sha256: str
    separation_of_duties: bool
    effective_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., time_limits: _Optional[_Union[ProcedureTimeLimits, _Mapping]] = ..., variants: _Optional[_Iterable[_Union[RuleVariant, _Mapping]]] = ..., calendar_years: _Optional[_Iterable[_Union[CalendarYear, _Mapping]]] = ..., calendar_file: _Optional[str] = ..., calendar_file_sha256: _Optional[str] = ..., separation_of_duties: _Optional[bool] = ..., effective_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProcedureTimeLimits(_message.Message):
    __slots__ = ("acceptance_days", "review_days", "announcement_days", "objection_days", "expiry_reminder_days", "initial_registration_days", "demand_answer_days", "share_reply_days", "share_delivery_days", "product_registration_days")
    ACCEPTANCE_DAYS_FIELD_NUMBER: _ClassVar[int]
    REVIEW_DAYS_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCEMENT_DAYS_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    EXPIRY_REMINDER_DAYS_FIELD_NUMBER: _ClassVar[int]
    INITIAL_REGISTRATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    DEMAND_ANSWER_DAYS_FIELD_NUMBER: _ClassVar[int]
    SHARE_REPLY_DAYS_FIELD_NUMBER: _ClassVar[int]
    SHARE_DELIVERY_DAYS_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_REGISTRATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    acceptance_days: int
    review_days: int
    announcement_days: int
    objection_days: int
    expiry_reminder_days: int
    initial_registration_days: int
    demand_answer_days: int
    share_reply_days: int
    share_delivery_days: int
    product_registration_days: int
    def __init__(self, acceptance_days: _Optional[int] = ..., review_days: _Optional[int] = ..., announcement_days: _Optional[int] = ..., objection_days: _Optional[int] = ..., expiry_reminder_days: _Optional[int] = ..., initial_registration_days: _Optional[int] = ..., demand_answer_days: _Optional[int] = ..., share_reply_days: _Optional[int] = ..., share_delivery_days: _Optional[int] = ..., product_registration_days: _Optional[int] = ...) -> None: ...

class RuleVariant(_message.Message):
    __slots__ = ("id", "description", "applied")
    ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    id: str
    description: str
    applied: bool
    def __init__(self, id: _Optional[str] = ..., description: _Optional[str] = ..., applied: _Optional[bool] = ...) -> None: ...

class CalendarYear(_message.Message):
    __slots__ = ("year", "source")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    year: int
    source: str
    def __init__(self, year: _Optional[int] = ..., source: _Optional[str] = ...) -> None: ...

class CreateRegistrationRequest(_message.Message):
    __slots__ = ("parent", "registration", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    registration: _registration_pb2.Registration
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., registration: _Optional[_Union[_registration_pb2.Registration, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetRegistrationRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListRegistrationsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "state", "object_type", "subject_uscc", "query")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_USCC_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    state: _registration_pb2.Registration.State
    object_type: _registration_pb2.ObjectType
    subject_uscc: str
    query: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., state: _Optional[_Union[_registration_pb2.Registration.State, str]] = ..., object_type: _Optional[_Union[_registration_pb2.ObjectType, str]] = ..., subject_uscc: _Optional[str] = ..., query: _Optional[str] = ...) -> None: ...

class ListRegistrationsResponse(_message.Message):
    __slots__ = ("registrations", "next_page_token")
    REGISTRATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    registrations: _containers.RepeatedCompositeFieldContainer[_registration_pb2.Registration]
    next_page_token: str
    def __init__(self, registrations: _Optional[_Iterable[_Union[_registration_pb2.Registration, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class LookupRegistrationRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class ListHistoryRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListHistoryResponse(_message.Message):
    __slots__ = ("entries", "next_page_token")
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[_registration_pb2.HistoryEntry]
    next_page_token: str
    def __init__(self, entries: _Optional[_Iterable[_Union[_registration_pb2.HistoryEntry, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetConfirmationRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class SubmitApplicationRequest(_message.Message):
    __slots__ = ("name", "type", "content", "reason", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: _registration_pb2.RegistrationType
    content: _registration_pb2.RegistrationContent
    reason: str
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[_registration_pb2.RegistrationType, str]] = ..., content: _Optional[_Union[_registration_pb2.RegistrationContent, _Mapping]] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ResubmitApplicationRequest(_message.Message):
    __slots__ = ("name", "content", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    content: _registration_pb2.RegistrationContent
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., content: _Optional[_Union[_registration_pb2.RegistrationContent, _Mapping]] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class WithdrawApplicationRequest(_message.Message):
    __slots__ = ("name", "reason", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class AcceptApplicationRequest(_message.Message):
    __slots__ = ("name", "request_id", "etag", "acknowledge_duplicates")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGE_DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    etag: str
    acknowledge_duplicates: bool
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ..., acknowledge_duplicates: _Optional[bool] = ...) -> None: ...

class ReturnApplicationRequest(_message.Message):
    __slots__ = ("name", "defects", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEFECTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    defects: _containers.RepeatedCompositeFieldContainer[_registration_pb2.Defect]
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., defects: _Optional[_Iterable[_Union[_registration_pb2.Defect, _Mapping]]] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class RefuseApplicationRequest(_message.Message):
    __slots__ = ("name", "reason", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ApproveApplicationRequest(_message.Message):
    __slots__ = ("name", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class RequestCorrectionRequest(_message.Message):
    __slots__ = ("name", "defects", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEFECTS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    defects: _containers.RepeatedCompositeFieldContainer[_registration_pb2.Defect]
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., defects: _Optional[_Iterable[_Union[_registration_pb2.Defect, _Mapping]]] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class RejectApplicationRequest(_message.Message):
    __slots__ = ("name", "reason", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class AnnounceApplicationRequest(_message.Message):
    __slots__ = ("name", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class CreateObjectionRequest(_message.Message):
    __slots__ = ("parent", "objection", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    objection: _registration_pb2.Objection
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., objection: _Optional[_Union[_registration_pb2.Objection, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class ResolveObjectionRequest(_message.Message):
    __slots__ = ("name", "outcome", "resolution", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    outcome: _registration_pb2.Objection.Outcome
    resolution: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., outcome: _Optional[_Union[_registration_pb2.Objection.Outcome, str]] = ..., resolution: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RenewRegistrationRequest(_message.Message):
    __slots__ = ("name", "request_id", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class ListDueItemsRequest(_message.Message):
    __slots__ = ("parent", "overdue_only", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ONLY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    overdue_only: bool
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., overdue_only: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class DueItem(_message.Message):
    __slots__ = ("registration", "kind", "due", "overdue", "provisional", "data_name", "demand", "share_request", "disclosure", "subject_uscc")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[DueItem.Kind]
        ACCEPTANCE: _ClassVar[DueItem.Kind]
        REVIEW: _ClassVar[DueItem.Kind]
        ANNOUNCEMENT: _ClassVar[DueItem.Kind]
        OBJECTION: _ClassVar[DueItem.Kind]
        EXPIRY: _ClassVar[DueItem.Kind]
        CODING: _ClassVar[DueItem.Kind]
        INITIAL_REGISTRATION: _ClassVar[DueItem.Kind]
        DEMAND: _ClassVar[DueItem.Kind]
        SHARE_REPLY: _ClassVar[DueItem.Kind]
        SHARE_DELIVERY: _ClassVar[DueItem.Kind]
        PRODUCT_REGISTRATION: _ClassVar[DueItem.Kind]
    KIND_UNSPECIFIED: DueItem.Kind
    ACCEPTANCE: DueItem.Kind
    REVIEW: DueItem.Kind
    ANNOUNCEMENT: DueItem.Kind
    OBJECTION: DueItem.Kind
    EXPIRY: DueItem.Kind
    CODING: DueItem.Kind
    INITIAL_REGISTRATION: DueItem.Kind
    DEMAND: DueItem.Kind
    SHARE_REPLY: DueItem.Kind
    SHARE_DELIVERY: DueItem.Kind
    PRODUCT_REGISTRATION: DueItem.Kind
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    DATA_NAME_FIELD_NUMBER: _ClassVar[int]
    DEMAND_FIELD_NUMBER: _ClassVar[int]
    SHARE_REQUEST_FIELD_NUMBER: _ClassVar[int]
    DISCLOSURE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_USCC_FIELD_NUMBER: _ClassVar[int]
    registration: str
    kind: DueItem.Kind
    due: _date_pb2.Date
    overdue: bool
    provisional: bool
    data_name: str
    demand: str
    share_request: str
    disclosure: str
    subject_uscc: str
    def __init__(self, registration: _Optional[str] = ..., kind: _Optional[_Union[DueItem.Kind, str]] = ..., due: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., overdue: _Optional[bool] = ..., provisional: _Optional[bool] = ..., data_name: _Optional[str] = ..., demand: _Optional[str] = ..., share_request: _Optional[str] = ..., disclosure: _Optional[str] = ..., subject_uscc: _Optional[str] = ...) -> None: ...

class ListDueItemsResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[DueItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[DueItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
