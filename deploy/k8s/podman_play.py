"""Play deploy/k8s/ on one machine with podman, without a Kubernetes cluster.

    .venv/bin/python deploy/k8s/make-secrets.py > data/k8s/secrets.yaml
    .venv/bin/python deploy/k8s/podman_play.py up --secrets data/k8s/secrets.yaml
    .venv/bin/python deploy/k8s/podman_play.py down

``podman kube play`` (4.3, Debian 12's) runs Pods, Deployments, ConfigMaps and PersistentVolumeClaims,
but not Services, StatefulSets or Secrets, and it runs no ``grpc`` probe. So the manifests are played
in a form made from them here, as close as podman allows:

- each Deployment (and the StatefulSet, as a Deployment of one pod with its claim) in a ``kube play``
  of its own, on a network of its own whose DNS gives each pod, as network aliases, the names of the
  Services that select it: ``registry-national`` resolves to both national pods, as a headless Service
  does;
- each Secret's files written to a folder (mode and owner as the kubelet sets them) and mounted by
  ``hostPath`` (podman 4.3's secret volumes do not decode a Secret's data), and ``secretKeyRef``
  variables given their values;
- no container port published (podman publishes every declared port on the host, where two replicas
  collide), except those asked for with ``publish``, on 127.0.0.1;
- probes left out of what podman runs, and run by :meth:`Play.probe` instead: ``grpc``, ``httpGet``
  and ``tcpSocket`` from a stand-in for the kubelet (a pod on the same network, calling the pod's
  address, in plaintext, as the kubelet does), ``exec`` in the container;
- an init container that uses its pod's image and mounts run first in the pod's container (podman 4.3
  takes some 20 s here to see an init container finish), and an emptyDir as a volume of the
  Deployment's own (podman 4.3 makes it a volume named as the emptyDir, shared with any pod that names
  one alike).

What is not exercised here: Services' virtual IPs and readiness-gated endpoints, the scheduler and
anti-affinity, rollouts and PodDisruptionBudgets, restarts on failed liveness probes, resource
requests (limits are applied), storage classes. See deploy/k8s/README.md.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
#: podman's command: PODMAN, split at spaces (this machine's kind: "podman --runtime runc
#: --cgroup-manager=cgroupfs"); plain podman when unset.
PODMAN = os.environ.get("PODMAN", "podman").split()
#: Kinds podman 4.3 plays; Services and StatefulSets are made into what it plays; others are left out.
PLAYED = {"Deployment", "ConfigMap", "PersistentVolumeClaim"}
LEFT_OUT = {"PodDisruptionBudget", "Namespace", "NetworkPolicy", "Ingress"}
#: Where the kubelet's stand-in runs probes from.
PROBER = "registry-kubelet-probes"


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PODMAN, *args], capture_output=True, text=True, check=check, timeout=timeout)


def load(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The documents of the YAML files ``paths``, in order."""
    docs: list[dict[str, Any]] = []
    for path in paths:
        docs += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def kustomization(directory: Path = HERE) -> tuple[list[Path], dict[str, str]]:
    """The resources of ``kustomization.yaml`` in order, and its image names mapped to references."""
    config = yaml.safe_load((directory / "kustomization.yaml").read_text())
    images = {
        i["name"]: f"{i.get('newName', i['name'])}:{i.get('newTag', 'latest')}" for i in config["images"]
    }
    return [directory / r for r in config["resources"]], images


@dataclass
class Unit:
    """One ``kube play``: a Deployment with the ConfigMaps and claims it uses, and its pods' aliases."""

    name: str
    docs: list[dict[str, Any]]
    aliases: list[str]
    pods: list[str]
    claims: list[str]
    #: container name -> the pod template's container (ports, probes) as the manifest has it
    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: (secret volume, pod security context, folder): written when the unit is played
    secret_files: list[tuple[dict[str, Any], dict[str, Any], Path]] = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"{self.name}.yaml"


def _matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _statefulset_as_deployment(doc: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A StatefulSet of one replica as a Deployment, its claim templates as claims named as the
    StatefulSet controller names them (``<template>-<set>-0``)."""
    spec = copy.deepcopy(doc["spec"])
    name = doc["metadata"]["name"]
    claims = []
    volumes = spec["template"]["spec"].setdefault("volumes", [])
    for template in spec.pop("volumeClaimTemplates", []):
        claim = f"{template['metadata']['name']}-{name}-0"
        claims.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim},
                "spec": template["spec"],
            }
        )
        volumes.append({"name": template["metadata"]["name"], "persistentVolumeClaim": {"claimName": claim}})
    spec.pop("serviceName", None)
    spec.pop("podManagementPolicy", None)
    spec.pop("updateStrategy", None)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": copy.deepcopy(doc["metadata"]),
        "spec": spec,
    }
    return deployment, claims


class Play:
    """The manifests in ``directory``, played with the Secrets ``secrets`` (make-secrets.py's output)
    on the podman network ``network``, with ``workdir`` for the generated files.

    ``publish`` maps a Deployment to {port name: host port} (on 127.0.0.1; one replica only);
    ``env`` maps a Deployment to variables added to each of its containers; ``images`` maps the
    manifests' image names to local references (kustomization.yaml's by default)."""

    def __init__(
        self,
        secrets: Path,
        workdir: Path,
        *,
        directory: Path = HERE,
        network: str = "registry-k8s",
        publish: Mapping[str, Mapping[str, int]] | None = None,
        env: Mapping[str, Mapping[str, str]] | None = None,
        images: Mapping[str, str] | None = None,
    ) -> None:
        resources, default_images = kustomization(directory)
        self.images = {**default_images, **(images or {})}
        self.workdir, self.network = workdir, network
        self.publish, self.env = publish or {}, env or {}
        self.secrets = {d["metadata"]["name"]: d for d in load([secrets]) if d.get("kind") == "Secret"}
        self.units = self._units(load(resources))

    # -- the form podman plays ------------------------------------------------------------------

    def _units(self, docs: list[dict[str, Any]]) -> list[Unit]:
        config_maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
        claims = {d["metadata"]["name"]: d for d in docs if d["kind"] == "PersistentVolumeClaim"}
        services = [d for d in docs if d["kind"] == "Service"]
        units = []
        for doc in docs:
            kind = doc["kind"]
            if kind == "StatefulSet":
                doc, made = _statefulset_as_deployment(doc)
                claims |= {c["metadata"]["name"]: c for c in made}
            elif kind != "Deployment":
                if kind not in PLAYED | LEFT_OUT | {"Service"}:
                    raise ValueError(f"{kind} {doc['metadata']['name']}: podman cannot play it, nor can this")
                continue
            units.append(self._unit(doc, config_maps, claims, services))
        return units

    def _unit(
        self,
        deployment: dict[str, Any],
        config_maps: Mapping[str, dict[str, Any]],
        claims: Mapping[str, dict[str, Any]],
        services: Sequence[dict[str, Any]],
    ) -> Unit:
        name = deployment["metadata"]["name"]
        deployment = copy.deepcopy(deployment)
        spec = deployment["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"].get("labels", {})
        aliases = [s["metadata"]["name"] for s in services if _matches(s["spec"].get("selector", {}), labels)]
        self._merge_init_containers(pod)
        if pod.get("initContainers"):
            # Init containers stay (podman 4.3 may remove a finished one while it is still running, and
            # fail the play); 4.3 reads the annotation on the Deployment, later versions on the pod.
            for metadata in (deployment["metadata"], spec["template"]["metadata"]):
                metadata.setdefault("annotations", {})["io.podman.annotations.init.container.type"] = "always"
        context = pod.get("securityContext", {})
        used_maps: list[str] = []
        used_claims: list[str] = []
        scratch: dict[str, dict[str, Any]] = {}
        secret_files: list[tuple[dict[str, Any], dict[str, Any], Path]] = []
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                source = volume.pop("secret")
                folder = self._secret_folder(source)
                secret_files.append((source, context, folder))
                volume["hostPath"] = {"path": str(folder), "type": "Directory"}
            elif "configMap" in volume:
                used_maps.append(volume["configMap"]["name"])
            elif "persistentVolumeClaim" in volume:
                used_claims.append(volume["persistentVolumeClaim"]["claimName"])
            elif "emptyDir" in volume:
                # podman 4.3 makes an emptyDir a named volume of the volume's name, shared by every
                # pod that names one alike: a claim of the Deployment's own instead (still shared by
                # its replicas, which here hold only the word segmenter's cache in /tmp).
                claim = f"{name}-{volume['name']}"
                volume.pop("emptyDir")
                volume["persistentVolumeClaim"] = {"claimName": claim}
                scratch[claim] = {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": claim},
                }
                used_claims.append(claim)
        containers = {c["name"]: copy.deepcopy(c) for c in pod["containers"]}
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            container["image"] = self.images.get(container["image"], container["image"])
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                container.pop(probe, None)
            published = self.publish.get(name, {})
            ports = [p for p in container.pop("ports", []) if p.get("name") in published]
            if ports:
                container["ports"] = [
                    {
                        "containerPort": p["containerPort"],
                        "hostPort": published[p["name"]],
                        "hostIP": "127.0.0.1",
                    }
                    for p in ports
                ]
            variables = container.setdefault("env", [])
            for variable in variables:
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    variable.pop("valueFrom")
                    variable["value"] = base64.b64decode(
                        self.secrets[ref["name"]]["data"][ref["key"]]
                    ).decode()
            variables += [{"name": k, "value": v} for k, v in self.env.get(name, {}).items()]
        replicas = spec.get("replicas", 1)
        if self.publish.get(name) and replicas != 1:
            raise ValueError(f"{name}: a port can be published from one replica only, not {replicas}")
        docs = [config_maps[m] for m in dict.fromkeys(used_maps)]
        docs += [{**claims, **scratch}[c] for c in dict.fromkeys(used_claims)]
        docs.append(deployment)
        return Unit(
            name=name,
            docs=docs,
            aliases=aliases,
            pods=[f"{name}-pod-{i}" for i in range(replicas)],
            claims=list(dict.fromkeys(used_claims)),
            containers=containers,
            secret_files=secret_files,
        )

    @staticmethod
    def _merge_init_containers(pod: dict[str, Any]) -> None:
        """Run an init container's command at the start of the pod's first container, when it uses
        the same image and mounts nothing the first does not: podman 4.3 takes some 20 s to see that
        an init container has finished (and may fail the play), here. Others stay as they are."""
        first = pod["containers"][0]
        mounted = {(m["name"], m["mountPath"]) for m in first.get("volumeMounts", [])}
        for init in list(pod.get("initContainers", [])):
            mounts = {(m["name"], m["mountPath"]) for m in init.get("volumeMounts", [])}
            if init["image"] != first["image"] or not mounts <= mounted or "command" not in first:
                continue
            script = f'{shlex.join([*init["command"], *init.get("args", [])])} && exec "$@"'
            first["command"] = ["sh", "-c", script, init["name"], *first["command"], *first.pop("args", [])]
            pod["initContainers"].remove(init)
        if not pod.get("initContainers"):
            pod.pop("initContainers", None)

    def _secret_folder(self, source: Mapping[str, Any]) -> Path:
        name = source["secretName"]
        if name not in self.secrets:
            raise ValueError(f"no Secret {name} in the secrets file (make-secrets.py makes it)")
        items = source.get("items")
        return self.workdir / "secrets" / name / ("-".join(i["path"] for i in items) if items else "all")

    def _write_secret(self, source: Mapping[str, Any], context: Mapping[str, Any], folder: Path) -> None:
        """The Secret's files as the kubelet writes them: ``defaultMode``, owned by the pod's user and
        its ``fsGroup``."""
        data = self.secrets[source["secretName"]]["data"]
        items = source.get("items") or [{"key": k, "path": k} for k in data]
        folder.mkdir(parents=True, exist_ok=True)
        user, group = context.get("runAsUser", 0), context.get("fsGroup", context.get("runAsGroup", 0))
        for item in items:
            path = folder / item["path"]
            content = base64.b64decode(data[item["key"]])
            if path.exists() and path.read_bytes() == content:
                continue  # unchanged: rewriting it would make the pods using it reload it
            path.write_bytes(content)
            path.chmod(source.get("defaultMode", 0o644))
            os.chown(path, user, group)
        folder.chmod(0o750)
        os.chown(folder, user, group)

    # -- playing --------------------------------------------------------------------------------

    def unit(self, name: str) -> Unit:
        return next(u for u in self.units if u.name == name)

    def up(self, names: Iterable[str] | None = None) -> None:
        """``kube play`` the units ``names`` (all, in the manifests' order, when None)."""
        if podman("network", "exists", self.network, check=False).returncode != 0:
            podman("network", "create", self.network)
        for unit in self.units if names is None else [self.unit(n) for n in names]:
            for source, context, folder in unit.secret_files:
                self._write_secret(source, context, folder)
            path = self.workdir / unit.file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump_all(unit.docs, sort_keys=False, allow_unicode=True))
            network = (
                ",".join([self.network, *(f"alias={a}" for a in unit.aliases)])
                if unit.aliases
                else self.network
            )
            network = network.replace(",", ":", 1)
            played = podman("kube", "play", "--network", network, str(path), check=False, timeout=300)
            if played.returncode != 0 or "Error" in played.stderr:
                raise RuntimeError(f"podman kube play {unit.file}: {played.stderr.strip()}")

    def volumes(self) -> list[str]:
        """The named volumes the play makes: the claims, and one per ConfigMap (podman's way)."""
        names = [c for u in self.units for c in u.claims]
        names += [d["metadata"]["name"] for u in self.units for d in u.docs if d["kind"] == "ConfigMap"]
        return sorted(set(names))

    def down(self) -> None:
        """Remove every pod, the volumes they made or claimed, the prober and the network."""
        pods = [p for u in self.units for p in u.pods]
        volumes = set(self.volumes())
        for pod in pods:
            found = podman("pod", "inspect", pod, check=False)
            if found.returncode != 0:
                continue
            for container in json.loads(found.stdout).get("Containers", []):
                mounts = podman("inspect", "--format", "{{json .Mounts}}", container["Id"], check=False)
                if mounts.returncode == 0:
                    volumes |= {m["Name"] for m in json.loads(mounts.stdout) if m.get("Type") == "volume"}
        podman("rm", "--force", "--volumes", "--ignore", "--time", "0", PROBER, check=False)
        # The nodes together, then what was played first (the database they write to): each container
        # gets SIGTERM (SIGINT for PostgreSQL) and 10 s to stop.
        first, *rest = self.units
        stopping = [
            subprocess.Popen(
                [*PODMAN, "pod", "rm", "--force", "--ignore", "--time", "10", *unit.pods],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for unit in rest
        ]
        for process in stopping:
            process.wait(180)
        podman("pod", "rm", "--force", "--ignore", "--time", "10", *first.pods, check=False, timeout=180)
        for volume in sorted(volumes):
            podman("volume", "rm", "--force", volume, check=False)
        if podman("network", "exists", self.network, check=False).returncode == 0:
            podman("network", "rm", "--force", self.network, check=False)
        shutil.rmtree(self.workdir / "secrets", ignore_errors=True)

    # -- the kubelet's part: probes -------------------------------------------------------------

    def _prober(self, image: str) -> None:
        if podman("container", "exists", PROBER, check=False).returncode == 0:
            return
        podman(
            "run",
            "--detach",
            "--name",
            PROBER,
            "--network",
            self.network,
            "--read-only",
            "--entrypoint",
            "sleep",
            image,
            "infinity",
        )

    def probe(self, unit: str, kind: str = "readinessProbe", replica: int = 0) -> tuple[bool, str]:
        """Run the manifest's probe ``kind`` of every container of ``unit``'s pod ``replica`` as the
        kubelet would; (all passed, what failed)."""
        found = self.unit(unit)
        pod = found.pods[replica]
        for name, container in found.containers.items():
            spec = container.get(kind)
            if not spec:
                continue
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", []) if "name" in p}
            try:
                if "exec" in spec:
                    command = spec["exec"]["command"]
                    result = podman("exec", f"{pod}-{name}", *command, check=False, timeout=20)
                else:
                    self._prober(self.images["public-data-registry"])
                    arguments = [pod, json.dumps(spec), json.dumps(ports)]
                    result = podman(
                        "exec", PROBER, "python3", "-c", _PROBE, *arguments, check=False, timeout=20
                    )
            except subprocess.TimeoutExpired:  # podman exec here sometimes does not return: a failed probe
                return False, f"{pod}-{name} {kind}: no answer within 20 s"
            if result.returncode != 0:
                return False, f"{pod}-{name} {kind}: {(result.stdout + result.stderr).strip()[-300:]}"
        return True, ""

    def get(self, unit: str, port: str, path: str, replica: int = 0) -> str:
        """GET ``path`` from the named container port ``port`` of ``unit``'s pod ``replica``, from the
        network (as Prometheus scrapes a pod); the body."""
        found = self.unit(unit)
        number = next(
            p["containerPort"]
            for c in found.containers.values()
            for p in c.get("ports", [])
            if p.get("name") == port
        )
        self._prober(self.images["public-data-registry"])
        url = f"http://{found.pods[replica]}:{number}{path}"
        script = "import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=5).read().decode())"
        return podman("exec", PROBER, "python3", "-c", script, url, timeout=30).stdout

    def wait_ready(self, unit: str, timeout: float = 120.0) -> float:
        """Wait until every replica of ``unit`` passes its readiness probes; seconds taken."""
        started = time.monotonic()
        for replica in range(len(self.unit(unit).pods)):
            while True:
                ready, why = self.probe(unit, replica=replica)
                if ready:
                    break
                if time.monotonic() - started > timeout:
                    logs = podman("pod", "logs", "--tail", "30", self.unit(unit).pods[replica], check=False)
                    raise TimeoutError(
                        f"{unit} not ready after {timeout:.0f} s: {why}\n{logs.stdout[-3000:]}"
                    )
                time.sleep(1.0)
        return time.monotonic() - started


#: What the kubelet sends for a grpc, httpGet or tcpSocket probe, from the prober to the pod: argv
#: is the pod's name (its address on the network), the probe, and the container's named ports.
_PROBE = """
import json, socket, sys, urllib.request
host, spec, ports = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
timeout = spec.get("timeoutSeconds", 1)
def port(value):
    return ports[value] if isinstance(value, str) else value
if "grpc" in spec:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    with grpc.insecure_channel(f"{host}:{port(spec['grpc']['port'])}") as channel:
        request = health_pb2.HealthCheckRequest(service=spec["grpc"].get("service", ""))
        reply = health_pb2_grpc.HealthStub(channel).Check(request, timeout=timeout)
        sys.exit(0 if reply.status == health_pb2.HealthCheckResponse.SERVING else f"status {reply.status}")
elif "httpGet" in spec:
    get = spec["httpGet"]
    url = f"http://{host}:{port(get['port'])}{get.get('path', '/')}"
    with urllib.request.urlopen(url, timeout=timeout) as r:
        sys.exit(0 if 200 <= r.status < 400 else f"HTTP {r.status}")
elif "tcpSocket" in spec:
    socket.create_connection((host, port(spec["tcpSocket"]["port"])), timeout=timeout).close()
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="podman_play.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument(
        "--secrets", type=Path, default=Path("data/k8s/secrets.yaml"), help="make-secrets.py's output"
    )
    parser.add_argument(
        "--workdir", type=Path, default=Path("data/k8s/podman"), help="where the played form is written"
    )
    options = parser.parse_args(argv)
    play = Play(
        options.secrets,
        options.workdir.resolve(),
        publish={
            "registry-320000": {"grpc": 50061},
            "registry-440000": {"grpc": 50062},
            "registry-portal": {"http": 8000},
        },
    )
    if options.action == "down":
        play.down()
        return 0
    for unit in play.units:
        play.up([unit.name])
        seconds = play.wait_ready(unit.name, timeout=180)
        sys.stdout.write(f"{unit.name}: {len(unit.pods)} pod(s) ready in {seconds:.1f} s\n")
    sys.stdout.write(
        "Jiangsu's node on 127.0.0.1:50061, Guangdong's on 127.0.0.1:50062, the portal on http://127.0.0.1:8000/\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
