"""The metrics' pieces in-process: the setting, the gRPC codes' spelling, the portal's labels (route
templates, never paths), the sampler's resilience, the pool's waits."""

from __future__ import annotations

import asyncio
import logging
import threading

import grpc
import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from common.db import Database
from common.metrics.grpc import GO_CODES
from common.metrics.telemetry import Sampler, Telemetry
from common.settings import MetricsSettings
from national_node.portal.metrics import MeasuredRequests, PortalMetrics


def _samples(registry: CollectorRegistry) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }


def test_the_setting_is_off_unless_set_and_takes_only_host_port() -> None:
    assert MetricsSettings().listen == ""
    assert Telemetry.of(MetricsSettings()) is None
    assert MetricsSettings(listen="127.0.0.1:0").listen == "127.0.0.1:0"
    assert MetricsSettings(listen="[::1]:9450").listen == "[::1]:9450"
    for bad in ("9450", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000"):
        with pytest.raises(ValidationError):
            MetricsSettings(listen=bad)


def test_every_grpc_status_has_gos_spelling() -> None:
    assert set(GO_CODES) == set(grpc.StatusCode)
    assert GO_CODES[grpc.StatusCode.CANCELLED] == "Canceled"  # Go's spelling, as dashboards expect
    assert GO_CODES[grpc.StatusCode.PERMISSION_DENIED] == "PermissionDenied"


def _app(metrics: PortalMetrics) -> Starlette:
    async def thing(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    async def boom(request: object) -> PlainTextResponse:
        raise RuntimeError("unexpected")

    app = Starlette(routes=[Route("/things/{id}", thing), Route("/boom", boom)])
    app.add_middleware(MeasuredRequests, metrics=metrics)
    return app


def test_the_portal_counts_by_route_template_never_by_path() -> None:
    telemetry = Telemetry(MetricsSettings())  # no endpoint: listen unset
    metrics = PortalMetrics(telemetry)
    app = _app(metrics)

    async def requests() -> list[int]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            answers = [
                await client.get("/things/132000027000000001Q"),
                await client.get("/things/another"),
                await client.get("/no/such/page/132000027000000001Q"),
                await client.request("BREW", "/things/x"),
                await client.get("/boom"),
            ]
        return [a.status_code for a in answers]

    assert asyncio.run(requests()) == [200, 200, 404, 405, 500]
    counted = {
        dict(labels)["route"] + " " + dict(labels)["method"] + " " + dict(labels)["status"]: value
        for (name, labels), value in _samples(telemetry.registry).items()
        if name == "registry_portal_requests_total"
    }
    assert counted == {
        "/things/{id} GET 200": 2,
        "unmatched GET 404": 1,
        "/things/{id} other 405": 1,
        "/boom GET 500": 1,
    }
    assert not any("132000027000000001Q" in key for key in counted)


def test_a_failing_probe_leaves_the_others_sampled_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sampler = Sampler(interval=60)
    ran: list[str] = []

    def broken() -> None:
        raise ValueError("the file is gone")

    sampler.add("a broken probe", broken)
    sampler.add("a good probe", lambda: ran.append("good"))
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            sampler.run_once()
    assert ran == ["good", "good", "good"]
    assert caplog.text.count("sampling a broken probe for the metrics failed") == 1


def test_the_pool_reports_its_waits_and_the_waits_that_gave_up(tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/pool.db", pool_size=1, pool_timeout=0.2)
    telemetry = Telemetry(MetricsSettings())
    telemetry.watch_database(db)
    try:
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                held.set()
                release.wait(5)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(5)
        telemetry.sampler.run_once()
        # SQLite's pool has an overflow as large as the pool: the second connection is made at once,
        # the third waits for pool_timeout and gives up.
        with db.engine.connect(), pytest.raises(Exception, match="QueuePool limit"):
            with db.engine.connect():
                pass
        in_use = _samples(telemetry.registry)[("registry_db_pool_connections_in_use", frozenset())]
        release.set()
        holder.join(5)
        samples = _samples(telemetry.registry)
        assert in_use == 1
        assert samples[("registry_db_pool_timeouts_total", frozenset())] == 1
        assert samples[("registry_db_pool_wait_seconds_count", frozenset())] == 3
        assert samples[("registry_db_pool_wait_seconds_sum", frozenset())] >= 0.2
        assert samples[("registry_db_pool_size_connections", frozenset())] == 2
    finally:
        db.dispose()
