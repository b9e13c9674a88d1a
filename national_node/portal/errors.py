"""The portal's errors: one shape for every error of the API (:class:`ErrorBody`, mirroring the gRPC
error model: status, a stable reason, the field at fault and every violation), and the conversions
into it from the registry's domain errors, the national node's answers and the request's validation.

The messages here are for developers (the API); a page tells a citizen the same thing in Chinese
(:mod:`national_node.portal.messages`), keyed by the reason and the field.
"""

from __future__ import annotations

import re
from typing import Any

import grpc
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from common.errors import InvalidArgument
from national_node.portal.national import NationalError

__all__ = [
    "ErrorBody",
    "ErrorDetail",
    "PortalError",
    "Violation",
    "error_response",
    "from_national",
    "from_registry",
    "from_validation",
    "invalid",
    "responses",
    "validation_reason",
]


class Violation(BaseModel):
    field: str = Field(description="The request field at fault (a query parameter or body field).")
    reason: str
    description: str


class ErrorDetail(BaseModel):
    code: int = Field(description="The HTTP status.")
    status: str = Field(description="The status name (INVALID_ARGUMENT, NOT_FOUND, ...), as in gRPC.")
    reason: str = Field(description="A stable reason to switch on, e.g. FIELD_TOO_LONG.")
    message: str
    field: str = Field(default="", description="The first field at fault, if any.")
    violations: list[Violation] = []


class ErrorBody(BaseModel):
    """Every error of the portal's API."""

    error: ErrorDetail


class PortalError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        field: str = "",
        violations: list[Violation] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.field = status, reason, message, field
        self.violations = violations or []
        self.headers = headers or {}


STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "FAILED_PRECONDITION",
    413: "PAYLOAD_TOO_LARGE",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "NATIONAL_FAILED",
    503: "UNAVAILABLE",
}
_GRPC_TO_HTTP = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 503,
}
#: What each status means, for the OpenAPI description of the operations that answer it.
_MEANINGS = {
    400: "A parameter or body field is malformed; the field is named.",
    401: "No bearer token, or one the national node does not accept.",
    403: "The bearer token does not allow this (its role, or the organisation it names).",
    404: "No such resource.",
    409: "The resource is not in a state that allows this.",
    413: "The request body is larger than 32 KiB.",
    429: "Too many requests from this client; Retry-After says when to try again.",
    502: "The national node answered with an error the portal did not expect.",
    503: "The national node cannot be reached now; retry (objections with the same request_id).",
}


def responses(*statuses: int, **meanings: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of an operation's error statuses (``meanings`` as ``s404="..."``)."""
    return {
        status: {"model": ErrorBody, "description": meanings.get(f"s{status}", _MEANINGS[status])}
        for status in statuses
    }


def invalid(field: str, reason: str, description: str) -> PortalError:
    return PortalError(
        400,
        reason,
        f"{field}: {description}",
        field=field,
        violations=[Violation(field=field, reason=reason, description=description)],
    )


def from_registry(error: InvalidArgument) -> PortalError:
    violations = [
        Violation(field=v.field, reason=v.reason, description=v.description) for v in error.violations
    ]
    return PortalError(
        400, error.reason, error.message, field=error.metadata.get("field", ""), violations=violations
    )


def from_national(error: NationalError, field_map: dict[str, str] | None = None) -> PortalError:
    status = _GRPC_TO_HTTP.get(error.code, 502)
    mapped = field_map or {}
    violations = [Violation(field=mapped.get(f, f), reason=r, description=d) for f, r, d in error.violations]
    return PortalError(
        status,
        error.reason or error.code.name,
        error.message,
        field=violations[0].field if violations else "",
        violations=violations,
    )


#: The registry's reasons (errors.proto) for what the request's validation finds.
_VALIDATION_REASONS = {
    "missing": "FIELD_REQUIRED",
    "string_too_short": "FIELD_REQUIRED",
    "string_too_long": "FIELD_TOO_LONG",
    "too_long": "FIELD_TOO_LONG",
    "string_pattern_mismatch": "FIELD_MALFORMED",
    "literal_error": "FIELD_MALFORMED",
    "enum": "FIELD_MALFORMED",
    "int_parsing": "FIELD_MALFORMED",
    "int_type": "FIELD_MALFORMED",
    "string_type": "FIELD_MALFORMED",
    "list_type": "FIELD_MALFORMED",
    "model_attributes_type": "FIELD_MALFORMED",
    "dict_type": "FIELD_MALFORMED",
    "greater_than_equal": "FIELD_OUT_OF_RANGE",
    "less_than_equal": "FIELD_OUT_OF_RANGE",
    "extra_forbidden": "FIELD_NOT_ALLOWED",
    "json_invalid": "REQUEST_UNDECODABLE",
}


def validation_reason(kind: str) -> str:
    return _VALIDATION_REASONS.get(kind, "INVALID_FIELD")


def from_validation(error: RequestValidationError) -> PortalError:
    """What FastAPI's validation of the declared constraints found, in the one error shape."""
    violations = []
    for item in error.errors():
        location = [str(p) for p in item.get("loc", ()) if p not in ("query", "body", "path")]
        field = ".".join(location) or "body"
        field = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", field)
        description = str(item.get("msg", ""))
        if item.get("type") == "extra_forbidden":
            description = "is not a field of this request"
        violations.append(
            Violation(
                field=field, reason=validation_reason(str(item.get("type", ""))), description=description
            )
        )
    first = violations[0] if violations else Violation(field="body", reason="INVALID_FIELD", description="")
    reason = "INVALID_FIELDS" if len(violations) > 1 else first.reason
    return PortalError(
        400, reason, f"{first.field}: {first.description}", field=first.field, violations=violations
    )


def error_response(error: PortalError) -> JSONResponse:
    body = ErrorBody(
        error=ErrorDetail(
            code=error.status,
            status=STATUS_NAMES.get(error.status, "ERROR"),
            reason=error.reason,
            message=error.message,
            field=error.field,
            violations=error.violations,
        )
    )
    return JSONResponse(
        body.model_dump(), status_code=error.status, headers={"Cache-Control": "no-store", **error.headers}
    )
