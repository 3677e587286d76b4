"""Parser for the SEV-SNP ATTESTATION_REPORT (ABI spec #56860, Table 22/23), versions 2, 3 and 5.

Layout and offsets: see AMD SEV-SNP ABI specification (56860), Table 22 "ATTESTATION_REPORT Structure".
All integers little-endian.
We decode every field we know and keep the raw bytes, because the signature covers bytes [0, 0x2A0)
exactly as the firmware wrote them — never re-serialise a report to verify it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Final

REPORT_SIZE: Final = 0x4A0
SIGNED_SIZE: Final = 0x2A0
SUPPORTED_VERSIONS: Final = frozenset({2, 3, 5})
SIG_ALGO_ECDSA_P384_SHA384: Final = 1
# Version 4 exists (treated like 3 by go-sev-guest / virtee) but SPEC §6 lists 2, 3, 5 only; an
# unknown version may move fields, so it is rejected rather than guessed at.

TURIN_FAMILY: Final = 0x1A
HCL_MAGIC: Final = b"HCLA"
HCL_REPORT_OFFSET: Final = 0x20


class ReportError(ValueError):
    """The bytes are not a report we can parse."""


@dataclass(frozen=True)
class TcbVersion:
    """TCB_VERSION (8 bytes). Byte positions depend on the generation (Turin adds FMC at byte 0)."""

    raw: int
    bl_spl: int
    tee_spl: int
    snp_spl: int
    ucode_spl: int
    fmc_spl: int | None  # Turin and later only

    @classmethod
    def from_bytes(cls, b: bytes, *, turin: bool) -> TcbVersion:
        raw = int.from_bytes(b, "little")
        if turin:
            return cls(raw, bl_spl=b[1], tee_spl=b[2], snp_spl=b[3], ucode_spl=b[7], fmc_spl=b[0])
        return cls(raw, bl_spl=b[0], tee_spl=b[1], snp_spl=b[6], ucode_spl=b[7], fmc_spl=None)

    @classmethod
    def from_components(
        cls, *, bl: int, tee: int, snp: int, ucode: int, fmc: int | None = None
    ) -> TcbVersion:
        b = bytearray(8)
        if fmc is not None:
            b[0], b[1], b[2], b[3], b[7] = fmc, bl, tee, snp, ucode
        else:
            b[0], b[1], b[6], b[7] = bl, tee, snp, ucode
        return cls.from_bytes(bytes(b), turin=fmc is not None)

    def to_bytes(self) -> bytes:
        return self.raw.to_bytes(8, "little")

    def components(self) -> dict[str, int]:
        """SPL values by KDS / VCEK-extension name (fmcSPL only on Turin)."""
        out = {"blSPL": self.bl_spl, "teeSPL": self.tee_spl, "snpSPL": self.snp_spl}
        out["ucodeSPL"] = self.ucode_spl
        if self.fmc_spl is not None:
            out = {"fmcSPL": self.fmc_spl, **out}
        return out

    def at_least(self, minimum: TcbVersion) -> bool:
        """Component-wise ≥ (a TCB is only 'newer' if no component went backwards)."""
        mine, theirs = self.components(), minimum.components()
        return all(mine.get(k, 0) >= v for k, v in theirs.items())

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"raw": self.raw, "raw_hex": f"{self.raw:016x}"}
        d.update(bl_spl=self.bl_spl, tee_spl=self.tee_spl, snp_spl=self.snp_spl, ucode_spl=self.ucode_spl)
        if self.fmc_spl is not None:
            d["fmc_spl"] = self.fmc_spl
        return d


@dataclass(frozen=True)
class GuestPolicy:
    raw: int

    def _bit(self, n: int) -> bool:
        return bool(self.raw >> n & 1)

    @property
    def abi_minor(self) -> int:
        return self.raw & 0xFF

    @property
    def abi_major(self) -> int:
        return self.raw >> 8 & 0xFF

    @property
    def smt(self) -> bool:
        return self._bit(16)

    @property
    def reserved_bit17(self) -> bool:
        return self._bit(17)  # must be 1 in every valid report

    @property
    def migrate_ma(self) -> bool:
        return self._bit(18)

    @property
    def debug(self) -> bool:
        return self._bit(19)

    def to_dict(self) -> dict[str, Any]:
        names = ["single_socket", "cxl_allow", "mem_aes_256_xts", "rapl_dis", "ciphertext_hiding",
                 "page_swap_disable"]
        d: dict[str, Any] = {"abi_minor": self.abi_minor, "abi_major": self.abi_major, "smt": self.smt,
                             "migrate_ma": self.migrate_ma, "debug": self.debug}
        d.update({name: self._bit(20 + i) for i, name in enumerate(names)})
        return d


_PLATFORM_BITS: Final = ("smt_en", "tsme_en", "ecc_en", "rapl_dis", "ciphertext_hiding_en",
                         "alias_check_complete", "reserved6", "tio_en")
_SIGNING_KEYS: Final = {0: "VCEK", 1: "VLEK", 7: "NONE"}


def decode_platform_info(raw: int) -> dict[str, bool]:
    return {name: bool(raw >> i & 1) for i, name in enumerate(_PLATFORM_BITS) if name != "reserved6"}


def product_from_cpuid(family: int | None, model: int | None) -> str | None:
    """Product line from CPUID (v3+ reports); None when unknown (v2 cannot tell Milan from Genoa)."""
    if family is None or model is None:
        return None
    if family == 0x19 and model <= 0x0F:
        return "Milan"
    if family == 0x19 and (0x10 <= model <= 0x1F or 0xA0 <= model <= 0xAF):
        return "Genoa"
    if family == TURIN_FAMILY and model <= 0x11:
        return "Turin"
    return None


@dataclass(frozen=True)
class AttestationReport:
    raw: bytes
    version: int
    guest_svn: int
    policy: GuestPolicy
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: TcbVersion
    platform_info: int
    signer_info: int
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb: TcbVersion
    cpuid_fam_id: int | None
    cpuid_mod_id: int | None
    cpuid_step: int | None
    chip_id: bytes
    committed_tcb: TcbVersion
    current_build: int
    current_minor: int
    current_major: int
    committed_build: int
    committed_minor: int
    committed_major: int
    launch_tcb: TcbVersion
    launch_mit_vector: int | None
    current_mit_vector: int | None
    signature_r: bytes  # 72 bytes, little-endian, as stored
    signature_s: bytes

    @property
    def signed_bytes(self) -> bytes:
        return self.raw[:SIGNED_SIZE]

    @property
    def author_key_en(self) -> bool:
        return bool(self.signer_info & 1)

    @property
    def mask_chip_key(self) -> bool:
        return bool(self.signer_info >> 1 & 1)

    @property
    def signing_key(self) -> str:
        return _SIGNING_KEYS.get(self.signer_info >> 2 & 7, "RESERVED")

    @property
    def is_turin(self) -> bool:
        return self.cpuid_fam_id == TURIN_FAMILY

    @property
    def product(self) -> str | None:
        return product_from_cpuid(self.cpuid_fam_id, self.cpuid_mod_id)

    @property
    def chip_id_masked(self) -> bool:
        return self.chip_id == bytes(64)

    def to_dict(self) -> dict[str, Any]:
        """Decoded fields for JSON (hex for byte strings); key names follow the fixtures' decoded.json."""
        d: dict[str, Any] = {
            "version": self.version,
            "guest_svn": self.guest_svn,
            "policy": self.policy.raw,
            "policy_hex": hex(self.policy.raw),
            "policy_decoded": self.policy.to_dict(),
            "family_id": self.family_id.hex(),
            "image_id": self.image_id.hex(),
            "vmpl": self.vmpl,
            "signature_algo": self.signature_algo,
            "current_tcb": self.current_tcb.to_dict(),
            "platform_info": self.platform_info,
            "platform_info_decoded": decode_platform_info(self.platform_info),
            "signing_key": self.signing_key,
            "mask_chip_key": self.mask_chip_key,
            "author_key_en": self.author_key_en,
            "report_data": self.report_data.hex(),
            "measurement": self.measurement.hex(),
            "host_data": self.host_data.hex(),
            "id_key_digest": self.id_key_digest.hex(),
            "author_key_digest": self.author_key_digest.hex(),
            "report_id": self.report_id.hex(),
            "report_id_ma": self.report_id_ma.hex(),
            "reported_tcb": self.reported_tcb.to_dict(),
            "chip_id": self.chip_id.hex(),
            "committed_tcb": self.committed_tcb.to_dict(),
            "current_build": self.current_build,
            "current_minor": self.current_minor,
            "current_major": self.current_major,
            "committed_build": self.committed_build,
            "committed_minor": self.committed_minor,
            "committed_major": self.committed_major,
            "launch_tcb": self.launch_tcb.to_dict(),
            "signature_r_le": self.signature_r.hex(),
            "signature_s_le": self.signature_s.hex(),
            "product": self.product,
        }
        if self.cpuid_fam_id is not None:
            d.update(cpuid_fam_id=self.cpuid_fam_id, cpuid_mod_id=self.cpuid_mod_id)
            d["cpuid_step"] = self.cpuid_step
        if self.launch_mit_vector is not None:
            d.update(launch_mit_vector=self.launch_mit_vector, current_mit_vector=self.current_mit_vector)
        return d


def _u32(b: bytes, off: int) -> int:
    return int(struct.unpack_from("<I", b, off)[0])


def _u64(b: bytes, off: int) -> int:
    return int(struct.unpack_from("<Q", b, off)[0])


def parse_report(data: bytes) -> AttestationReport:
    """Parse a raw 1184-byte report. Raises ReportError on wrong size or unsupported version."""
    if len(data) != REPORT_SIZE:
        raise ReportError(f"attestation report must be {REPORT_SIZE} bytes, got {len(data)}")
    version = _u32(data, 0x00)
    if version not in SUPPORTED_VERSIONS:
        raise ReportError(f"unsupported attestation report version {version} (supported: 2, 3, 5)")
    v3 = version >= 3
    fam, mod, step = (data[0x188], data[0x189], data[0x18A]) if v3 else (None, None, None)
    # The TCB byte layout can only be chosen once the generation is known (CPUID, v3+). A v2 report
    # predates Turin firmware, so the legacy layout is correct for it.
    turin = fam == TURIN_FAMILY

    def tcb(off: int) -> TcbVersion:
        return TcbVersion.from_bytes(data[off : off + 8], turin=turin)

    return AttestationReport(
        raw=bytes(data),
        version=version,
        guest_svn=_u32(data, 0x04),
        policy=GuestPolicy(_u64(data, 0x08)),
        family_id=data[0x10:0x20],
        image_id=data[0x20:0x30],
        vmpl=_u32(data, 0x30),
        signature_algo=_u32(data, 0x34),
        current_tcb=tcb(0x38),
        platform_info=_u64(data, 0x40),
        signer_info=_u32(data, 0x48),
        report_data=data[0x50:0x90],
        measurement=data[0x90:0xC0],
        host_data=data[0xC0:0xE0],
        id_key_digest=data[0xE0:0x110],
        author_key_digest=data[0x110:0x140],
        report_id=data[0x140:0x160],
        report_id_ma=data[0x160:0x180],
        reported_tcb=tcb(0x180),
        cpuid_fam_id=fam,
        cpuid_mod_id=mod,
        cpuid_step=step,
        chip_id=data[0x1A0:0x1E0],
        committed_tcb=tcb(0x1E0),
        current_build=data[0x1E8],
        current_minor=data[0x1E9],
        current_major=data[0x1EA],
        committed_build=data[0x1EC],
        committed_minor=data[0x1ED],
        committed_major=data[0x1EE],
        launch_tcb=tcb(0x1F0),
        launch_mit_vector=_u64(data, 0x1F8) if version >= 5 else None,
        current_mit_vector=_u64(data, 0x200) if version >= 5 else None,
        signature_r=data[0x2A0:0x2E8],
        signature_s=data[0x2E8:0x330],
    )


def unwrap_hcl_report(blob: bytes) -> bytes:
    """Azure CVM "HCL report": the SNP report sits at offset 0x20 after the 'HCLA' header."""
    if blob[:4] != HCL_MAGIC:
        raise ReportError("not an Azure HCL report (missing 'HCLA' magic)")
    end = HCL_REPORT_OFFSET + REPORT_SIZE
    if len(blob) < end:
        raise ReportError("HCL report too short to contain an SNP report")
    return blob[HCL_REPORT_OFFSET:end]
