"""Shared fixtures: PostgreSQL databases and real node processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from common.db import Database, migrate
from national_node.server import MIGRATIONS as NATIONAL_MIGRATIONS
from tests.cluster import Cluster
from tests.nodes import NodeProcess
from tests.postgres import fresh_database, postgres_server

_FIGURES: list[str] = []


@pytest.fixture
def report() -> Callable[[str], None]:
    """Record a measured figure (a latency, a memory size): printed in the summary at the end of the run."""
    return _FIGURES.append


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("figures measured by the tests")
        for line in _FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    with postgres_server() as url:
        if url is None:
            pytest.skip("no PostgreSQL: set TEST_DATABASE_URL, run a Docker engine, or install PostgreSQL")
        yield url


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    with fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'node.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def national_database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A national node's database, migrated, once on SQLite and once on PostgreSQL."""
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    db = Database(url, pool_size=8)
    migrate(db.engine, NATIONAL_MIGRATIONS)
    yield db
    db.dispose()


@pytest.fixture
def national_node(tmp_path: Path, sqlite_url: str) -> Iterator[NodeProcess]:
    """A national node process on a SQLite file, with 320000 and 440000 running their own nodes."""
    node = NodeProcess(
        "national_node",
        env={
            "REGISTRY_DATABASE_URL": sqlite_url,
            "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}, {"region": "440000"}]',
        },
        cwd=tmp_path,
    ).start()
    yield node
    node.kill()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A national node and provincial nodes as processes on fixed ports; killed after the test."""
    c = Cluster(tmp_path)
    yield c
    for process in c.processes:
        process.kill()
