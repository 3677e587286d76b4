"""Credentials <-> JSON bytes: the plaintext inside an E2E envelope and inside an at-rest ciphertext.

Shape: {"api_key": str, "api_secret": str, "passphrase"?: str|null, "extra"?: {str: str}}.
Errors are CodecError with a `code` and a message that names fields, never their values.
"""

from __future__ import annotations

import json
from typing import Any

from app.connectors.base import Credentials

MAX_FIELD_CHARS = 8192  # refresh tokens and Flex tokens fit easily; bounds memory per request
MAX_EXTRA_FIELDS = 16
ALLOWED_FIELDS = ("api_key", "api_secret", "passphrase", "extra")


class CodecError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def credentials_to_json(credentials: Credentials) -> bytes:
    """Compact JSON with sorted keys, so equal credentials always give equal bytes."""
    doc: dict[str, Any] = {"api_key": credentials.api_key, "api_secret": credentials.api_secret}
    if credentials.passphrase is not None:
        doc["passphrase"] = credentials.passphrase
    if credentials.extra:
        doc["extra"] = dict(credentials.extra)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def credentials_from_json(data: bytes) -> Credentials:
    doc = _load_object(data)
    unknown = sorted(set(doc) - set(ALLOWED_FIELDS))
    if unknown:
        # Never echo the names: a client that mislabels a field may have put a secret in its name.
        raise CodecError(
            "unknown_credentials_field",
            f"{len(unknown)} unexpected credentials field(s); allowed: {', '.join(ALLOWED_FIELDS)}",
        )
    api_key = _required(doc, "api_key")
    api_secret = _required(doc, "api_secret")
    return Credentials(api_key, api_secret, _passphrase(doc), _extra(doc))


def _load_object(data: bytes) -> dict[str, Any]:
    # Decode outside any `except` block that could be chained: a JSONDecodeError carries the whole
    # document (`.doc`), which must never reach a traceback or a log.
    doc: Any = None
    ok = True
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        ok = False
    if not ok or not isinstance(doc, dict):
        raise CodecError(
            "invalid_credentials_json",
            'decrypted payload is not a JSON object; expected {"api_key", "api_secret", "passphrase"?}',
        )
    return doc


def _required(doc: dict[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value.strip():
        raise CodecError(
            "missing_credentials", "decrypted payload must contain non-empty api_key and api_secret"
        )
    _check_len(name, value)
    return value


def _passphrase(doc: dict[str, Any]) -> str | None:
    value = doc.get("passphrase")
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise CodecError("invalid_credentials_field", "passphrase must be a string or null")
    _check_len("passphrase", value)
    return value


def _extra(doc: dict[str, Any]) -> dict[str, str]:
    value = doc.get("extra")
    if value is None:
        return {}
    valid = isinstance(value, dict) and len(value) <= MAX_EXTRA_FIELDS
    if not valid or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise CodecError(
            "invalid_credentials_field",
            f"extra must be an object of at most {MAX_EXTRA_FIELDS} string values",
        )
    for key, item in value.items():
        _check_len("extra", key)
        _check_len("extra", item)
    return dict(value)


def _check_len(name: str, value: str) -> None:
    if len(value) > MAX_FIELD_CHARS:
        raise CodecError("invalid_credentials_field", f"{name} is longer than {MAX_FIELD_CHARS} characters")
    # No venue issues keys with control characters: a NUL or a newline is a paste error, and would only
    # fail later at the venue (or split an HTTP header).
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise CodecError("invalid_credentials_field",
                         f"{name} contains a control character (NUL, newline, tab…); paste it without them")
