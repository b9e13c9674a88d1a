"""A national node and provincial nodes as real processes on SQLite files, on fixed ports."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from common.gen.registry.v1 import sync_pb2
from common.gen.registry.v1 import sync_service_pb2 as ss
from common.gen.registry.v1 import sync_service_pb2_grpc as ss_grpc
from tests.nodes import ROOT, NodeProcess, free_port
from tests.trust import TESTER, channel, node_env, token

__all__ = ["Cluster"]


@dataclass
class Cluster:
    """A national node and provincial nodes on SQLite files in one folder, on fixed ports."""

    root: Path
    own_nodes: tuple[str, ...] = ("320000",)
    national_port: int = field(default_factory=free_port)
    processes: list[NodeProcess] = field(default_factory=list)
    #: Settings every node of the cluster gets on top of the ones below (a module's time limits).
    node_env: dict[str, str] = field(default_factory=dict)

    @property
    def national_address(self) -> str:
        return f"127.0.0.1:{self.national_port}"

    def db_url(self, name: str) -> str:
        return f"sqlite:///{self.root / (name + '.db')}"

    def national(self) -> NodeProcess:
        workdir = self.root / "national"
        workdir.mkdir(exist_ok=True)
        nodes = ", ".join(f'{{"region": "{n}"}}' for n in self.own_nodes)
        node = NodeProcess(
            "national_node",
            env={
                "REGISTRY_LISTEN": self.national_address,
                "REGISTRY_DATABASE_URL": self.db_url("national"),
                "REGISTRY_PROVINCIAL_NODES": f"[{nodes}]",
                "REGISTRY_DUTIES_INTERVAL": "0.2",
                "REGISTRY_CLOCK_SPEED": "172800",
                "REGISTRY_LOG_LEVEL": "WARNING",
                # The sync, partition and transfer tests search nothing: no indexer beside them.
                "REGISTRY_INDEXER__EMBEDDED": "false",
                **self.node_env,
            },
            cwd=workdir,
        )
        self.processes.append(node)
        return node

    def _province_env(self, region: str, in_process: bool) -> dict[str, str]:
        return {
            "REGISTRY_REGION": region,
            "REGISTRY_NATIONAL_ADDRESS": self.national_address,
            "REGISTRY_NATIONAL_TIMEOUT": "3",
            "REGISTRY_DATABASE_URL": self.db_url(region),
            "REGISTRY_DUTIES_INTERVAL": "0.2",
            "REGISTRY_CLOCK_SPEED": "172800",
            "REGISTRY_SYNC_IN_PROCESS": "true" if in_process else "false",
            "REGISTRY_LOG_LEVEL": "WARNING",
            # Code leases are the code-lease tests' (tests/integration/test_code_leases.py): the other
            # tests count what the national log holds.
            "REGISTRY_CODE_LEASES__ENABLED": "false",
            **self.node_env,
        }

    def province(self, region: str, *, in_process: bool = True) -> NodeProcess:
        workdir = self.root / region
        workdir.mkdir(exist_ok=True)
        node = NodeProcess("provincial_node", env=self._province_env(region, in_process), cwd=workdir)
        self.processes.append(node)
        return node

    def daemon(self, region: str) -> subprocess.Popen[str]:
        """The sync daemon as its own process."""
        env = {**os.environ, **node_env(region), **self._province_env(region, False)}
        with (self.root / f"daemon-{region}.log").open("a") as log:  # the child keeps its own copy
            process = subprocess.Popen(
                [sys.executable, "-m", "provincial_node.sync"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert process.stdout is not None
        assert "running" in process.stdout.readline()
        return process

    def sync(self, *, node: str | None = None) -> ss_grpc.SyncServiceStub:
        """SyncService of the national node: as the node ``node``, or as the tests' operator (a
        coordinator, so that it also works against nodes on the built-in policy)."""
        bearer = None if node else token("operator", (TESTER, "coordinator"))
        return ss_grpc.SyncServiceStub(
            channel(self.national_address, node=node, bearer=bearer, national=True)
        )

    def revive(self) -> list[NodeProcess]:
        """Start again each of the cluster's nodes that is not running (a test before left it killed or
        stopped); returns those started."""
        started = [node for node in self.processes if not node.running]
        for node in started:
            node.revive()
        return started

    def kill(self) -> None:
        for process in self.processes:
            process.kill()

    def state(self, region: str) -> sync_pb2.SyncState:
        return self.sync().GetSyncState(ss.GetSyncStateRequest(node=f"nodes/{region}"), timeout=5)
