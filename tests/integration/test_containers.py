"""The images and the Kubernetes manifests, run for real with podman.

Builds the image of every role (deploy/Containerfile) and the example's PostgreSQL
(deploy/k8s/postgres.Containerfile), makes a demonstration federation's Secrets
(deploy/k8s/make-secrets.py), plays deploy/k8s/ with ``podman kube play`` in the form
deploy/k8s/podman_play.py makes of it (podman 4.3 plays no Service, StatefulSet or Secret, and runs no
grpc probe: see there), and takes one registration through the federation in containers to an active
code: registryctl on this machine against Jiangsu's node, the code verified by registryctl inside the
network by the Services' names, the public portal finding and checking it, the code counted in the
national tier's metrics, and no container logging an error. The manifests' readiness probes are run as
the kubelet would run them. Everything it made is removed at the end.

The figures (image sizes, build time, each container's memory at rest, the time from the first
``kube play`` to the coded registration) are recorded as the test's properties and printed with -s.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from common import codes
from common.security.local import LocalTrust
from tests.nodes import ROOT, free_port, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.containers, pytest.mark.alone]

K8S = ROOT / "deploy" / "k8s"
#: podman as this machine runs it (../shared/tools/podman-setup: crun cannot run here, runc can with
#: cgroupfs); REGISTRY_TEST_PODMAN overrides.
PODMAN = (
    os.environ.get("REGISTRY_TEST_PODMAN")
    or ("podman --runtime runc --cgroup-manager=cgroupfs" if shutil.which("runc") else "podman")
).split()
#: The base image: the local one podman-setup builds from Debian's packages when there, else the
#: official one (pulled). REGISTRY_TEST_IMAGE_BASE overrides.
LOCAL_BASE = "localhost/python:3.11-slim-bookworm"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
#: The simulated clock of test_registration_e2e (two days a second): the announcement closes in seconds.
FAST_CLOCK = {"REGISTRY_CLOCK_SPEED": "172800", "REGISTRY_DUTIES_INTERVAL": "0.2"}
#: The subject of deploy/examples/application.toml, in Jiangsu.
SUBJECT = "12320106MB1C584759"


def _podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=check)


def _skip_reason() -> str | None:
    if shutil.which(PODMAN[0]) is None:
        return (
            "podman is not installed (../shared/tools/podman-setup installs it, with runc and a base image)"
        )
    if os.geteuid() != 0:
        return "needs rootful podman (the played Secrets' files are given to the pods' users)"
    if _podman("info", check=False, timeout=60).returncode != 0:
        return "podman does not run here (podman info failed)"
    return None


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def _base() -> str:
    wanted = os.environ.get("REGISTRY_TEST_IMAGE_BASE")
    if wanted:
        return wanted
    if _podman("image", "exists", LOCAL_BASE, check=False).returncode == 0:
        return LOCAL_BASE
    official = "docker.io/library/python:3.11-slim"
    if _podman("image", "exists", official, check=False).returncode != 0:
        if _podman("pull", official, check=False, timeout=120).returncode != 0:
            pytest.skip(
                f"no base image: {LOCAL_BASE} is not built (../shared/tools/podman-setup)"
                f" and {official} cannot be pulled"
            )
    return official


def _build(tag: str, containerfile: Path, context: Path, base: str) -> float:
    """Build ``tag`` (the layer cache kept); the seconds it took."""
    args = ["build", "--network=host", "--build-arg", f"BASE={base}", "-t", tag, "-f", str(containerfile)]
    if CA_BUNDLE.exists():  # a proxy that re-signs TLS: the host's bundle has its CA
        args += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
    started = time.monotonic()
    built = _podman(*args, str(context), timeout=900, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return time.monotonic() - started


def _bytes(text: str) -> float:
    """podman's "123.4MB" (decimal units) in bytes."""
    number, unit = re.fullmatch(r"([\d.]+)\s*([kMGT]?i?B)", text.strip()).groups()  # type: ignore[union-attr]
    scale = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit]
    return float(number) * scale


def _mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()  # type: ignore[union-attr]
    return int(number) * (1024 if unit == "Gi" else 1)


@pytest.fixture(scope="module")
def images() -> Iterator[dict[str, Any]]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = _base()
    play = _module(K8S / "podman_play.py")
    _, tags = play.kustomization(K8S)
    seconds = {
        tags["public-data-registry"]: _build(
            tags["public-data-registry"], ROOT / "deploy" / "Containerfile", ROOT, base
        ),
        tags["public-data-registry-postgres"]: _build(
            tags["public-data-registry-postgres"], K8S / "postgres.Containerfile", K8S, base
        ),
    }
    yield {"tags": tags, "build_seconds": {tag: round(s, 1) for tag, s in seconds.items()}}


@pytest.fixture
def federation(images: dict[str, Any], tmp_path: Path) -> Iterator[tuple[Any, Path, dict[str, int]]]:
    trust = tmp_path / "trust"
    made = subprocess.run(
        [sys.executable, str(K8S / "make-secrets.py"), "--dir", str(trust)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(made.stdout)
    ports = {"province": free_port(), "portal": free_port()}
    module = _module(K8S / "podman_play.py")
    module.PODMAN = PODMAN
    play = module.Play(
        secrets,
        tmp_path / "play",
        network=f"registry-test-{os.getpid()}",
        publish={
            "registry-320000": {"grpc": ports["province"]},
            "registry-portal": {"http": ports["portal"]},
        },
        env={
            name: FAST_CLOCK
            for name in ("registry-national", "registry-320000", "registry-440000", "registry-sync-440000")
        },
    )
    play.down()  # what an interrupted earlier run left
    volumes_before = set(_podman("volume", "ls", "--quiet").stdout.split())
    try:
        yield play, trust, ports
    finally:
        play.down()
        made = set(_podman("volume", "ls", "--quiet").stdout.split()) - volumes_before
        assert not made, f"volumes left behind: {sorted(made)}"
        left = [
            p for u in play.units for p in u.pods if _podman("pod", "exists", p, check=False).returncode == 0
        ]
        assert not left, f"pods left behind: {left}"
        assert _podman("network", "exists", play.network, check=False).returncode != 0


def _registryctl(trust: Path, node: str, bearer: str | None, *args: str) -> dict[str, Any]:
    local = LocalTrust(trust)
    command = [
        str(Path(sys.executable).parent / "registryctl"),
        "--node",
        node,
        "--ca",
        str(local.ca_file),
        "--cert",
        str(local.client_cert_file("registryctl")),
        "--key",
        str(local.client_key_file("registryctl")),
        "--json",
        *(["--token", bearer] if bearer else []),
        *args,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _registryctl_inside(play: Any, trust: Path, tmp_path: Path, *args: str) -> dict[str, Any]:
    """registryctl in a container on the federation's network, as an operator's pod in the cluster
    runs it: the nodes by their Services' names."""
    local = LocalTrust(trust)
    mine = tmp_path / "operator"
    mine.mkdir(exist_ok=True)
    for source, name in (
        (local.ca_file, "ca.crt"),
        (local.client_cert_file("registryctl"), "tls.crt"),
        (local.client_key_file("registryctl"), "tls.key"),
    ):
        shutil.copyfile(source, mine / name)
        os.chown(mine / name, 10001, 10001)
    ran = _podman(
        "run",
        "--rm",
        "--network",
        play.network,
        "-v",
        f"{mine}:/etc/registry/operator:ro",
        play.images["public-data-registry"],
        "registryctl",
        "--ca",
        "/etc/registry/operator/ca.crt",
        "--cert",
        "/etc/registry/operator/tls.crt",
        "--key",
        "/etc/registry/operator/tls.key",
        "--json",
        *args,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@pytest.mark.timeout(900)  # a cold build of the images takes minutes; a cached one, seconds
def test_a_registration_goes_through_the_federation_in_containers_to_an_active_code(
    federation: tuple[Any, Path, dict[str, int]],
    images: dict[str, Any],
    tmp_path: Path,
    record_property: Any,
) -> None:
    play, trust, ports = federation
    figures: dict[str, Any] = {}
    started = time.monotonic()
    # The database, then the national tier (it migrates the ledger), then everything else.
    ready: dict[str, float] = {}
    played: dict[str, float] = {}
    for unit in play.units:
        play.up([unit.name])
        played[unit.name] = round(time.monotonic() - started, 1)
        if unit.name in ("registry-postgres", "registry-national"):
            play.wait_ready(unit.name, timeout=180)
            ready[unit.name] = round(time.monotonic() - started, 1)
    for unit in play.units:
        play.wait_ready(unit.name, timeout=180)
        ready.setdefault(unit.name, round(time.monotonic() - started, 1))
    figures["seconds_to_played"] = played
    figures["seconds_to_ready"] = ready
    # Every national replica answers the kubelet's grpc probe (the headless Service spreads calls over them).
    assert len(play.unit("registry-national").pods) == 2
    for replica in (0, 1):
        wait_until(
            lambda replica=replica: play.probe("registry-national", "livenessProbe", replica)[0],
            timeout=60,
            interval=1.0,
            message=f"national pod {replica} to pass its liveness probe",
        )

    province = f"127.0.0.1:{ports['province']}"
    issuer = LocalTrust(trust).issuer()
    applicant = issuer.issue("wang.wu", name="王五", roles=["applicant"], subjects=[SUBJECT])
    clerk = issuer.issue("zhang.san", name="张三", roles=["clerk"])
    reviewer = issuer.issue("li.si", name="李四", roles=["reviewer"])
    registrar = issuer.issue("zhao.liu", name="赵六", roles=["registrar"])
    created = _registryctl(
        trust, province, applicant, "apply", "deploy/examples/application.toml", "--region", "320000"
    )
    name = created["name"]
    _registryctl(trust, province, clerk, "accept", name)
    _registryctl(trust, province, reviewer, "approve", name)
    _registryctl(trust, province, registrar, "announce", name)
    active = wait_until(
        lambda: (
            (reg := _registryctl(trust, province, clerk, "show", name, "--no-history")["registration"]).get(
                "state"
            )
            == "ACTIVE"
            and reg
        ),
        timeout=120,
        interval=1.0,
        message="the registration to be coded",
    )
    figures["seconds_play_to_code"] = round(time.monotonic() - started, 1)
    code = active["code"]
    assert codes.parse(code).issuer == "320000"

    # Inside the network, by the Services' names: the national tier knows the code, and Jiangsu's
    # node answers by its name (its certificate names its Service).
    verified = _registryctl_inside(
        play, trust, tmp_path, "--national", "registry-national:50051", "verify", code
    )
    assert verified["assigned"] and verified["assignment"]["registration"] == name
    shown = _registryctl_inside(
        play,
        trust,
        tmp_path,
        "--node",
        "registry-320000:50061",
        "--token",
        clerk,
        "show",
        code,
        "--no-history",
    )
    assert shown["registration"]["name"] == name
    # Guangdong's node and its sync daemon (a Deployment of its own) keep their link to the national node.
    coordinator = issuer.issue("qian.qi", name="钱七", roles=["coordinator"])
    links = _registryctl_inside(
        play,
        trust,
        tmp_path,
        "--national",
        "registry-national:50051",
        "--token",
        coordinator,
        "sync",
        "status",
    )
    contacted = {s["node"] for s in links["states"] if s.get("last_contact_time")}
    assert {"nodes/320000", "nodes/440000"} <= contacted, links

    # The public portal: the indexer has indexed it, and the check verifies it against the national log.
    portal = f"http://127.0.0.1:{ports['portal']}"
    found = wait_until(
        lambda: [
            hit
            for hit in httpx.get(
                f"{portal}/api/v1/registrations", params={"q": "企业登记"}, timeout=10
            ).json()["registrations"]
            if hit["code"] == code
        ],
        timeout=60,
        interval=1.0,
        message="the search index to have the registration",
    )
    assert found[0]["code"] == code
    checked = wait_until(
        lambda: (
            (c := httpx.get(f"{portal}/api/v1/codes/{code}", timeout=20).json())["confirmation"]["verified"]
            and c
        ),
        timeout=60,
        interval=1.0,
        message="the portal to verify the code against the log",
    )
    assert checked["valid"] and checked["state"] == "ACTIVE"

    # Prometheus would find it: the national tier counted the code (on whichever pod assigned it),
    # Jiangsu's node sees its national node up, the indexer and the portal serve their metrics.
    def metric(text: str, name: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))

    counted = sum(
        metric(
            play.get("registry-national", "metrics", "/metrics", r),
            'registry_codes_assigned_total{issuer="320000"',
        )
        for r in (0, 1)
    )
    assert counted == 1
    assert metric(play.get("registry-320000", "metrics", "/metrics"), "registry_upstream_up") == 1
    for unit in ("registry-indexer", "registry-portal"):
        assert "# TYPE " in play.get(unit, "metrics", "/metrics"), unit

    # Nothing went wrong on the way: no container logged an error.
    for unit in play.units:
        for pod in unit.pods:
            for container in unit.containers:
                log = _podman("logs", f"{pod}-{container}").stderr
                errors = [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]
                assert not errors, f"{pod}-{container}: {errors[:5]}"

    # At rest: each container's memory, beside its limit in the manifests.
    time.sleep(5)  # a pause, not a wait: the figure is of the federation at rest after the registration
    stats = json.loads(_podman("stats", "--no-stream", "--no-reset", "--format", "json").stdout)
    limits = {
        f"{pod}-{container}": spec.get("resources", {}).get("limits", {}).get("memory")
        for unit in play.units
        for pod in unit.pods
        for container, spec in unit.containers.items()
    }
    memory = {}
    for row in stats:
        if row["name"] in limits:
            used = _bytes(row["mem_usage"].split("/")[0]) / 2**20
            memory[row["name"]] = round(used, 1)
            limit = limits[row["name"]]
            if limit:
                assert used < _mebibytes(limit), (
                    f"{row['name']} uses {used:.0f} MiB at rest, over its limit {limit}"
                )
    assert {f"{p}-national" for p in play.unit("registry-national").pods} <= memory.keys(), memory
    figures["memory_mib"] = memory
    figures["image_bytes"] = {
        tag: int(_podman("image", "inspect", "--format", "{{.Size}}", tag).stdout)
        for tag in images["tags"].values()
    }
    figures["build_seconds"] = images["build_seconds"]
    for key, value in figures.items():
        record_property(key, value)
    sys.stdout.write("\ncontainer figures: " + json.dumps(figures, ensure_ascii=False, indent=1) + "\n")
