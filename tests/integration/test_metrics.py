"""Prometheus metrics, scraped by a real Prometheus (Debian's ``prometheus``, with ``promtool``).

* A small federation on SQLite (the national node with its search indexer, Jiangsu's node, the
  portal), every process serving ``/metrics``; the test assigns codes, replays one, makes refused
  calls and portal requests (one over its rate limit); a Prometheus started with a generated
  configuration scrapes every endpoint, and its query API answers what happened: codes assigned,
  AssignCode handled OK, refusals by the reason the caller was told, each province's sync series,
  the province's link to the national node up, the portal's requests by route template. Every
  endpoint's output passes ``promtool check metrics`` and names no registration and no code.
* The national node as two worker processes on PostgreSQL: one scrape of the host adds up both
  workers (every call made, counted once; both pools), and the database gauges come from one worker.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from common.metrics.telemetry import Telemetry
from common.rpc.status import details_of
from common.settings import MetricsSettings
from tests.cluster import Cluster
from tests.factories import make_uscc
from tests.nodes import NodeProcess, free_port, wait_until
from tests.portal_support import portal_env
from tests.sync_support import waiting_for_code
from tests.trust import channel, token

pytestmark = [pytest.mark.integration]

PROMETHEUS, PROMTOOL = shutil.which("prometheus"), shutil.which("promtool")
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None or PROMTOOL is None,
    reason="no prometheus/promtool: apt-get install prometheus (.ci/run installs it)",
)
#: A unified registration code anywhere in a label value would be private content leaking.
CODE = re.compile(r"[0-9A-HJ-NP-RTUW-Y]{19}")


def _scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=5) as reply:
        return str(reply.read().decode())


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(text: str, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in _samples(text).items() if n == name and wanted <= ls)


def _assert_clean(address: str) -> None:
    """``promtool check metrics`` passes, and no label value is a registration or a code."""
    text = _scrape(address)
    assert PROMTOOL is not None
    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    assert checked.returncode == 0, f"{address}: {checked.stdout}{checked.stderr}"
    for (name, labels), _ in _samples(text).items():
        for key, value in labels:
            assert "registrations/" not in value and not CODE.search(value), f"{name}{{{key}={value!r}}}"


def _announced(log: Path, timeout: float = 10.0) -> str:
    """The metrics address a process logged (it was given port 0)."""
    found: list[str] = []

    def look() -> bool:
        found[:] = re.findall(r"serving metrics on http://(\S+)/metrics", log.read_text())
        return bool(found)

    wait_until(look, timeout=timeout, message=f"the metrics address in {log}")
    return found[0]


class Prometheus:
    """A real Prometheus scraping ``targets`` every second, on its own storage, until stopped."""

    def __init__(self, root: Path, targets: dict[str, str]) -> None:
        assert PROMETHEUS is not None
        root.mkdir()
        jobs = [
            {"job_name": job, "scrape_interval": "1s", "static_configs": [{"targets": [address]}]}
            for job, address in targets.items()
        ]
        config = root / "prometheus.yml"
        config.write_text(json.dumps({"global": {"scrape_interval": "1s"}, "scrape_configs": jobs}))  # YAML
        self.address = f"127.0.0.1:{free_port()}"
        self.log = root / "prometheus.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={root / 'data'}",
                    f"--web.listen-address={self.address}",
                    "--storage.tsdb.retention.time=1h",
                ],
                stdout=log,
                stderr=log,
            )

    def query(self, expression: str) -> list[tuple[dict[str, str], float]]:
        url = f"http://{self.address}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        with urllib.request.urlopen(url, timeout=5) as reply:
            answer = json.load(reply)
        assert answer["status"] == "success", answer
        return [(r["metric"], float(r["value"][1])) for r in answer["data"]["result"]]

    def value(self, expression: str) -> float | None:
        """The single value of ``expression`` now (None: no series)."""
        result = self.query(expression)
        return result[0][1] if len(result) == 1 else None

    def up(self, jobs: int) -> bool:
        """Whether the last scrape of each of ``jobs`` targets succeeded."""
        try:
            found = self.query("up")
        except OSError:  # not listening yet
            return False
        return len(found) == jobs and all(v == 1 for _, v in found)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def prometheus_root(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "prometheus"


def _assign(national: NodeProcess, requests: list[ns.AssignCodeRequest]) -> list[str]:
    with channel(national.address, node="320000", national=True) as ch:
        stub = ns_grpc.NationalServiceStub(ch)
        return [stub.AssignCode(r, timeout=10).code for r in requests]


def _request(key: str) -> ns.AssignCodeRequest:
    return ns.AssignCodeRequest(
        node="nodes/320000",
        issuer="320000",
        object_type=1,
        registration=f"nodes/320000/registrations/r-{key}",
        subject_uscc=make_uscc("320106"),
        request_id=f"req-{key}",
    )


def _refusals(national: NodeProcess) -> list[tuple[grpc.StatusCode, str]]:
    """Two refused calls: a token that is no token (who), an applicant reading every link (what)."""
    told = []
    for bearer in ("not-a-token", token("wang.wu", ("applicant",))):
        with channel(national.address, bearer=bearer, national=True) as ch:
            with pytest.raises(grpc.RpcError) as refused:
                ss_grpc.SyncServiceStub(ch).ListSyncStates(ss.ListSyncStatesRequest(), timeout=5)
            details = details_of(refused.value)
            told.append((details.code, details.reason))
    return told


def test_port_0_serves_and_says_where(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        telemetry = Telemetry(MetricsSettings(listen="127.0.0.1:0"))
    try:
        assert telemetry.endpoint is not None
        host, port = telemetry.endpoint.address.rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        assert f"serving metrics on http://{telemetry.endpoint.address}/metrics" in caplog.text
        telemetry.grpc.refused(
            "/registry.v1.SyncService/ListSyncStates", grpc.StatusCode.UNAUTHENTICATED, "X"
        )
        body = httpx.get(f"http://{telemetry.endpoint.address}/metrics", timeout=5).text
        assert (
            'registry_rpc_refusals_total{grpc_code="Unauthenticated",grpc_method="ListSyncStates",'
            'grpc_service="registry.v1.SyncService",reason="X"} 1.0' in body
        )
    finally:
        telemetry.stop()


@needs_prometheus
def test_prometheus_scrapes_every_process_and_sees_what_happened(
    cluster: Cluster, tmp_path: Path, prometheus_root: Path
) -> None:
    cluster.own_nodes = ("320000", "440000")
    national_metrics, indexer_metrics, portal_metrics = (f"127.0.0.1:{free_port()}" for _ in range(3))
    national = cluster.national()
    national.env |= {
        "REGISTRY_METRICS__LISTEN": national_metrics,
        "REGISTRY_METRICS__INTERVAL": "0.5",
        "REGISTRY_INDEXER__EMBEDDED": "true",
        "REGISTRY_INDEXER__METRICS__LISTEN": indexer_metrics,
        "REGISTRY_INDEXER__METRICS__INTERVAL": "0.5",
    }
    national.start()
    province = cluster.province("320000")
    # Port 0: the province logs where it serves its metrics.
    province.env |= {
        "REGISTRY_METRICS__LISTEN": "127.0.0.1:0",
        "REGISTRY_METRICS__INTERVAL": "0.5",
        "REGISTRY_LOG_LEVEL": "INFO",
    }
    province.start()
    province_metrics = _announced(province.log)
    portal = NodeProcess(
        "national_node.portal",
        env=portal_env(
            national.address,
            cluster.db_url("national"),
            REGISTRY_PORTAL__METRICS__LISTEN=portal_metrics,
            REGISTRY_PORTAL__READ_BURST="4",
            REGISTRY_PORTAL__READS_PER_SECOND="0.01",
        ),
        cwd=tmp_path,
        ready="serving on",
    ).start()
    cluster.processes.append(portal)
    targets = {
        "national": national_metrics,
        "indexer": indexer_metrics,
        "portal": portal_metrics,
        "province": province_metrics,
    }
    prometheus = Prometheus(prometheus_root, targets)
    try:
        # What happens: five codes and a replay of one, two refusals, portal requests over a limit.
        requests = [_request(str(i)) for i in range(5)]
        waiting_for_code(cluster.db_url("national"), requests)
        codes = _assign(national, requests)
        assert _assign(national, requests[:1]) == codes[:1]  # a replay: no new code
        told = _refusals(national)
        assert [code for code, _ in told] == [
            grpc.StatusCode.UNAUTHENTICATED,
            grpc.StatusCode.PERMISSION_DENIED,
        ]
        statuses = []
        for path in ("/", f"/api/v1/codes/{codes[0]}", f"/api/v1/codes/{codes[1]}", "/api/v1/registrations"):
            try:
                with urllib.request.urlopen(f"{portal.address.rstrip('/')}{path}", timeout=10) as reply:
                    statuses.append(reply.status)
            except urllib.error.HTTPError as error:
                statuses.append(error.code)
        try:  # the fifth read within the burst of four
            urllib.request.urlopen(f"{portal.address.rstrip('/')}/api/v1/announcements", timeout=10)
            statuses.append(200)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)
        assert statuses[-1] == 429, statuses

        for address in targets.values():
            _assert_clean(address)

        wait_until(
            lambda: prometheus.up(len(targets)),
            timeout=20,
            interval=0.25,
            message=f"prometheus scraping every target: {targets}",
        )

        def seen() -> bool:
            return (
                prometheus.value("sum(registry_codes_assigned_total)") == 5
                and prometheus.value(
                    'sum(grpc_server_handled_total{job="national",grpc_method="AssignCode",grpc_code="OK"})'
                )
                == 6
                and prometheus.value('registry_sync_last_contact_timestamp_seconds{region="320000"} > 0')
                is not None
                and prometheus.value('registry_upstream_up{job="province"}') == 1
                and prometheus.value('sum(registry_portal_rate_limited_total{limit="reads"})') == 1
            )

        wait_until(seen, timeout=20, interval=0.25, message="the series of what the test did")
        # Refusals by the reason each caller was told.
        for code, reason in told:
            go_code = "Unauthenticated" if code == grpc.StatusCode.UNAUTHENTICATED else "PermissionDenied"
            assert (
                prometheus.value(
                    f'registry_rpc_refusals_total{{job="national",grpc_method="ListSyncStates",'
                    f'grpc_code="{go_code}",reason="{reason}"}}'
                )
                == 1
            ), reason
        assert prometheus.value('sum(grpc_server_handled_total{job="national",grpc_code="Internal"})') == 0
        # Streams count too: the province's upward stream and its downward pull.
        for method, kind in (("PushChanges", "bidi_stream"), ("PullChanges", "server_stream")):
            started = prometheus.value(
                f'grpc_server_started_total{{job="national",grpc_method="{method}",grpc_type="{kind}"}}'
            )
            assert started is not None and started >= 1, method
        assert (
            prometheus.value(
                'sum(grpc_server_handling_seconds_count{job="national",grpc_method="AssignCode"})'
            )
            == 6
        )
        # Every province that runs its own node has its sync series; the running one is caught up.
        regions = {m["region"] for m, _ in prometheus.query("registry_sync_lag_changes")}
        assert regions == {"320000", "440000"}
        assert prometheus.value('registry_sync_lag_changes{region="320000"}') == 0
        assert prometheus.value('registry_sync_last_contact_timestamp_seconds{region="440000"}') == 0
        assert (prometheus.value("registry_log_size_entries") or 0) >= 5
        assert prometheus.value("registry_log_checkpoint_size_entries") is not None
        expiry = prometheus.value('registry_tls_certificate_expiry_timestamp_seconds{job="national"}')
        assert expiry is not None and expiry > time.time() + 14 * 86400
        assert prometheus.value('registry_indexer_leader{job="indexer"}') == 1
        assert prometheus.value('registry_witness_alarms_open{job="province",kind="FORKED"}') == 0
        # The portal: by route template, never the path a client sent.
        routes = {m["route"] for m, _ in prometheus.query("registry_portal_requests_total")}
        assert "/api/v1/codes/{code}" in routes and not any(CODE.search(r) for r in routes), routes
        assert prometheus.value('sum(registry_portal_requests_total{route="/api/v1/codes/{code}"})') == 2
        assert prometheus.value('sum(registry_portal_requests_total{status="429"})') == 1
    finally:
        prometheus.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_one_scrape_of_a_host_adds_up_its_workers(postgres_url: str, tmp_path: Path) -> None:
    metrics = f"127.0.0.1:{free_port()}"
    national = NodeProcess(
        "national_node",
        env={
            "REGISTRY_DATABASE_URL": postgres_url,
            "REGISTRY_WORKERS": "2",
            "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}, {"region": "440000"}]',
            "REGISTRY_INDEXER__EMBEDDED": "false",
            "REGISTRY_LOG_LEVEL": "WARNING",
            "REGISTRY_METRICS__LISTEN": metrics,
            "REGISTRY_METRICS__INTERVAL": "0.5",
        },
        cwd=tmp_path,
    )
    requests = [_request(f"w{i}") for i in range(32)]
    waiting_for_code(postgres_url, requests)
    national.start()
    try:
        # A connection of its own per call: the kernel spreads them over both workers (32 connections
        # all to one of two workers: one chance in 2**31).
        for request in requests:
            _assign(national, [request])

        def sampled() -> str | None:
            text = _scrape(metrics)
            return text if "registry_sync_lag_changes{" in text else None

        # One scrape of the host: every call, whichever worker served it.
        text = wait_until(sampled, timeout=15, message="the database gauges")
        assert _value(text, "grpc_server_handled_total", grpc_method="AssignCode", grpc_code="OK") == 32
        assert _value(text, "grpc_server_started_total", grpc_method="AssignCode") == 32
        assert _value(text, "registry_codes_assigned_total") == 32
        # Both workers' pools (15 connections each of the default budget of 30), added up.
        assert _value(text, "registry_db_pool_size_connections") == 30
        # The database gauges: one series per province, from one worker (no pid label).
        lag = [ls for (n, ls), _ in _samples(text).items() if n == "registry_sync_lag_changes"]
        assert sorted(dict(ls)["region"] for ls in lag) == ["320000", "440000"]
        assert all(set(dict(ls)) == {"region"} for ls in lag)
        if PROMTOOL is not None:
            _assert_clean(metrics)
    finally:
        national.stop()
