"""The registered materials: validation, and the canonical form their hash is taken over."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date

from google.protobuf import json_format
from google.type import date_pb2

from common import uscc
from common.codes import ObjectType
from common.gen.registry.v1 import registration_pb2
from common.validation import Checker

__all__ = [
    "canonical_json",
    "content_from_json",
    "content_sha256",
    "from_date",
    "to_date",
    "validate_content",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_URI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:\S+")
SHORT, NAME, TEXT = 100, 200, 2000


def to_date(value: date | None) -> date_pb2.Date | None:
    return None if value is None else date_pb2.Date(year=value.year, month=value.month, day=value.day)


def from_date(value: date_pb2.Date) -> date | None:
    """A google.type.Date as a date, or None when unset or not a real day."""
    try:
        return date(value.year, value.month, value.day)
    except ValueError:
        return None


def validate_document(
    check: Checker, field: str, doc: registration_pb2.Document, *, required: bool = True
) -> None:
    if not required and not (doc.title or doc.uri or doc.sha256):
        return
    check.text(f"{field}.title", doc.title, max_length=NAME)
    if check.text(f"{field}.uri", doc.uri, max_length=TEXT) and not _URI.fullmatch(doc.uri.strip()):
        check.fail(f"{field}.uri", "FIELD_MALFORMED", "must be a URI such as https://host/path")
    if not doc.sha256:
        check.fail(f"{field}.sha256", "FIELD_REQUIRED", "is required: the SHA-256 of the document")
    elif not _SHA256.fullmatch(doc.sha256):
        check.fail(f"{field}.sha256", "FIELD_MALFORMED", "must be 64 lower-case hexadecimal characters")


def validate_content(
    check: Checker, content: registration_pb2.RegistrationContent, object_type: int, prefix: str
) -> uscc.USCC | None:
    """Record every violation of ``content`` in ``check``; returns the subject's parsed USCC."""
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
    if len(content.application_scenarios) > 50:
        check.fail(p + "application_scenarios", "FIELD_TOO_LONG", "lists more than 50 scenarios")
    for i, scenario in enumerate(content.application_scenarios[:50]):
        check.text(f"{p}application_scenarios[{i}]", scenario, max_length=500)
    validate_document(check, p + "security_assessment", content.security_assessment)
    validate_document(check, p + "description", content.description)
    validate_document(check, p + "commitment", content.commitment)
    check.text(p + "summary", content.summary, max_length=TEXT)
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
    elif content.HasField("operation_term"):
        check.fail(
            p + "operation_term", "FIELD_NOT_ALLOWED", "only a data product or service has an operation term"
        )
    return subject


def canonical_json(content: registration_pb2.RegistrationContent) -> str:
    """Sorted keys, no white space, UTF-8 characters as they are: the same bytes on every node."""
    as_dict = json_format.MessageToDict(content, preserving_proto_field_name=True)
    return json.dumps(as_dict, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_from_json(text: str) -> registration_pb2.RegistrationContent:
    return json_format.Parse(text, registration_pb2.RegistrationContent())


def content_sha256(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()
