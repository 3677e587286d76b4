from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.attestation.binding import report_data
from app.attestation.certs import der
from app.attestation.document import build_document, verify_document
from app.attestation.keyinfo import spki_der, spki_pem
from app.attestation.providers import Evidence, SimulatedProvider
from app.attestation.simulation import SimulatedAuthority
from tests.attestation._data import NOW, SEVSNP

UTC_NOW = dt.datetime.now(dt.UTC)
MEASUREMENT = hashlib.sha384(b"main.py\x00" + (13).to_bytes(8, "big") + b"print('zka')\n").digest()


def _self_signed(key: ec.EllipticCurvePrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zka")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(UTC_NOW - dt.timedelta(days=1))
            .not_valid_after(UTC_NOW + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


class Keys:
    def __init__(self) -> None:
        self.tls_key = ec.generate_private_key(ec.SECP256R1())
        self.tls_der = _self_signed(self.tls_key)
        self.e2e = ec.generate_private_key(ec.SECP256R1()).public_key()
        self.signing = ec.generate_private_key(ec.SECP256R1()).public_key()
        self.e2e_pem = spki_pem(self.e2e)
        self.signing_b64 = base64.b64encode(spki_der(self.signing)).decode()

    def report_data(self, nonce: bytes | None) -> bytes:
        tls_spki = spki_der(x509.load_der_x509_certificate(self.tls_der).public_key())
        return report_data(tls_spki_der=tls_spki, e2e_spki_der=spki_der(self.e2e),
                           signing_spki_der=spki_der(self.signing), nonce=nonce)

    def build(self, ev: Evidence, nonce: bytes | None, **kw: Any) -> dict[str, Any]:
        return build_document(ev, tls_cert_der=self.tls_der, e2e_public_key_pem=self.e2e_pem,
                              signing_public_key_b64=self.signing_b64, nonce=nonce, **kw)


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture
async def sim_doc(
    sim_data_dir: Path, authority: SimulatedAuthority, keys: Keys, code_root: Path
) -> dict[str, Any]:
    nonce = b"client-nonce"
    ev = await SimulatedProvider(sim_data_dir, code_root=code_root).get_evidence(keys.report_data(nonce))
    doc = keys.build(ev, nonce, simulated_ark_der=der(authority.ark))
    return json.loads(json.dumps(doc))  # must survive JSON, like on the wire


def _verify(doc: dict[str, Any], keys: Keys, authority: SimulatedAuthority, **kw: Any) -> Any:
    args: dict[str, Any] = {"server_cert_der": keys.tls_der, "nonce": b"client-nonce",
                            "measurements": [MEASUREMENT], "now": UTC_NOW, "trust_simulated": True,
                            "simulated_ark_pem": authority.ark_pem}
    args.update(kw)
    return verify_document(doc, **args)


def test_simulated_document_round_trip(sim_doc: dict[str, Any], keys: Keys, authority: SimulatedAuthority) -> None:
    result = _verify(sim_doc, keys, authority)
    assert result.ok, result.to_dict()
    assert sim_doc["platform"] == "simulated" and any("SIMULATED" in w for w in sim_doc["warnings"])
    assert sim_doc["attestation"]["verified"] is False and sim_doc["sevSnpEnabled"] is False
    assert sim_doc["server_verification"]["ok"] is True and sim_doc["tlsBinding"]["bound"] is True
    assert sim_doc["attestation"]["reportDataBoundToRequest"] is True
    assert sim_doc["binding"]["report_data"] == sim_doc["reportData"] == keys.report_data(b"client-nonce").hex()
    assert sim_doc["certificates"]["root"] == "simulated" and len(sim_doc["certificates"]["chain"]) == 2


def test_compat_field_shapes(sim_doc: dict[str, Any], keys: Keys) -> None:
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", sim_doc["tlsBinding"]["fingerprint"])
    assert sim_doc["tlsBinding"]["fingerprint"].replace(":", "").lower() == hashlib.sha256(keys.tls_der).hexdigest()
    e2e = sim_doc["e2eEncryption"]
    assert e2e["publicKey"] == keys.e2e_pem and e2e["publicKeyFingerprint"] == hashlib.sha256(
        keys.e2e_pem.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{16}", sim_doc["reportSigning"]["publicKeyFingerprint"])
    assert len(sim_doc["measurement"]) == 96 and len(sim_doc["reportData"]) == 128
    assert sim_doc["attestation"]["measurement"] == sim_doc["measurement"]
    assert sim_doc["report"]["decoded"]["version"] == 3 and "measurement_recipe" in sim_doc["report"]


def test_simulated_document_needs_explicit_trust(sim_doc: dict[str, Any], keys: Keys,
                                                 authority: SimulatedAuthority) -> None:
    assert _verify(sim_doc, keys, authority, trust_simulated=False).failed == "chain"
    assert _verify(sim_doc, keys, authority, simulated_ark_pem=None).failed == "chain"


def test_mitm_certificate_rejected(sim_doc: dict[str, Any], keys: Keys, authority: SimulatedAuthority) -> None:
    other = _self_signed(ec.generate_private_key(ec.SECP256R1()))
    assert _verify(sim_doc, keys, authority, server_cert_der=other).failed == "tls_certificate"


def test_mitm_rewriting_the_document_cert_breaks_binding(sim_doc: dict[str, Any], keys: Keys,
                                                        authority: SimulatedAuthority) -> None:
    other = _self_signed(ec.generate_private_key(ec.SECP256R1()))
    doc = copy.deepcopy(sim_doc)
    doc["keys"]["tls"]["certificate"] = x509.load_der_x509_certificate(other).public_bytes(
        serialization.Encoding.PEM).decode()
    assert _verify(doc, keys, authority, server_cert_der=other).failed == "report_data"


def test_nonce_and_key_substitution(sim_doc: dict[str, Any], keys: Keys, authority: SimulatedAuthority) -> None:
    assert _verify(sim_doc, keys, authority, nonce=b"other").failed == "nonce"
    offline = _verify(sim_doc, keys, authority, nonce=None, server_cert_der=None)
    assert offline.ok and offline.check("tls_certificate").skipped and offline.check("nonce").skipped
    doc = copy.deepcopy(sim_doc)
    doc["keys"]["e2e"]["public_key"] = spki_pem(ec.generate_private_key(ec.SECP256R1()).public_key())
    assert _verify(doc, keys, authority).failed == "report_data"


def test_measurement_allow_list(sim_doc: dict[str, Any], keys: Keys, authority: SimulatedAuthority) -> None:
    assert _verify(sim_doc, keys, authority, measurements=[bytes(48)]).failed == "measurement"
    assert _verify(sim_doc, keys, authority, measurements=[]).check("measurement").skipped


def test_lying_fields_and_platform(sim_doc: dict[str, Any], keys: Keys, authority: SimulatedAuthority) -> None:
    doc = copy.deepcopy(sim_doc)
    doc["measurement"] = "00" * 48
    assert _verify(doc, keys, authority).failed == "document_fields"
    doc = copy.deepcopy(sim_doc)
    doc["platform"] = "sev-snp"
    assert _verify(doc, keys, authority).failed == "platform"


def test_malformed_document(keys: Keys, authority: SimulatedAuthority) -> None:
    assert _verify({"platform": "x"}, keys, authority).failed == "document_format"
    assert not _verify({}, keys, authority).ok


def test_real_evidence_document(keys: Keys) -> None:
    # A real Genoa report: the AMD chain verifies, but its REPORT_DATA is not our key binding.
    ev = Evidence("sev-snp", "configfs-tsm", (SEVSNP / "trustee/az-genoa-snp-report.bin").read_bytes(),
                  {"VCEK": x509.load_pem_x509_certificate(
                      (SEVSNP / "trustee/az-vcek-genoa.pem").read_bytes()).public_bytes(serialization.Encoding.DER)})
    doc = json.loads(json.dumps(keys.build(ev, None, now=NOW)))
    checks = {c["name"]: c["ok"] for c in doc["server_verification"]["checks"]}
    assert checks["chain"] and checks["signature"] and not checks["report_data"]
    assert doc["attestation"]["verified"] is False and doc["tlsBinding"]["bound"] is False
    assert doc["sevSnpEnabled"] is True and doc["certificates"]["root"] == "Genoa"
    assert len(doc["certificates"]["chain"]) == 2  # AMD's shipped ASK + pinned ARK filled in
    result = verify_document(doc, server_cert_der=keys.tls_der, nonce=None, measurements=[], now=NOW)
    assert result.failed == "report_data" and result.check("chain").ok  # type: ignore[union-attr]
