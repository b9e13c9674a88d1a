"""Make the Secrets of a demonstration federation on Kubernetes; print them as YAML.

    .venv/bin/python deploy/k8s/make-secrets.py > data/k8s/secrets.yaml
    kubectl apply -n registry -f data/k8s/secrets.yaml

The trust material is kept in ``--dir`` (``data/k8s``, which git ignores) and made only where it is
missing, so running this again gives the same keys: the national CA (its key never enters the
cluster), a certificate for each node that names its Service (``registry-320000``,
``registry-320000.registry.svc``, ...), the portal's client certificate, registryctl's (for you), the
national log's key and the provinces' witness keys, a development token issuer (``registryctl login
--dir data/k8s``), and a password for the example PostgreSQL. A real deployment takes its node
certificates from the national coordinators (``registryctl pki request``/``sign``) and its tokens from
its identity provider; only the layout of the Secrets is the same.

Secrets (every file is mounted where deploy/k8s/config.yaml names it):

    registry-trust           ca.crt crl.pem jwks.json log.vkeys witnesses.vkeys   public; every pod
    registry-national-tls    tls.crt tls.key (kubernetes.io/tls)                 the national node
    registry-national-log    log.key                                              the log's signing key
    registry-portal-tls      tls.crt tls.key                                      the portal's client
    registry-<region>-tls    tls.crt tls.key                                      each provincial node
    registry-<region>-witness witness.key                                         its cosignature key
    registry-postgres        password, national-url, province-<region>-url        the example database
"""

from __future__ import annotations

import argparse
import base64
import secrets
import sys
from pathlib import Path

from common.security.local import LocalTrust
from common.security.pki import DEFAULT_HOSTS

#: The provincial nodes of deploy/k8s/, and the one on PostgreSQL (the other keeps a SQLite file).
PROVINCES = ("320000", "440000")
ON_POSTGRES = ("440000",)


def _service_names(service: str, namespace: str) -> list[str]:
    """The names a Service answers to inside the cluster, and localhost (kubectl port-forward)."""
    return [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.cluster.local",
    ]


def _secret(name: str, files: dict[str, bytes], kind: str = "Opaque") -> str:
    lines = [
        "---",
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        f"  name: {name}",
        "  labels:",
        "    app.kubernetes.io/part-of: public-data-registry",
        f"type: {kind}",
        "data:",
    ]
    lines += [f"  {key}: {base64.b64encode(value).decode()}" for key, value in files.items()]
    return "\n".join(lines) + "\n"


def _password(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def make(directory: Path, namespace: str) -> str:
    """The Secrets' YAML, from the trust material in ``directory`` (made where missing)."""
    trust = LocalTrust(directory)
    trust.init_ca()
    wanted = {"100000": _service_names("registry-national", namespace)}
    wanted |= {region: _service_names(f"registry-{region}", namespace) for region in PROVINCES}
    for region, names in wanted.items():
        if not trust.cert_file(region).exists():
            trust.issue(region, hosts=[*names, *DEFAULT_HOSTS])
    for client in ("portal", "registryctl"):
        if not trust.client_cert_file(client).exists():
            trust.issue_client(client)
    trust.issuer()
    trust.ensure_log_keys(PROVINCES)
    password = _password(directory / "postgres-password")

    def read(path: Path) -> bytes:
        return path.read_bytes()

    def url(database: str) -> bytes:
        return f"postgresql://registry:{password}@registry-postgres:5432/{database}".encode()

    out = [
        _secret(
            "registry-trust",
            {
                "ca.crt": read(trust.ca_file),
                "crl.pem": read(trust.crl_file),
                "jwks.json": read(trust.jwks_file),
                "log.vkeys": read(trust.log_verifier_keys_file),
                "witnesses.vkeys": read(trust.witness_keys_file),
            },
        ),
        _secret(
            "registry-national-tls",
            {"tls.crt": read(trust.cert_file("100000")), "tls.key": read(trust.key_file("100000"))},
            "kubernetes.io/tls",
        ),
        _secret("registry-national-log", {"log.key": read(trust.log_key_file)}),
        _secret(
            "registry-portal-tls",
            {
                "tls.crt": read(trust.client_cert_file("portal")),
                "tls.key": read(trust.client_key_file("portal")),
            },
            "kubernetes.io/tls",
        ),
    ]
    for region in PROVINCES:
        out.append(
            _secret(
                f"registry-{region}-tls",
                {"tls.crt": read(trust.cert_file(region)), "tls.key": read(trust.key_file(region))},
                "kubernetes.io/tls",
            )
        )
        out.append(
            _secret(f"registry-{region}-witness", {"witness.key": read(trust.witness_key_file(region))})
        )
    database = {"password": password.encode(), "national-url": url("national")}
    database |= {f"province-{region}-url": url(f"province_{region}") for region in ON_POSTGRES}
    out.append(_secret("registry-postgres", database))
    return "".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make-secrets.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path("data/k8s"),
        help="where the trust material is kept (default: data/k8s)",
    )
    parser.add_argument(
        "--namespace", default="registry", help="the namespace the nodes run in (their certificates name it)"
    )
    options = parser.parse_args(argv)
    sys.stdout.write(make(options.dir, options.namespace))
    return 0


if __name__ == "__main__":
    sys.exit(main())
