from __future__ import annotations

import struct

import pytest

from app.attestation.report import (
    REPORT_SIZE,
    ReportError,
    TcbVersion,
    parse_report,
    product_from_cpuid,
    unwrap_hcl_report,
)
from tests.attestation._data import SEVSNP, RealCase

# Keys whose names and encodings match the fixtures' *.decoded.json files.
SCALAR_KEYS = [
    "version", "guest_svn", "policy", "policy_hex", "family_id", "image_id", "vmpl", "signature_algo",
    "platform_info", "signing_key", "mask_chip_key", "author_key_en", "report_data", "measurement",
    "host_data", "id_key_digest", "author_key_digest", "report_id", "report_id_ma", "chip_id",
    "current_build", "current_minor", "current_major", "committed_build", "committed_minor",
    "committed_major", "signature_r_le", "signature_s_le",
]
TCB_KEYS = ["current_tcb", "reported_tcb", "committed_tcb", "launch_tcb"]


def test_decoded_fields_match_fixture(real_case: RealCase) -> None:
    expected = real_case.decoded()
    got = parse_report(real_case.report_bytes()).to_dict()
    for key in SCALAR_KEYS:
        assert got[key] == expected[key], key
    for key in TCB_KEYS:
        for sub in ("raw", "raw_hex", "bl_spl", "tee_spl", "snp_spl", "ucode_spl"):
            assert got[key][sub] == expected[key][sub], (key, sub)
    for sub, value in expected["policy_decoded"].items():
        assert got["policy_decoded"][sub] == value, sub
    for key in ("cpuid_fam_id", "cpuid_mod_id", "cpuid_step"):
        assert got.get(key) == expected.get(key), key


def test_product_from_cpuid(real_case: RealCase) -> None:
    rep = parse_report(real_case.report_bytes())
    assert rep.product in (None, real_case.product)
    if rep.version >= 3:
        assert rep.product == real_case.product


def test_v5_has_mitigation_vectors_and_v2_has_no_cpuid() -> None:
    v5 = parse_report((SEVSNP / "lunal-attestation-rs/live-report-v5-genoa.bin").read_bytes())
    assert v5.version == 5 and v5.launch_mit_vector is not None and v5.current_mit_vector is not None
    v2 = parse_report((SEVSNP / "go-sev-guest/attestation.bin").read_bytes())
    assert v2.cpuid_fam_id is None and v2.launch_mit_vector is None and v2.product is None
    assert v2.policy.debug and v2.signing_key == "VCEK"


def test_vlek_report_signing_key() -> None:
    rep = parse_report((SEVSNP / "trustee/test-vlek-report.bin").read_bytes())
    assert rep.signing_key == "VLEK" and rep.vmpl == 1


@pytest.mark.parametrize("version", [0, 1, 4, 6, 0xFFFFFFFF])
def test_unknown_version_rejected(version: int) -> None:
    raw = bytearray((SEVSNP / "trustee/test-report.bin").read_bytes())
    struct.pack_into("<I", raw, 0, version)
    with pytest.raises(ReportError, match=f"unsupported attestation report version {version}"):
        parse_report(bytes(raw))


@pytest.mark.parametrize("size", [0, REPORT_SIZE - 1, REPORT_SIZE + 1])
def test_wrong_size_rejected(size: int) -> None:
    with pytest.raises(ReportError, match="1184 bytes"):
        parse_report(bytes(size))


def test_turin_tcb_layout() -> None:
    raw = bytes([0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0x05])
    t = TcbVersion.from_bytes(raw, turin=True)
    assert (t.fmc_spl, t.bl_spl, t.tee_spl, t.snp_spl, t.ucode_spl) == (1, 2, 3, 4, 5)
    assert t.components() == {"fmcSPL": 1, "blSPL": 2, "teeSPL": 3, "snpSPL": 4, "ucodeSPL": 5}
    legacy = TcbVersion.from_bytes(raw, turin=False)
    assert (legacy.bl_spl, legacy.tee_spl, legacy.snp_spl, legacy.ucode_spl) == (1, 2, 0, 5)
    assert TcbVersion.from_components(bl=2, tee=3, snp=4, ucode=5, fmc=1).to_bytes() == raw


def test_turin_report_uses_turin_tcb() -> None:
    raw = bytearray((SEVSNP / "trustee/az-genoa-snp-report.bin").read_bytes())
    raw[0x188], raw[0x189] = 0x1A, 0x02
    raw[0x180:0x188] = bytes([0x07, 0x08, 0x09, 0x0A, 0, 0, 0, 0x0B])
    rep = parse_report(bytes(raw))
    assert rep.product == "Turin" and rep.is_turin
    expected = {"fmcSPL": 7, "blSPL": 8, "teeSPL": 9, "snpSPL": 10, "ucodeSPL": 11}
    assert rep.reported_tcb.components() == expected


def test_tcb_at_least() -> None:
    a = TcbVersion.from_components(bl=3, tee=0, snp=8, ucode=115)
    assert a.at_least(TcbVersion.from_components(bl=3, tee=0, snp=8, ucode=115))
    assert not a.at_least(TcbVersion.from_components(bl=2, tee=0, snp=9, ucode=0))


@pytest.mark.parametrize(
    ("family", "model", "product"),
    [(0x19, 0x01, "Milan"), (0x19, 0x11, "Genoa"), (0x19, 0xA0, "Genoa"), (0x1A, 0x02, "Turin"),
     (0x19, 0x50, None), (None, None, None)],
)
def test_cpuid_products(family: int | None, model: int | None, product: str | None) -> None:
    assert product_from_cpuid(family, model) == product


def test_azure_hcl_unwrap_matches_derived_fixture() -> None:
    hcl = (SEVSNP / "trustee/az-hcl-report.bin").read_bytes()
    assert unwrap_hcl_report(hcl) == (SEVSNP / "trustee/az-milan-snp-report.bin").read_bytes()
    with pytest.raises(ReportError):
        unwrap_hcl_report(b"XXXX" + hcl[4:])
