from __future__ import annotations

import struct
import uuid

import pytest

from app.attestation.certtable import GUIDS, CertTableError, build_cert_table, parse_cert_table


@pytest.mark.parametrize("order", ["big", "mixed"])
def test_roundtrip_both_guid_orders(order: str) -> None:
    entries = {"VCEK": b"vcek-der", "ASK": b"ask-der", "ARK": b"ark-der"}
    blob = build_cert_table(entries, byte_order=order)  # type: ignore[arg-type]
    assert parse_cert_table(blob) == entries
    # host buffers are page sized and zero padded
    assert parse_cert_table(blob + bytes(4096 - len(blob))) == entries


def test_mixed_endian_guid_bytes_differ_from_big_endian() -> None:
    g = GUIDS["VCEK"]
    assert g.bytes != g.bytes_le
    table = g.bytes_le + struct.pack("<II", 48, 3) + bytes(24) + b"abc"
    assert parse_cert_table(table) == {"VCEK": b"abc"}


def test_vlek_and_unknown_guid() -> None:
    other = uuid.UUID("12345678-1234-5678-1234-567812345678")
    blob = build_cert_table({"VLEK": b"v", "ASK": b"asvk"})
    assert parse_cert_table(blob) == {"VLEK": b"v", "ASK": b"asvk"}
    raw = other.bytes + struct.pack("<II", 48, 1) + bytes(24) + b"x"
    assert parse_cert_table(raw) == {str(other): b"x"}


def test_empty_table() -> None:
    assert parse_cert_table(b"") == {}
    assert parse_cert_table(bytes(16384)) == {}


def test_out_of_bounds_entry_rejected() -> None:
    raw = GUIDS["VCEK"].bytes + struct.pack("<II", 48, 1000) + bytes(24)
    with pytest.raises(CertTableError):
        parse_cert_table(raw)


def test_unterminated_table_rejected() -> None:
    raw = GUIDS["VCEK"].bytes + struct.pack("<II", 24, 0)
    with pytest.raises(CertTableError):
        parse_cert_table(raw)
