"""Every forged or malformed gateway token is refused; the user is always the token's `sub`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from app.bench.server import free_port
from app.config import AuthSettings
from app.errors import Forbidden, StartupRefused, Unauthorized
from app.services.auth import TokenVerifier, resolve_principal

SECRET = "s" * 48
USER = "user_2abcDEF345ghij"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": USER, "aud": "zka", "iat": now, "exp": now + 300}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _hs(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _pem(key: Any) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.fixture
def hs_verifier() -> TokenVerifier:
    return TokenVerifier(AuthSettings(jwt_secret=SECRET))  # type: ignore[arg-type]


def test_a_valid_hs256_token_yields_its_subject(hs_verifier: TokenVerifier) -> None:
    assert hs_verifier.verify(_hs(_claims())) == USER


@pytest.mark.parametrize(
    ("token_claims", "reason"),
    [
        (_claims(exp=int(time.time()) - 120), "expired"),
        (_claims(nbf=int(time.time()) + 600), "not yet valid"),
        (_claims(aud="someone-else"), "audience"),
        (_claims(exp=None), "exp"),
        (_claims(sub=None), "sub"),
        (_claims(sub="../../etc"), "subject"),
        (_claims(iat=int(time.time()), exp=int(time.time()) + 86_400 * 30), "lifetime"),
        (_claims(iat=None), "iat"),
    ],
)
def test_bad_claims_are_refused(hs_verifier: TokenVerifier, token_claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(Unauthorized, match=reason):
        hs_verifier.verify(_hs(token_claims))


def test_leeway_of_thirty_seconds_accepts_a_just_expired_token(hs_verifier: TokenVerifier) -> None:
    assert hs_verifier.verify(_hs(_claims(exp=int(time.time()) - 10))) == USER


def test_wrong_key_is_refused(hs_verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthorized, match="invalid token"):
        hs_verifier.verify(_hs(_claims(), secret="t" * 48))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(claims: dict[str, Any]) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def test_alg_none_is_refused(hs_verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthorized):
        hs_verifier.verify(_unsigned(_claims()))


def test_es256_verifier_refuses_hs256_signed_with_the_public_key() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    verifier = TokenVerifier(AuthSettings(jwt_public_key=_pem(key)))  # type: ignore[arg-type]
    assert verifier.verify(jwt.encode(_claims(), key, algorithm="ES256")) == USER
    # Algorithm confusion: an attacker signs HS256 with the (public) PEM text as the HMAC secret.
    header, payload = _b64({"alg": "HS256", "typ": "JWT"}), _b64(_claims())
    signature = hmac.new(_pem(key).encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    with pytest.raises(Unauthorized):
        verifier.verify(confused)
    with pytest.raises(Unauthorized):
        verifier.verify(_unsigned(_claims()))
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(Unauthorized):
        verifier.verify(jwt.encode(_claims(), other, algorithm="ES256"))


def test_eddsa_public_key_is_supported() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    verifier = TokenVerifier(AuthSettings(jwt_public_key=_pem(key)))  # type: ignore[arg-type]
    assert verifier.verify(jwt.encode(_claims(), key, algorithm="EdDSA")) == USER


def test_issuer_is_checked_when_configured() -> None:
    verifier = TokenVerifier(AuthSettings(jwt_secret=SECRET, jwt_issuer="gateway"))  # type: ignore[arg-type]
    assert verifier.verify(_hs(_claims(iss="gateway"))) == USER
    with pytest.raises(Unauthorized):
        verifier.verify(_hs(_claims(iss="evil")))


def test_a_different_user_uid_in_the_request_is_forbidden(hs_verifier: TokenVerifier) -> None:
    token = f"Bearer {_hs(_claims())}"
    assert resolve_principal(hs_verifier, token, USER).user_uid == USER
    assert resolve_principal(hs_verifier, token, None).user_uid == USER
    with pytest.raises(Forbidden):
        resolve_principal(hs_verifier, token, "user_someoneElse1234")


def test_no_token_is_401_when_auth_is_enabled(hs_verifier: TokenVerifier) -> None:
    with pytest.raises(Unauthorized):
        resolve_principal(hs_verifier, None, USER)
    with pytest.raises(Unauthorized):
        resolve_principal(hs_verifier, "Basic abc", USER)


def test_error_messages_never_echo_the_token(hs_verifier: TokenVerifier) -> None:
    token = _hs(_claims(aud="x"))
    with pytest.raises(Unauthorized) as refused:
        hs_verifier.verify(token)
    assert token not in str(refused.value) and SECRET not in str(refused.value)


def test_short_hs256_secrets_are_refused_by_configuration() -> None:
    with pytest.raises(ValueError, match="32"):
        AuthSettings(jwt_secret="short")  # type: ignore[arg-type]


# --- key types: each supported one verifies its own algorithms, anything else refuses the start ------

def _signed(key: Any, algorithm: str) -> str:
    return jwt.encode(_claims(), key, algorithm=algorithm)


@pytest.mark.parametrize(("private_key", "algorithms"), [
    (rsa.generate_private_key(public_exponent=65537, key_size=2048), ["RS256", "PS256"]),
    (ec.generate_private_key(ec.SECP384R1()), ["ES384"]),
    (ec.generate_private_key(ec.SECP256R1()), ["ES256"]),
    (ed25519.Ed25519PrivateKey.generate(), ["EdDSA"]),
])
def test_each_supported_key_type_verifies_its_algorithms_only(private_key: Any, algorithms: list[str]) -> None:
    verifier = TokenVerifier(AuthSettings(jwt_public_key=_pem(private_key)))  # type: ignore[arg-type]
    for algorithm in algorithms:
        assert verifier.verify(_signed(private_key, algorithm)) == USER
    # A token for another algorithm (the probe's EdDSA token on an RSA key gave 500) is a 401.
    other_key, other_algorithm = ((ed25519.Ed25519PrivateKey.generate(), "EdDSA") if "EdDSA" not in algorithms
                                  else (ec.generate_private_key(ec.SECP256R1()), "ES256"))
    with pytest.raises(Unauthorized):
        verifier.verify(_signed(other_key, other_algorithm))
    with pytest.raises(Unauthorized):
        verifier.verify(_hs(_claims()))


def _private_pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize(("pem", "reason"), [
    (_pem(ec.generate_private_key(ec.SECP521R1())), "EC secp521r1"),
    (_pem(ec.generate_private_key(ec.SECP256K1())), "EC secp256k1"),
    (_pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)), "RSA 1024 bits"),
    (_pem(ed448.Ed448PrivateKey.generate()), "Ed448"),
    (_private_pem(ec.generate_private_key(ec.SECP256R1())), "private key"),
    ("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
    ("garbage", "not a PEM public key"),
])
def test_an_unsupported_gateway_key_refuses_the_start(pem: str, reason: str) -> None:
    with pytest.raises(StartupRefused) as refused:
        TokenVerifier(AuthSettings(jwt_public_key=pem))  # type: ignore[arg-type]
    message = str(refused.value)
    assert reason in message and "ZKA_JWT_PUBLIC_KEY" in message and "\n" not in message
    body = [line for line in pem.splitlines() if "-----" not in line]  # the key's value, never echoed
    assert not any(line in message for line in body)


def test_a_secret_and_a_public_key_together_refuse_the_start() -> None:
    key = _pem(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(StartupRefused, match="not both"):
        TokenVerifier(AuthSettings(jwt_secret=SECRET, jwt_public_key=key))  # type: ignore[arg-type]


@pytest.mark.parametrize("env", [
    {"ZKA_JWT_PUBLIC_KEY": _pem(rsa.generate_private_key(public_exponent=65537, key_size=1024))},
    {"ZKA_JWT_PUBLIC_KEY": _private_pem(ed25519.Ed25519PrivateKey.generate())},
    {"ZKA_JWT_PUBLIC_KEY": _pem(ec.generate_private_key(ec.SECP256R1())), "ZKA_JWT_SECRET": SECRET},
])
def test_zka_serve_refuses_a_bad_gateway_key_in_one_line(tmp_path: Path, env: dict[str, str]) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ZKA_") and k != "DATABASE_URL"}
    base.update({"ZKA_DATA_DIR": str(tmp_path / "data"), "ZKA_PORT": str(free_port())}, **env)
    result = subprocess.run([sys.executable, "-m", "app.cli", "serve"], env=base, capture_output=True, text=True,
                            timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("zka:")]
    assert len(lines) == 1 and "ZKA_JWT" in lines[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "BEGIN" not in result.stderr
