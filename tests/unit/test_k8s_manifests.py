"""deploy/k8s/ checked without a cluster: every object against Kubernetes' own schemas, and the parts
that must agree across files (what podman cannot play: Services, the StatefulSet, the disruption
budget, the probes' fields) agreeing.

tests/integration/test_containers.py runs the same manifests with podman; this catches, in seconds,
what would only fail on a real cluster."""

from __future__ import annotations

import base64
import importlib.util
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from national_node.settings import NationalSettings
from provincial_node.settings import ProvincialSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
#: The oldest release the manifests are for (native grpc probes are GA from 1.27), and the newest known.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def _resources() -> list[dict[str, Any]]:
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    return [doc for name in listed for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


@pytest.fixture(scope="module")
def secrets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """What make-secrets.py prints for a new demonstration federation."""
    spec = importlib.util.spec_from_file_location("make_secrets", K8S / "make-secrets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    made = module.make(tmp_path_factory.mktemp("trust"), "registry")
    return {doc["metadata"]["name"]: doc for doc in yaml.safe_load_all(made) if doc}


def _pods(*, labels: bool = False) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each workload's name and its pod template's spec (or, with ``labels``, the template's labels)."""
    for doc in _resources():
        if doc["kind"] in ("Deployment", "StatefulSet"):
            template = doc["spec"]["template"]
            yield doc["metadata"]["name"], template["metadata"]["labels"] if labels else template["spec"]


def _config(pod: dict[str, Any], container: dict[str, Any]) -> tuple[Path, str] | None:
    """The TOML file a container reads (``--config``) and its text, from the ConfigMap mounted there."""
    command = container.get("command", [])
    if "--config" not in command:
        return None
    path = Path(command[command.index("--config") + 1])
    maps = {d["metadata"]["name"]: d for d in _resources() if d["kind"] == "ConfigMap"}
    for mount in container["volumeMounts"]:
        if path.parent == Path(mount["mountPath"]):
            volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
            return path, str(maps[volume["configMap"]["name"]]["data"][path.name])
    raise AssertionError(f"{path} is not mounted from a ConfigMap")


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_for_kubernetes(version: str, secrets: dict[str, dict[str, Any]]) -> None:
    for doc in [*_resources(), *secrets.values()]:
        kubernetes_validate.validate(doc, version, strict=True)  # raises, naming the field at fault


def test_every_secret_and_config_map_a_pod_names_exists_with_the_keys_it_names(
    secrets: dict[str, dict[str, Any]],
) -> None:
    maps = {d["metadata"]["name"] for d in _resources() if d["kind"] == "ConfigMap"}
    for name, pod in _pods():
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                source = volume["secret"]
                assert source["secretName"] in secrets, (name, source)
                keys = [item["key"] for item in source.get("items", [])]
                assert set(keys) <= secrets[source["secretName"]]["data"].keys(), (name, source)
            if "configMap" in volume:
                assert volume["configMap"]["name"] in maps, (name, volume)
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in secrets[ref["name"]]["data"], (name, ref)


def test_each_role_loads_its_settings_and_finds_its_files_where_they_are_mounted(
    secrets: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    roles = []
    for name, pod in _pods():
        for container in pod["containers"]:
            found = _config(pod, container)
            if found is None:
                continue
            path, text = found
            config = tomllib.loads(text)
            # The settings load as the role loads them (an unknown or misspelt top-level key is refused).
            local = tmp_path / f"{name}-{path.name}"
            local.write_text(text)
            (ProvincialSettings if "region" in config else NationalSettings).load(local)
            mounts = {Path(m["mountPath"]): m["name"] for m in container["volumeMounts"]}
            volumes = {v["name"]: v for v in pod["volumes"]}
            writable = {Path(m["mountPath"]) for m in container["volumeMounts"] if not m.get("readOnly")}
            for file in _files(config, container["command"][0]):
                if file.parent == Path("/var/lib/registry"):  # the revocation list the node keeps current
                    assert file.parent in writable, f"{name}: {file} is not on a writable volume"
                    continue
                assert file.parent in mounts, f"{name}: {file} is not mounted"
                source = volumes[mounts[file.parent]]
                assert "secret" in source, f"{name}: {file} is not from a Secret"
                data = secrets[source["secret"]["secretName"]]["data"]
                assert file.name in data, f"{name}: {file} is no key of {source['secret']['secretName']}"
                assert base64.b64decode(data[file.name]), f"{name}: {file} is empty"
            roles.append(container["command"][0])
    every = [
        "registry-indexer",
        "registry-national",
        "registry-portal",
        "registry-provincial",
        "registry-sync",
    ]
    assert sorted(set(roles)) == every and roles.count("registry-provincial") == 2


def _files(config: dict[str, Any], command: str) -> list[Path]:
    """The files a role reads, by its settings."""
    tls, auth, log = config.get("tls", {}), config.get("auth", {}), config.get("transparency", {})
    portal = config.get("portal", {})
    if command == "registry-indexer":
        return []
    if command == "registry-portal":
        names = [portal["cert_file"], portal["key_file"], portal["log_verifier_keys_file"], tls["ca_file"]]
        names.append(log["witness_keys_file"])
    else:
        names = [tls["cert_file"], tls["key_file"], tls["ca_file"], tls["crl_file"], auth["jwks_file"]]
        names += [v for k, v in log.items() if k.endswith("_file")]
        if command == "registry-sync":
            names.remove(tls["crl_file"])
            names.remove(auth["jwks_file"])
    return [Path(n) for n in names]


def test_probes_call_the_health_port_services_the_ports_and_prometheus_the_metrics_port() -> None:
    services = [d for d in _resources() if d["kind"] == "Service"]
    annotations = {
        d["metadata"]["name"]: d["spec"]["template"]["metadata"].get("annotations", {})
        for d in _resources()
        if d["kind"] in ("Deployment", "StatefulSet")
    }
    probed = 0
    for name, pod in _pods():
        for container in pod["containers"]:
            found = _config(pod, container)
            config = tomllib.loads(found[1]) if found else {}
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            if container.get("command", [""])[0] in ("registry-national", "registry-provincial"):
                health = int(config["health_listen"].rsplit(":", 1)[1])
                for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                    assert container[kind]["grpc"]["port"] == health, (name, kind)
                assert ports["grpc"] == int(config["listen"].rsplit(":", 1)[1]), name
                probed += 1
            # Where Prometheus scrapes: the port the role's metrics listen on, named and annotated.
            role = container.get("command", [""])[0]
            section = {"registry-indexer": "indexer", "registry-portal": "portal"}.get(role)
            metrics = (config.get(section, {}) if section else config).get("metrics", {}).get("listen")
            if metrics and role != "registry-sync":
                port = int(metrics.rsplit(":", 1)[1])
                assert ports["metrics"] == port, name
                assert annotations[name]["prometheus.io/port"] == str(port), name
        labels = dict(_pods(labels=True))[name]
        for service in services:
            if all(labels.get(k) == v for k, v in service["spec"]["selector"].items()):
                named = {p["name"] for c in pod["containers"] for p in c.get("ports", [])}
                assert {p["targetPort"] for p in service["spec"]["ports"]} <= named, (name, service)
    assert probed == 3  # the national node, the two provinces
