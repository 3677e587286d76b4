"""Map ccxt / transport exceptions to our ConnectorError classes with credential-free messages.

ccxt puts the request URL (with signatures, sometimes keys) and the raw body into its messages, so we
never reuse them verbatim: the message is rebuilt from the exception class, the venue and a short,
scrubbed reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from app.connectors.base import (
    AuthError,
    ConnectorError,
    MalformedResponse,
    PermissionRefused,
    RateLimited,
    VenueUnavailable,
)

# Most specific first: PermissionDenied is a subclass of AuthenticationError in ccxt.
_BY_CCXT_CLASS: tuple[tuple[str, type[ConnectorError]], ...] = (
    ("PermissionDenied", PermissionRefused),
    ("AccountSuspended", PermissionRefused),
    ("AuthenticationError", AuthError),
    ("RateLimitExceeded", RateLimited),
    ("DDoSProtection", RateLimited),
    ("BadResponse", MalformedResponse),
    ("NetworkError", VenueUnavailable),  # ExchangeNotAvailable, RequestTimeout, InvalidNonce, ...
    ("ExchangeNotAvailable", VenueUnavailable),
)
_TRANSPORT = ("ClientError", "TimeoutError", "ServerDisconnectedError", "OSError")
_PARSE = ("JSONDecodeError", "KeyError", "TypeError", "IndexError", "InvalidOperation", "ValueError")
_REASON_FIELDS = ("msg", "message", "retMsg", "sMsg", "error", "code", "retCode", "error_description")
_URL = re.compile(r"\b[a-z]+://\S+", re.IGNORECASE)
_LONG_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-.:]{24,}")
_MAX_REASON = 120


def classify(exc: BaseException) -> type[ConnectorError]:
    names = [cls.__name__ for cls in type(exc).__mro__]
    for ccxt_name, ours in _BY_CCXT_CLASS:
        if ccxt_name in names:
            return ours
    if any(name in names for name in _TRANSPORT):
        return VenueUnavailable
    if any(name in names for name in _PARSE):
        return MalformedResponse
    return ConnectorError


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove credential values, URLs and anything that looks like a key/signature; shorten."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "<redacted>")
    text = _URL.sub("<url>", text)
    text = _LONG_TOKEN.sub("<redacted>", text)
    text = " ".join(text.split())
    return text[:_MAX_REASON]


def _reason_from_body(text: str) -> str | None:
    """ccxt messages are usually '<id> <json body>': prefer the venue's own code/message fields."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        body = json.loads(text[start:])
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    parts = [f"{key}={body[key]}" for key in _REASON_FIELDS if isinstance(body.get(key), str | int)]
    return ", ".join(parts) or None


def to_connector_error(exc: BaseException, venue: str, action: str, secrets: Iterable[str]) -> ConnectorError:
    """Build (not raise) our error; callers raise it outside their except block so no context chains."""
    if isinstance(exc, ConnectorError):
        return exc
    kind = classify(exc)
    raw = str(exc)
    reason = _reason_from_body(raw) or raw
    short = scrub(reason, secrets)
    message = f"{venue}: {action} failed ({type(exc).__name__})"
    return kind(f"{message}: {short}" if short else message)
