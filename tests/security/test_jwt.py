"""Every forged or malformed gateway token is refused; the user is always the token's `sub`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from app.config import AuthSettings
from app.errors import Forbidden, Unauthorized
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
