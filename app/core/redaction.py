"""The one redaction layer. Every log event (ours, uvicorn's, libraries') passes through redact_event.

Secrets are always removed: by field name, by value pattern, and by exact value for credentials
currently decrypted in memory (registered with secret_values()). In production, user-scoped values
(ids, balances, amounts, exchange labels) are removed too; user ids become a keyed hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

REDACTED = "[redacted]"
USER_DATA = "[user-data]"

_SECRET_NAME = re.compile(
    r"(secret|token|passphrase|password|passwd|signature|ciphertext|authorization|cookie|private|"
    r"credential|mnemonic|seed|api[_-]?key|apikey|^key$|_key$|^dek$|wrapped|^tag$|^iv$)",
    re.IGNORECASE,
)
# Public key material and key *identifiers* are not secrets.
_PUBLIC_NAME = re.compile(r"(public|_id$|key_id|fingerprint|^keys$|key_source)", re.IGNORECASE)
_USER_NAME = re.compile(
    r"(user|uid|^sub$|label|balance|amount|equity|cash|pnl|deposit|withdrawal|volume|fees?$|price|qty|quantity)",
    re.IGNORECASE,
)
_VALUE_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),  # JWT
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (  # credentials in URLs and key=value text keep their name, lose their value
        re.compile(
            r"(?i)\b(t|q|token|access_token|refresh_token|signature|sign|api_?key|apikey|secret|"
            r"passphrase|key|password|client_secret)=[^&\s\"',;]+"
        ),
        r"\1=" + REDACTED,
    ),
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), REDACTED),  # hex keys, digests of secrets
    (  # api keys and base64 blobs: long runs mixing letters and digits (file paths excepted, below)
        re.compile(r"(?<![A-Za-z0-9+/_-])(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{32,}={0,2}"),
        lambda m: m.group(0) if _looks_like_path(m.group(0)) else REDACTED,
    ),
]
_PATH_SEGMENT = re.compile(r"[a-z0-9_.-]{0,31}")


def _looks_like_path(run: str) -> bool:
    """A traceback's file path (".../lib/python3.11/site-packages/uvicorn/...") reads as a run of letters,
    digits and slashes, and must stay readable. Paths are short lowercase segments; a base64 secret of
    32+ characters has an upper-case letter somewhere except with negligible probability, and a hex key
    is caught by the hex pattern before this one."""
    return "/" in run and all(_PATH_SEGMENT.fullmatch(segment) for segment in run.split("/"))
_USER_ID_PATTERN = re.compile(r"\buser_[A-Za-z0-9]{8,}\b")


class _SecretRegistry:
    """Exact values of credentials decrypted right now; removed from any text that is logged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def add(self, values: Iterable[str]) -> list[str]:
        added = [v for v in values if v and len(v) >= 4]
        with self._lock:
            for v in added:
                self._counts[v] = self._counts.get(v, 0) + 1
        return added

    def remove(self, values: Iterable[str]) -> None:
        with self._lock:
            for v in values:
                left = self._counts.get(v, 0) - 1
                if left <= 0:
                    self._counts.pop(v, None)
                else:
                    self._counts[v] = left

    def scrub(self, text: str) -> str:
        if not self._counts:
            return text
        with self._lock:
            values = sorted(self._counts, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text


_registry = _SecretRegistry()


@contextmanager
def secret_values(*values: str | None) -> Iterator[None]:
    """Register decrypted secrets for exact-value redaction while they are in memory."""
    added = _registry.add(v for v in values if v)
    try:
        yield
    finally:
        _registry.remove(added)


def scrub_text(text: str) -> str:
    text = _registry.scrub(text)
    for pattern, replacement in _VALUE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redactor:
    def __init__(self, *, production: bool, hash_key: bytes) -> None:
        self.production = production
        self._hash_key = hash_key

    def user_ref(self, uid: str) -> str:
        """A keyed hash that correlates one user's lines without revealing the id."""
        return "u_" + hmac.new(self._hash_key, uid.encode(), hashlib.sha256).hexdigest()[:12]

    def value(self, name: str, value: Any) -> Any:
        if _SECRET_NAME.search(name) and not _PUBLIC_NAME.search(name):
            return REDACTED
        if self.production and _USER_NAME.search(name):
            if isinstance(value, str) and name.lower() in ("user_uid", "uid", "user", "sub", "user_id"):
                return self.user_ref(value)
            return USER_DATA
        return self._walk(value)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            text = scrub_text(value)
            return _USER_ID_PATTERN.sub(lambda m: self.user_ref(m.group(0)), text) if self.production else text
        if isinstance(value, dict):
            return {str(k): self.value(str(k), v) for k, v in value.items()}
        if isinstance(value, list | tuple | set):
            return [self._walk(v) for v in value]
        if isinstance(value, int | float | bool) or value is None:
            return value
        return self._walk(str(value))

    def event(self, event_dict: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in event_dict.items():
            if name in ("event", "exception", "exc_text", "stack"):
                out[name] = self._walk(value)
            elif name in ("level", "timestamp", "logger", "request_id"):
                out[name] = value
            else:
                out[name] = self.value(name, value)
        return out
