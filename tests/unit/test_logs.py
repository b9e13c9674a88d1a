"""JSON log lines: one object a line, exceptions as a field, the call's context on its lines only."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest

from common import logs
from common.settings import NodeSettings


def _line(record: logging.LogRecord) -> dict[str, object]:
    text = logs.JsonFormatter(node="320000", role="provincial").format(record)
    assert "\n" not in text, "one line"
    parsed = json.loads(text)
    assert isinstance(parsed, dict)
    return parsed


def _record(message: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("x.y", logging.ERROR, __file__, 1, message, args, exc_info)  # type: ignore[arg-type]


def test_an_exception_is_a_field_of_its_line() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError as error:
        line = _line(_record("failed %s", "here", exc_info=(ValueError, error, error.__traceback__)))
    assert line["message"] == "failed here"
    assert line["level"] == "ERROR" and line["logger"] == "x.y" and line["node"] == "320000"
    assert "Traceback" in str(line["exception"]) and "second line" in str(line["exception"])
    assert str(line["time"]).endswith("Z")


def test_a_call_s_context_reaches_the_servicer_s_thread_and_stays_in_its_call() -> None:
    lines: list[dict[str, object]] = []

    def servicer() -> None:
        context = logs.call_context()
        assert context is not None
        context.request_id = "req-1"  # learnt in the thread, seen by the call's later lines
        lines.append(_line(_record("in the servicer")))

    async def call(executor: ThreadPoolExecutor) -> dict[str, object]:
        logs.bind_call("/registry.v1.X/Y").principal = "nodes/320000"
        copied = contextvars.copy_context()
        await asyncio.get_running_loop().run_in_executor(executor, copied.run, servicer)
        return _line(_record("after"))

    async def main() -> dict[str, object]:
        with ThreadPoolExecutor(1) as executor:
            return await asyncio.create_task(call(executor))

    after = asyncio.run(main())
    assert lines[0]["method"] == "/registry.v1.X/Y" and lines[0]["principal"] == "nodes/320000"
    assert after["request_id"] == "req-1" and after["call_id"] == lines[0]["call_id"]
    outside = _line(_record("no call"))
    assert "method" not in outside and "principal" not in outside


def test_the_older_log_level_setting_still_counts_and_a_bad_level_is_refused() -> None:
    assert NodeSettings(log_level="warning").logging_level == "WARNING"
    assert NodeSettings(log_level="warning", log={"level": "debug"}).logging_level == "DEBUG"
    assert NodeSettings().log.format == "text"
    with pytest.raises(ValueError, match="no log level"):
        NodeSettings(log={"level": "loud"})
