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

   a stream's caller is checked again while it lasts (:mod:`common.rpc.watch`): before every request
   it applies, every chunk it sends, and four times a second; a stream whose certificate is revoked
   or expired, or whose token expired, ends with UNAUTHENTICATED (``CERT_REVOKED``, ...);

5. turns a :class:`~common.errors.RegistryError` into its ``google.rpc.Status``, logged as a client
   error in one line (the same refusal of the same caller again, as a poll repeats it, is counted
   and logged at most every :data:`REPEAT_WINDOW` seconds); a database that cannot serve the call now
   (:func:`common.db.refusal`: its pool exhausted, the server refusing connections) is
   RESOURCE_EXHAUSTED or UNAVAILABLE with a retry delay, logged as a WARNING once per
   :data:`DATABASE_WINDOW` seconds with the count of the others; anything else is logged once with its
   traceback and answered INTERNAL with a generic message. A call that ended under the handler (the
   client cancelled it or went away, or the server is stopping) ends quietly: one INFO line.

Saturation is answered, not queued for ever: more than ``unary_queue`` unary calls waiting for a thread,
or more than ``max_streams`` open streams, is RESOURCE_EXHAUSTED (``NODE_SATURATED``) at once, with a
retry delay.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from grpc_status import rpc_status

from common import logs, names
from common.db import refusal, summary
from common.errors import InvalidArgument, RegistryError, ResourceExhausted
from common.metrics.grpc import GrpcMetrics
from common.rpc import wellformed
from common.rpc.auth import Authenticator, Proof
from common.rpc.call import Call, Stream
from common.rpc.repeats import Repeats
from common.rpc.status import INTERNAL, status_for
from common.rpc.watch import Guard, StreamWatch
from common.security.policy import Policy, Scope
from common.security.scope import require_own_node

__all__ = ["Boundary", "ServingLimits", "decode"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_STREAM_CHUNK = 16  # server-stream items fetched per hop into the thread pool
#: Seconds within which the same refusal of the same caller is counted, not logged again.
REPEAT_WINDOW = 300.0
#: Seconds within which the database's refusals of the same kind (busy, unreachable) are counted, not
#: logged again: an operator sees a state that lasts once a minute, with how many calls it turned away.
DATABASE_WINDOW = 60.0
#: Seconds a caller turned away by a saturated node is told to wait before trying again.
SATURATED_RETRY_DELAY = 1.0
#: Refusals for the caller (who they are, what they may do), counted by reason in the metrics.
_REFUSALS = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})


def _ended(error: BaseException) -> bool:
    """Whether ``error`` is gRPC saying the call is over (the client cancelled it or went away, the
    server is stopping, or the status was sent): nothing the handler did wrong. An abort raises
    ``AbortError``, which is the handler's own answer."""
    return isinstance(error, grpc.aio.BaseError) and not isinstance(error, grpc.aio.AbortError)


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
    implementation: Callable[[Message, Call], T],
    request_class: type[Message],
    raw: bytes,
    call: Call,
    guard: Guard | None = None,
) -> T:
    """Check the caller again (a stream's ``guard``), decode and check the request, keep it within the
    caller's node if its grant says so, then run the servicer (in a thread of the pool: a large
    request's checks never hold the event loop)."""
    if guard is not None:
        guard()
    request = decode(request_class, raw)
    if "request_id" in request.DESCRIPTOR.fields_by_name and (context := logs.call_context()) is not None:
        context.request_id = getattr(request, "request_id")[:100]  # noqa: B009 - read by descriptor
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


def _take(iterator: Iterator[Message], count: int, guard: Guard | None = None) -> _Chunk:
    """Up to ``count`` items, once the caller is checked again; what came before a failure is kept, to
    be sent before the error."""
    items: list[Message] = []
    try:
        if guard is not None:
            guard()
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
            "NODE_SATURATED",
            f"the node is serving as many {what} as it can; retry with backoff",
            metadata={},
            retry_delay=SATURATED_RETRY_DELAY,
        )


class Boundary:
    """Makes the handlers of servicers; one per server, sharing its thread pool and limits.

    With ``authenticator`` and ``policy``, every call is authenticated and authorised before its
    request is even decoded; without them (a server inside a test or a benchmark) every caller is
    anonymous and nothing is refused. With ``metrics``, refusals of the caller are counted by reason.
    """

    def __init__(
        self,
        executor: Executor,
        limits: ServingLimits | None = None,
        *,
        authenticator: Authenticator | None = None,
        policy: Policy | None = None,
        metrics: GrpcMetrics | None = None,
    ) -> None:
        self.executor = executor
        self.metrics = metrics
        self.limits = limits or ServingLimits()
        self.authenticator, self.policy = authenticator, policy
        self.unary_waiting = 0
        self.streams_open = 0
        self._stream_ids = itertools.count(1)
        self._watch = StreamWatch()
        self._repeats = Repeats(REPEAT_WINDOW)
        self._database_repeats = Repeats(DATABASE_WINDOW)

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
        # The servicer's thread logs under the call's context (common.logs), as the boundary does.
        context = contextvars.copy_context()
        return await loop.run_in_executor(self.executor, context.run, functools.partial(function, *args))

    def _call(self, name: str, context: grpc.aio.ServicerContext[Any, Any]) -> tuple[Call, Proof | None]:
        """Who calls (verified), the grant that lets them, and what their credentials rest on: refused
        here, before anything else. What the log's lines of the call name (:mod:`common.logs`) is set
        here too: the method, then the caller once verified."""
        logged = logs.bind_call(name)
        if self.authenticator is None or self.policy is None:
            return Call(method=name), None
        metadata = tuple(context.invocation_metadata() or ())
        principal, proof = self.authenticator.authenticate(context.auth_context(), metadata)
        call = Call(method=name, principal=principal)
        logged.principal = call.actor
        service, method = name.strip("/").split("/")
        grant = self.policy.authorize(principal, f"{service.rsplit('.', 1)[-1]}.{method}")
        return dataclasses.replace(call, grant=grant), proof

    async def _fail(
        self, name: str, context: grpc.aio.ServicerContext[Any, Any], error: BaseException, call: Call | None
    ) -> None:
        if _ended(error):
            self._gone(name, error)
        if isinstance(error, RegistryError):
            if self.metrics is not None and error.code in _REFUSALS:
                self.metrics.refused(name, error.code, error.reason)
            # The principal when it is known (a policy refusal names it), else the peer's address.
            who = call.actor if call is not None else error.metadata.get("principal", context.peer())
            repeated = self._repeats.seen((name, who, error.code.name, error.reason))
            if repeated is None:
                logger.debug("%s refused again for %s: %s", name, who, error.reason)
            else:
                logger.info(
                    "%s refused for %s: %s %s: %s%s",
                    name,
                    who,
                    error.code.name,
                    error.reason,
                    error.message,
                    f" (and {repeated} times more since it was last logged)" if repeated else "",
                )
            status = rpc_status.to_status(status_for(error))
        elif (refused := refusal(error)) is not None:
            repeated = self._database_repeats.seen((refused.code.name, refused.reason))
            if repeated is None:
                logger.debug("%s: %s again", name, refused.reason)
            else:
                logger.warning(
                    "%s answered %s %s: %s%s",
                    name,
                    refused.code.name,
                    refused.reason,
                    summary(error),
                    f" (and {repeated} calls more since it was last logged)" if repeated else "",
                )
            status = rpc_status.to_status(status_for(refused))
        else:
            logger.error("%s failed unexpectedly", name, exc_info=error)
            status = rpc_status.to_status(INTERNAL)
        try:
            await context.abort(status.code, status.details, status.trailing_metadata)
        except grpc.aio.AbortError:
            raise
        except grpc.aio.BaseError as ended:
            self._gone(name, ended)

    @staticmethod
    def _gone(name: str, error: BaseException) -> NoReturn:
        """The call ended under the handler: one line, and the call ends as cancelled (gRPC would
        otherwise try to finish it, and log a server stop as a failure of the method)."""
        logger.info(
            "%s ended under its handler (%s): the client cancelled it or went away, or the node is stopping",
            name,
            type(error).__name__,
        )
        raise asyncio.CancelledError from None

    def _open_stream(
        self, close: Callable[[str], None], call: Call, proof: Proof | None
    ) -> tuple[Call, Guard | None]:
        """The call with its stream, and the guard that checks its caller while it lasts."""
        if self.streams_open >= self.limits.max_streams:
            raise _Saturated("streams")
        self.streams_open += 1
        stream = Stream(id=next(self._stream_ids), close=close)
        guard = None
        if self.authenticator is not None and proof is not None:
            guard = Guard(call.method, call.actor, self.authenticator, proof)
            self._watch.add(stream, guard)
        return dataclasses.replace(call, stream=stream), guard

    def _close_stream(self, stream: Stream) -> None:
        self.streams_open -= 1
        self._watch.discard(stream)
        stream.ended()

    @staticmethod
    def _failure(call: Call | None) -> RegistryError | None:
        """Why a stream's task was cancelled, if the boundary ended it with an error (its caller's
        credentials no longer hold); the task is then taken out of cancellation to send that error.
        None if the client, the server's stop or a newer stream of the same node cancelled it."""
        failure = call.stream.failure if call is not None and call.stream is not None else None
        task = asyncio.current_task()
        if failure is None or task is None:
            return None
        task.uncancel()
        return failure

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
                call, _ = self._call(name, context)
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
                call, proof = self._call(name, context)
                call, guard = self._open_stream(close, call, proof)
                stream = call.stream
                items: Iterator[Message] = await self._run(
                    lambda: iter(_invoke(implementation, request_class, raw, call, guard))
                )
                while True:
                    chunk = await self._run(_take, items, _STREAM_CHUNK, guard)
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
                if (failure := self._failure(call)) is None:
                    logger.debug("%s ended: cancelled", name)
                    raise
                await self._fail(name, context, failure, call)
            except Exception as error:
                await self._fail(name, context, error, call)
            finally:
                if stream is not None:
                    self._close_stream(stream)

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
                call, proof = self._call(name, context)
                call, guard = self._open_stream(close, call, proof)
                stream = call.stream
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
                    answer: Message = await self._run(
                        _invoke, implementation, request_class, raw, call, guard
                    )
                    await asyncio.wait_for(context.write(answer), self.limits.write_timeout)
            except asyncio.CancelledError:
                if (failure := self._failure(call)) is None:
                    logger.debug("%s ended: cancelled", name)
                    raise
                await self._fail(name, context, failure, call)
            except TimeoutError:
                logger.info("%s: the peer did not read its answers; stream ended", name)
            except Exception as error:
                await self._fail(name, context, error, call)
            finally:
                if stream is not None:
                    self._close_stream(stream)

        return handle
