from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.attestation.binding import report_data
from app.attestation.certs import amd_extensions, der
from app.attestation.measurement import code_measurement, package_root
from app.attestation.providers import SimulatedProvider
from app.attestation.report import parse_report
from app.attestation.simulation import SIM_TCB, SimulatedAuthority
from app.attestation.verify import verify_attestation

NOW = datetime.now(UTC)
KEYS = {"tls_spki_der": b"tls", "e2e_spki_der": b"e2e", "signing_spki_der": b"sig"}


async def test_round_trip_with_binding(sim_data_dir: Path, authority: SimulatedAuthority) -> None:
    provider = SimulatedProvider(sim_data_dir)  # measures the real installed app/ package
    rd = report_data(**KEYS, nonce=b"fresh")
    ev = await provider.get_evidence(rd)
    assert ev.platform == "simulated" and ev.provider == "simulated"
    rep = parse_report(ev.report)
    assert rep.version == 3 and rep.report_data == rd and rep.measurement == await provider.measurement()
    assert not rep.policy.debug and rep.vmpl == 0 and rep.signing_key == "VCEK" and rep.product is None
    assert rep.chip_id == authority.chip_id  # reused chain, not regenerated
    result = verify_attestation(ev.report, leaf=ev.leaf_der, chain=ev.chain_ders, now=NOW,
                                expected_report_data=rd, trust_simulated=True, simulated_ark=authority.ark)
    assert result.ok, result.to_dict()
    assert result.facts["simulated"] and result.facts["root"] == "simulated"


async def test_simulated_never_verifies_against_amd_roots(sim_data_dir: Path, code_root: Path) -> None:
    ev = await SimulatedProvider(sim_data_dir, code_root=code_root).get_evidence(bytes(64))
    result = verify_attestation(ev.report, leaf=ev.leaf_der, chain=ev.chain_ders, now=NOW)
    assert result.failed == "chain"
    assert "ARK-Simulated" in (result.check("chain").detail)  # type: ignore[union-attr]


def test_trust_simulated_requires_explicit_ark(authority: SimulatedAuthority) -> None:
    report = authority.build_report(bytes(64), bytes(48))
    result = verify_attestation(report, leaf=der(authority.vcek), now=NOW, trust_simulated=True)
    assert result.failed == "chain"


def test_other_simulated_chain_is_rejected(authority: SimulatedAuthority, tmp_path: Path) -> None:
    other = SimulatedAuthority.load_or_create(tmp_path / "other")
    report = other.build_report(bytes(64), bytes(48))
    result = verify_attestation(report, leaf=other.vcek, chain=[other.ask, other.ark], now=NOW,
                                trust_simulated=True, simulated_ark=authority.ark)
    assert result.failed == "chain"


def test_chain_is_persisted_and_private(sim_data_dir: Path, authority: SimulatedAuthority) -> None:
    d = sim_data_dir / "attestation-simulated"
    assert oct(os.stat(d / "vcek.key.pem").st_mode & 0o777) == "0o600"
    again = SimulatedAuthority.load_or_create(d)
    assert der(again.ark) == der(authority.ark) and der(again.vcek) == der(authority.vcek)


def test_simulated_vcek_looks_like_amd(authority: SimulatedAuthority) -> None:
    info = amd_extensions(authority.vcek)
    assert info.tcb == SIM_TCB.components() and info.hwid is not None and len(info.hwid) == 64
    assert authority.ark.public_key().key_size == 4096  # type: ignore[union-attr]


def test_flipped_bit_in_simulated_report_fails(authority: SimulatedAuthority) -> None:
    report = bytearray(authority.build_report(bytes(64), bytes(48)))
    report[0x95] ^= 4
    result = verify_attestation(bytes(report), leaf=authority.vcek, chain=[authority.ask], now=NOW,
                                trust_simulated=True,
                                simulated_ark=authority.ark)
    assert result.failed == "signature"


def test_measurement_recipe(tmp_path: Path) -> None:
    (tmp_path / "b.py").write_bytes(b"print(1)\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.pem").write_bytes(b"x")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "b.cpython-311.pyc").write_bytes(b"junk")
    import hashlib

    h = hashlib.sha384()
    for rel, content in [("b.py", b"print(1)\n"), ("sub/a.pem", b"x")]:
        h.update(rel.encode() + b"\x00" + len(content).to_bytes(8, "big") + content)
    assert code_measurement(tmp_path) == h.digest()
    (tmp_path / "b.py").write_bytes(b"print(2)\n")
    assert code_measurement(tmp_path) != h.digest()


def test_measurement_covers_this_package() -> None:
    assert (package_root() / "attestation" / "measurement.py").is_file()
    assert len(code_measurement()) == 48


def test_build_report_rejects_bad_sizes(authority: SimulatedAuthority) -> None:
    with pytest.raises(ValueError):
        authority.build_report(bytes(32), bytes(48))
