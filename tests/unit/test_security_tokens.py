"""Bearer tokens: the development issuer, verification against JWKS files and OIDC issuers, refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import random
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from common.security.actors import identity_key
from common.security.tokens import Principal, TokenError, TokenIssuer, TokenVerifier

ISSUER = "https://idp.registry.test"
AUDIENCE = "public-data-registry"
USCC = "91320000MA1PDR0001"
REASONS = {
    "TOKEN_MALFORMED",
    "TOKEN_EXPIRED",
    "TOKEN_NOT_YET_VALID",
    "TOKEN_BAD_SIGNATURE",
    "TOKEN_UNKNOWN_KEY",
    "TOKEN_WRONG_ISSUER",
    "TOKEN_WRONG_AUDIENCE",
    "TOKEN_ALGORITHM",
    "TOKEN_CLAIMS",
}


@pytest.fixture
def issuer(tmp_path: Path) -> TokenIssuer:
    token_issuer = TokenIssuer.generate(ISSUER, AUDIENCE)
    token_issuer.save(tmp_path / "idp")
    return token_issuer


@pytest.fixture
def verifier(tmp_path: Path, issuer: TokenIssuer) -> TokenVerifier:
    return TokenVerifier.from_jwks_file(tmp_path / "idp" / "jwks.json", issuer=ISSUER, audience=AUDIENCE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(claims).encode())


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "operator-1",
        "iat": now,
        "exp": now + 600,
        "name": "王小明",
        "roles": ["operator"],
        "uscc": [USCC],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _refused(verifier: TokenVerifier, token: str) -> str:
    """The reason ``verifier`` refuses ``token``; also checks that the message does not echo the token."""
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    error = caught.value
    assert error.reason in REASONS | {"TOKEN_KEYS_UNAVAILABLE"}
    if isinstance(token, str) and len(token) > 8:
        assert token not in error.message and token not in str(error)
        for part in token.split("."):
            if len(part) > 8:
                assert part not in error.message
    return error.reason


# ---------------------------------------------------------------------------------------- round trip


def test_issue_and_verify_round_trip(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue(
        "applicant-7",
        name="江苏省数据局 张三",
        roles=["applicant", "viewer"],
        subjects=[USCC, "91110000MA0PDR0002"],
    )
    principal = verifier.verify(token)
    assert principal.subject == "applicant-7"
    assert principal.name == "江苏省数据局 张三"
    assert principal.roles == frozenset({"applicant", "viewer"})
    assert principal.subjects == frozenset({USCC, "91110000MA0PDR0002"})
    assert principal.issuer == ISSUER
    assert principal.kind == "person" and principal.region is None
    assert principal.has_role("viewer") and not principal.has_role("operator")
    assert timedelta(hours=7, minutes=59) < principal.expires - datetime.now(UTC) <= timedelta(hours=8)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] == issuer.kid


def test_saved_issuer_loads_with_a_private_key_file_and_a_public_key_set(
    tmp_path: Path, issuer: TokenIssuer
) -> None:
    folder = tmp_path / "idp"
    assert stat.S_IMODE((folder / "token-issuer.key").stat().st_mode) == 0o600
    published = json.loads((folder / "jwks.json").read_text())
    assert published == issuer.jwks()
    (key,) = published["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["kid"] == issuer.kid and "d" not in key
    loaded = TokenIssuer.load(folder)
    assert (loaded.issuer, loaded.audience, loaded.kid) == (ISSUER, AUDIENCE, issuer.kid)
    verifier = TokenVerifier.from_jwks_file(folder / "jwks.json", issuer=ISSUER, audience=AUDIENCE)
    assert verifier.verify(loaded.issue("x", name="X", roles=[])).subject == "x"
    assert "PRIVATE" not in repr(loaded)


def test_a_name_defaults_to_the_subject_and_lists_default_to_empty(
    verifier: TokenVerifier, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    jwks = tmp_path / "own.json"
    _write_jwks(jwks, [_jwk(key.public_key(), "k1")])
    own = TokenVerifier.from_jwks_file(jwks, issuer=ISSUER, audience=AUDIENCE)
    principal = own.verify(_sign(_claims(name=None, roles=None, uscc=None), key, "k1"))
    assert (
        principal.name == "operator-1"
        and principal.roles == frozenset()
        and principal.subjects == frozenset()
    )


def test_node_principals() -> None:
    node = Principal.node("320000")
    assert node.kind == "node" and node.region == "320000"
    assert node.subject == "spiffe://registry.data.gov.cn/nodes/320000"
    # A node carries no role: what its certificate grants is the policy's to say.
    assert node.name == "江苏省" and node.roles == frozenset()
    assert node.expires.tzinfo is not None
    until = datetime(2030, 1, 1, tzinfo=UTC)
    assert Principal.node("100000", expires=until).expires == until
    with pytest.raises(ValueError):
        Principal.node("999999")


def test_the_issuer_refuses_to_issue_what_verifiers_refuse(issuer: TokenIssuer) -> None:
    with pytest.raises(ValueError):
        issuer.issue("x", name="名" * 101, roles=[])
    with pytest.raises(ValueError):
        issuer.issue("", name="X", roles=[])
    with pytest.raises(ValueError):
        issuer.issue("x", name="X", roles="operator")


# ------------------------------------------------------------------------------------------ refusals


def test_time_claims(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=10)
    assert _refused(
        verifier, issuer.issue("x", name="X", roles=[], now=long_ago, ttl=timedelta(hours=1))
    ) == ("TOKEN_EXPIRED")
    # inside the 30 s leeway
    just_expired = datetime.now(UTC) - timedelta(minutes=10, seconds=10)
    assert verifier.verify(issuer.issue("x", name="X", roles=[], now=just_expired, ttl=timedelta(minutes=10)))
    later = datetime.now(UTC) + timedelta(hours=1)
    assert (
        _refused(verifier, issuer.issue("x", name="X", roles=[], not_before=later)) == "TOKEN_NOT_YET_VALID"
    )
    assert _refused(verifier, issuer.issue("x", name="X", roles=[], now=later)) == "TOKEN_NOT_YET_VALID"


def test_issuer_and_audience(tmp_path: Path, issuer: TokenIssuer) -> None:
    token = issuer.issue("x", name="X", roles=[])
    jwks = tmp_path / "idp" / "jwks.json"
    other_issuer = TokenVerifier.from_jwks_file(jwks, issuer="https://other.example", audience=AUDIENCE)
    assert _refused(other_issuer, token) == "TOKEN_WRONG_ISSUER"
    other_audience = TokenVerifier.from_jwks_file(jwks, issuer=ISSUER, audience="another-service")
    assert _refused(other_audience, token) == "TOKEN_WRONG_AUDIENCE"


def test_keys_the_verifier_does_not_know(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    stranger = TokenIssuer.generate(ISSUER, AUDIENCE)
    assert _refused(verifier, stranger.issue("x", name="X", roles=["admin"])) == "TOKEN_UNKNOWN_KEY"
    # Another key claiming our key id.
    forged = _sign(_claims(), Ed25519PrivateKey.generate(), issuer.kid)
    assert _refused(verifier, forged) == "TOKEN_BAD_SIGNATURE"
    # No key id at all: with a single published key that key is tried, and the signature fails.
    assert _refused(verifier, _sign(_claims(), Ed25519PrivateKey.generate(), None)) == "TOKEN_BAD_SIGNATURE"


def test_alg_none_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    for alg in ("none", "None", "NONE"):
        token = _unsigned({"alg": alg, "typ": "JWT", "kid": issuer.kid}, _claims()) + "."
        assert _refused(verifier, token) == "TOKEN_ALGORITHM"
    no_alg = _unsigned({"typ": "JWT", "kid": issuer.kid}, _claims()) + "." + _b64(b"signature")
    assert _refused(verifier, no_alg) == "TOKEN_ALGORITHM"


def test_hmac_with_the_public_key_as_secret_is_refused(tmp_path: Path, issuer: TokenIssuer) -> None:
    """The key-confusion attack: an HS256 token whose secret is the (public) verification key."""
    key_pem = (tmp_path / "idp" / "token-issuer.key").read_bytes()
    private = serialization.load_pem_private_key(key_pem, password=None)
    assert isinstance(private, Ed25519PrivateKey)
    public = private.public_key()
    verifier = TokenVerifier.from_jwks_file(tmp_path / "idp" / "jwks.json", issuer=ISSUER, audience=AUDIENCE)
    secrets = [
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
        json.dumps(issuer.jwks()["keys"][0]).encode(),
        (tmp_path / "idp" / "jwks.json").read_bytes(),
    ]
    for alg, digest in (("HS256", hashlib.sha256), ("HS384", hashlib.sha384), ("HS512", hashlib.sha512)):
        for secret in secrets:
            signing_input = _unsigned({"alg": alg, "typ": "JWT", "kid": issuer.kid}, _claims(roles=["admin"]))
            signature = hmac.new(secret, signing_input.encode(), digest).digest()
            assert _refused(verifier, signing_input + "." + _b64(signature)) == "TOKEN_ALGORITHM"


def test_an_algorithm_must_match_its_key(tmp_path: Path) -> None:
    ed_key, ec_key = Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())
    jwks = tmp_path / "keys.json"
    _write_jwks(jwks, [_jwk(ed_key.public_key(), "ed"), _jwk(ec_key.public_key(), "ec")])
    verifier = TokenVerifier.from_jwks_file(jwks, issuer=ISSUER, audience=AUDIENCE)
    # An ES256 token naming the Ed25519 key.
    assert _refused(verifier, _sign(_claims(), ec_key, "ed", "ES256")) == "TOKEN_ALGORITHM"
    assert _refused(verifier, _sign(_claims(), ed_key, "ec", "EdDSA")) == "TOKEN_ALGORITHM"
    # Two keys and no key id: which one is meant is unknown.
    assert _refused(verifier, _sign(_claims(), ed_key, None, "EdDSA")) == "TOKEN_UNKNOWN_KEY"


def test_es256_and_rs256_are_accepted_but_symmetric_keys_in_a_key_set_are_ignored(tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = tmp_path / "keys.json"
    oct_key = {"kty": "oct", "kid": "shared", "k": _b64(b"s" * 32)}
    _write_jwks(jwks, [_jwk(ec_key.public_key(), "ec"), _jwk(rsa_key.public_key(), "rsa"), oct_key])
    verifier = TokenVerifier.from_jwks_file(jwks, issuer=ISSUER, audience=AUDIENCE)
    assert verifier.verify(_sign(_claims(sub="e"), ec_key, "ec", "ES256")).subject == "e"
    assert verifier.verify(_sign(_claims(sub="r"), rsa_key, "rsa", "RS256")).subject == "r"
    assert _refused(verifier, _sign(_claims(), rsa_key, "rsa", "PS256")) == "TOKEN_ALGORITHM"
    signing_input = _unsigned({"alg": "HS256", "kid": "shared"}, _claims())
    signature = hmac.new(b"s" * 32, signing_input.encode(), hashlib.sha256).digest()
    assert _refused(verifier, signing_input + "." + _b64(signature)) == "TOKEN_ALGORITHM"


def test_a_tampered_payload_is_refused(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue("applicant-7", name="张三", roles=["applicant"])
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["applicant", "operator"]
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert _refused(verifier, tampered) == "TOKEN_BAD_SIGNATURE"
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert _refused(verifier, f"{header}.{payload}.{flipped}") == "TOKEN_BAD_SIGNATURE"
    assert _refused(verifier, f"{header}.{payload}.") == "TOKEN_BAD_SIGNATURE"


@pytest.mark.parametrize(
    "claims",
    [
        {"roles": "operator"},
        {"roles": [1, 2]},
        {"roles": [""]},
        {"uscc": [91320000]},
        {"uscc": USCC},
        {"name": "名" * 101},
        {"name": 7},
        {"name": "bell\x07"},
        {"sub": None},
        {"sub": 123},
        {"sub": ""},
        {"exp": None},
        {"iat": None},
        {"iss": None},
        {"aud": None},
    ],
)
def test_bad_claims_are_refused(tmp_path: Path, claims: dict[str, Any]) -> None:
    key = Ed25519PrivateKey.generate()
    jwks = tmp_path / "own.json"
    _write_jwks(jwks, [_jwk(key.public_key(), "k1")])
    verifier = TokenVerifier.from_jwks_file(jwks, issuer=ISSUER, audience=AUDIENCE)
    assert _refused(verifier, _sign(_claims(**claims), key, "k1")) == "TOKEN_CLAIMS"


@pytest.mark.parametrize(
    "subject",
    [
        "dual.three ",  # surrounding space: another spelling of dual.three
        " dual.three",
        "dual.three\u3000",  # an ideographic space
        "dual\u200bthree",  # a zero-width space (Unicode category Cf)
        "dual.three\u200d",  # a zero-width joiner
        "\u202edual.three",  # a right-to-left override
        "dual.three\ufeff",  # a byte-order mark
        "dual\u2028three",  # a line separator
        "dual\x00three",  # a control character
        "nodes/320000",  # a node, as the history names nodes
        "NODES/320000",
        "ｎｏｄｅｓ/320000",  # full width: the same after NFKC
        "spiffe://registry.data.gov.cn/nodes/320000",
        "system",  # the node itself
        "System",
        "anonymous",  # the public
    ],
)
def test_a_subject_that_is_no_plain_persons_name_is_refused(tmp_path: Path, subject: str) -> None:
    key = Ed25519PrivateKey.generate()
    jwks = tmp_path / "own.json"
    _write_jwks(jwks, [_jwk(key.public_key(), "k1")])
    verifier = TokenVerifier.from_jwks_file(jwks, issuer=ISSUER, audience=AUDIENCE)
    assert _refused(verifier, _sign(_claims(sub=subject), key, "k1")) == "TOKEN_CLAIMS"
    with pytest.raises(ValueError):  # nor does the development issuer sign it
        TokenIssuer.generate(ISSUER, AUDIENCE).issue(subject, name="x", roles=[])


def test_spellings_of_one_subject_are_one_identity(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    # Accepted as subjects (an identity provider may spell them so), but compared as one person.
    spellings = ["dual.three", "Dual.Three", "ｄｕａｌ.three", "DUAL.THREE"]
    subjects = [verifier.verify(issuer.issue(s, name="x", roles=[])).subject for s in spellings]
    assert subjects == spellings
    assert {identity_key(s) for s in subjects} == {"dual.three"}
    assert identity_key("张三") != identity_key("张 三")
    assert verifier.verify(issuer.issue("zhang san", name="x", roles=[])).subject == "zhang san"


def test_garbage_is_malformed(issuer: TokenIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue("x", name="X", roles=[])
    header = token.split(".")[0]
    garbage = [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "...",
        "a.b.c.d",
        f"Bearer {token}",
        token + "x" * 9000,
        token.replace(".", "。", 1),
        _b64(b"[1, 2]") + ".e30.x",
        _b64(b'"alg"') + ".e30.x",
        _b64(b"{not json") + ".e30.x",
        _unsigned({"alg": "EdDSA", "kid": 5}, _claims()) + ".x",
        _unsigned({"alg": "EdDSA", "kid": issuer.kid, "crit": ["exp"]}, _claims()) + ".x",
    ]
    for text in garbage:
        assert _refused(verifier, text) == "TOKEN_MALFORMED", text[:40]
    # A real header and signature around a broken payload: the signature is checked first.
    signature = token.split(".")[2]
    for payload in (_b64(b"not json"), "!!!!", _b64(b"[1]")):
        assert _refused(verifier, f"{header}.{payload}.{signature}") in {
            "TOKEN_BAD_SIGNATURE",
            "TOKEN_MALFORMED",
        }
    rng = random.Random(20260101)
    for _ in range(200):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        assert _refused(verifier, data.decode("latin-1")) == "TOKEN_MALFORMED"
        assert _refused(verifier, data.decode("utf-8", "surrogateescape")) == "TOKEN_MALFORMED"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/."
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 200)))
        _refused(verifier, text)
    # Real parts shuffled around.
    parts = token.split(".")
    for _ in range(50):
        shuffled = ".".join(rng.choice(parts) for _ in range(3))
        if shuffled != token:
            _refused(verifier, shuffled)
    for not_a_string in (None, b"bytes", 42):
        assert _refused(verifier, not_a_string) == "TOKEN_MALFORMED"  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ rotation


def test_a_rotated_jwks_file_is_picked_up(
    tmp_path: Path, issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    folder = tmp_path / "idp"
    old_token = issuer.issue("x", name="X", roles=[])
    assert verifier.verify(old_token)

    successor = TokenIssuer.generate(ISSUER, AUDIENCE)
    new_token = successor.issue("y", name="Y", roles=[])
    assert _refused(verifier, new_token) == "TOKEN_UNKNOWN_KEY"

    # Overlap: both keys published.
    _write_jwks(folder / "jwks.json", issuer.jwks()["keys"] + successor.jwks()["keys"])
    assert verifier.verify(old_token).subject == "x"
    assert verifier.verify(new_token).subject == "y"

    # The old key withdrawn.
    successor.save(folder)
    assert verifier.verify(new_token).subject == "y"
    assert _refused(verifier, old_token) == "TOKEN_UNKNOWN_KEY"

    # A broken file keeps the last good keys.
    (folder / "jwks.json").write_text('{"keys": [')
    assert verifier.verify(new_token).subject == "y"
    (folder / "jwks.json").unlink()
    assert verifier.verify(new_token).subject == "y"
    successor.save(folder)
    assert verifier.verify(new_token).subject == "y"


def test_a_jwks_file_without_usable_keys_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    _write_jwks(path, [{"kty": "oct", "k": "c2VjcmV0"}])
    with pytest.raises(ValueError):
        TokenVerifier.from_jwks_file(path, issuer=ISSUER, audience=AUDIENCE)
    with pytest.raises(OSError):
        TokenVerifier.from_jwks_file(tmp_path / "missing.json", issuer=ISSUER, audience=AUDIENCE)


# ---------------------------------------------------------------------------------------------- OIDC


@pytest.fixture
def oidc_server() -> Iterator[tuple[TokenIssuer, list[str]]]:
    """A loopback OIDC identity provider; yields its token issuer and the paths requested from it."""
    requested: list[str] = []
    documents: dict[str, Any] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requested.append(self.path)
            document = documents.get(self.path)
            body = json.dumps(document).encode()
            self.send_response(200 if document is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    documents["/.well-known/openid-configuration"] = {"issuer": url, "jwks_uri": f"{url}/keys"}
    idp = TokenIssuer.generate(url, AUDIENCE)
    documents["/keys"] = idp.jwks()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield idp, requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_oidc_issuer(oidc_server: tuple[TokenIssuer, list[str]], tmp_path: Path) -> None:
    idp, requested = oidc_server
    url = idp.issuer
    verifier = TokenVerifier.from_oidc_issuer(url, audience=AUDIENCE, timeout=5)
    assert requested == []  # nothing fetched before the first token

    principal = verifier.verify(idp.issue("oidc-user", name="李四", roles=["operator"]))
    assert principal.issuer == url and principal.name == "李四"
    assert requested == ["/.well-known/openid-configuration", "/keys"]
    assert verifier.verify(idp.issue("again", name="X", roles=[])).subject == "again"
    assert len(requested) == 2  # keys cached
    # The provider's own key, but another issuer named in the token.
    idp.save(tmp_path / "idp-copy")
    meta = tmp_path / "idp-copy" / "token-issuer.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "issuer": "https://elsewhere.example"}))
    impostor = TokenIssuer.load(tmp_path / "idp-copy")
    assert impostor.kid == idp.kid
    assert _refused(verifier, impostor.issue("x", name="X", roles=[])) == "TOKEN_WRONG_ISSUER"
    assert _refused(verifier, TokenIssuer.generate(url, AUDIENCE).issue("x", name="X", roles=[])) == (
        "TOKEN_UNKNOWN_KEY"
    )
    assert len(requested) == 2  # an unknown key id refetches the keys at most every 30 s


def test_oidc_issuer_unreachable_or_insecure() -> None:
    verifier = TokenVerifier.from_oidc_issuer("http://127.0.0.1:9", audience=AUDIENCE, timeout=2)
    token = TokenIssuer.generate("http://127.0.0.1:9", AUDIENCE).issue("x", name="X", roles=[])
    assert _refused(verifier, token) == "TOKEN_KEYS_UNAVAILABLE"
    assert _refused(verifier, token) == "TOKEN_KEYS_UNAVAILABLE"  # backing off, no new attempt
    with pytest.raises(ValueError):
        TokenVerifier.from_oidc_issuer("http://idp.example", audience=AUDIENCE)


# ------------------------------------------------------------------------------------------- helpers


def _jwk(public_key: Any, kid: str) -> dict[str, Any]:
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public_key, as_dict=True)
    elif isinstance(public_key, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public_key, as_dict=True)
    return {**jwk, "kid": kid, "use": "sig"}


def _write_jwks(path: Path, keys: list[dict[str, Any]]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"keys": keys}))
    os.replace(temporary, path)


def _sign(claims: dict[str, Any], key: Any, kid: str | None, algorithm: str = "EdDSA") -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)
