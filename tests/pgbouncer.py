"""PgBouncer in transaction mode in front of the tests' PostgreSQL server: Debian's ``pgbouncer``
(1.18 there), started as a process of the test with its own configuration, on a free port.

In transaction mode a client's transaction runs on whichever server connection is free, so nothing
may live in a session beyond one transaction; and PgBouncer before 1.21 does not carry prepared
statements from one server connection to another, which is why a node behind it runs with
``database.prepared_statements = false``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.nodes import free_port

__all__ = ["PGBOUNCER", "pgbouncer"]

#: The executable (Debian puts it in /usr/sbin), or None when it is not installed.
PGBOUNCER = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")


@contextlib.contextmanager
def pgbouncer(server_url: str, *, pool_size: int = 4) -> Iterator[str]:
    """PgBouncer in transaction mode in front of the server of ``server_url`` (any of its databases,
    as the same user, trusted), at most ``pool_size`` server connections per database; yields
    ``server_url`` with PgBouncer's host and port. Stopped (SIGTERM) afterwards."""
    if PGBOUNCER is None:
        raise RuntimeError("pgbouncer is not installed (Debian: apt-get install pgbouncer)")
    server = make_url(server_url)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="registry-pgbouncer-") as tmp:
        folder = Path(tmp)
        users = folder / "users.txt"
        users.write_text(f'"{server.username}" ""\n')
        config = folder / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {users}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 1000\n"
        )
        # PgBouncer refuses to run as root: as root, it reads its files and then becomes postgres.
        as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
        log = folder / "pgbouncer.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [PGBOUNCER, *as_user, str(config)], stdout=out, stderr=subprocess.STDOUT
            )
        url = server.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        try:
            _wait_for(url, process, log)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 15.0) -> None:
    """Until PgBouncer answers a query for the server's maintenance database."""
    admin = make_url(url).set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with psycopg.connect(conninfo, connect_timeout=2, prepare_threshold=None) as conn:
                conn.execute("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
