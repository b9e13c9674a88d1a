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

import functools
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.type import date_pb2

from common import uscc
from common.codes import ObjectType
from common.gen.registry.v1 import registration_pb2
from common.registration.access import validate_access_terms, validate_fees_allowed
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
    "json_mapping",
    "materials",
    "to_date",
    "validate_content",
    "validate_document",
    "validate_for_object_type",
    "validate_operation_term",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: A scheme, a colon and no space or control character; around it, ASCII white space is trimmed. The
#: portal's OpenAPI pattern says the same (national_node/portal/schemas.py).
_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:[^\x00-\x20\x7f-\x9f]+")
_URI_SPACE = "\t\n\v\f\r "
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
    if check.text(f"{field}.uri", doc.uri, max_length=TEXT) and not _URI.fullmatch(doc.uri.strip(_URI_SPACE)):
        check.fail(f"{field}.uri", "FIELD_MALFORMED", "must be a URI such as https://host/path")
    if not doc.sha256:
        if hash_required:
            check.fail(f"{field}.sha256", "FIELD_REQUIRED", "is required: the SHA-256 of the document")
    elif not _SHA256.fullmatch(doc.sha256):
        check.fail(f"{field}.sha256", "FIELD_MALFORMED", "must be 64 lower-case hexadecimal characters")
    return DocumentRef(title=title, uri=doc.uri.strip(_URI_SPACE), sha256=doc.sha256)


def validate_content(
    check: Checker,
    content: registration_pb2.RegistrationContent,
    object_type: int | None,
    prefix: str,
    *,
    today: date | None = None,
) -> uscc.USCC | None:
    """Record every violation of ``content`` in ``check``; returns the subject's parsed USCC.

    The access terms, when stated, are checked (:mod:`common.registration.access`); the rules of the
    object type too when ``object_type`` is given (:func:`validate_for_object_type`).
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
    if content.HasField("access_terms"):
        validate_access_terms(check, content.access_terms, p + "access_terms")
    if object_type is not None:
        validate_for_object_type(check, content, object_type, prefix, today=today)
    return subject


def validate_for_object_type(
    check: Checker,
    content: registration_pb2.RegistrationContent,
    object_type: int,
    prefix: str,
    *,
    today: date | None = None,
) -> None:
    """The rules that depend on the object type: a data product or service alone has an operation
    term (:func:`validate_operation_term`) and a fee list."""
    validate_operation_term(check, content, object_type, prefix, today=today)
    validate_fees_allowed(check, content, object_type, prefix)


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
    # RFC 8785 (common.transparency.jcs: the content has no floating-point fields).
    return canonical(json_mapping(content), checked=False).decode()


def json_mapping(message: Message) -> dict[str, Any]:
    """``json_format.MessageToDict(message, preserving_proto_field_name=True)``, the same dict, made
    without its generic machinery for message types of plain fields (the national ledger computes the
    canonical form of every change it takes); any other type is left to ``json_format``."""
    plan = _plan(message.DESCRIPTOR)
    if plan is None:
        return json_format.MessageToDict(message, preserving_proto_field_name=True)
    mapped: dict[str, Any] = {}
    for field, value in message.ListFields():
        convert, repeated = plan[field.name]
        if convert is None:  # a string or a 32-bit integer: as it is
            mapped[field.name] = list(value) if repeated else value
        elif repeated:
            mapped[field.name] = [convert(item) for item in value]
        else:
            mapped[field.name] = convert(value)
    return mapped


_Convert = Callable[[Any], Any]
_PLANNING: set[str] = set()
#: A field whose value maps as it is.
_SAME = "same"


@functools.cache
def _plan(descriptor: Descriptor) -> dict[str, tuple[_Convert | None, bool]] | None:
    """How ``json_format`` writes each field of a message type (its proto3 JSON mapping): a string,
    integer or boolean as it is, a 64-bit integer as a string, an enum by name (an unknown number as
    the number), a message as its own mapping. None for a type with any other field (floats, bytes,
    maps, well-known types, closed enums or enum values with options, extensions, recursion)."""
    if descriptor.full_name in _PLANNING or descriptor.extension_ranges:
        return None
    _PLANNING.add(descriptor.full_name)
    try:
        plan: dict[str, tuple[_Convert | None, bool]] = {}
        for field in descriptor.fields:
            convert = _field_plan(field)
            if convert is None:
                return None
            plan[field.name] = (None if isinstance(convert, str) else convert, field.is_repeated)
        return plan
    finally:
        _PLANNING.discard(descriptor.full_name)


def _field_plan(field: FieldDescriptor) -> _Convert | str | None:
    kind = field.cpp_type
    if kind == FieldDescriptor.CPPTYPE_MESSAGE:
        inner = field.message_type
        if (
            inner is None
            or inner.GetOptions().map_entry
            or inner.full_name.startswith("google.protobuf.")
            or _plan(inner) is None
        ):
            return None
        return json_mapping
    if kind == FieldDescriptor.CPPTYPE_ENUM:
        enum = field.enum_type
        if enum is None or enum.is_closed or any(v.GetOptions().ListFields() for v in enum.values):
            return None
        names = {number: value.name for number, value in enum.values_by_number.items()}
        return lambda number: names.get(number, number)
    if kind == FieldDescriptor.CPPTYPE_STRING:
        return None if field.type == FieldDescriptor.TYPE_BYTES else _SAME
    if kind == FieldDescriptor.CPPTYPE_BOOL:
        return bool
    if kind in (FieldDescriptor.CPPTYPE_INT64, FieldDescriptor.CPPTYPE_UINT64):
        return str
    if kind in (FieldDescriptor.CPPTYPE_INT32, FieldDescriptor.CPPTYPE_UINT32):
        return _SAME
    return None  # floating point: json_format's own rules


def content_from_json(text: str) -> registration_pb2.RegistrationContent:
    return json_format.Parse(text, registration_pb2.RegistrationContent())


def materials(content: registration_pb2.RegistrationContent, subject: uscc.USCC, field: str) -> Materials:
    """Validated ``content`` as the procedure keeps it: stripped of nothing, the subject's USCC in its
    canonical spelling and its region filled in."""
    clean = registration_pb2.RegistrationContent()
    clean.CopyFrom(content)
    clean.subject.uscc = subject.value
    clean.subject.region = subject.province.code
    term = clean.operation_term if clean.HasField("operation_term") else None
    return Materials(
        canonical=canonical_json(clean),
        subject=subject,
        central=clean.subject.central,
        data_name=clean.data_name.strip(),
        term_end=from_date(term.end) if term else None,
        term_start=from_date(term.start) if term else None,
        field=field,
    )
