"""Many callers, several national node processes, one database: every code once, in order, for good.

The workload, per client thread: new requests (each a new registration), repeats of its own earlier
request ids sent to the *other* process, and request ids shared with a twin thread so that two first
attempts race each other. Afterwards, every answer is checked against every other and against the
database.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from common import codes
from common.gen.registry.v1 import national_service_pb2 as ns
from common.gen.registry.v1 import national_service_pb2_grpc as ns_grpc
from tests.factories import make_uscc
from tests.nodes import NodeProcess
from tests.sync_support import waiting_for_code
from tests.trust import channel as tls_channel
from tests.trust import token

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NODES = ("320000", "440000", "100000")
DIVISIONS = {"320000": "320106", "440000": "440305", "100000": "110000"}
PROVINCIAL_NODES = '[{"region": "320000"}, {"region": "440000"}]'


def _start_nodes(database_url: str, tmp_path: Path, count: int) -> list[NodeProcess]:
    nodes = []
    for i in range(count):
        workdir = tmp_path / f"national-{i}"
        workdir.mkdir()
        env = {
            "REGISTRY_DATABASE_URL": database_url,
            "REGISTRY_PROVINCIAL_NODES": PROVINCIAL_NODES,
            "REGISTRY_WORKERS": "1",  # two separate nodes (two hosts) on one database
        }
        nodes.append(NodeProcess("national_node", env=env, cwd=workdir).start())
    return nodes


def _run_workload(
    database_url: str, addresses: list[str], clients: int, new_per_client: int
) -> dict[str, set[str]]:
    """Returns, per request id, the set of codes the callers were given for it (should be one)."""
    channels = [tls_channel(a, bearer=token()) for a in addresses]
    stubs = [ns_grpc.NationalServiceStub(c) for c in channels]
    subjects = {node: make_uscc(DIVISIONS[node]) for node in NODES}
    answers: dict[str, set[str]] = defaultdict(set)

    def request(node: str, key: str, object_type: int) -> ns.AssignCodeRequest:
        return ns.AssignCodeRequest(
            node=f"nodes/{node}",
            issuer=node,
            object_type=object_type,
            registration=f"nodes/{node}/registrations/r-{key}",
            subject_uscc=subjects[node],
            request_id=f"req-{key}",
        )

    def node_of(i: int) -> str:
        return NODES[(i % (clients // 2)) % len(NODES)]  # thread i and its twin i + clients/2 share a node

    # Every registration asked for is in the ledger, waiting for its code, as the nodes' feeds put it.
    asked = {
        r.registration: r
        for i in range(clients)
        for k in range(new_per_client)
        for r in (
            request(node_of(i), f"{i}-{k}", 1 + k % 3),
            request(node_of(i), f"shared-{i % (clients // 2)}-{k}", 2),
        )
        if not r.request_id.startswith("req-shared") or k % 20 == 0
    }
    waiting_for_code(database_url, asked.values())

    def client(i: int) -> list[tuple[str, str]]:
        node = node_of(i)
        own, other = stubs[i % len(stubs)], stubs[(i + 1) % len(stubs)]
        got: list[tuple[str, str]] = []
        sent: list[ns.AssignCodeRequest] = []
        for k in range(new_per_client):
            r = request(node, f"{i}-{k}", 1 + k % 3)
            got.append((r.request_id, own.AssignCode(r, timeout=60).code))
            sent.append(r)
            if k % 10 == 9:  # a retry of an earlier request, to the other process
                again = sent[k - 5]
                got.append((again.request_id, other.AssignCode(again, timeout=60).code))
            if k % 20 == 0:  # the twin thread sends the same request at about the same time
                twin = request(node, f"shared-{i % (clients // 2)}-{k}", 2)
                got.append((twin.request_id, own.AssignCode(twin, timeout=60).code))
        return got

    try:
        with ThreadPoolExecutor(clients) as pool:
            for got in pool.map(client, range(clients)):
                for request_id, code in got:
                    answers[request_id].add(code)
    finally:
        for channel in channels:
            channel.close()
    return answers


def _check(answers: dict[str, set[str]], database_url: str, expected_codes: int) -> None:
    # Each request id got one code, however often and wherever it was sent.
    assert all(len(c) == 1 for c in answers.values()), [r for r, c in answers.items() if len(c) > 1][:5]
    issued = [next(iter(c)) for c in answers.values()]
    assert len(issued) == expected_codes
    assert len(set(issued)) == len(issued), "a code was issued for two requests"
    # Every code valid; serials in each namespace are exactly 1..n (sequential, none skipped).
    serials: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    for code in issued:
        parsed = codes.parse(code)
        serials[(parsed.issuer, parsed.object_type, parsed.year)].append(parsed.serial)
    for namespace, found in serials.items():
        assert sorted(found) == list(range(1, len(found) + 1)), namespace
    # The database holds exactly what the callers were told.
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            stored = dict(conn.execute(text("SELECT request_id, code FROM code_assignments")).all())
    finally:
        engine.dispose()
    assert stored == {r: next(iter(c)) for r, c in answers.items()}


def _expected(clients: int, new_per_client: int) -> int:
    shared = len(range(0, new_per_client, 20)) * (clients // 2)
    return clients * new_per_client + shared


@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_two_processes_on_postgresql_16_clients_over_5000_codes(postgres_url: str, tmp_path: Path) -> None:
    clients, per_client = 16, 320
    assert _expected(clients, per_client) >= 5_000
    nodes = _start_nodes(postgres_url, tmp_path, 2)
    try:
        answers = _run_workload(postgres_url, [n.address for n in nodes], clients, per_client)
    finally:
        for node in nodes:
            node.kill()
    _check(answers, postgres_url, _expected(clients, per_client))


def test_two_processes_on_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'national.db'}"
    clients, per_client = 16, 60
    nodes = _start_nodes(url, tmp_path, 2)
    try:
        answers = _run_workload(url, [n.address for n in nodes], clients, per_client)
    finally:
        for node in nodes:
            node.kill()
    _check(answers, url, _expected(clients, per_client))
