"""How a process logs: human text (the default), or one JSON object a line for a log collector.

:func:`configure` is called once, in a process's ``main()`` (:func:`common.process.run_process`, the
national node's workers, the indexer child); library modules only ``logging.getLogger(__name__)``.

With ``[log] format = "json"`` every line on standard error is one JSON object::

    {"time": "2026-05-04T08:15:02.113Z", "level": "INFO", "logger": "common.rpc.handlers",
     "message": "...", "node": "320000", "role": "provincial", "pid": 4242,
     "method": "/registry.v1.RegistrationService/AcceptApplication",
     "principal": "zhang.san", "call_id": "5f0c9b1e2d3a4c6b", "request_id": "..."}

``time`` is RFC 3339 in UTC; ``node`` is the region of the node the process serves (``100000`` for the
national tier) and ``role`` which of its processes this is (``national``, ``provincial``, ``sync``,
``indexer``, ``portal``). A line logged while a call is served carries the call: its ``method``, its
``principal`` (as histories name callers: a person's token subject, ``nodes/320000``, or
``anonymous``; never a token, a certificate or anything the request holds), a ``call_id`` of its own,
and the request's AIP-155 ``request_id`` where it has one. An exception is the field ``exception`` (the
traceback as one string), never lines of its own; so are uncaught exceptions of threads and Python's
warnings.

The call's context lives in a :class:`contextvars.ContextVar`, set by the gRPC boundary
(:mod:`common.rpc.handlers`) once it knows the caller. It holds a small mutable object, so that what is
learnt in the servicer's thread (the request id, once the request is decoded) shows on the lines the
boundary logs afterwards too.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sys
import threading
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

__all__ = ["CallContext", "JsonFormatter", "TEXT_FORMAT", "bind_call", "call_context", "configure"]

#: The human format (the default): time, level, logger, message.
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

LogFormat = Literal["text", "json"]


@dataclass(slots=True)
class CallContext:
    """The call a line is logged under."""

    method: str
    call_id: str
    principal: str = ""
    request_id: str = ""


_CALL: ContextVar[CallContext | None] = ContextVar("registry_call", default=None)


def bind_call(method: str) -> CallContext:
    """Start a call's context (in the task that serves it) and return it, to fill in as the call goes."""
    context = CallContext(method=method, call_id=secrets.token_hex(8))
    _CALL.set(context)
    return context


def call_context() -> CallContext | None:
    """The call being served in this context, if any."""
    return _CALL.get()


class JsonFormatter(logging.Formatter):
    """One JSON object a line (see the module's documentation)."""

    def __init__(self, *, node: str, role: str) -> None:
        super().__init__()
        self.node, self.role = node, role
        self.pid = os.getpid()

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "node": self.node,
            "role": self.role,
            "pid": self.pid,
        }
        call = _CALL.get()
        if call is not None:
            line["method"] = call.method
            line["call_id"] = call.call_id
            if call.principal:
                line["principal"] = call.principal
            if call.request_id:
                line["request_id"] = call.request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(level: str, log_format: LogFormat = "text", *, node: str = "", role: str = "") -> None:
    """Send the process's log to standard error at ``level``, as text or as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter(node=node, role=role))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    if log_format == "json":
        # What would otherwise reach standard error as lines of its own goes through the log instead.
        logging.captureWarnings(True)
        threading.excepthook = _thread_failed
        sys.excepthook = _process_failed


def _thread_failed(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("threading").error("uncaught exception in thread %s", name, exc_info=args.exc_value)


def _process_failed(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, trace)
        return
    logging.getLogger("main").critical("uncaught exception", exc_info=(kind, value, trace))
