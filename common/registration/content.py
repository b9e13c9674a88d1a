"""The registered materials at the edge: validating a ``RegistrationContent`` and its canonical form.

The canonical form, whose SHA-256 a confirmation carries as ``content_sha256``, is documented in
``registration.proto`` (message ``Confirmation``) so that anyone can recompute it:

1. the message in the proto3 JSON mapping with the fields' proto names (``data_name``, not
   ``dataName``), fields at their default value left out, enums by name, ``google.type.Date`` as an
   object of ``year``, ``month`` and ``day`` numbers;
2. serialised with the JSON Canonicalization Scheme (RFC 8785): keys sorted, no white space, strings
   with only the escapes RFC 8785 requires (non-ASCII characters as they are), UTF-8;
3. SHA-256 of those bytes, in lower-case hexadecimal.
"""

from __future__ import annotations

import re
from datetime import date

from google.protobuf import json_format
from google.type import date_pb2

from common import uscc
from common.codes import ObjectType
from common.gen.registry.v1 import registration_pb2
from common.registration.domain import DocumentRef, Materials, content_sha256
from common.transparency.jcs import canonical
from common.validation import Checker

__all__ = [
    "NAME",
    "SHORT",
    "TEXT",
    "canonical_json",
    "content_from_json",
    "content_sha256",
    "from_date",
    "materials",
    "to_date",
    "validate_content",
    "validate_document",
    "validate_operation_term",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S+")
SHORT, NAME, TEXT = 100, 200, 2000
#: At most this many application scenarios, documents of evidence, defects.
MAX_SCENARIOS = 50


def to_date(value: date | None) -> date_pb2.Date | None:
    return None if value is None else date_pb2.Date(year=value.year, month=value.month, day=value.day)


def from_date(value: date_pb2.Date) -> date | None:
    """A google.type.Date as a date, or None when unset or not a real day."""
    try:
        return date(value.year, value.month, value.day)
    except ValueError:
        return None


def validate_document(
    check: Checker,
    field: str,
    doc: registration_pb2.Document,
    *,
    required: bool = True,
    hash_required: bool = True,
) -> DocumentRef | None:
    if not required and not (doc.title or doc.uri or doc.sha256):
        return None
    title = check.text(f"{field}.title", doc.title, max_length=NAME)
    if check.text(f"{field}.uri", doc.uri, max_length=TEXT) and not _URI.fullmatch(doc.uri.strip()):
        check.fail(f"{field}.uri", "FIELD_MALFORMED", "must be a URI such as https://host/path")
    if not doc.sha256:
        if hash_required:
            check.fail(f"{field}.sha256", "FIELD_REQUIRED", "is required: the SHA-256 of the document")
    elif not _SHA256.fullmatch(doc.sha256):
        check.fail(f"{field}.sha256", "FIELD_MALFORMED", "must be 64 lower-case hexadecimal characters")
    return DocumentRef(title=title, uri=doc.uri.strip(), sha256=doc.sha256)


def validate_content(
    check: Checker,
    content: registration_pb2.RegistrationContent,
    object_type: int | None,
    prefix: str,
    *,
    today: date | None = None,
) -> uscc.USCC | None:
    """Record every violation of ``content`` in ``check``; returns the subject's parsed USCC.

    The operation term is checked too when ``object_type`` is given (see
    :func:`validate_operation_term`).
    """
    p = prefix + "."
    check.text(p + "subject.name", content.subject.name, max_length=NAME)
    subject = check.uscc(p + "subject.uscc", content.subject.uscc)
    if content.HasField("agent"):
        check.text(p + "agent.name", content.agent.name, max_length=NAME)
        check.uscc(p + "agent.uscc", content.agent.uscc)
        validate_document(check, p + "agent.authorization", content.agent.authorization)
    check.text(p + "data_name", content.data_name, max_length=NAME)
    check.text(p + "data_type", content.data_type, max_length=SHORT)
    check.text(p + "data_format", content.data_format, max_length=SHORT)
    check.text(p + "storage.location", content.storage.location, max_length=NAME)
    check.text(p + "storage.method", content.storage.method, max_length=NAME)
    check.text(p + "update_frequency", content.update_frequency, max_length=SHORT)
    check.text(p + "legal_source", content.legal_source, max_length=TEXT)
    check.text(p + "evidence_deposit", content.evidence_deposit, max_length=TEXT)
    if not content.application_scenarios:
        check.fail(p + "application_scenarios", "FIELD_REQUIRED", "needs at least one scenario")
    if len(content.application_scenarios) > MAX_SCENARIOS:
        check.fail(
            p + "application_scenarios", "FIELD_TOO_LONG", f"lists more than {MAX_SCENARIOS} scenarios"
        )
    for i, scenario in enumerate(content.application_scenarios[:MAX_SCENARIOS]):
        check.text(f"{p}application_scenarios[{i}]", scenario, max_length=500)
    validate_document(check, p + "security_assessment", content.security_assessment)
    validate_document(check, p + "description", content.description)
    validate_document(check, p + "commitment", content.commitment)
    check.text(p + "summary", content.summary, max_length=TEXT)
    if object_type is not None:
        validate_operation_term(check, content, object_type, prefix, today=today)
    return subject


def validate_operation_term(
    check: Checker,
    content: registration_pb2.RegistrationContent,
    object_type: int,
    prefix: str,
    *,
    today: date | None = None,
) -> None:
    """A data product or service needs its operation term, the other types have none; with ``today``,
    a term that has already ended is refused."""
    p = prefix + "."
    if object_type == ObjectType.DATA_PRODUCT_OR_SERVICE:
        start, end = from_date(content.operation_term.start), from_date(content.operation_term.end)
        if not content.HasField("operation_term") or start is None or end is None:
            check.fail(
                p + "operation_term",
                "FIELD_REQUIRED",
                "a data product or service needs its operation term (start and end dates)",
            )
        elif end < start:
            check.fail(p + "operation_term.end", "FIELD_OUT_OF_RANGE", "is before the start")
        if today is not None and end is not None and end < today:
            check.fail(p + "operation_term.end", "FIELD_OUT_OF_RANGE", f"the term ended on {end}")
    elif content.HasField("operation_term"):
        check.fail(
            p + "operation_term", "FIELD_NOT_ALLOWED", "only a data product or service has an operation term"
        )


def canonical_json(content: registration_pb2.RegistrationContent) -> str:
    """The canonical form (see the module's documentation): the same text on every node."""
    as_dict = json_format.MessageToDict(content, preserving_proto_field_name=True)
    # RFC 8785 (common.transparency.jcs: the content has no floating-point fields).
    return canonical(as_dict, checked=False).decode()


def content_from_json(text: str) -> registration_pb2.RegistrationContent:
    return json_format.Parse(text, registration_pb2.RegistrationContent())


def materials(content: registration_pb2.RegistrationContent, subject: uscc.USCC, field: str) -> Materials:
    """Validated ``content`` as the procedure keeps it: stripped of nothing, the subject's USCC in its
    canonical spelling and its region filled in."""
    clean = registration_pb2.RegistrationContent()
    clean.CopyFrom(content)
    clean.subject.uscc = subject.value
    clean.subject.region = subject.province.code
    end = from_date(clean.operation_term.end) if clean.HasField("operation_term") else None
    return Materials(
        canonical=canonical_json(clean),
        subject=subject,
        central=clean.subject.central,
        data_name=clean.data_name.strip(),
        term_end=end,
        field=field,
    )
