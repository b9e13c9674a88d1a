"""Coding load on real national node processes: requests for codes whose registrations wait in the
ledger, a client on the project's retry policy that counts what it was refused, the checks every code
must pass, and a count of the connections a database holds (pg_stat_activity)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import grpc
import psycopg
from sqlalchemy.engine import make_url

from common import codes
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from common.retry import retrying
from tests.factories import make_uscc
from tests.nodes import NodeProcess
from tests.sync_support import waiting_for_code

__all__ = [
    "Calls",
    "ConnectionSampler",
    "assert_unique_and_gapless",
    "code_requests",
    "libpq",
    "national",
]

PROVINCIAL_NODES = '[{"region": "320000"}, {"region": "440000"}]'
DIVISIONS = {"320000": "320106", "440000": "440305"}


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def national(database_url: str, workdir: Path, **settings: str) -> NodeProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        "REGISTRY_DATABASE_URL": database_url,
        "REGISTRY_PROVINCIAL_NODES": PROVINCIAL_NODES,
        "REGISTRY_WORKERS": "1",  # one process each (a test of several says so), each its own pool
        **{f"REGISTRY_{name.upper()}": value for name, value in settings.items()},
    }
    return NodeProcess("national_node", env=env, cwd=workdir)


def code_requests(database_url: str, count: int) -> list[ns.AssignCodeRequest]:
    """``count`` requests for codes, each for a registration the national ledger holds, waiting."""
    subjects = {node: make_uscc(division) for node, division in DIVISIONS.items()}
    requests = []
    for i in range(count):
        node = "320000" if i % 2 else "440000"
        requests.append(
            ns.AssignCodeRequest(
                node=f"nodes/{node}",
                issuer=node,
                object_type=1 + i % 3,
                registration=f"nodes/{node}/registrations/r-{uuid.uuid4().hex[:12]}",
                subject_uscc=subjects[node],
                request_id=str(uuid.uuid4()),
            )
        )
    waiting_for_code(database_url, requests)
    return requests


class Calls:
    """AssignCode as a province calls it: on the project's retry policy (common.retry), counting every
    failed attempt by its code, and when each attempt was made."""

    def __init__(self) -> None:
        self.failed: Counter[str] = Counter()
        self.attempts: dict[str, list[float]] = defaultdict(list)
        self._lock = threading.Lock()

    def assign(self, stub: ns_grpc.NationalServiceStub, request: ns.AssignCodeRequest) -> str:
        for attempt in retrying(idempotent=True, max_attempts=20, max_seconds=60):
            with attempt:
                with self._lock:
                    self.attempts[request.request_id].append(time.monotonic())
                try:
                    return stub.AssignCode(request, timeout=30).code
                except grpc.RpcError as error:
                    with self._lock:
                        self.failed[error.code().name] += 1
                    raise
        raise AssertionError("unreachable")


def assert_unique_and_gapless(issued: dict[str, str]) -> None:
    assert len(set(issued.values())) == len(issued), "a code was issued twice"
    serials: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    for code in issued.values():
        parsed = codes.parse(code)
        serials[(parsed.issuer, parsed.object_type, parsed.year)].append(parsed.serial)
    for namespace, found in serials.items():
        assert sorted(found) == list(range(1, len(found) + 1)), namespace


class ConnectionSampler:
    """Counts the client connections to one database in pg_stat_activity, every few milliseconds, from a
    connection to another database of the server (so it does not count itself)."""

    def __init__(self, server_url: str, database: str, interval: float = 0.01) -> None:
        self.server_url, self.database, self.interval = libpq(server_url), database, interval
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-sampler", daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = %s AND backend_type = 'client backend'",
                    (self.database,),
                ).fetchone()
                self.samples.append(int(row[0]) if row else 0)
                self._stop.wait(self.interval)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)
