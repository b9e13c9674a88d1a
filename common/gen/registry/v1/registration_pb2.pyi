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

class ObjectType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OBJECT_TYPE_UNSPECIFIED: _ClassVar[ObjectType]
    PUBLIC_DATA_RESOURCE: _ClassVar[ObjectType]
    DATA_PRODUCT_OR_SERVICE: _ClassVar[ObjectType]
    OPEN_DATA_RESOURCE: _ClassVar[ObjectType]

class RegistrationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REGISTRATION_TYPE_UNSPECIFIED: _ClassVar[RegistrationType]
    INITIAL: _ClassVar[RegistrationType]
    CHANGE: _ClassVar[RegistrationType]
    CORRECTION: _ClassVar[RegistrationType]
    DEREGISTRATION: _ClassVar[RegistrationType]
OBJECT_TYPE_UNSPECIFIED: ObjectType
PUBLIC_DATA_RESOURCE: ObjectType
DATA_PRODUCT_OR_SERVICE: ObjectType
OPEN_DATA_RESOURCE: ObjectType
REGISTRATION_TYPE_UNSPECIFIED: RegistrationType
INITIAL: RegistrationType
CHANGE: RegistrationType
CORRECTION: RegistrationType
DEREGISTRATION: RegistrationType

class Document(_message.Message):
    __slots__ = ("title", "uri", "sha256")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    title: str
    uri: str
    sha256: str
    def __init__(self, title: _Optional[str] = ..., uri: _Optional[str] = ..., sha256: _Optional[str] = ...) -> None: ...

class Subject(_message.Message):
    __slots__ = ("name", "uscc", "region", "central")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USCC_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    CENTRAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    uscc: str
    region: str
    central: bool
    def __init__(self, name: _Optional[str] = ..., uscc: _Optional[str] = ..., region: _Optional[str] = ..., central: _Optional[bool] = ...) -> None: ...

class Agent(_message.Message):
    __slots__ = ("name", "uscc", "authorization")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USCC_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    uscc: str
    authorization: Document
    def __init__(self, name: _Optional[str] = ..., uscc: _Optional[str] = ..., authorization: _Optional[_Union[Document, _Mapping]] = ...) -> None: ...

class Storage(_message.Message):
    __slots__ = ("location", "method")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    location: str
    method: str
    def __init__(self, location: _Optional[str] = ..., method: _Optional[str] = ...) -> None: ...

class OperationTerm(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: _date_pb2.Date
    end: _date_pb2.Date
    def __init__(self, start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., end: _Optional[_Union[_date_pb2.Date, _Mapping]] = ...) -> None: ...

class RegistrationContent(_message.Message):
    __slots__ = ("subject", "agent", "data_name", "data_type", "data_format", "storage", "update_frequency", "legal_source", "evidence_deposit", "application_scenarios", "security_assessment", "description", "commitment", "summary", "operation_term", "access_terms")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    DATA_NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FORMAT_FIELD_NUMBER: _ClassVar[int]
    STORAGE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_FREQUENCY_FIELD_NUMBER: _ClassVar[int]
    LEGAL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_DEPOSIT_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_SCENARIOS_FIELD_NUMBER: _ClassVar[int]
    SECURITY_ASSESSMENT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    COMMITMENT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    OPERATION_TERM_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TERMS_FIELD_NUMBER: _ClassVar[int]
    subject: Subject
    agent: Agent
    data_name: str
    data_type: str
    data_format: str
    storage: Storage
    update_frequency: str
    legal_source: str
    evidence_deposit: str
    application_scenarios: _containers.RepeatedScalarFieldContainer[str]
    security_assessment: Document
    description: Document
    commitment: Document
    summary: str
    operation_term: OperationTerm
    access_terms: AccessTerms
    def __init__(self, subject: _Optional[_Union[Subject, _Mapping]] = ..., agent: _Optional[_Union[Agent, _Mapping]] = ..., data_name: _Optional[str] = ..., data_type: _Optional[str] = ..., data_format: _Optional[str] = ..., storage: _Optional[_Union[Storage, _Mapping]] = ..., update_frequency: _Optional[str] = ..., legal_source: _Optional[str] = ..., evidence_deposit: _Optional[str] = ..., application_scenarios: _Optional[_Iterable[str]] = ..., security_assessment: _Optional[_Union[Document, _Mapping]] = ..., description: _Optional[_Union[Document, _Mapping]] = ..., commitment: _Optional[_Union[Document, _Mapping]] = ..., summary: _Optional[str] = ..., operation_term: _Optional[_Union[OperationTerm, _Mapping]] = ..., access_terms: _Optional[_Union[AccessTerms, _Mapping]] = ...) -> None: ...

class AccessTerms(_message.Message):
    __slots__ = ("sharing_attribute", "sharing_conditions", "not_shared_basis", "open_attribute", "open_conditions", "not_open_reason", "channels", "contact", "license", "fees")
    class SharingAttribute(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SHARING_ATTRIBUTE_UNSPECIFIED: _ClassVar[AccessTerms.SharingAttribute]
        UNCONDITIONALLY_SHARED: _ClassVar[AccessTerms.SharingAttribute]
        CONDITIONALLY_SHARED: _ClassVar[AccessTerms.SharingAttribute]
        NOT_SHARED: _ClassVar[AccessTerms.SharingAttribute]
    SHARING_ATTRIBUTE_UNSPECIFIED: AccessTerms.SharingAttribute
    UNCONDITIONALLY_SHARED: AccessTerms.SharingAttribute
    CONDITIONALLY_SHARED: AccessTerms.SharingAttribute
    NOT_SHARED: AccessTerms.SharingAttribute
    class OpenAttribute(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OPEN_ATTRIBUTE_UNSPECIFIED: _ClassVar[AccessTerms.OpenAttribute]
        UNCONDITIONALLY_OPEN: _ClassVar[AccessTerms.OpenAttribute]
        CONDITIONALLY_OPEN: _ClassVar[AccessTerms.OpenAttribute]
        NOT_OPEN: _ClassVar[AccessTerms.OpenAttribute]
    OPEN_ATTRIBUTE_UNSPECIFIED: AccessTerms.OpenAttribute
    UNCONDITIONALLY_OPEN: AccessTerms.OpenAttribute
    CONDITIONALLY_OPEN: AccessTerms.OpenAttribute
    NOT_OPEN: AccessTerms.OpenAttribute
    SHARING_ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    SHARING_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    NOT_SHARED_BASIS_FIELD_NUMBER: _ClassVar[int]
    OPEN_ATTRIBUTE_FIELD_NUMBER: _ClassVar[int]
    OPEN_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    NOT_OPEN_REASON_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    LICENSE_FIELD_NUMBER: _ClassVar[int]
    FEES_FIELD_NUMBER: _ClassVar[int]
    sharing_attribute: AccessTerms.SharingAttribute
    sharing_conditions: str
    not_shared_basis: str
    open_attribute: AccessTerms.OpenAttribute
    open_conditions: str
    not_open_reason: str
    channels: _containers.RepeatedCompositeFieldContainer[AccessChannel]
    contact: ContactPoint
    license: str
    fees: _containers.RepeatedCompositeFieldContainer[Fee]
    def __init__(self, sharing_attribute: _Optional[_Union[AccessTerms.SharingAttribute, str]] = ..., sharing_conditions: _Optional[str] = ..., not_shared_basis: _Optional[str] = ..., open_attribute: _Optional[_Union[AccessTerms.OpenAttribute, str]] = ..., open_conditions: _Optional[str] = ..., not_open_reason: _Optional[str] = ..., channels: _Optional[_Iterable[_Union[AccessChannel, _Mapping]]] = ..., contact: _Optional[_Union[ContactPoint, _Mapping]] = ..., license: _Optional[str] = ..., fees: _Optional[_Iterable[_Union[Fee, _Mapping]]] = ...) -> None: ...

class AccessChannel(_message.Message):
    __slots__ = ("kind", "uri", "description")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[AccessChannel.Kind]
        API: _ClassVar[AccessChannel.Kind]
        FILE_DOWNLOAD: _ClassVar[AccessChannel.Kind]
        DATA_SERVICE: _ClassVar[AccessChannel.Kind]
        ON_REQUEST: _ClassVar[AccessChannel.Kind]
    KIND_UNSPECIFIED: AccessChannel.Kind
    API: AccessChannel.Kind
    FILE_DOWNLOAD: AccessChannel.Kind
    DATA_SERVICE: AccessChannel.Kind
    ON_REQUEST: AccessChannel.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    kind: AccessChannel.Kind
    uri: str
    description: str
    def __init__(self, kind: _Optional[_Union[AccessChannel.Kind, str]] = ..., uri: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ContactPoint(_message.Message):
    __slots__ = ("department", "phone", "email")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    department: str
    phone: str
    email: str
    def __init__(self, department: _Optional[str] = ..., phone: _Optional[str] = ..., email: _Optional[str] = ...) -> None: ...

class Fee(_message.Message):
    __slots__ = ("name", "price_cny", "unit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_CNY_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    price_cny: str
    unit: str
    def __init__(self, name: _Optional[str] = ..., price_cny: _Optional[str] = ..., unit: _Optional[str] = ...) -> None: ...

class Defect(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Objection(_message.Message):
    __slots__ = ("name", "objector", "reason", "evidence", "state", "outcome", "resolution", "resolve_by", "create_time", "resolve_time", "resolve_by_provisional")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Objection.State]
        PENDING: _ClassVar[Objection.State]
        UPHELD: _ClassVar[Objection.State]
        DISMISSED: _ClassVar[Objection.State]
        CLOSED: _ClassVar[Objection.State]
    STATE_UNSPECIFIED: Objection.State
    PENDING: Objection.State
    UPHELD: Objection.State
    DISMISSED: Objection.State
    CLOSED: Objection.State
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[Objection.Outcome]
        DISMISS: _ClassVar[Objection.Outcome]
        UPHOLD_TERMINATE: _ClassVar[Objection.Outcome]
        UPHOLD_RETURN: _ClassVar[Objection.Outcome]
    OUTCOME_UNSPECIFIED: Objection.Outcome
    DISMISS: Objection.Outcome
    UPHOLD_TERMINATE: Objection.Outcome
    UPHOLD_RETURN: Objection.Outcome
    NAME_FIELD_NUMBER: _ClassVar[int]
    OBJECTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESOLVE_BY_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    name: str
    objector: str
    reason: str
    evidence: _containers.RepeatedCompositeFieldContainer[Document]
    state: Objection.State
    outcome: Objection.Outcome
    resolution: str
    resolve_by: _date_pb2.Date
    create_time: _timestamp_pb2.Timestamp
    resolve_time: _timestamp_pb2.Timestamp
    resolve_by_provisional: bool
    def __init__(self, name: _Optional[str] = ..., objector: _Optional[str] = ..., reason: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[Document, _Mapping]]] = ..., state: _Optional[_Union[Objection.State, str]] = ..., outcome: _Optional[_Union[Objection.Outcome, str]] = ..., resolution: _Optional[str] = ..., resolve_by: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolve_by_provisional: _Optional[bool] = ...) -> None: ...

class Application(_message.Message):
    __slots__ = ("id", "type", "state", "content", "reason", "defects", "decision_reason", "acceptance_due", "review_due", "announcement_start", "announcement_end", "deadlines_provisional", "objections", "submit_time", "update_time", "name", "possible_duplicates", "duplicates_checked", "duplicate_check_error", "acceptance_due_provisional", "review_due_provisional", "announcement_end_provisional", "initial_registration_due", "initial_registration_due_provisional", "initial_registration_late")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Application.State]
        SUBMITTED: _ClassVar[Application.State]
        RETURNED: _ClassVar[Application.State]
        NOT_ACCEPTED: _ClassVar[Application.State]
        UNDER_REVIEW: _ClassVar[Application.State]
        CORRECTION_REQUESTED: _ClassVar[Application.State]
        REJECTED: _ClassVar[Application.State]
        APPROVED: _ClassVar[Application.State]
        ANNOUNCED: _ClassVar[Application.State]
        OBJECTIONS_PENDING: _ClassVar[Application.State]
        AWAITING_CODE: _ClassVar[Application.State]
        COMPLETED: _ClassVar[Application.State]
        TERMINATED: _ClassVar[Application.State]
        WITHDRAWN: _ClassVar[Application.State]
    STATE_UNSPECIFIED: Application.State
    SUBMITTED: Application.State
    RETURNED: Application.State
    NOT_ACCEPTED: Application.State
    UNDER_REVIEW: Application.State
    CORRECTION_REQUESTED: Application.State
    REJECTED: Application.State
    APPROVED: Application.State
    ANNOUNCED: Application.State
    OBJECTIONS_PENDING: Application.State
    AWAITING_CODE: Application.State
    COMPLETED: Application.State
    TERMINATED: Application.State
    WITHDRAWN: Application.State
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DEFECTS_FIELD_NUMBER: _ClassVar[int]
    DECISION_REASON_FIELD_NUMBER: _ClassVar[int]
    ACCEPTANCE_DUE_FIELD_NUMBER: _ClassVar[int]
    REVIEW_DUE_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCEMENT_START_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCEMENT_END_FIELD_NUMBER: _ClassVar[int]
    DEADLINES_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    OBJECTIONS_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    POSSIBLE_DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_CHECK_ERROR_FIELD_NUMBER: _ClassVar[int]
    ACCEPTANCE_DUE_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    REVIEW_DUE_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCEMENT_END_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    INITIAL_REGISTRATION_DUE_FIELD_NUMBER: _ClassVar[int]
    INITIAL_REGISTRATION_DUE_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    INITIAL_REGISTRATION_LATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: RegistrationType
    state: Application.State
    content: RegistrationContent
    reason: str
    defects: _containers.RepeatedCompositeFieldContainer[Defect]
    decision_reason: str
    acceptance_due: _date_pb2.Date
    review_due: _date_pb2.Date
    announcement_start: _date_pb2.Date
    announcement_end: _date_pb2.Date
    deadlines_provisional: bool
    objections: _containers.RepeatedCompositeFieldContainer[Objection]
    submit_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    name: str
    possible_duplicates: _containers.RepeatedCompositeFieldContainer[DuplicateCandidate]
    duplicates_checked: bool
    duplicate_check_error: str
    acceptance_due_provisional: bool
    review_due_provisional: bool
    announcement_end_provisional: bool
    initial_registration_due: _date_pb2.Date
    initial_registration_due_provisional: bool
    initial_registration_late: bool
    def __init__(self, id: _Optional[str] = ..., type: _Optional[_Union[RegistrationType, str]] = ..., state: _Optional[_Union[Application.State, str]] = ..., content: _Optional[_Union[RegistrationContent, _Mapping]] = ..., reason: _Optional[str] = ..., defects: _Optional[_Iterable[_Union[Defect, _Mapping]]] = ..., decision_reason: _Optional[str] = ..., acceptance_due: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., review_due: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., announcement_start: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., announcement_end: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., deadlines_provisional: _Optional[bool] = ..., objections: _Optional[_Iterable[_Union[Objection, _Mapping]]] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., name: _Optional[str] = ..., possible_duplicates: _Optional[_Iterable[_Union[DuplicateCandidate, _Mapping]]] = ..., duplicates_checked: _Optional[bool] = ..., duplicate_check_error: _Optional[str] = ..., acceptance_due_provisional: _Optional[bool] = ..., review_due_provisional: _Optional[bool] = ..., announcement_end_provisional: _Optional[bool] = ..., initial_registration_due: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., initial_registration_due_provisional: _Optional[bool] = ..., initial_registration_late: _Optional[bool] = ...) -> None: ...

class DuplicateCandidate(_message.Message):
    __slots__ = ("registration", "code", "data_name", "subject", "state", "reason", "similarity")
    class Reason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        REASON_UNSPECIFIED: _ClassVar[DuplicateCandidate.Reason]
        SAME_SUBJECT_SIMILAR_NAME: _ClassVar[DuplicateCandidate.Reason]
        RELATED_SUBJECT_SAME_NAME: _ClassVar[DuplicateCandidate.Reason]
    REASON_UNSPECIFIED: DuplicateCandidate.Reason
    SAME_SUBJECT_SIMILAR_NAME: DuplicateCandidate.Reason
    RELATED_SUBJECT_SAME_NAME: DuplicateCandidate.Reason
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DATA_NAME_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SIMILARITY_FIELD_NUMBER: _ClassVar[int]
    registration: str
    code: str
    data_name: str
    subject: Subject
    state: str
    reason: DuplicateCandidate.Reason
    similarity: float
    def __init__(self, registration: _Optional[str] = ..., code: _Optional[str] = ..., data_name: _Optional[str] = ..., subject: _Optional[_Union[Subject, _Mapping]] = ..., state: _Optional[str] = ..., reason: _Optional[_Union[DuplicateCandidate.Reason, str]] = ..., similarity: _Optional[float] = ...) -> None: ...

class Registration(_message.Message):
    __slots__ = ("name", "uid", "code", "object_type", "state", "content", "version", "current_application", "valid_from", "valid_until", "managing_node", "create_time", "update_time", "etag")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Registration.State]
        PENDING: _ClassVar[Registration.State]
        ACTIVE: _ClassVar[Registration.State]
        EXPIRED: _ClassVar[Registration.State]
        DEREGISTERED: _ClassVar[Registration.State]
        CLOSED: _ClassVar[Registration.State]
    STATE_UNSPECIFIED: Registration.State
    PENDING: Registration.State
    ACTIVE: Registration.State
    EXPIRED: Registration.State
    DEREGISTERED: Registration.State
    CLOSED: Registration.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    UID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_APPLICATION_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    MANAGING_NODE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    uid: str
    code: str
    object_type: ObjectType
    state: Registration.State
    content: RegistrationContent
    version: int
    current_application: Application
    valid_from: _date_pb2.Date
    valid_until: _date_pb2.Date
    managing_node: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., uid: _Optional[str] = ..., code: _Optional[str] = ..., object_type: _Optional[_Union[ObjectType, str]] = ..., state: _Optional[_Union[Registration.State, str]] = ..., content: _Optional[_Union[RegistrationContent, _Mapping]] = ..., version: _Optional[int] = ..., current_application: _Optional[_Union[Application, _Mapping]] = ..., valid_from: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., valid_until: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., managing_node: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class HistoryEntry(_message.Message):
    __slots__ = ("name", "sequence", "time", "actor", "action", "reason", "application_id", "registration_state", "application_state", "version")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_STATE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_STATE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    sequence: int
    time: _timestamp_pb2.Timestamp
    actor: str
    action: str
    reason: str
    application_id: str
    registration_state: Registration.State
    application_state: Application.State
    version: int
    def __init__(self, name: _Optional[str] = ..., sequence: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., action: _Optional[str] = ..., reason: _Optional[str] = ..., application_id: _Optional[str] = ..., registration_state: _Optional[_Union[Registration.State, str]] = ..., application_state: _Optional[_Union[Application.State, str]] = ..., version: _Optional[int] = ...) -> None: ...

class Confirmation(_message.Message):
    __slots__ = ("code", "registration", "object_type", "subject", "data_name", "version", "state", "valid_from", "valid_until", "issue_time", "content_sha256", "tlog_proof", "tlog_proof_status", "cosigned_by", "witnesses_pending", "code_lease")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    DATA_NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    ISSUE_TIME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    TLOG_PROOF_FIELD_NUMBER: _ClassVar[int]
    TLOG_PROOF_STATUS_FIELD_NUMBER: _ClassVar[int]
    COSIGNED_BY_FIELD_NUMBER: _ClassVar[int]
    WITNESSES_PENDING_FIELD_NUMBER: _ClassVar[int]
    CODE_LEASE_FIELD_NUMBER: _ClassVar[int]
    code: str
    registration: str
    object_type: ObjectType
    subject: Subject
    data_name: str
    version: int
    state: Registration.State
    valid_from: _date_pb2.Date
    valid_until: _date_pb2.Date
    issue_time: _timestamp_pb2.Timestamp
    content_sha256: str
    tlog_proof: str
    tlog_proof_status: str
    cosigned_by: _containers.RepeatedScalarFieldContainer[str]
    witnesses_pending: _containers.RepeatedScalarFieldContainer[str]
    code_lease: str
    def __init__(self, code: _Optional[str] = ..., registration: _Optional[str] = ..., object_type: _Optional[_Union[ObjectType, str]] = ..., subject: _Optional[_Union[Subject, _Mapping]] = ..., data_name: _Optional[str] = ..., version: _Optional[int] = ..., state: _Optional[_Union[Registration.State, str]] = ..., valid_from: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., valid_until: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., issue_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., content_sha256: _Optional[str] = ..., tlog_proof: _Optional[str] = ..., tlog_proof_status: _Optional[str] = ..., cosigned_by: _Optional[_Iterable[str]] = ..., witnesses_pending: _Optional[_Iterable[str]] = ..., code_lease: _Optional[str] = ...) -> None: ...
