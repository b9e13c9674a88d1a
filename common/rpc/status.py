"""Domain errors as ``google.rpc.Status``: an ``ErrorInfo`` always, a ``BadRequest`` for bad input.

The contract documents this error model (``registry/v1/errors.proto``): every error the registry sends
carries, in its ``grpc-status-details-bin`` trailer, a ``google.rpc.Status`` whose details hold one
``google.rpc.ErrorInfo`` (domain ``registry.v1``, a stable ``reason``, ``metadata`` naming the field
and values involved) and, for INVALID_ARGUMENT, one ``google.rpc.BadRequest`` listing every offending
field at once.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from common.errors import DOMAIN, RegistryError

__all__ = ["INTERNAL", "status_for"]

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
    return status_pb2.Status(code=error.code.value[0], message=error.message, details=details)
