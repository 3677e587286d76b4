"""Loading AMD certificates and reading their AMD-specific (VCEK/VLEK) X.509 extensions."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning

from app.attestation.report import TcbVersion

_AMD: Final = "1.3.6.1.4.1.3704.1."
OID_STRUCT_VERSION: Final = _AMD + "1"
OID_PRODUCT_NAME: Final = _AMD + "2"
OID_BL_SPL: Final = _AMD + "3.1"
OID_TEE_SPL: Final = _AMD + "3.2"
OID_SNP_SPL: Final = _AMD + "3.3"
OID_UCODE_SPL: Final = _AMD + "3.8"
OID_FMC_SPL: Final = _AMD + "3.9"
OID_HWID: Final = _AMD + "4"
OID_CSP_ID: Final = _AMD + "5"

# AMD signs every certificate with RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48.
AMD_PSS: Final = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


class CertError(ValueError):
    """A certificate could not be parsed or lacks a required extension."""


def load_cert(data: bytes) -> x509.Certificate:
    """Load one DER or PEM certificate.

    Every AMD VCEK/VLEK has serial number 0, which RFC 5280 forbids; cryptography 48 still parses it
    but emits a CryptographyDeprecationWarning per load. The warning is about AMD's certificates,
    not our code, so it is silenced here only (not process-wide). If a future cryptography release
    turns it into an error, loading fails loudly here and a fallback parser is needed.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        try:
            if data.lstrip().startswith(b"-----BEGIN"):
                return x509.load_pem_x509_certificate(data)
            return x509.load_der_x509_certificate(data)
        except ValueError as exc:
            raise CertError(f"unparseable certificate: {exc}") from exc


def load_pem_bundle(data: bytes) -> list[x509.Certificate]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        try:
            return x509.load_pem_x509_certificates(data)
        except ValueError as exc:
            raise CertError(f"unparseable PEM bundle: {exc}") from exc


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(Encoding.PEM).decode()


def common_name(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def verify_pss(issuer: x509.Certificate, cert: x509.Certificate) -> None:
    """Raise InvalidSignature (or CertError) unless `issuer` signed `cert` with AMD's RSA-PSS profile.

    Explicit check rather than an RFC 5280 path builder: VCEKs have no AKI/SKI and serial 0.
    """
    key = issuer.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise CertError(f"issuer {common_name(issuer)!r} does not have an RSA key")
    key.verify(cert.signature, cert.tbs_certificate_bytes, AMD_PSS, hashes.SHA384())


def _ext_bytes(cert: x509.Certificate, oid: str) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid))
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    return value.value if isinstance(value, x509.UnrecognizedExtension) else None


def _der_int(raw: bytes, oid: str) -> int:
    # DER INTEGER: 0x02, short length, big-endian two's complement (SPLs are small non-negative).
    if len(raw) < 3 or raw[0] != 0x02 or raw[1] != len(raw) - 2:
        raise CertError(f"extension {oid} is not a DER INTEGER")
    return int.from_bytes(raw[2:], "big", signed=True)


def _der_ia5(raw: bytes) -> str:
    if len(raw) >= 2 and raw[0] == 0x16 and raw[1] == len(raw) - 2:
        return raw[2:].decode("ascii", "replace")
    return raw.decode("ascii", "replace")


def _unwrap_hwid(raw: bytes) -> bytes:
    # KDS certs hold the raw 64 (Turin: 8) bytes. Some re-encoded certs wrap them in a DER
    # OCTET STRING (04 40 …); accept both so the comparison with CHIP_ID sees the same bytes.
    if len(raw) >= 2 and raw[0] == 0x04 and raw[1] == len(raw) - 2 and raw[1] in (8, 64):
        return raw[2:]
    return raw


@dataclass(frozen=True)
class AmdCertInfo:
    struct_version: int | None
    product_name: str | None
    tcb: dict[str, int]  # blSPL/teeSPL/snpSPL/ucodeSPL[/fmcSPL]
    hwid: bytes | None  # VCEK only
    csp_id: str | None  # VLEK only

    def tcb_matches(self, reported: TcbVersion) -> bool:
        return self.tcb == reported.components()


def amd_extensions(cert: x509.Certificate) -> AmdCertInfo:
    """Read the VCEK/VLEK extensions (reference §3.3)."""
    tcb: dict[str, int] = {}
    for name, oid in (("fmcSPL", OID_FMC_SPL), ("blSPL", OID_BL_SPL), ("teeSPL", OID_TEE_SPL),
                      ("snpSPL", OID_SNP_SPL), ("ucodeSPL", OID_UCODE_SPL)):
        raw = _ext_bytes(cert, oid)
        if raw is not None:
            tcb[name] = _der_int(raw, oid)
    missing = {"blSPL", "teeSPL", "snpSPL", "ucodeSPL"} - tcb.keys()
    if missing:
        raise CertError(f"certificate lacks TCB extensions: {sorted(missing)}")
    sv, prod = _ext_bytes(cert, OID_STRUCT_VERSION), _ext_bytes(cert, OID_PRODUCT_NAME)
    hwid, csp = _ext_bytes(cert, OID_HWID), _ext_bytes(cert, OID_CSP_ID)
    return AmdCertInfo(
        struct_version=_der_int(sv, OID_STRUCT_VERSION) if sv is not None else None,
        product_name=_der_ia5(prod) if prod is not None else None,
        tcb=tcb,
        hwid=_unwrap_hwid(hwid) if hwid is not None else None,
        csp_id=_der_ia5(csp) if csp is not None else None,
    )
