"""The gRPC boundary: servicers become handlers here, and nowhere else.

The server is asyncio's (``grpc.aio``); servicers are plain, synchronous code (SQL through SQLAlchemy)
that runs in a bounded pool of threads. A held stream therefore costs a coroutine, not a thread, and a
few hundred idle or unread streams cannot take the threads that unary calls need.

For every method of a service descriptor, :class:`Boundary` makes a handler that

1. receives the request's raw bytes and decodes them itself: bytes that are not a valid message are
   INVALID_ARGUMENT (``REQUEST_UNDECODABLE``), not gRPC's own INTERNAL;
2. checks what no request may hold (:mod:`common.rpc.wellformed`: unknown enum numbers, impossible
   timestamps and dates, oversized repeated fields), naming every such field at once;
3. builds the :class:`~common.rpc.call.Call` (who calls) from the request metadata;
4. runs the servicer's method of the same name in the thread pool and returns its answer:

   * unary: ``method(request, call) -> response``;
   * server stream: ``method(request, call) -> Iterator[response]``, pulled a few items at a time, each
     write waiting at most ``write_timeout`` for a reader that does not read (the stream is then ended,
     so an unread stream holds a bounded amount of memory);
   * bidirectional stream: ``method(request, call) -> response``, one answer per request, the stream
     ended after ``stream_idle_timeout`` without a request (a peer that went silent);

5. turns a :class:`~common.errors.RegistryError` into its ``google.rpc.Status``, logged as a client
   error in one line; anything else is logged once with its traceback and answered INTERNAL with a
   generic message. A call the client cancelled ends quietly.

Saturation is answered, not queued for ever: more than ``unary_queue`` unary calls waiting for a thread,
or more than ``max_streams`` open streams, is RESOURCE_EXHAUSTED (``NODE_SATURATED``) at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from grpc_status import rpc_status

from common import names
from common.errors import InvalidArgument, RegistryError, ResourceExhausted
from common.rpc import wellformed
from common.rpc.auth import Authenticator
from common.rpc.call import Call, Stream
from common.rpc.status import INTERNAL, status_for
from common.security.policy import Policy, Scope
from common.security.scope import require_own_node

__all__ = ["Boundary", "ServingLimits", "decode"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_STREAM_CHUNK = 16  # server-stream items fetched per hop into the thread pool


@dataclass(frozen=True, slots=True)
class ServingLimits:
    """How much a node serves at once, and how long it waits for slow peers."""

    #: Unary calls waiting for or holding a thread; beyond, RESOURCE_EXHAUSTED.
    unary_queue: int = 256
    #: Open streams of all kinds; beyond, RESOURCE_EXHAUSTED.
    max_streams: int = 1000
    #: Seconds a bidirectional stream may go without a request before it is ended.
    stream_idle_timeout: float = 30.0
    #: Seconds a server stream's write may wait for a reader that does not read.
    write_timeout: float = 10.0


def decode(message_class: type[Message], raw: bytes) -> Message:
    """A request message from its bytes, checked; INVALID_ARGUMENT if it is not one."""
    try:
        message = message_class.FromString(raw)
    except (DecodeError, RuntimeError, ValueError) as error:
        raise InvalidArgument(
            "REQUEST_UNDECODABLE",
            f"the request is not a valid {message_class.DESCRIPTOR.full_name} message",
            metadata={"message": message_class.DESCRIPTOR.full_name},
        ) from error
    found = wellformed.violations(message)
    if found:
        raise InvalidArgument.from_violations(found)
    return message


def _invoke(
    implementation: Callable[[Message, Call], T], request_class: type[Message], raw: bytes, call: Call
) -> T:
    """Decode and check the request, keep it within the caller's node if its grant says so, then run
    the servicer (in a thread of the pool: a large request's checks never hold the event loop)."""
    request = decode(request_class, raw)
    if (
        call.grant is not None
        and call.grant.scope == Scope.OWN_NODE
        and "node" in request.DESCRIPTOR.fields_by_name
    ):
        region = names.parse_node(getattr(request, "node"), field="node")  # noqa: B009 - read by descriptor
        require_own_node(call.principal, call.grant, region, field="node")
    return implementation(request, call)


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


@dataclass(frozen=True, slots=True)
class _Chunk:
    items: list[Message]
    end: bool  # the iterator is exhausted (or failed, with ``error``)
    error: Exception | None = None


def _take(iterator: Iterator[Message], count: int) -> _Chunk:
    """Up to ``count`` items; what came before a failure is kept, to be sent before the error."""
    items: list[Message] = []
    try:
        for _ in range(count):
            items.append(next(iterator))
    except StopIteration:
        return _Chunk(items, end=True)
    except Exception as error:
        return _Chunk(items, end=True, error=error)
    return _Chunk(items, end=False)


class _Saturated(ResourceExhausted):
    def __init__(self, what: str) -> None:
        super().__init__(
            "NODE_SATURATED", f"the node is serving as many {what} as it can; retry with backoff", metadata={}
        )


class Boundary:
    """Makes the handlers of servicers; one per server, sharing its thread pool and limits.

    With ``authenticator`` and ``policy``, every call is authenticated and authorised before its
    request is even decoded; without them (a server inside a test or a benchmark) every caller is
    anonymous and nothing is refused.
    """

    def __init__(
        self,
        executor: Executor,
        limits: ServingLimits | None = None,
        *,
        authenticator: Authenticator | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.executor = executor
        self.limits = limits or ServingLimits()
        self.authenticator, self.policy = authenticator, policy
        self.unary_waiting = 0
        self.streams_open = 0
        self._stream_ids = itertools.count(1)

    def service(self, descriptor: ServiceDescriptor, servicer: object) -> grpc.GenericRpcHandler[Any, Any]:
        """Handlers for every method of ``descriptor``; ``servicer`` must implement each one."""
        handlers: dict[str, grpc.RpcMethodHandler[Any, Any]] = {}
        for method in descriptor.methods:
            implementation = getattr(servicer, method.name, None)
            if implementation is None:
                raise TypeError(f"{type(servicer).__name__} does not implement {method.full_name}")
            handlers[method.name] = self._handler(method, implementation)
        return grpc.method_handlers_generic_handler(descriptor.full_name, handlers)

    # -- the shared steps ---------------------------------------------------------------------------

    async def _run(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(function, *args))

    def _call(self, name: str, context: grpc.aio.ServicerContext[Any, Any]) -> Call:
        """Who calls (verified), and the grant that lets them: refused here, before anything else."""
        if self.authenticator is None or self.policy is None:
            return Call(method=name)
        metadata = tuple(context.invocation_metadata() or ())
        principal = self.authenticator.identify(context.auth_context(), metadata)
        service, method = name.strip("/").split("/")
        grant = self.policy.authorize(principal, f"{service.rsplit('.', 1)[-1]}.{method}")
        return Call(method=name, principal=principal, grant=grant)

    @staticmethod
    async def _fail(
        name: str, context: grpc.aio.ServicerContext[Any, Any], error: BaseException, call: Call | None
    ) -> None:
        if isinstance(error, RegistryError):
            # The principal when it is known (a policy refusal names it), else the peer's address.
            who = call.actor if call is not None else error.metadata.get("principal", context.peer())
            logger.info(
                "%s refused for %s: %s %s: %s", name, who, error.code.name, error.reason, error.message
            )
            status = rpc_status.to_status(status_for(error))
        else:
            logger.error("%s failed unexpectedly", name, exc_info=error)
            status = rpc_status.to_status(INTERNAL)
        await context.abort(status.code, status.details, status.trailing_metadata)

    def _open_stream(self, close: Callable[[str], None]) -> Stream:
        if self.streams_open >= self.limits.max_streams:
            raise _Saturated("streams")
        self.streams_open += 1
        return Stream(id=next(self._stream_ids), close=close)

    # -- the handlers -------------------------------------------------------------------------------

    def _handler(
        self, method: MethodDescriptor, implementation: Callable[..., Any]
    ) -> grpc.RpcMethodHandler[Any, Any]:
        name = f"/{method.containing_service.full_name}/{method.name}"
        request_class = message_factory.GetMessageClass(method.input_type)
        if method.client_streaming and not method.server_streaming:
            raise TypeError(f"{method.full_name}: client streams without server streams are not served")
        if method.client_streaming:
            return grpc.stream_stream_rpc_method_handler(
                self._bidirectional(name, request_class, implementation), response_serializer=_serialize
            )
        if method.server_streaming:
            return grpc.unary_stream_rpc_method_handler(
                self._server_stream(name, request_class, implementation), response_serializer=_serialize
            )
        return grpc.unary_unary_rpc_method_handler(
            self._unary(name, request_class, implementation), response_serializer=_serialize
        )

    def _unary(
        self, name: str, request_class: type[Message], implementation: Callable[..., Any]
    ) -> Callable[[bytes, grpc.aio.ServicerContext[Any, Any]], Any]:
        async def handle(raw: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Message | None:
            call: Call | None = None
            try:
                call = self._call(name, context)
                if self.unary_waiting >= self.limits.unary_queue:
                    raise _Saturated("calls")
                self.unary_waiting += 1
                try:
                    answer: Message = await self._run(_invoke, implementation, request_class, raw, call)
                finally:
                    self.unary_waiting -= 1
                return answer
            except asyncio.CancelledError:
                logger.debug("%s cancelled by the client", name)
                raise
            except Exception as error:
                await self._fail(name, context, error, call)
            return None

        return handle

    def _server_stream(
        self, name: str, request_class: type[Message], implementation: Callable[..., Any]
    ) -> Callable[[bytes, grpc.aio.ServicerContext[Any, Any]], Any]:
        async def handle(raw: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> None:
            stream: Stream | None = None
            task = asyncio.current_task()
            loop = asyncio.get_running_loop()

            def close(why: str) -> None:
                logger.info("%s: %s", name, why)
                if task is not None:
                    loop.call_soon_threadsafe(task.cancel)

            call: Call | None = None
            try:
                call = self._call(name, context)
                stream = self._open_stream(close)
                call = dataclasses.replace(call, stream=stream)
                items: Iterator[Message] = await self._run(
                    lambda: iter(_invoke(implementation, request_class, raw, call))
                )
                while True:
                    chunk = await self._run(_take, items, _STREAM_CHUNK)
                    for item in chunk.items:
                        try:
                            await asyncio.wait_for(context.write(item), self.limits.write_timeout)
                        except TimeoutError:
                            logger.info(
                                "%s: the reader did not read for %ss; stream ended",
                                name,
                                self.limits.write_timeout,
                            )
                            return
                    if chunk.error is not None:
                        raise chunk.error
                    if chunk.end:
                        return
            except asyncio.CancelledError:
                logger.debug("%s ended: cancelled", name)
                raise
            except Exception as error:
                await self._fail(name, context, error, call)
            finally:
                if stream is not None:
                    self.streams_open -= 1
                    stream.ended()

        return handle

    def _bidirectional(
        self, name: str, request_class: type[Message], implementation: Callable[..., Any]
    ) -> Callable[[AsyncIterator[bytes], grpc.aio.ServicerContext[Any, Any]], Any]:
        async def handle(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext[Any, Any]) -> None:
            stream: Stream | None = None
            task = asyncio.current_task()
            loop = asyncio.get_running_loop()

            def close(why: str) -> None:
                logger.info("%s: %s", name, why)
                if task is not None:
                    loop.call_soon_threadsafe(task.cancel)

            call: Call | None = None
            try:
                call = self._call(name, context)
                stream = self._open_stream(close)
                call = dataclasses.replace(call, stream=stream)
                incoming = aiter(requests)
                while True:
                    try:
                        raw = await asyncio.wait_for(anext(incoming), self.limits.stream_idle_timeout)
                    except StopAsyncIteration:
                        return
                    except TimeoutError:
                        logger.info(
                            "%s: no request for %ss; stream ended", name, self.limits.stream_idle_timeout
                        )
                        return
                    answer: Message = await self._run(_invoke, implementation, request_class, raw, call)
                    await asyncio.wait_for(context.write(answer), self.limits.write_timeout)
            except asyncio.CancelledError:
                logger.debug("%s ended: cancelled", name)
                raise
            except TimeoutError:
                logger.info("%s: the peer did not read its answers; stream ended", name)
            except Exception as error:
                await self._fail(name, context, error, call)
            finally:
                if stream is not None:
                    self.streams_open -= 1
                    stream.ended()

        return handle
