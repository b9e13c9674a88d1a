"""``registryctl pki ...``, ``registryctl login`` and ``registryctl policy``: the federation's trust.

``pki`` is the national coordinators' tool for the CA (kept in ``--dir``, ``data`` by default):
``init`` makes the CA and its revocation list, ``sign`` certifies a node's signing request, ``issue``
and ``renew`` make a node's key and certificate together (for a local federation), ``revoke`` puts a
certificate on the list, ``republish`` signs the list again before it goes stale, ``show`` prints what a
certificate says. A provincial operator runs ``pki request`` (the key stays on the node), sends the
request to the coordinators, receives the ``.crt`` with ``ca.crt`` and ``crl.pem``, and names them in
the node's ``[tls]`` settings.

``login`` is for DEVELOPMENT ONLY: it signs a token with the local federation's development issuer
(``data/tokens``), which no production node trusts; in production, tokens come from the identity
provider the nodes are configured with (``[auth]``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from common import regions
from common import uscc as uscc_codes
from common.errors import InvalidValue
from common.registryctl.cli import app, options_of, usage_error
from common.rpc.security import CONTRACT_METHODS
from common.security.files import write_atomically
from common.security.local import LocalTrust
from common.security.pki import PKIError, certificate_info, create_node_request
from common.security.policy import PUBLIC, Credential, Policy, PolicyError

__all__ = ["pki_app"]

#: The roles a token may name, as the built-in policy says (the local federation's nodes use it).
_TOKEN_ROLES = Policy.load(methods=CONTRACT_METHODS).role_names(Credential.TOKEN)

pki_app = typer.Typer(
    name="pki",
    help="The federation's CA: node certificates, renewal, revocation (national coordinators).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(pki_app, name="pki")

DirOption = Annotated[
    Path, typer.Option("--dir", metavar="DIR", help="Where the trust material is kept (pki/, tokens/).")
]
RegionArg = Annotated[
    str, typer.Argument(metavar="REGION", help="The node's region, e.g. 320000 (100000: national).")
]


def _region(value: str) -> str:
    if not regions.is_region(value.strip()):
        usage_error(f"{value!r}: not a GB/T 2260 province-level code (such as 320000) or 100000")
    return value.strip()


def _needs_ca(trust: LocalTrust) -> None:
    if not trust.ca_file.exists():
        usage_error(f"no CA in {trust.pki}: run registryctl pki init --dir {trust.root}")


@pki_app.command("init")
def pki_init(directory: DirOption = Path("data")) -> None:
    """Create the CA and an empty revocation list (once; an existing CA is kept)."""
    trust = LocalTrust(directory)
    created = trust.init_ca()
    typer.echo(
        f"{'created' if created else 'kept'} the CA: {trust.ca_file}, revocation list {trust.crl_file}"
    )


@pki_app.command("issue")
def pki_issue(
    region: RegionArg,
    directory: DirOption = Path("data"),
    host: Annotated[
        list[str] | None,
        typer.Option("--host", metavar="NAME_OR_IP", help="A name or address the node serves on. Repeat."),
    ] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Days of validity.")] = 397,
) -> None:
    """Issue a node's certificate (with its SPIFFE identity) and key."""
    trust = LocalTrust(directory)
    _needs_ca(trust)
    try:
        node = trust.issue(_region(region), hosts=host or ("localhost", "127.0.0.1"), valid_days=days)
    except (OSError, ValueError) as error:
        usage_error(f"cannot issue {region}: {error}")
    typer.echo(f"issued {trust.cert_file(region)} (serial {node.serial:x}, until {node.not_after:%Y-%m-%d})")


@pki_app.command("request")
def pki_request(
    region: RegionArg,
    out: Annotated[
        Path, typer.Option("--out", metavar="DIR", help="Where to write <region>.key and <region>.csr.")
    ] = Path("."),
    host: Annotated[
        list[str] | None,
        typer.Option("--host", metavar="NAME_OR_IP", help="A name or address the node serves on. Repeat."),
    ] = None,
) -> None:
    """On a provincial node: make its key and a signing request for the national coordinators.

    The key (<region>.key, mode 0600) never leaves the node; send <region>.csr.
    """
    region = _region(region)
    try:
        made = create_node_request(region, hosts=host or ("localhost", "127.0.0.1"))
    except ValueError as error:
        usage_error(str(error))
    key, csr = out / f"{region}.key", out / f"{region}.csr"
    if key.exists():
        usage_error(f"{key} exists: a node keeps one key; move it away to make a new one")
    out.mkdir(parents=True, exist_ok=True)
    write_atomically(key, made.key_pem, 0o600)
    write_atomically(csr, made.csr_pem, 0o644)
    typer.echo(f"wrote {key} (keep it here) and {csr} (send it to the national coordinators)")


@pki_app.command("sign")
def pki_sign(
    csr: Annotated[Path, typer.Argument(metavar="CSR_FILE", help="The node's signing request.")],
    region: Annotated[
        str, typer.Option("--region", metavar="REGION", help="The node you mean to certify (must match).")
    ],
    directory: DirOption = Path("data"),
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Days of validity.")] = 397,
) -> None:
    """Certify a node's signing request, after checking it names that node and is signed by its key."""
    trust = LocalTrust(directory)
    _needs_ca(trust)
    region = _region(region)
    try:
        node = trust.sign(region, csr.read_bytes(), valid_days=days)
    except (OSError, PKIError) as error:
        usage_error(f"{csr}: {error}")
    typer.echo(
        f"signed {trust.cert_file(region)} (serial {node.serial:x}, until {node.not_after:%Y-%m-%d}); send"
        f" it with {trust.ca_file} and {trust.crl_file}"
    )


@pki_app.command("republish")
def pki_republish(directory: DirOption = Path("data")) -> None:
    """Sign the revocation list again (same entries, next number, a week more): run it at least weekly."""
    trust = LocalTrust(directory)
    _needs_ca(trust)
    number = trust.republish()
    typer.echo(f"revocation list {number} written to {trust.crl_file}")


@pki_app.command("renew")
def pki_renew(
    region: RegionArg,
    directory: DirOption = Path("data"),
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Days of validity.")] = 397,
) -> None:
    """Renew a node's certificate: same identity and hosts, a new key; the node picks it up by itself."""
    trust = LocalTrust(directory)
    _needs_ca(trust)
    try:
        node = trust.renew(_region(region), valid_days=days)
    except (OSError, PKIError) as error:
        usage_error(f"cannot renew {region}: {error}")
    typer.echo(f"renewed {trust.cert_file(region)} (serial {node.serial:x}, until {node.not_after:%Y-%m-%d})")


@pki_app.command("revoke")
def pki_revoke(region: RegionArg, directory: DirOption = Path("data")) -> None:
    """Put a node's current certificate on the revocation list (the nodes refuse it within a second)."""
    trust = LocalTrust(directory)
    _needs_ca(trust)
    serial = trust.revoke(_region(region))
    typer.echo(f"revoked serial {serial:x} of nodes/{region}; {trust.crl_file} updated")


@pki_app.command("show")
def pki_show(ctx: typer.Context, file: Annotated[Path, typer.Argument(metavar="CERT_FILE")]) -> None:
    """Print what a certificate says: identity, hosts, validity, issuer."""
    try:
        info = certificate_info(file.read_bytes())
    except (OSError, PKIError) as error:
        usage_error(f"{file}: {error}")
    fields = {
        "subject": info.subject,
        "identity": info.spiffe_id or "",
        "region": info.region or "",
        "hosts": ", ".join(info.hosts),
        "serial": f"{info.serial:x}",
        "valid from": info.not_before.isoformat(),
        "valid until": info.not_after.isoformat(),
        "issuer": info.issuer,
    }
    if options_of(ctx).json:
        typer.echo(json.dumps(fields, ensure_ascii=False, indent=2))
        return
    table = Table(show_header=False)
    for key, value in fields.items():
        table.add_row(key, value)
    options_of(ctx).console.print(table)


@app.command()
def login(
    subject: Annotated[str, typer.Argument(metavar="USER", help="Who you are, e.g. zhang.san.")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role",
            metavar="ROLE",
            help=f"One of the policy's token roles: {', '.join(_TOKEN_ROLES)}. Repeat.",
        ),
    ],
    uscc: Annotated[
        list[str] | None,
        typer.Option("--uscc", metavar="USCC", help="A subject an applicant acts for. Repeat."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name (may be Chinese).")] = None,
    hours: Annotated[float, typer.Option("--hours", min=0.01, max=24, help="Lifetime of the token.")] = 8.0,
    directory: DirOption = Path("data"),
) -> None:
    """DEVELOPMENT ONLY: print a token from the local federation's development issuer.

    Use it as --token (or REGISTRY_TOKEN). Production nodes trust only their real identity provider.
    """
    trust = LocalTrust(directory)
    if not trust.jwks_file.exists():
        usage_error(f"no development issuer in {trust.tokens}: start registry-federation once (it makes one)")
    unknown = sorted(set(role) - set(_TOKEN_ROLES))
    if unknown:
        usage_error(f"{unknown} are no token roles of the policy; a token may name {_TOKEN_ROLES}")
    subjects = []
    for value in uscc or ():
        # A code the nodes would refuse at the first call is refused here, with the same reason.
        try:
            subjects.append(uscc_codes.parse(value).value)
        except InvalidValue as error:
            usage_error(f"--uscc {value}: {error.message}")
    try:
        token = trust.issuer().issue(
            subject, name=name or subject, roles=role, subjects=subjects, ttl=timedelta(hours=hours)
        )
    except ValueError as error:
        usage_error(str(error))
    typer.echo(token)


@app.command()
def policy(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Option("--file", metavar="FILE", help="A node's policy file (default: built-in).")
    ] = None,
) -> None:
    """Print the authorisation policy: which role may call which method, and on what."""
    try:
        loaded = Policy.load(file, methods=CONTRACT_METHODS)
    except (OSError, PolicyError) as error:
        usage_error(str(error))
    rows = [(m, r, s, "" if r == PUBLIC else str(loaded.roles[r].credential)) for m, r, s in loaded.table()]
    if options_of(ctx).json:
        fields = ("method", "role", "scope", "credential")
        typer.echo(json.dumps([dict(zip(fields, row, strict=True)) for row in rows], indent=2))
        return
    table = Table("method", "role", "scope", "proven by", title="who may call what")
    for method, role, scope, credential in rows:
        table.add_row(method, role, scope, credential or "anyone")
    options_of(ctx).console.print(table)
