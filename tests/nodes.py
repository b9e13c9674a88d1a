"""Real node processes for integration tests: started as an operator would, killed as a crash would."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

import grpc

from tests.trust import channel, node_env, token, trust

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent


def child_pids(pid: int) -> list[int]:
    """The children of every thread of ``pid`` (Linux: a child belongs to the thread that started it)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            children += [int(p) for p in (task / "children").read_text().split()]
    return children


_TEMPLATES: dict[str, Path] = {}
_TEMPLATES_LOCK = threading.Lock()


def _schema_template(tier: str) -> Path:
    """A SQLite file migrated to the newest revision of ``tier``'s schema, made once per test process."""
    with _TEMPLATES_LOCK:
        if tier not in _TEMPLATES:
            from common.db import Database, migrate

            if tier == "national_node":
                from national_node.server import MIGRATIONS
            else:
                from provincial_node.server import MIGRATIONS
            path = Path(tempfile.mkdtemp(prefix="schema-")) / f"{tier}.db"
            db = Database(f"sqlite:///{path}")
            migrate(db.engine, MIGRATIONS)
            db.dispose()  # the last connection closed: the WAL is folded into the file
            _TEMPLATES[tier] = path
        return _TEMPLATES[tier]


def seed_schema(module: str, database_url: str) -> None:
    """Start a node on a new SQLite file from a migrated copy, so that its start skips the migrations
    (a third of a national node's start). The migrations from an empty database are the unit tests'
    and the walkthrough's (``migrated=False``); a file that exists is left as it is."""
    tier = module.split(".", 1)[0]
    prefix = "sqlite:///"
    if tier not in ("national_node", "provincial_node") or not database_url.startswith(prefix):
        return
    path = Path(database_url[len(prefix) :].split("?", 1)[0])
    if path.exists() or not path.parent.is_dir():
        return
    shutil.copyfile(_schema_template(tier), path)


def free_port() -> int:
    """A port nothing listens on now, for a node that must come back where it was after a restart."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NodeProcess:
    """``python -m <module>`` on port 0; the bound address is read from its first stdout line.

    ``ready`` is what that line must contain (``listening on`` for a server; a process that serves
    nothing, such as the stand-alone sync daemon, announces something else); its last word becomes
    :attr:`address`.

    A node (``national_node``, ``provincial_node``, ``provincial_node.sync``) gets its certificate and
    the tests' token issuer (:func:`tests.trust.node_env`; ``strict`` for the built-in policy), unless
    ``env`` sets them itself.
    """

    def __init__(
        self,
        module: str,
        *,
        env: Mapping[str, str],
        cwd: Path,
        args: tuple[str, ...] = (),
        ready: str = "listening on",
        strict: bool = False,
        without_env: tuple[str, ...] = (),
        migrated: bool = True,
    ) -> None:
        self.module, self.env, self.cwd, self.args, self.ready = module, dict(env), cwd, args, ready
        self.strict = strict
        #: Prefixes of settings left out of the environment (a node of an older version knows fewer).
        self.without_env = without_env
        #: Whether a new SQLite database starts as a copy of a migrated one (:func:`seed_schema`).
        self.migrated = migrated
        self.process: subprocess.Popen[str] | None = None
        self.address = ""
        self.log = cwd / f"{module}.log"

    @property
    def region(self) -> str | None:
        if self.module == "national_node":
            return "100000"
        if self.module.startswith("provincial_node"):
            return self.env.get("REGISTRY_REGION")
        return None

    def start(self, timeout: float = 30.0) -> NodeProcess:
        trust_env = node_env(self.region, strict=self.strict) if self.region else {}
        env = {**os.environ, "REGISTRY_LISTEN": "127.0.0.1:0", **trust_env, **self.env}
        env = (
            {k: v for k, v in env.items() if not k.startswith(self.without_env)} if self.without_env else env
        )
        if self.migrated and not self.without_env:
            seed_schema(self.module, env.get("REGISTRY_DATABASE_URL", ""))
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                cwd=self.cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        if not line or self.ready not in line[0]:
            self.kill()
            raise RuntimeError(f"{self.module} did not start; its log:\n{self.log.read_text()[-4000:]}")
        self.address = line[0].rsplit(" ", 1)[1].strip()
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def revive(self) -> NodeProcess:
        """Start the node again if it is not running (a test before left it killed or stopped), on the
        same database and settings: for a node that several tests share."""
        if not self.running:
            self._close()
            self.start()
        return self

    def channel(self, *, node: str | None = None, bearer: str | None = None) -> grpc.Channel:
        """A mutual-TLS channel to the node: as the node ``node`` (its certificate), or as a person with
        ``bearer`` (default: the tests' token that may call everything, unless ``node`` is given)."""
        if node is None and bearer is None:
            bearer = token()
        return channel(self.address, node=node, bearer=bearer)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or power cut."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._close()

    def _close(self) -> None:
        if self.process and self.process.stdout and not self.process.stdout.closed:
            self.process.stdout.close()

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM: the graceful stop an init system would ask for."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._close()
        return code


def national_node_process(workdir: Path) -> NodeProcess:
    """A national node (not started yet) on a SQLite file ``node.db`` in ``workdir``, with 320000 and
    440000 running their own nodes, and no search indexer (its tests search nothing)."""
    return NodeProcess(
        "national_node",
        env={
            "REGISTRY_DATABASE_URL": f"sqlite:///{workdir / 'node.db'}",
            "REGISTRY_PROVINCIAL_NODES": '[{"region": "320000"}, {"region": "440000"}]',
            "REGISTRY_INDEXER__EMBEDDED": "false",
        },
        cwd=workdir,
    )


def wait_until(
    condition: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.05, message: str = "condition"
) -> T:
    """Poll ``condition`` until it returns a truthy value, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def registryctl(
    node: str, *args: str, bearer: str | None = None, national: str | None = None, json_output: bool = True
) -> subprocess.CompletedProcess[str]:
    """``registryctl`` as an operator runs it: the console script installed beside this interpreter,
    against the node at ``node`` (and the national node at ``national``), with the tests' CA and the
    tool certificate ``tester``, as the person of ``bearer`` (none: anonymous)."""
    local = trust()
    command = [
        str(Path(sys.executable).parent / "registryctl"),
        "--node",
        node,
        "--ca",
        str(local.ca_file),
        "--cert",
        str(local.client_cert_file("tester")),
        "--key",
        str(local.client_key_file("tester")),
    ]
    if national:
        command += ["--national", national]
    if bearer:
        command += ["--token", bearer]
    if json_output:
        command.append("--json")
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, cwd=ROOT)
