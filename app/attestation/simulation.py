"""A throwaway "AMD-like" authority for development: ARK → ASK → VCEK with AMD's algorithms, and a
report builder producing real-layout version-3 reports signed by that VCEK.

The chain is generated on first start into a data directory and reused afterwards, so a developer's
verifier can pin the simulated ARK across restarts. Its names say "NOT AMD" and the verifier only
accepts it when explicitly told to (`trust_simulated=True` plus this ARK).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, utils
from cryptography.x509.oid import NameOID

from app.attestation import certs as amd
from app.attestation.report import REPORT_SIZE, SIGNED_SIZE, TcbVersion

# Real-looking Milan-era SPLs; the VCEK's extensions carry the same values, as on real hardware.
SIM_TCB: Final = TcbVersion.from_components(bl=3, tee=0, snp=8, ucode=115)
SIM_POLICY: Final = 0x30000  # SMT allowed + reserved bit 17; debug off
SIM_FIRMWARE: Final = (1, 55, 21)  # major, minor, build
_FILES: Final = ("ark.pem", "ask.pem", "vcek.pem", "vcek.key.pem")
# RSA-4096 key generation measured at ~0.1-0.5 s per key here, so first start stays well under 2 s.
RSA_BITS: Final = 4096


def _name(cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "zka development simulation (NOT AMD)"),
    ])


def _der_int(n: int) -> bytes:
    body = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")
    return bytes([0x02, len(body)]) + body


def _amd_ext(oid: str, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value)


def _builder(subject: str, issuer: str, key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
             years: int) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * years))
    )


def _sign(builder: x509.CertificateBuilder, key: rsa.RSAPrivateKey) -> x509.Certificate:
    return builder.sign(key, hashes.SHA384(), rsa_padding=amd.AMD_PSS)


def _vcek_builder(key: ec.EllipticCurvePublicKey, chip_id: bytes) -> x509.CertificateBuilder:
    b = _builder("SEV-VCEK", "SEV-Simulated", key, 7)
    exts = [
        (amd.OID_STRUCT_VERSION, _der_int(0)),
        (amd.OID_PRODUCT_NAME, b"\x16\x09Simulated"),
        (amd.OID_BL_SPL, _der_int(SIM_TCB.bl_spl)),
        (amd.OID_TEE_SPL, _der_int(SIM_TCB.tee_spl)),
        (amd.OID_SNP_SPL, _der_int(SIM_TCB.snp_spl)),
        (amd.OID_UCODE_SPL, _der_int(SIM_TCB.ucode_spl)),
        (amd.OID_HWID, chip_id),  # raw 64 bytes, no OCTET STRING wrapper, like AMD KDS certs
    ]
    for oid, value in exts:
        b = b.add_extension(_amd_ext(oid, value), critical=False)
    return b


@dataclass(frozen=True)
class SimulatedAuthority:
    ark: x509.Certificate
    ask: x509.Certificate
    vcek: x509.Certificate
    vcek_key: ec.EllipticCurvePrivateKey

    @property
    def chip_id(self) -> bytes:
        info = amd.amd_extensions(self.vcek)
        assert info.hwid is not None
        return info.hwid

    @property
    def ark_pem(self) -> str:
        return amd.pem(self.ark)

    @classmethod
    def generate(cls) -> SimulatedAuthority:
        ark_key = rsa.generate_private_key(65537, RSA_BITS)
        ask_key = rsa.generate_private_key(65537, RSA_BITS)
        vcek_key = ec.generate_private_key(ec.SECP384R1())
        ark = _sign(_builder("ARK-Simulated", "ARK-Simulated", ark_key.public_key(), 25), ark_key)
        ask = _sign(_builder("SEV-Simulated", "ARK-Simulated", ask_key.public_key(), 25), ark_key)
        vcek = _sign(_vcek_builder(vcek_key.public_key(), secrets.token_bytes(64)), ask_key)
        # The ARK/ASK private keys are dropped here: nothing needs them once the VCEK is issued.
        return cls(ark, ask, vcek, vcek_key)

    @classmethod
    def load_or_create(cls, directory: Path) -> SimulatedAuthority:
        if all((directory / f).is_file() for f in _FILES):
            return cls._load(directory)
        authority = cls.generate()
        authority._save(directory)
        return authority

    @classmethod
    def load_or_issue(cls, root_dir: Path, chip_dir: Path) -> SimulatedAuthority:
        """One chip (VCEK + chip id in `chip_dir`) under a root shared by several instances (`root_dir`:
        ARK, ASK and the ASK's key, which issues each chip's VCEK). The ARK private key is dropped."""
        ark, ask, ask_key = _load_or_create_root(root_dir)
        if all((chip_dir / f).is_file() for f in _FILES):
            chip = cls._load(chip_dir)
            if chip.ark == ark:
                return chip
        vcek_key = ec.generate_private_key(ec.SECP384R1())
        vcek = _sign(_vcek_builder(vcek_key.public_key(), secrets.token_bytes(64)), ask_key)
        authority = cls(ark, ask, vcek, vcek_key)
        authority._save(chip_dir)
        return authority

    @classmethod
    def _load(cls, directory: Path) -> SimulatedAuthority:
        key = serialization.load_pem_private_key((directory / "vcek.key.pem").read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("simulated VCEK key is not an EC key")
        ark, ask, vcek = (amd.load_cert((directory / f).read_bytes()) for f in _FILES[:3])
        return cls(ark, ask, vcek, key)

    def _save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        key_pem = self.vcek_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        blobs = [amd.pem(self.ark).encode(), amd.pem(self.ask).encode(), amd.pem(self.vcek).encode(), key_pem]
        for name, data in zip(_FILES, blobs, strict=True):
            tmp = directory / f".{name}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, directory / name)  # atomic: a crash never leaves half a key

    def build_report(self, report_data: bytes, measurement: bytes, *, vmpl: int = 0, policy: int = SIM_POLICY) -> bytes:
        """A version-3 report in the real layout, signed like the PSP signs (ECDSA P-384, LE r/s)."""
        if len(report_data) != 64 or len(measurement) != 48:
            raise ValueError("report_data must be 64 bytes and measurement 48 bytes")
        raw = bytearray(REPORT_SIZE)
        tcb = SIM_TCB.to_bytes()
        struct.pack_into("<IIQ", raw, 0x00, 3, 0, policy)
        struct.pack_into("<II", raw, 0x30, vmpl, 1)  # VMPL, SIGNATURE_ALGO = ECDSA P-384
        raw[0x38:0x40] = tcb  # CURRENT_TCB
        struct.pack_into("<Q", raw, 0x40, 0x1)  # PLATFORM_INFO: SMT enabled
        struct.pack_into("<I", raw, 0x48, 0)  # SIGNER_INFO: signed by a VCEK
        raw[0x50:0x90] = report_data
        raw[0x90:0xC0] = measurement
        raw[0x140:0x160] = secrets.token_bytes(32)  # REPORT_ID
        raw[0x160:0x180] = b"\xff" * 32  # REPORT_ID_MA: no migration agent
        raw[0x180:0x188] = tcb  # REPORTED_TCB
        # CPUID family/model/stepping stay 0: a simulated report must not claim a real product line.
        raw[0x1A0:0x1E0] = self.chip_id
        raw[0x1E0:0x1E8] = tcb  # COMMITTED_TCB
        major, minor, build = SIM_FIRMWARE
        raw[0x1E8:0x1EB] = bytes([build, minor, major])
        raw[0x1EC:0x1EF] = bytes([build, minor, major])
        raw[0x1F0:0x1F8] = tcb  # LAUNCH_TCB
        der_sig = self.vcek_key.sign(bytes(raw[:SIGNED_SIZE]), ec.ECDSA(hashes.SHA384()))
        r, s = utils.decode_dss_signature(der_sig)
        raw[0x2A0:0x2E8] = r.to_bytes(72, "little")
        raw[0x2E8:0x330] = s.to_bytes(72, "little")
        return bytes(raw)


_ROOT_FILES: Final = ("ark.pem", "ask.pem", "ask.key.pem")


def _load_or_create_root(root_dir: Path) -> tuple[x509.Certificate, x509.Certificate, rsa.RSAPrivateKey]:
    root_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Instances starting together must agree on one root: create it under an exclusive file lock.
    with open(root_dir / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not all((root_dir / f).is_file() for f in _ROOT_FILES):
            ark_key = rsa.generate_private_key(65537, RSA_BITS)
            ask_key = rsa.generate_private_key(65537, RSA_BITS)
            ark = _sign(_builder("ARK-Simulated", "ARK-Simulated", ark_key.public_key(), 25), ark_key)
            ask = _sign(_builder("SEV-Simulated", "ARK-Simulated", ask_key.public_key(), 25), ark_key)
            key_pem = ask_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption())
            blobs = (amd.pem(ark).encode(), amd.pem(ask).encode(), key_pem)
            for name, data in zip(_ROOT_FILES, blobs, strict=True):
                _write_private(root_dir / name, data)
    key = serialization.load_pem_private_key((root_dir / "ask.key.pem").read_bytes(), None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("simulated ASK key is not an RSA key")
    ark, ask = (amd.load_cert((root_dir / f).read_bytes()) for f in _ROOT_FILES[:2])
    return ark, ask, key


def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)  # atomic: a crash never leaves half a key
