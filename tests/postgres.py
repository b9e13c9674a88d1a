"""Where the tests get PostgreSQL from, in order:

1. ``TEST_DATABASE_URL`` (CI sets it; any database on a server where the user may CREATE DATABASE);
2. testcontainers, when a Docker engine answers;
3. a throwaway cluster started from local PostgreSQL binaries (``initdb``/``pg_ctl``);
4. otherwise the tests that need it are skipped with the reason.

Each test gets a database of its own, created for it and dropped after it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from common.settings import normalise_database_url
from tests.nodes import free_port


def _docker_answers() -> bool:
    """Whether a Docker engine answers a ping on its socket (DOCKER_HOST or the default)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        if host.startswith("unix://"):
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            conn.settimeout(3)
            with conn:
                conn.connect(host.removeprefix("unix://"))
                conn.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
                return b" 200 " in conn.recv(64)
        hostport = host.split("://", 1)[-1]
        with socket.create_connection(tuple(hostport.rsplit(":", 1)), timeout=3) as conn:
            conn.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return b" 200 " in conn.recv(64)
    except OSError:
        return False


def _local_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@contextlib.contextmanager
def postgres_server() -> Iterator[str | None]:
    """Yields an admin URL (psycopg form) of a server, or None with the reason in ``skip_reason``."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield normalise_database_url(url)
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:15", driver="psycopg") as container:
            yield container.get_connection_url()
        return
    bindir = _local_bin()
    if bindir is None or os.geteuid() == 0 and shutil.which("runuser") is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="registry-pg-") as tmp:
        port = free_port()
        data = Path(tmp) / "data"
        as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the cluster as the postgres user
            os.chmod(tmp, 0o777)
            as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run(
            [*as_user, bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres"],
            check=True,
            capture_output=True,
        )
        # -l: the server writes to a file; pipes it inherited would keep run() waiting for ever.
        pg_ctl = [*as_user, bindir / "pg_ctl", "-D", data, "-l", Path(tmp) / "server.log"]
        options = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1"
        subprocess.run([*pg_ctl, "-w", "-o", options, "start"], check=True, stdout=subprocess.DEVNULL)
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*pg_ctl, "-m", "immediate", "stop"], stdout=subprocess.DEVNULL)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Creates a database for one test; yields its URL; drops it afterwards."""
    name = f"registry_test_{uuid.uuid4().hex[:12]}"
    admin = _libpq(server_url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
