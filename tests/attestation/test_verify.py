from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pytest

from app.attestation.certs import amd_extensions, load_cert
from app.attestation.verify import Policy, verify_attestation
from tests.attestation._data import NOW, SEVSNP, RealCase

PERMISSIVE = Policy(allow_debug=True, max_vmpl=3)


def _verify(case: RealCase, raw: bytes | None = None, **kw: object) -> object:
    kw.setdefault("policy", PERMISSIVE)
    kw.setdefault("now", case.now)
    return verify_attestation(raw if raw is not None else case.report_bytes(), leaf=case.leaf_cert(),
                              chain=case.chain_certs(), **kw)  # type: ignore[arg-type]


def test_every_real_report_verifies(real_case: RealCase) -> None:
    result = _verify(real_case)
    assert result.ok, result.to_dict()  # type: ignore[attr-defined]
    assert result.facts["root"] == real_case.product  # type: ignore[attr-defined]
    assert result.facts["signing_key"] == real_case.kind  # type: ignore[attr-defined]
    assert not result.facts["simulated"]  # type: ignore[attr-defined]


def test_verifies_without_host_chain_using_shipped_intermediates(real_case: RealCase) -> None:
    result = verify_attestation(real_case.report_bytes(), leaf=real_case.leaf_cert(), now=real_case.now,
                                policy=PERMISSIVE)
    assert result.ok, result.to_dict()


@pytest.mark.parametrize("offset", [0x00, 0x08, 0x34, 0x50, 0x8F, 0x90, 0x180, 0x188, 0x1A0, 0x1F0, 0x29F])
def test_flipped_bit_in_signed_region_fails_signature(real_case: RealCase, offset: int) -> None:
    raw = bytearray(real_case.report_bytes())
    raw[offset] ^= 0x01
    result = _verify(real_case, bytes(raw))
    assert not result.ok and result.failed == "signature"  # type: ignore[attr-defined]


def test_every_bit_of_one_report_is_covered() -> None:
    # Every bit of every 7th byte of the signed region (~770 flips, signature check only).
    from cryptography.exceptions import InvalidSignature

    from app.attestation.verify import verify_report_signature

    raw = (SEVSNP / "trustee/test-report.bin").read_bytes()
    leaf = load_cert((SEVSNP / "trustee/test-vcek.der").read_bytes())
    verify_report_signature(raw, leaf)
    for byte in range(0, 0x2A0, 7):
        for bit in range(8):
            flipped = bytearray(raw)
            flipped[byte] ^= 1 << bit
            with pytest.raises(InvalidSignature):
                verify_report_signature(bytes(flipped), leaf)


def test_flipped_signature_bytes_fail(real_case: RealCase) -> None:
    raw = bytearray(real_case.report_bytes())
    raw[0x2A0] ^= 0x80
    assert _verify(real_case, bytes(raw)).failed == "signature"  # type: ignore[attr-defined]


def test_wrong_vcek_fails_signature() -> None:
    other = load_cert((SEVSNP / "virtee-sev/vcek_milan.der").read_bytes())
    result = verify_attestation((SEVSNP / "trustee/test-report.bin").read_bytes(), leaf=other, now=NOW,
                                policy=PERMISSIVE)
    assert result.failed == "signature"


@pytest.mark.parametrize("name", ["test-vcek-invalid-legacy.der", "test-vcek-invalid-new.der"])
def test_invalid_vcek_fixtures_fail_chain(name: str) -> None:
    leaf = load_cert((SEVSNP / "trustee" / name).read_bytes())
    result = verify_attestation((SEVSNP / "trustee/test-report.bin").read_bytes(), leaf=leaf, now=NOW,
                                policy=PERMISSIVE)
    assert not result.ok and result.failed == "chain"


def test_hwid_octet_string_variant_is_unwrapped() -> None:
    info = amd_extensions(load_cert((SEVSNP / "trustee/test-vcek-invalid-new.der").read_bytes()))
    assert info.hwid == bytes(range(64))
    raw = amd_extensions(load_cert((SEVSNP / "trustee/test-vcek.der").read_bytes()))
    assert raw.hwid is not None and len(raw.hwid) == 64


def test_turin_vcek_extensions() -> None:
    info = amd_extensions(load_cert((SEVSNP / "virtee-sev/vcek_turin.der").read_bytes()))
    assert info.struct_version == 1 and info.product_name == "Turin"
    assert info.hwid is not None and len(info.hwid) == 8
    assert set(info.tcb) == {"fmcSPL", "blSPL", "teeSPL", "snpSPL", "ucodeSPL"}


def test_expired_vlek_fails_validity_today() -> None:
    case_now = datetime(2026, 1, 1, tzinfo=UTC)
    result = verify_attestation((SEVSNP / "trustee/test-vlek-report.bin").read_bytes(),
                                leaf=(SEVSNP / "trustee/test-vlek.der").read_bytes(), now=case_now,
                                policy=PERMISSIVE)
    assert result.failed == "cert_validity"


def test_vcek_not_yet_valid() -> None:
    result = verify_attestation((SEVSNP / "trustee/test-report.bin").read_bytes(),
                                leaf=(SEVSNP / "trustee/test-vcek.der").read_bytes(),
                                now=datetime(2020, 1, 1, tzinfo=UTC), policy=PERMISSIVE)
    assert result.failed == "cert_validity"


def test_naive_now_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        verify_attestation((SEVSNP / "trustee/test-report.bin").read_bytes(),
                           leaf=(SEVSNP / "trustee/test-vcek.der").read_bytes(), now=datetime(2025, 1, 1))


def test_missing_leaf_fails_chain() -> None:
    result = verify_attestation((SEVSNP / "trustee/test-report.bin").read_bytes(), leaf=None, now=NOW)
    assert result.failed == "chain" and result.check("signature").ok is False  # type: ignore[union-attr]


def test_default_policy_rejects_debug() -> None:
    result = verify_attestation((SEVSNP / "go-sev-guest/attestation.bin").read_bytes(),
                                leaf=(SEVSNP / "go-sev-guest/vcek.testcer").read_bytes(), now=NOW)
    assert result.failed == "debug"


def test_default_policy_rejects_vmpl1() -> None:
    result = verify_attestation((SEVSNP / "trustee/test-vlek-report.bin").read_bytes(),
                                leaf=(SEVSNP / "trustee/test-vlek.der").read_bytes(), now=NOW)
    assert result.failed == "vmpl"


def test_min_tcb_and_measurement_allow_list() -> None:
    raw = (SEVSNP / "trustee/test-report.bin").read_bytes()
    leaf = (SEVSNP / "trustee/test-vcek.der").read_bytes()
    meas = bytes.fromhex("a1f3930413247bb38cfc171579ea3c12d5fe4901f0c792f63fd75d98f1ef827c"
                         "23500644e0e692e6be917f9050d3d38c")
    ok = verify_attestation(raw, leaf=leaf, now=NOW, policy=Policy(measurements=[meas],
                                                                   min_tcb={"snpSPL": 8, "ucodeSPL": 115}))
    assert ok.ok and not ok.check("measurement").skipped  # type: ignore[union-attr]
    bad = verify_attestation(raw, leaf=leaf, now=NOW, policy=Policy(measurements=[bytes(48)]))
    assert bad.failed == "measurement"
    low = verify_attestation(raw, leaf=leaf, now=NOW, policy=Policy(min_tcb={"snpSPL": 9}))
    assert low.failed == "min_tcb"


def test_report_data_expectation() -> None:
    raw = (SEVSNP / "trustee/test-report.bin").read_bytes()
    leaf = (SEVSNP / "trustee/test-vcek.der").read_bytes()
    good = raw[0x50:0x90]
    assert verify_attestation(raw, leaf=leaf, now=NOW, expected_report_data=good).ok
    assert verify_attestation(raw, leaf=leaf, now=NOW, expected_report_data=bytes(64)).failed == "report_data"


def test_host_supplied_foreign_root_is_ignored() -> None:
    # The chain a host hands over may contain any self-signed "ARK"; only pinned ones count.
    raw = (SEVSNP / "lunal-attestation-rs/live-report-v5-genoa.bin").read_bytes()
    leaf = load_cert((SEVSNP / "lunal-attestation-rs/live-vcek-genoa.der").read_bytes())
    milan = load_cert((SEVSNP / "virtee-sev/ark_milan.pem").read_bytes())
    result = verify_attestation(raw, leaf=leaf, chain=[milan], now=datetime(2026, 6, 1, tzinfo=UTC))
    assert result.ok and result.facts["root"] == "Genoa"


def test_loading_amd_certs_emits_no_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cert = load_cert((SEVSNP / "trustee/test-vcek.der").read_bytes())
    assert cert.serial_number == 0
