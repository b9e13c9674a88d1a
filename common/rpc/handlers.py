"""The gRPC boundary: servicers become handlers here, and nowhere else.

For every method of a service descriptor, :class:`Boundary` makes a handler that

1. receives the request's raw bytes and decodes them itself (bytes that are not a valid message are
   INVALID_ARGUMENT, not gRPC's own INTERNAL "Exception deserializing request");
2. builds the :class:`~common.rpc.call.Call` (who calls) from the request metadata;
3. runs the servicer's method of the same name, ``(request, call)``, which returns the answer (or,
   for a server stream, yields the answers; for a client stream it receives an iterator of requests);
4. turns a :class:`~common.errors.RegistryError` into its ``google.rpc.Status``; anything else is
   logged once with its traceback and answered INTERNAL with a generic message.

Servicers raise; they never see gRPC's context and never abort.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from grpc_status import rpc_status

from common.errors import InvalidArgument, RegistryError
from common.rpc.call import Call, actor_from_metadata
from common.rpc.status import INTERNAL, status_for

__all__ = ["Boundary", "decode"]

logger = logging.getLogger(__name__)


def decode(message_class: type[Message], raw: bytes) -> Message:
    """A request message from its bytes, or INVALID_ARGUMENT."""
    try:
        return message_class.FromString(raw)
    except (DecodeError, RuntimeError, ValueError) as error:
        raise InvalidArgument(
            "REQUEST_UNDECODABLE",
            f"the request is not a valid {message_class.DESCRIPTOR.full_name} message",
            metadata={"message": message_class.DESCRIPTOR.full_name},
        ) from error


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


class Boundary:
    """Makes the handlers of servicers; one per server."""

    def service(self, descriptor: ServiceDescriptor, servicer: object) -> grpc.GenericRpcHandler[Any, Any]:
        """Handlers for every method of ``descriptor``; ``servicer`` must implement each one."""
        handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
        for method in descriptor.methods:
            implementation = getattr(servicer, method.name, None)
            if implementation is None:
                raise TypeError(f"{type(servicer).__name__} does not implement {method.full_name}")
            handlers[method.name] = self._handler(method, implementation)
        return grpc.method_handlers_generic_handler(descriptor.full_name, handlers)

    def _handler(
        self, method: MethodDescriptor, implementation: Callable[..., Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        name = f"/{method.containing_service.full_name}/{method.name}"
        request_class = message_factory.GetMessageClass(method.input_type)

        def call_of(context: grpc.ServicerContext) -> Call:
            return Call(method=name, actor=actor_from_metadata(context.invocation_metadata() or ()))

        def fail(context: grpc.ServicerContext, error: Exception) -> NoReturn:
            if isinstance(error, RegistryError):
                logger.debug("%s: %s %s", name, error.code.name, error.reason)
                context.abort_with_status(rpc_status.to_status(status_for(error)))
            logger.exception("%s failed unexpectedly", name)
            context.abort_with_status(rpc_status.to_status(INTERNAL))
            raise AssertionError("abort_with_status returned")  # pragma: no cover

        if method.client_streaming:

            def requests(raw: Iterator[bytes]) -> Iterator[Message]:
                for item in raw:
                    yield decode(request_class, item)

            if method.server_streaming:

                def stream_stream(raw: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[Message]:
                    try:
                        yield from implementation(requests(raw), call_of(context))
                    except Exception as error:
                        fail(context, error)

                return grpc.stream_stream_rpc_method_handler(stream_stream, response_serializer=_serialize)

            def stream_unary(raw: Iterator[bytes], context: grpc.ServicerContext) -> Message:
                try:
                    answer: Message = implementation(requests(raw), call_of(context))
                    return answer
                except Exception as error:
                    fail(context, error)

            return grpc.stream_unary_rpc_method_handler(stream_unary, response_serializer=_serialize)

        if method.server_streaming:

            def unary_stream(raw: bytes, context: grpc.ServicerContext) -> Iterator[Message]:
                try:
                    yield from implementation(decode(request_class, raw), call_of(context))
                except Exception as error:
                    fail(context, error)

            return grpc.unary_stream_rpc_method_handler(unary_stream, response_serializer=_serialize)

        def unary_unary(raw: bytes, context: grpc.ServicerContext) -> Message:
            try:
                answer: Message = implementation(decode(request_class, raw), call_of(context))
                return answer
            except Exception as error:
                fail(context, error)

        return grpc.unary_unary_rpc_method_handler(unary_unary, response_serializer=_serialize)
