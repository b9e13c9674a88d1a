"""The operators' trust tools without a network: ``registryctl pki``, ``login`` and ``policy``, and the
provincial node's installation of the revocation list the national node publishes.

A provincial operator and a national coordinator are played in two folders, as on two machines: the
key is made on the province's and only the signing request crosses.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from common.registryctl import app
from common.rpc.security import CONTRACT_METHODS
from common.security import pki
from common.security.identity import NATIONAL_SERVER_NAME, node_spiffe_id
from common.security.local import AUDIENCE, DEVELOPMENT_ISSUER, LocalTrust
from common.security.policy import Credential, Policy
from common.security.tokens import TokenVerifier
from provincial_node.revocations import RevocationFeed


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"REGISTRY_TOKEN": None, "COLUMNS": "200"})


def ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_province_requests_a_certificate_and_the_coordinators_sign_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    national, province = tmp_path / "national", tmp_path / "province"
    ok(runner, "pki", "init", "--dir", str(national))
    ok(runner, "pki", "request", "510000", "--out", str(province), "--host", "10.0.0.5")
    key, csr = province / "510000.key", province / "510000.csr"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # The coordinators have only the request; signing it for another region is refused.
    (national / "incoming.csr").write_bytes(csr.read_bytes())
    wrong = runner.invoke(
        app, ["pki", "sign", str(national / "incoming.csr"), "--region", "320000", "--dir", str(national)]
    )
    assert wrong.exit_code == 2 and "nodes/510000" in wrong.output and "320000" in wrong.output
    out = ok(
        runner, "pki", "sign", str(national / "incoming.csr"), "--region", "510000", "--dir", str(national)
    )
    certificate = national / "pki" / "nodes" / "510000.crt"
    assert str(certificate) in out and not (national / "pki" / "nodes" / "510000.key").exists()
    shown = json.loads(ok(runner, "--json", "pki", "show", str(certificate)))
    assert shown["region"] == "510000" and shown["hosts"] == "10.0.0.5"
    # The province's key and the coordinators' certificate belong together.
    pki.load_certified_key(key, certificate)
    # A second request would replace the node's key: refused, the key is kept.
    again = runner.invoke(app, ["pki", "request", "510000", "--out", str(province)])
    assert again.exit_code == 2 and "exists" in again.output


def test_a_province_asking_for_the_national_nodes_name_is_refused_and_nothing_is_written(
    runner: CliRunner, tmp_path: Path
) -> None:
    national, province = tmp_path / "national", tmp_path / "province"
    ok(runner, "pki", "init", "--dir", str(national))
    named = ("--host", NATIONAL_SERVER_NAME)
    asked = runner.invoke(app, ["pki", "request", "440000", "--out", str(province), *named])
    assert asked.exit_code == 2 and NATIONAL_SERVER_NAME in asked.output
    assert not province.exists()
    # A request made by other means reaches the coordinators: the CA refuses to sign it.
    key = ec.generate_private_key(ec.SECP256R1())
    san = [x509.UniformResourceIdentifier(node_spiffe_id("440000")), x509.DNSName(NATIONAL_SERVER_NAME)]
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "440000")]))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .sign(key, hashes.SHA256())
    )
    incoming = tmp_path / "440000.csr"
    incoming.write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    signed = runner.invoke(app, ["pki", "sign", str(incoming), "--region", "440000", "--dir", str(national)])
    assert signed.exit_code == 2 and NATIONAL_SERVER_NAME in signed.output, signed.output
    issued = runner.invoke(app, ["pki", "issue", "440000", "--dir", str(national), *named])
    assert issued.exit_code == 2 and NATIONAL_SERVER_NAME in issued.output, issued.output
    assert not (national / "pki" / "nodes").exists()
    # The national node's own certificate carries the name.
    ok(runner, "pki", "issue", "100000", "--dir", str(national))
    shown = json.loads(ok(runner, "--json", "pki", "show", str(national / "pki" / "nodes" / "100000.crt")))
    assert NATIONAL_SERVER_NAME in shown["hosts"].split(", ")


def test_revoke_and_republish_advance_the_list_and_keep_what_was_revoked(
    runner: CliRunner, tmp_path: Path
) -> None:
    ok(runner, "pki", "init", "--dir", str(tmp_path))
    ok(runner, "pki", "issue", "320000", "--dir", str(tmp_path))
    trust = LocalTrust(tmp_path)
    serial = pki.certificate_info(trust.cert_file("320000").read_bytes()).serial
    ok(runner, "pki", "revoke", "320000", "--dir", str(tmp_path))
    ok(runner, "pki", "republish", "--dir", str(tmp_path))
    held = pki.RevocationList.load(trust.crl_file.read_bytes(), trust.ca_file.read_bytes())
    assert held.number == 3 and held.is_revoked(serial)


def test_pki_commands_without_a_ca_say_how_to_make_one(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["pki", "issue", "320000", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "pki init" in result.output


def test_login_prints_a_development_token_the_nodes_verify(runner: CliRunner, tmp_path: Path) -> None:
    trust = LocalTrust(tmp_path)
    without = runner.invoke(app, ["login", "wang.wu", "--role", "clerk", "--dir", str(tmp_path)])
    assert without.exit_code == 2 and "registry-federation" in without.output
    trust.issuer()
    token = ok(
        runner,
        "login",
        "wang.wu",
        "--role",
        "applicant",
        "--uscc",
        "12320106MB1C584759",
        "--dir",
        str(tmp_path),
    ).strip()
    verifier = TokenVerifier.from_jwks_file(trust.jwks_file, issuer=DEVELOPMENT_ISSUER, audience=AUDIENCE)
    principal = verifier.verify(token)
    assert principal.subject == "wang.wu" and principal.roles == {"applicant"}
    assert principal.subjects == {"12320106MB1C584759"}
    unknown = runner.invoke(app, ["login", "x", "--role", "root", "--dir", str(tmp_path)])
    assert unknown.exit_code == 2 and "root" in unknown.output
    # A subject's code with a wrong check character is refused here, as a node would refuse it.
    mistyped = runner.invoke(
        app, ["login", "x", "--role", "applicant", "--uscc", "12320106MB1C584758", "--dir", str(tmp_path)]
    )
    assert mistyped.exit_code == 2 and "12320106MB1C584758" in mistyped.output and "check" in mistyped.output


def test_login_names_and_takes_the_token_roles_of_the_policy_and_no_other(
    runner: CliRunner, tmp_path: Path
) -> None:
    policy = Policy.load(methods=CONTRACT_METHODS)
    token_roles = policy.role_names(Credential.TOKEN)
    assert token_roles and policy.role_names(Credential.CERTIFICATE)
    shown = " ".join(ok(runner, "login", "--help").split())
    assert all(role in shown for role in token_roles)
    trust = LocalTrust(tmp_path)
    trust.issuer()
    verifier = TokenVerifier.from_jwks_file(trust.jwks_file, issuer=DEVELOPMENT_ISSUER, audience=AUDIENCE)
    for role in token_roles:
        token = ok(runner, "login", "x.y", "--role", role, "--dir", str(tmp_path)).strip()
        assert verifier.verify(token).roles == {role}
    # A role a certificate proves is no role of a token: the attempt gets no token at all.
    for role in (*policy.role_names(Credential.CERTIFICATE), "public"):
        result = runner.invoke(app, ["login", "x.y", "--role", role, "--dir", str(tmp_path)])
        assert result.exit_code == 2 and role in result.output and "eyJ" not in result.output


def test_policy_prints_who_may_do_what(runner: CliRunner) -> None:
    rows = json.loads(ok(runner, "--json", "policy"))
    assert {
        "method": "RegistrationService.ApproveApplication",
        "role": "reviewer",
        "scope": "any",
        "credential": "token",
    } in rows
    assert {
        "method": "SyncService.PushChanges",
        "role": "node",
        "scope": "own_node",
        "credential": "certificate",
    } in rows


# -- the revocation list a province installs ----------------------------------------------------------


@pytest.fixture
def federation(tmp_path: Path) -> tuple[LocalTrust, Path]:
    trust = LocalTrust(tmp_path / "national")
    trust.ensure(["320000"], clients=())
    held = tmp_path / "province-crl.pem"
    held.write_bytes(trust.crl_file.read_bytes())
    return trust, held


def test_a_newer_list_of_the_ca_is_installed(federation: tuple[LocalTrust, Path]) -> None:
    trust, held = federation
    serial = trust.revoke("320000")
    published = pki.RevocationList.load(trust.crl_file.read_bytes(), trust.ca_file.read_bytes())
    feed = RevocationFeed(lambda: published.der, crl_file=held, ca_file=trust.ca_file)
    feed.refresh()
    installed = pki.RevocationList.load(held.read_bytes(), trust.ca_file.read_bytes())
    assert installed.number == published.number and installed.is_revoked(serial)


def test_a_list_that_cannot_be_written_leaves_the_feed_running(
    federation: tuple[LocalTrust, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A revocation list mounted read-only (a Kubernetes Secret): the newer list is not installed, the
    failure is logged, and the next round tries again instead of the feed's thread dying."""
    trust, _ = federation
    trust.revoke("320000")
    published = pki.RevocationList.load(trust.crl_file.read_bytes(), trust.ca_file.read_bytes())
    (tmp_path / "not-a-folder").write_text("")
    unwritable = tmp_path / "not-a-folder" / "crl.pem"
    feed = RevocationFeed(lambda: published.der, crl_file=unwritable, ca_file=trust.ca_file)
    feed.refresh()
    feed.refresh()
    refused = [r for r in caplog.records if "cannot install revocation list" in r.getMessage()]
    assert len(refused) == 2 and not unwritable.exists()


def test_a_forged_or_older_list_is_not_installed(federation: tuple[LocalTrust, Path], tmp_path: Path) -> None:
    trust, held = federation
    trust.revoke("320000")
    newer = trust.crl_file.read_bytes()
    held.write_bytes(newer)
    impostor = LocalTrust(tmp_path / "impostor")
    impostor.init_ca()
    forged = pki.RevocationList.load(impostor.crl_file.read_bytes(), impostor.ca_file.read_bytes())
    older = pki.RevocationList.load(pki.empty_crl(trust.ca()), trust.ca_file.read_bytes())
    for bad in (forged.der, older.der, b"garbage"):
        feed = RevocationFeed(lambda b=bad: b, crl_file=held, ca_file=trust.ca_file)
        assert not feed.install(bad)
        assert held.read_bytes() == newer
