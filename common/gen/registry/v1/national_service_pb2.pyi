import datetime

from google.api import client_pb2 as _client_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.type import date_pb2 as _date_pb2
from common.gen.registry.v1 import code_pb2 as _code_pb2
from common.gen.registry.v1 import correction_pb2 as _correction_pb2
from common.gen.registry.v1 import node_pb2 as _node_pb2
from common.gen.registry.v1 import registration_pb2 as _registration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FileObjectionRequest(_message.Message):
    __slots__ = ("registration", "objection", "request_id")
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    OBJECTION_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    registration: str
    objection: _registration_pb2.Objection
    request_id: str
    def __init__(self, registration: _Optional[str] = ..., objection: _Optional[_Union[_registration_pb2.Objection, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class FiledObjection(_message.Message):
    __slots__ = ("registration", "managing_node", "application_id", "file_time", "announcement_end", "announcement_end_provisional")
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    MANAGING_NODE_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_TIME_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCEMENT_END_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCEMENT_END_PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    registration: str
    managing_node: str
    application_id: str
    file_time: _timestamp_pb2.Timestamp
    announcement_end: _date_pb2.Date
    announcement_end_provisional: bool
    def __init__(self, registration: _Optional[str] = ..., managing_node: _Optional[str] = ..., application_id: _Optional[str] = ..., file_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., announcement_end: _Optional[_Union[_date_pb2.Date, _Mapping]] = ..., announcement_end_provisional: _Optional[bool] = ...) -> None: ...

class FindDuplicatesRequest(_message.Message):
    __slots__ = ("content", "registration", "max_candidates")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    MAX_CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    content: _registration_pb2.RegistrationContent
    registration: str
    max_candidates: int
    def __init__(self, content: _Optional[_Union[_registration_pb2.RegistrationContent, _Mapping]] = ..., registration: _Optional[str] = ..., max_candidates: _Optional[int] = ...) -> None: ...

class FindDuplicatesResponse(_message.Message):
    __slots__ = ("candidates",)
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[_registration_pb2.DuplicateCandidate]
    def __init__(self, candidates: _Optional[_Iterable[_Union[_registration_pb2.DuplicateCandidate, _Mapping]]] = ...) -> None: ...

class GetRevocationListRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RevocationList(_message.Message):
    __slots__ = ("crl", "issue_time", "next_update_time", "revoked_count")
    CRL_FIELD_NUMBER: _ClassVar[int]
    ISSUE_TIME_FIELD_NUMBER: _ClassVar[int]
    NEXT_UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVOKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    crl: bytes
    issue_time: _timestamp_pb2.Timestamp
    next_update_time: _timestamp_pb2.Timestamp
    revoked_count: int
    def __init__(self, crl: _Optional[bytes] = ..., issue_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revoked_count: _Optional[int] = ...) -> None: ...

class AssignCodeRequest(_message.Message):
    __slots__ = ("node", "issuer", "object_type", "registration", "subject_uscc", "request_id")
    NODE_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_USCC_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    node: str
    issuer: str
    object_type: _registration_pb2.ObjectType
    registration: str
    subject_uscc: str
    request_id: str
    def __init__(self, node: _Optional[str] = ..., issuer: _Optional[str] = ..., object_type: _Optional[_Union[_registration_pb2.ObjectType, str]] = ..., registration: _Optional[str] = ..., subject_uscc: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GrantCodeLeaseRequest(_message.Message):
    __slots__ = ("node", "object_type", "year", "request_id")
    NODE_FIELD_NUMBER: _ClassVar[int]
    OBJECT_TYPE_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    node: str
    object_type: _registration_pb2.ObjectType
    year: int
    request_id: str
    def __init__(self, node: _Optional[str] = ..., object_type: _Optional[_Union[_registration_pb2.ObjectType, str]] = ..., year: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class ListCodeLeasesRequest(_message.Message):
    __slots__ = ("node", "page_size", "page_token")
    NODE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    node: str
    page_size: int
    page_token: str
    def __init__(self, node: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCodeLeasesResponse(_message.Message):
    __slots__ = ("code_leases", "next_page_token")
    CODE_LEASES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    code_leases: _containers.RepeatedCompositeFieldContainer[_code_pb2.CodeLease]
    next_page_token: str
    def __init__(self, code_leases: _Optional[_Iterable[_Union[_code_pb2.CodeLease, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RevokeCodeLeaseRequest(_message.Message):
    __slots__ = ("name", "reason")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    name: str
    reason: str
    def __init__(self, name: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class FileLedgerCorrectionRequest(_message.Message):
    __slots__ = ("code", "problem", "evidence", "request_id")
    CODE_FIELD_NUMBER: _ClassVar[int]
    PROBLEM_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    code: str
    problem: str
    evidence: _containers.RepeatedCompositeFieldContainer[_registration_pb2.Document]
    request_id: str
    def __init__(self, code: _Optional[str] = ..., problem: _Optional[str] = ..., evidence: _Optional[_Iterable[_Union[_registration_pb2.Document, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetLedgerCorrectionRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListLedgerCorrectionsRequest(_message.Message):
    __slots__ = ("node", "page_size", "page_token")
    NODE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    node: str
    page_size: int
    page_token: str
    def __init__(self, node: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLedgerCorrectionsResponse(_message.Message):
    __slots__ = ("ledger_corrections", "next_page_token")
    LEDGER_CORRECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ledger_corrections: _containers.RepeatedCompositeFieldContainer[_correction_pb2.LedgerCorrection]
    next_page_token: str
    def __init__(self, ledger_corrections: _Optional[_Iterable[_Union[_correction_pb2.LedgerCorrection, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetCodeAssignmentRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class VerifyCodeRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class VerifyCodeResponse(_message.Message):
    __slots__ = ("well_formed", "defect", "message", "assigned", "assignment")
    WELL_FORMED_FIELD_NUMBER: _ClassVar[int]
    DEFECT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    well_formed: bool
    defect: _code_pb2.CodeDefect
    message: str
    assigned: bool
    assignment: _code_pb2.CodeAssignment
    def __init__(self, well_formed: _Optional[bool] = ..., defect: _Optional[_Union[_code_pb2.CodeDefect, str]] = ..., message: _Optional[str] = ..., assigned: _Optional[bool] = ..., assignment: _Optional[_Union[_code_pb2.CodeAssignment, _Mapping]] = ...) -> None: ...

class GetNodeRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListNodesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListNodesResponse(_message.Message):
    __slots__ = ("nodes", "next_page_token")
    NODES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[_node_pb2.Node]
    next_page_token: str
    def __init__(self, nodes: _Optional[_Iterable[_Union[_node_pb2.Node, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListOrphanedCodesRequest(_message.Message):
    __slots__ = ("grace", "page_size", "page_token")
    GRACE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    grace: _duration_pb2.Duration
    page_size: int
    page_token: str
    def __init__(self, grace: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrphanedCodesResponse(_message.Message):
    __slots__ = ("orphaned_codes", "next_page_token")
    ORPHANED_CODES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orphaned_codes: _containers.RepeatedCompositeFieldContainer[OrphanedCode]
    next_page_token: str
    def __init__(self, orphaned_codes: _Optional[_Iterable[_Union[OrphanedCode, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class OrphanedCode(_message.Message):
    __slots__ = ("assignment", "in_ledger", "ledger_state", "ledger_application_state", "ledger_revision")
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    IN_LEDGER_FIELD_NUMBER: _ClassVar[int]
    LEDGER_STATE_FIELD_NUMBER: _ClassVar[int]
    LEDGER_APPLICATION_STATE_FIELD_NUMBER: _ClassVar[int]
    LEDGER_REVISION_FIELD_NUMBER: _ClassVar[int]
    assignment: _code_pb2.CodeAssignment
    in_ledger: bool
    ledger_state: _registration_pb2.Registration.State
    ledger_application_state: _registration_pb2.Application.State
    ledger_revision: int
    def __init__(self, assignment: _Optional[_Union[_code_pb2.CodeAssignment, _Mapping]] = ..., in_ledger: _Optional[bool] = ..., ledger_state: _Optional[_Union[_registration_pb2.Registration.State, str]] = ..., ledger_application_state: _Optional[_Union[_registration_pb2.Application.State, str]] = ..., ledger_revision: _Optional[int] = ...) -> None: ...
