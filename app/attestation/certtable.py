"""GHCB certificate table (extended report / configfs auxblob): `{GUID[16], u32 offset, u32 length}`
entries terminated by an all-zero entry; offsets are relative to the table start.

Hosts disagree on GUID byte order (AWS wrote RFC-4122 big-endian, others the mixed-endian
Microsoft/UEFI layout; microsoft/CCF PR #8116), so every GUID is matched in both encodings.
"""

from __future__ import annotations

import struct
import uuid
from typing import Final, Literal

ENTRY_SIZE: Final = 24

GUIDS: Final[dict[str, uuid.UUID]] = {
    "VCEK": uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd"),
    "VLEK": uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1"),
    "ASK": uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782"),  # also carries the ASVK for VLEK chains
    "ARK": uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae"),
    "GCE_ENDORSEMENT": uuid.UUID("9f4116cd-c503-4f5a-8f6f-fb68882f4ce2"),
    "EXTRA_PLATFORM_INFO": uuid.UUID("ecae0c0f-9502-43b1-afa2-0ae2e0d565b6"),
}
_BY_BYTES: Final[dict[bytes, str]] = {
    **{g.bytes: name for name, g in GUIDS.items()},
    **{g.bytes_le: name for name, g in GUIDS.items()},
}


class CertTableError(ValueError):
    """The blob is not a well-formed certificate table."""


def parse_cert_table(blob: bytes) -> dict[str, bytes]:
    """Return `{name: blob}` for every entry; unknown GUIDs are kept under their UUID string.

    An empty or all-zero blob (no host certificates, the upstream-KVM case) gives `{}`.
    """
    out: dict[str, bytes] = {}
    for pos in range(0, len(blob) - ENTRY_SIZE + 1, ENTRY_SIZE):
        guid = blob[pos : pos + 16]
        offset, length = struct.unpack_from("<II", blob, pos + 16)
        if guid == bytes(16):
            return out
        if offset + length > len(blob) or offset < ENTRY_SIZE:
            raise CertTableError(f"certificate table entry {pos // ENTRY_SIZE} points outside the blob")
        name = _BY_BYTES.get(guid, str(uuid.UUID(bytes=guid)))
        out[name] = blob[offset : offset + length]
    if blob.strip(b"\x00"):
        raise CertTableError("certificate table has no terminating all-zero entry")
    return out


def build_cert_table(
    entries: dict[str, bytes], *, byte_order: Literal["big", "mixed"] = "big"
) -> bytes:
    """Serialise a table (simulated provider and tests). Names are keys of GUIDS."""
    header_len = ENTRY_SIZE * (len(entries) + 1)
    header, body = bytearray(), bytearray()
    for name, data in entries.items():
        g = GUIDS[name]
        header += (g.bytes if byte_order == "big" else g.bytes_le)
        header += struct.pack("<II", header_len + len(body), len(data))
        body += data
    header += bytes(ENTRY_SIZE)
    return bytes(header + body)
