"""Domain errors as ``google.rpc.Status``: an ``ErrorInfo`` always, a ``BadRequest`` for bad input, a
``RetryInfo`` when the node says how long to wait before trying again.

The contract documents this error model (``registry/v1/errors.proto``): every error the registry sends
carries, in its ``grpc-status-details-bin`` trailer, a ``google.rpc.Status`` whose details hold one
``google.rpc.ErrorInfo`` (domain ``registry.v1``, a stable ``reason``, ``metadata`` naming the field
and values involved) and, for INVALID_ARGUMENT, one ``google.rpc.BadRequest`` listing every offending
field at once; an UNAVAILABLE or RESOURCE_EXHAUSTED whose cause will pass (the node's database busy or
unreachable, the node saturated) also carries one ``google.rpc.RetryInfo`` with the ``retry_delay`` to
wait at least.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from common.errors import DOMAIN, RegistryError
from common.retry import retry_delay_of

__all__ = ["INTERNAL", "ErrorDetails", "details_of", "status_for"]

#: What a caller receives for a fault of the server: nothing of its internals.
INTERNAL = status_pb2.Status(code=code_pb2.INTERNAL, message="internal error; it has been logged")


def _pack(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def status_for(error: RegistryError) -> status_pb2.Status:
    """The ``google.rpc.Status`` sent for a domain error."""
    details = [
        _pack(error_details_pb2.ErrorInfo(reason=error.reason, domain=DOMAIN, metadata=error.metadata))
    ]
    if error.violations:
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description, reason=v.reason
                )
                for v in error.violations
            ]
        )
        details.append(_pack(bad_request))
    if error.retry_delay is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(round(error.retry_delay * 1e9))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=error.code.value[0], message=error.message, details=details)


@dataclass(frozen=True)
class ErrorDetails:
    """What a failed call says, read back from its status (the client's side of the model above).

    ``from_server`` is False when the call carried no ``google.rpc.Status``: the failure happened on
    the way (no connection, a deadline), not in a registry node."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    #: ``(field, reason, description)`` of each offending field.
    violations: list[tuple[str, str, str]] = field(default_factory=list)
    from_server: bool = False
    #: Seconds the server asked the caller to wait before trying again (``google.rpc.RetryInfo``).
    retry_delay: float | None = None


def details_of(error: grpc.RpcError) -> ErrorDetails:
    """The code, message, reason, metadata and field violations of a failed call."""
    call = error if isinstance(error, grpc.Call) else None
    code = call.code() if call is not None else grpc.StatusCode.UNKNOWN
    message = (call.details() if call is not None else "") or ""
    try:
        status = rpc_status.from_call(call) if call is not None else None
    except ValueError:  # a status that contradicts the call's own code: keep the call's
        status = None
    if status is None:
        return ErrorDetails(code, message)
    reason, metadata, violations = "", {}, []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason, metadata = info.reason, dict(info.metadata)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations += [(v.field, v.reason, v.description) for v in bad_request.field_violations]
    return ErrorDetails(
        code,
        status.message or message,
        reason,
        metadata,
        violations,
        from_server=True,
        retry_delay=retry_delay_of(status),
    )
