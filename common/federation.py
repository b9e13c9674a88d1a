"""``registry-federation``: the main job on one machine: a national node and provincial nodes.

Starts ``python -m national_node --config deploy/national.toml``, one
``python -m provincial_node --config deploy/provincial-*.toml`` per provincial configuration, and the
public portal (``python -m national_node.portal``, http://127.0.0.1:8000/), on the embedded SQLite
default (files under ``data/``), prints where each serves, and stops them all on Ctrl-C or SIGTERM. A
process that dies is reported and the others are stopped.

Every process serves Prometheus metrics (``[metrics] listen``, given here in the environment): the
national node on 127.0.0.1:9450, its search indexer on 9451, the portal on 9452, the provincial nodes
from 9460 on, in the order of their files; ``deploy/prometheus/prometheus.yml`` scrapes them.

On its first run it makes the federation's trust material under ``data/`` (a local CA and its
revocation list, a certificate per node, a development token issuer; see
:mod:`common.security.local`), so that every node serves mutual TLS and checks bearer tokens from the
start, and prints how to get a token for development.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from common.regions import NATIONAL
from common.security.local import LocalTrust

__all__ = ["main"]


#: Where each process serves its metrics (see the module's docs).
NATIONAL_METRICS, INDEXER_METRICS, PORTAL_METRICS = "127.0.0.1:9450", "127.0.0.1:9451", "127.0.0.1:9452"
PROVINCIAL_METRICS_PORT = 9460


def _start(module: str, config: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", module, "--config", str(config)], env=env)


def _metrics_env(env: dict[str, str], **listen: str) -> dict[str, str]:
    """``env`` with the metrics endpoints of one process (``METRICS``, ``INDEXER__METRICS``...)."""
    return env | {f"REGISTRY_{name}__LISTEN": address for name, address in listen.items()}


def _region_of(config: Path) -> str:
    with config.open("rb") as file:
        return str(tomllib.load(file)["region"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="registry-federation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--deploy",
        type=Path,
        default=Path("deploy"),
        help="folder with national.toml and provincial-*.toml (default: deploy)",
    )
    parser.add_argument(
        "--clock-speed",
        type=float,
        default=None,
        metavar="N",
        help="SIMULATION: run every node's clock N times faster than real time (86400 = a day every"
        " seconds), so a walkthrough sees announcements close; never for real registrations",
    )
    options = parser.parse_args(argv)
    env = dict(os.environ)
    if options.clock_speed:
        # One simulated time for every node: the same start, counted from the same real instant.
        now = datetime.now(UTC).isoformat()
        env |= {
            "REGISTRY_CLOCK_SPEED": str(options.clock_speed),
            "REGISTRY_CLOCK_START": env.get("REGISTRY_CLOCK_START", now),
            "REGISTRY_CLOCK_ANCHOR": now,
            "REGISTRY_DUTIES_INTERVAL": "1",
        }
    national = options.deploy / "national.toml"
    provincial = sorted(options.deploy.glob("provincial-*.toml"))
    if not national.is_file():
        sys.stderr.write(f"registry-federation: {national} not found (run from the project folder)\n")
        return 2
    trust = LocalTrust(Path("data"))
    regions = [NATIONAL, *(_region_of(c) for c in provincial)]
    issued = trust.ensure(regions, clients=("registryctl", "portal"))
    trust.issuer()
    issued += trust.ensure_log_keys([r for r in regions if r != NATIONAL])
    if issued:
        sys.stdout.write(
            f"registry-federation: made the local CA, certificates and log keys for {', '.join(issued)}"
            " under data/pki and data/log\n"
        )
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    national_env = _metrics_env(env, METRICS=NATIONAL_METRICS, INDEXER__METRICS=INDEXER_METRICS)
    processes = [("national_node", national, _start("national_node", national, national_env))]
    time.sleep(0.5)  # let the national node bind first; provincial nodes retry it anyway
    processes += [
        (
            f"provincial_node {c.stem}",
            c,
            _start(
                "provincial_node", c, _metrics_env(env, METRICS=f"127.0.0.1:{PROVINCIAL_METRICS_PORT + i}")
            ),
        )
        for i, c in enumerate(provincial)
    ]
    _report_ready([(name, config) for name, config, _ in processes], stopping)
    # The public portal reads the national node's database once it is migrated, so it starts last.
    portal_env = _metrics_env(env, PORTAL__METRICS=PORTAL_METRICS)
    processes.append(("national_node.portal", national, _start("national_node.portal", national, portal_env)))
    _report_portal(national, stopping)
    status = 0
    while not stopping.wait(0.5):
        dead = [(name, p.returncode) for name, _, p in processes if p.poll() is not None]
        if dead:
            for name, code in dead:
                sys.stderr.write(f"registry-federation: {name} exited with status {code}; stopping all\n")
            status = 1
            break
    for _, _, process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for _, _, process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
    return status


def _report_ready(nodes: list[tuple[str, Path]], stopping: threading.Event, timeout: float = 120.0) -> None:
    """Wait until every node answers its health check, then say where each one serves."""
    addresses = []
    for name, config in nodes:
        with config.open("rb") as file:
            addresses.append((name, tomllib.load(file).get("listen", "")))
    deadline = time.monotonic() + timeout
    trust = LocalTrust(Path("data"))
    credentials = grpc.ssl_channel_credentials(
        trust.ca_file.read_bytes(),
        private_key=trust.client_key_file("registryctl").read_bytes(),
        certificate_chain=trust.client_cert_file("registryctl").read_bytes(),
    )
    for _name, address in addresses:
        with grpc.secure_channel(address, credentials) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while not stopping.is_set() and time.monotonic() < deadline:
                try:
                    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        break
                except grpc.RpcError:
                    time.sleep(0.2)
    if not stopping.is_set():
        lines = "".join(f"  {name:<36} {address}\n" for name, address in addresses)
        sys.stdout.write(f"registry-federation: all nodes serving (Ctrl-C stops them):\n{lines}")
        sys.stdout.write(
            f"  metrics (Prometheus): national {NATIONAL_METRICS}, indexer {INDEXER_METRICS}, portal"
            f" {PORTAL_METRICS}, provinces from port {PROVINCIAL_METRICS_PORT}\n"
            "  every node serves mutual TLS (CA: data/pki/ca.crt); a token for development only:\n"
            "    export REGISTRY_TOKEN=$(registryctl login zhang.san --role clerk --role reviewer)\n"
        )
        sys.stdout.flush()


def _report_portal(national: Path, stopping: threading.Event, timeout: float = 60.0) -> None:
    with national.open("rb") as file:
        listen = tomllib.load(file).get("portal", {}).get("listen", "127.0.0.1:8000")
    url = f"http://{listen}/"
    deadline = time.monotonic() + timeout
    while not stopping.is_set() and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=1) as reply:
                if reply.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    if not stopping.is_set():
        sys.stdout.write(f"  {'the public portal':<36} {url}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
