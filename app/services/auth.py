"""Gateway authentication: the user is always the verified token's `sub`.

HS256 with ZKA_JWT_SECRET, or a public key in ZKA_JWT_PUBLIC_KEY: Ed25519 (EdDSA), EC P-256 (ES256),
EC P-384 (ES384) or RSA of at least 2048 bits (RS256, PS256). The accepted algorithms are fixed by the
configured key type, so `alg: none` and HS/ES confusion cannot pass; any other key (another curve, a
short RSA key, a private key, not a PEM public key), or both a secret and a key, refuses the start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jwt

from app.config import AuthSettings
from app.errors import Forbidden, StartupRefused, Unauthorized

USER_UID_PATTERN = (
    r"^(user_[A-Za-z0-9]{8,64}"  # Clerk
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # UUID
    r"|c[a-z0-9]{20,31})$"  # CUID
)
USER_UID_FORMATS = (  # the same rule in words, for error messages, the CLI and the README
    "a Clerk id (user_ and 8-64 letters or digits), a UUID (8-4-4-4-12 hex digits) "
    "or a CUID (c and 20-31 lower-case letters or digits)"
)
_UID = re.compile(USER_UID_PATTERN)


def is_valid_user_uid(value: str) -> bool:
    """Clerk `user_…`, UUID or CUID."""
    return bool(_UID.match(value))


@dataclass(frozen=True)
class Principal:
    user_uid: str
    authenticated: bool  # False only in development without gateway auth configured


class TokenVerifier:
    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._key: Any
        if settings.jwt_public_key and settings.jwt_secret:
            raise StartupRefused("set ZKA_JWT_SECRET (HS256) or ZKA_JWT_PUBLIC_KEY, not both")
        if settings.jwt_public_key:
            self._key, self._algorithms = _load_public_key(settings.jwt_public_key)
        elif settings.jwt_secret:
            self._key = settings.jwt_secret.get_secret_value()
            self._algorithms = ["HS256"]
        else:
            self._key = None
            self._algorithms = []

    @property
    def enabled(self) -> bool:
        return self._key is not None

    def verify(self, token: str) -> str:
        """Returns the user uid (`sub`) or raises Unauthorized with a reason safe to show."""
        try:
            claims = jwt.decode(
                token, self._key, algorithms=self._algorithms, audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer, leeway=self.settings.jwt_leeway_s,
                options={"require": ["exp", "sub", "aud"], "verify_iat": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired", code="token_expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise Unauthorized("token not yet valid", code="token_not_yet_valid") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthorized("token audience is not zka", code="token_invalid") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise Unauthorized(f"token lacks the {exc.claim} claim", code="token_invalid") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("invalid token", code="token_invalid") from exc
        self._check_lifetime(claims)
        sub = claims["sub"]
        if not isinstance(sub, str) or not is_valid_user_uid(sub):
            raise Unauthorized("token subject is not a valid user id", code="token_invalid")
        return sub

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        issued = claims.get("iat", claims.get("nbf"))
        if not isinstance(issued, int | float):
            raise Unauthorized("token lacks iat, so its lifetime cannot be checked", code="token_invalid")
        if claims["exp"] - issued > self.settings.jwt_max_lifetime_s:
            raise Unauthorized("token lifetime exceeds the maximum", code="token_invalid")


SUPPORTED_KEYS = "Ed25519, EC P-256, EC P-384 or RSA of at least 2048 bits"
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384"}


def _load_public_key(pem: str) -> tuple[Any, list[str]]:
    """The key and the algorithms it verifies; StartupRefused (one line, never the value) otherwise."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if "PRIVATE KEY" in pem:
        raise StartupRefused("ZKA_JWT_PUBLIC_KEY holds a private key: give the gateway's public key only "
                             "(SubjectPublicKeyInfo PEM)")
    try:
        key = load_pem_public_key(pem.strip().encode())
    except (ValueError, TypeError):
        raise StartupRefused(f"ZKA_JWT_PUBLIC_KEY is not a PEM public key (SubjectPublicKeyInfo) of a supported "
                             f"type: {SUPPORTED_KEYS}") from None
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key, ["EdDSA"]
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _EC_ALGORITHMS:
        return key, [_EC_ALGORITHMS[key.curve.name]]
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return key, ["RS256", "PS256"]
    raise StartupRefused(f"ZKA_JWT_PUBLIC_KEY is an unsupported key ({_describe(key)}); supported: {SUPPORTED_KEYS}")


def _describe(key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    return type(key).__name__.removesuffix("PublicKey").lstrip("_")


def resolve_principal(
    verifier: TokenVerifier, authorization: str | None, claimed_uid: str | None
) -> Principal:
    """With auth enabled the token decides; a different claimed user_uid is refused (no IDOR).
    In development without auth, the request's user_uid is taken at its word (a stated weakness)."""
    if verifier.enabled:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("a gateway token is required (Authorization: Bearer …)")
        uid = verifier.verify(authorization[7:].strip())
        if claimed_uid is not None and claimed_uid != uid:
            raise Forbidden("user_uid does not match the authenticated user", code="user_mismatch")
        return Principal(uid, authenticated=True)
    if claimed_uid is None:
        raise Unauthorized("user_uid is required (gateway authentication is disabled in development)")
    if not is_valid_user_uid(claimed_uid):
        raise Unauthorized("user_uid is not a valid user id")
    return Principal(claimed_uid, authenticated=False)
