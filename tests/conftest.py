"""Shared fixtures: PostgreSQL databases and real node processes."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from common.db import Database, migrate
from national_node.server import MIGRATIONS as NATIONAL_MIGRATIONS
from tests.cluster import Cluster
from tests.nodes import NodeProcess, national_node_process
from tests.pgbouncer import PGBOUNCER, pgbouncer
from tests.postgres import fresh_database, postgres_server


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record a measured figure (a latency, a memory size): printed in the summary at the end of the run.

    The figure travels in the test's report, so a run split over workers (pytest-xdist) prints it too."""

    def add(line: str) -> None:
        request.node.user_properties.append(("figure", line))

    return add


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    figures = [
        value
        for reports in terminalreporter.stats.values()
        for test in reports
        if getattr(test, "when", None) == "teardown"
        for name, value in getattr(test, "user_properties", ())
        if name == "figure"
    ]
    if figures:
        terminalreporter.section("figures measured by the tests")
        for line in figures:
            terminalreporter.write_line(line)


# -- tests that measure time run alone ----------------------------------------------------------------
#
# The suite runs on several workers (pytest-xdist, ``-n`` in pyproject.toml). A test marked ``alone``
# asserts a bound in time (a revoked stream ends within a second, a partition heals within its bound),
# so no other test runs beside it: every test holds a shared lock on one file for its whole run (set-up
# to teardown), an ``alone`` test holds it exclusively. A second lock, held while waiting for the first,
# lets a waiting ``alone`` test in before the other workers' next tests.


@contextlib.contextmanager
def _turn(run: str, *, alone: bool) -> Iterator[None]:
    base = Path(tempfile.gettempdir()) / f"registry-tests-{run}"
    with open(f"{base}.turnstile", "a+b") as turnstile, open(f"{base}.lock", "a+b") as lock:
        fcntl.flock(turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(turnstile, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The order the workers take the tests in. pytest-xdist's ``worksteal`` gives each worker an equal
    part of the collection in order (the first worker the integration tests, the second the unit
    tests), and a worker that runs dry takes the back half of another's queue. So:

    * the ``alone`` tests first: each waits for the test the other worker is running to end, and the
      other worker runs one test between two of them. At the start that worker is in the unit tests,
      which end in a moment; later on, each ``alone`` test would wait out a federation's test;
    * then the modules with ``slow`` tests, so that a long test does not start when the other worker
      has nothing left to do;
    * then the rest, as collected.

    The sort is stable and moves whole modules (but for the ``alone`` tests, which start nodes of their
    own): a module's tests stay together and in their order, so that its shared federation is started
    once per worker."""
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("alone") is not None:
            return 0
        return 1 if item.path in slow else 2

    items[:] = sorted(items, key=rank)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:  # one process: nothing runs beside anything
        return (yield)
    with _turn(run, alone=item.get_closest_marker("alone") is not None):
        return (yield)


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
def pgbouncer_url(postgres_url: str) -> Iterator[str]:
    """The database of ``postgres_url`` through PgBouncer in transaction mode (a process of the test,
    at most four server connections), or a skip that says how to install it."""
    if PGBOUNCER is None:
        pytest.skip("no pgbouncer: apt-get install pgbouncer (.ci/run installs it)")
    with pgbouncer(postgres_url, pool_size=4) as url:
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
def national_node(tmp_path: Path) -> Iterator[NodeProcess]:
    """A national node process on a SQLite file (``node.db`` in ``tmp_path``), with 320000 and 440000
    running their own nodes."""
    node = national_node_process(tmp_path).start()
    yield node
    node.kill()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A national node and provincial nodes as processes on fixed ports; killed after the test."""
    c = Cluster(tmp_path)
    yield c
    for process in c.processes:
        process.kill()
