"""Domain errors and their gRPC status.

Every error the registry reports to a caller is one of the classes below. Each carries a gRPC status
code, a stable machine-readable ``reason`` (sent as ``google.rpc.ErrorInfo.reason``) and, for bad input,
the offending fields (sent as ``google.rpc.BadRequest`` field violations) and, when the node knows when
a retry may succeed, that delay (sent as ``google.rpc.RetryInfo``). Servicers raise these; the
server interceptor in :mod:`common.grpc_server` turns them into a ``google.rpc.Status``.

Validators of single values (codes, USCCs, regions) raise :class:`InvalidValue`, which knows *why* a
value is wrong but not *which field* held it; the caller that knows the field wraps it with
:meth:`InvalidArgument.for_field`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grpc

__all__ = [
    "DOMAIN",
    "Aborted",
    "AlreadyExists",
    "DataLoss",
    "FailedPrecondition",
    "FieldViolation",
    "InvalidArgument",
    "InvalidValue",
    "NotFound",
    "PermissionDenied",
    "RegistryError",
    "ResourceExhausted",
    "Unauthenticated",
    "Unavailable",
]

#: ``ErrorInfo.domain`` of every error this software reports.
DOMAIN = "registry.v1"


class InvalidValue(ValueError):
    """A single value failed validation: ``reason`` says which rule, ``message`` says it for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field of a request: its path (``subject.uscc``) and what is wrong with it."""

    field: str
    description: str
    reason: str = ""


class RegistryError(Exception):
    """Base of all domain errors: a gRPC code, a stable reason, a message, optional details."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(
        self,
        reason: str,
        message: str,
        *,
        metadata: Mapping[str, str] | None = None,
        violations: Iterable[FieldViolation] = (),
        retry_delay: float | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})
        self.violations = tuple(violations)
        #: Seconds the caller should wait before it tries again (sent as ``google.rpc.RetryInfo``);
        #: None when retrying would not help or the node cannot say.
        self.retry_delay = retry_delay

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, {self.message!r})"


class InvalidArgument(RegistryError):
    """The request is malformed: a field is missing, too long, or not a valid value."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    @classmethod
    def for_field(cls, field: str, error: InvalidValue) -> InvalidArgument:
        """Wrap a value validator's failure, naming the field that held the value."""
        return cls(
            error.reason,
            f"{field}: {error.message}",
            metadata={"field": field},
            violations=[FieldViolation(field, error.message, error.reason)],
        )

    @classmethod
    def from_violations(cls, violations: Iterable[FieldViolation]) -> InvalidArgument:
        """One error listing every bad field at once, so a caller can fix them all in one go."""
        violations = tuple(violations)
        if not violations:
            raise ValueError("from_violations needs at least one violation")
        first = violations[0]
        if len(violations) == 1:
            reason, message = first.reason or "INVALID_FIELD", f"{first.field}: {first.description}"
        else:
            reason = "INVALID_FIELDS"
            message = "invalid fields: " + ", ".join(v.field for v in violations)
        return cls(reason, message, metadata={"field": first.field}, violations=violations)


class NotFound(RegistryError):
    """The named resource does not exist."""

    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(RegistryError):
    """The resource, or a request with the same request id but other content, exists already."""

    code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(RegistryError):
    """The caller may not do this: another node's namespace, jurisdiction or registration."""

    code = grpc.StatusCode.PERMISSION_DENIED


class FailedPrecondition(RegistryError):
    """The request is well formed but the resource is not in a state that allows it."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(RegistryError):
    """The resource changed since the caller read it (a stale etag): read it again and retry."""

    code = grpc.StatusCode.ABORTED


class Unavailable(RegistryError):
    """A dependency (the database, the national node) cannot be reached; the call may be retried."""

    code = grpc.StatusCode.UNAVAILABLE


class ResourceExhausted(RegistryError):
    """The node is serving as much as it can (or the caller sent too much too fast): retry later."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class DataLoss(RegistryError):
    """Stored data is damaged (it no longer matches what protects it); an operator must look."""

    code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(RegistryError):
    """The call carries no credentials, or credentials that do not verify."""

    code = grpc.StatusCode.UNAUTHENTICATED
