"""Which measurements may receive (and give) the DEK: the security of the whole handoff scheme.

Sources, never the host's configuration in production (on GCP the instance metadata is host-controlled):
- the list built into the image (`trust/builtin.json`, covered by the measurement where the platform
  measures the image), with the operator's Ed25519 public key(s);
- an operator-signed list (`ZKA_KEY_ALLOWLIST_FILE`): the host only stores the file, the signature is
  checked with a key built into the image, so a new release can be allowed without rebuilding the old;
- development only: `ZKA_KEY_DEV_MEASUREMENTS` (hex, or `self`) and `ZKA_KEY_OPERATOR_PUBLIC_KEY`.

An entry may name a container `image_digest` as well as a MEASUREMENT: that is the shape GCP Confidential
Space needs (its attestation token carries the image digest). zka cannot check such a token yet, so an
entry with an image digest never matches today rather than matching on the firmware measurement alone.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.config import KeySettings
from app.services.canonical_json import CanonicalizationError, canonical_json
from app.services.keys.protocol import hex_of_length

LIST_FORMAT: Final = "zka-key-allowlist-v1"
BUILTIN_PATH: Final = Path(__file__).resolve().parent / "trust" / "builtin.json"
MEASUREMENT_LEN: Final = 48
TCB_NAMES: Final = ("blSPL", "teeSPL", "snpSPL", "ucodeSPL", "fmcSPL")


class AllowListError(Exception):
    """The allow-list cannot be used (bad signature, malformed, expired). Safe to show and to record."""


@dataclass(frozen=True)
class AllowEntry:
    measurement: bytes
    image_digest: str | None
    note: str
    source: str


@dataclass(frozen=True)
class AllowList:
    entries: tuple[AllowEntry, ...] = ()
    min_tcb: Mapping[str, int] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    @property
    def measurements(self) -> list[bytes]:
        """What the verifier compares MEASUREMENT with: entries without a (not yet checkable) image digest."""
        return [e.measurement for e in self.entries if e.image_digest is None]

    @property
    def empty(self) -> bool:
        return not self.measurements

    def describe(self) -> str:
        return f"{len(self.measurements)} measurement(s) from {', '.join(self.sources) or 'nothing'}"


def load_allowlist(settings: KeySettings, *, production: bool, own_measurement: bytes | None) -> AllowList:
    """Merge the built-in list, the operator-signed file and (development) the environment's entries.
    Raises AllowListError when a configured source is invalid: never silently falls back."""
    builtin = _read_json(BUILTIN_PATH, "built-in trust file")
    operator_keys = [_ed25519_key(k, "built-in operator key") for k in builtin.get("operator_ed25519_public_keys", [])]
    if not production and settings.key_operator_public_key:
        operator_keys.append(_ed25519_key(settings.key_operator_public_key, "ZKA_KEY_OPERATOR_PUBLIC_KEY"))
    documents = [(parse_document(builtin["allowlist"], "built-in"), "built-in")]
    if settings.key_allowlist_file is not None:
        signed = _read_json(settings.key_allowlist_file, "operator-signed allow-list")
        documents.append((verify_signed(signed, operator_keys), "operator-signed"))
    entries = [e for doc, _ in documents for e in doc[0]]
    min_tcb: dict[str, int] = dict(settings.key_handoff_min_tcb)  # configuration may only raise the minimum
    for doc, _ in documents:
        for name, value in doc[1].items():
            min_tcb[name] = max(min_tcb.get(name, 0), value)
    sources = [name for doc, name in documents if doc[0] or doc[1]]
    if not production and settings.key_dev_measurements:
        entries += _dev_entries(settings.key_dev_measurements, own_measurement)
        sources.append("environment (development)")
    return AllowList(tuple(entries), min_tcb, tuple(sources))


def verify_signed(
    signed: Mapping[str, Any], keys: Iterable[Ed25519PublicKey]
) -> tuple[list[AllowEntry], dict[str, int]]:
    """`{"allowlist": {...}, "signature": base64 Ed25519 over the RFC 8785 form of "allowlist"}`."""
    if not isinstance(signed, Mapping) or set(signed) != {"allowlist", "signature"}:
        raise AllowListError('operator-signed allow-list must be {"allowlist": {...}, "signature": "..."}')
    keys = list(keys)
    if not keys:
        raise AllowListError("operator-signed allow-list given, but no operator public key is built into the image")
    try:
        signature = base64.b64decode(signed["signature"], validate=True)
        message = canonical_json(signed["allowlist"])
    except (binascii.Error, TypeError, ValueError, CanonicalizationError):
        raise AllowListError("operator-signed allow-list: signature is not base64 or the list is not JSON") from None
    for key in keys:
        try:
            key.verify(signature, message)
            break
        except InvalidSignature:
            continue
    else:
        raise AllowListError("operator-signed allow-list: Ed25519 signature invalid for every operator key")
    return parse_document(signed["allowlist"], "operator-signed")


def sign_allowlist(document: Mapping[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """What the operator runs (offline, on their own machine) to produce the signed file."""
    parse_document(document, "to sign")
    return {"allowlist": dict(document),
            "signature": base64.b64encode(private_key.sign(canonical_json(document))).decode()}


def parse_document(doc: Any, source: str) -> tuple[list[AllowEntry], dict[str, int]]:
    if not isinstance(doc, Mapping) or doc.get("format") != LIST_FORMAT:
        raise AllowListError(f"{source} allow-list: not a {LIST_FORMAT} document")
    expires = doc.get("expires_at")
    if expires is not None and _instant(expires, source) <= datetime.now(UTC):
        raise AllowListError(f"{source} allow-list expired at {expires}")
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise AllowListError(f"{source} allow-list: entries must be a list")
    return [_entry(e, source) for e in entries], _min_tcb(doc.get("min_tcb") or {}, source)


def _entry(raw: Any, source: str) -> AllowEntry:
    if not isinstance(raw, Mapping) or not set(raw) <= {"measurement", "image_digest", "note"}:
        raise AllowListError(f"{source} allow-list: an entry has unknown fields or is not an object")
    measurement = _hex(raw.get("measurement"), source)
    digest = raw.get("image_digest")
    if digest is not None and not (isinstance(digest, str) and digest.startswith("sha256:") and len(digest) == 71):
        raise AllowListError(f"{source} allow-list: image_digest must be sha256:<64 hex>")
    return AllowEntry(measurement, digest, str(raw.get("note", "")), source)


def _min_tcb(raw: Any, source: str) -> dict[str, int]:
    if not isinstance(raw, Mapping) or any(
        k not in TCB_NAMES or not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 255 for k, v in raw.items()
    ):
        raise AllowListError(f"{source} allow-list: min_tcb must map {', '.join(TCB_NAMES)} to 0..255")
    return dict(raw)


def _dev_entries(value: str, own: bytes | None) -> list[AllowEntry]:
    out = []
    for item in (v.strip() for v in value.split(",")):
        if item == "self":
            if own is not None:
                out.append(AllowEntry(own, None, "this instance's own measurement", "environment"))
        elif item:
            out.append(AllowEntry(_hex(item, "ZKA_KEY_DEV_MEASUREMENTS"), None, "", "environment"))
    return out


def _hex(value: Any, source: str) -> bytes:
    raw = hex_of_length(value, MEASUREMENT_LEN)
    if raw is None:
        raise AllowListError(f"{source}: a measurement must be {MEASUREMENT_LEN} bytes of hex")
    return raw


def _instant(value: Any, source: str) -> datetime:
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise AllowListError(f"{source} allow-list: expires_at is not an ISO 8601 instant") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _ed25519_key(value: str, source: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        raise AllowListError(f"{source}: not a base64 raw 32-byte Ed25519 public key") from None


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise AllowListError(f"{what} {path}: {exc.strerror}") from None
    except ValueError:
        raise AllowListError(f"{what} {path}: not JSON") from None
