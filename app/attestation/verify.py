"""SEV-SNP evidence verifier (sync, CPU-bound: call it from a worker thread in async code).

Check order matters for the verdict: checks that depend only on the certificates come first, then
the report signature over the raw bytes (so any flipped bit in the signed region is reported as
"signature", whatever field it lands in), then the parsed fields and the caller's policy.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from app.attestation import roots
from app.attestation.certs import CertError, amd_extensions, der
from app.attestation.chain import (
    CertLike,
    ChainError,
    ChainPath,
    as_cert,
    build_path,
    check_validity,
    leaf_kind,
)
from app.attestation.report import (
    REPORT_SIZE,
    SIG_ALGO_ECDSA_P384_SHA384,
    SIGNED_SIZE,
    AttestationReport,
    ReportError,
    parse_report,
)
from app.attestation.result import VerificationResult

SIMULATED_ROOT = "simulated"


@dataclass(frozen=True)
class Policy:
    """What the relying party accepts beyond a valid signature (go-sev-guest validate.Options subset)."""

    allow_debug: bool = False
    allow_migrate_ma: bool = False
    max_vmpl: int = 0
    # Minimum REPORTED_TCB by SPL name (blSPL, teeSPL, snpSPL, ucodeSPL[, fmcSPL]); None = not checked.
    min_tcb: Mapping[str, int] | None = None
    # Allowed MEASUREMENT values (48 bytes each); None = not checked (the verdict says "skipped").
    measurements: Collection[bytes] | None = None


def verify_report_signature(raw: bytes, leaf: x509.Certificate) -> None:
    """ECDSA P-384/SHA-384 over raw[0:0x2A0]; r and s are 72-byte little-endian fields at 0x2A0/0x2E8."""
    if len(raw) != REPORT_SIZE:
        raise InvalidSignature(f"report must be {REPORT_SIZE} bytes")
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        raise InvalidSignature("signing certificate does not hold an ECDSA P-384 key")
    r = int.from_bytes(raw[0x2A0:0x2E8], "little")
    s = int.from_bytes(raw[0x2E8:0x330], "little")
    if r == 0 or s == 0:
        raise InvalidSignature("empty signature")
    key.verify(utils.encode_dss_signature(r, s), raw[:SIGNED_SIZE], ec.ECDSA(hashes.SHA384()))


def trusted_roots(
    *, trust_simulated: bool = False, simulated_ark: CertLike | None = None
) -> dict[str, x509.Certificate]:
    """Pinned AMD ARKs, plus the simulated ARK only when explicitly asked for and supplied."""
    out: dict[str, x509.Certificate] = dict(roots.pinned_arks())
    if trust_simulated:
        if simulated_ark is None:
            raise ValueError("trust_simulated=True requires the simulated ARK to be supplied explicitly")
        out[SIMULATED_ROOT] = as_cert(simulated_ark)
    return out


def verify_attestation(
    report: bytes,
    *,
    leaf: CertLike | None,
    chain: Sequence[CertLike] = (),
    now: datetime,
    policy: Policy | None = None,
    expected_report_data: bytes | None = None,
    trust_simulated: bool = False,
    simulated_ark: CertLike | None = None,
) -> VerificationResult:
    """Verify raw report bytes + VCEK/VLEK (`leaf`) + host-supplied intermediates/roots (`chain`).

    Trust is anchored only in the pinned AMD ARKs (or the simulated ARK when `trust_simulated`).
    Certificate validity is judged at `now` (pass it explicitly: fixtures and stored evidence age).
    """
    policy = policy or Policy()
    result = VerificationResult()
    path = _check_chain(result, leaf, chain, now, trust_simulated, simulated_ark)
    _check_signature(result, report, path)
    parsed = _check_format(result, report)
    if parsed is None:
        return result
    result.report = parsed
    if path is not None:
        _check_binding_to_cert(result, parsed, path)
    _check_policy(result, parsed, policy)
    _check_report_data(result, parsed, expected_report_data)
    return result


def _check_chain(
    result: VerificationResult,
    leaf: CertLike | None,
    chain: Sequence[CertLike],
    now: datetime,
    trust_simulated: bool,
    simulated_ark: CertLike | None,
) -> ChainPath | None:
    if leaf is None:
        result.add("chain", False, "no VCEK/VLEK certificate supplied (host cert table empty, KDS not used)")
        return None
    try:
        path = build_path(
            as_cert(leaf),
            [as_cert(c) for c in chain],
            trusted_roots(trust_simulated=trust_simulated, simulated_ark=simulated_ark),
        )
    except (ChainError, CertError, ValueError) as exc:
        result.add("chain", False, str(exc))
        return None
    kind = leaf_kind(path.leaf)
    result.facts.update(root=path.root_name, simulated=path.root_name == SIMULATED_ROOT, signing_key=kind)
    result.chain_der = [der(c) for c in path.certs]
    result.add("chain", True, f"{kind} → {path.intermediate.subject.rfc4514_string().split(',')[0]} → "
                              f"pinned ARK ({path.root_name})")
    expired = check_validity(path, now)
    when = f"{now:%Y-%m-%d}"
    result.add("cert_validity", not expired,
               f"not valid at {when}: {', '.join(expired)}" if expired else f"all valid at {when}")
    return path


def _check_signature(result: VerificationResult, raw: bytes, path: ChainPath | None) -> None:
    if path is None:
        result.add("signature", False, "not checked: no trusted signing certificate")
        return
    try:
        verify_report_signature(raw, path.leaf)
    except InvalidSignature as exc:
        result.add("signature", False, f"report signature does not verify with the {leaf_kind(path.leaf)}"
                                       + (f": {exc}" if str(exc) else ""))
        return
    result.add("signature", True, "ECDSA P-384/SHA-384 over report[0:0x2A0]")


def _check_format(result: VerificationResult, raw: bytes) -> AttestationReport | None:
    try:
        parsed = parse_report(raw)
    except ReportError as exc:
        result.add("report_format", False, str(exc))
        return None
    if parsed.signature_algo != SIG_ALGO_ECDSA_P384_SHA384:
        result.add("report_format", False, f"unknown signature algorithm {parsed.signature_algo}")
        return None
    if not parsed.policy.reserved_bit17:
        result.add("report_format", False, "policy bit 17 (reserved, must be 1) is 0: malformed report")
        return None
    result.add("report_format", True, f"version {parsed.version}")
    return parsed


def _check_binding_to_cert(result: VerificationResult, rep: AttestationReport, path: ChainPath) -> None:
    kind = leaf_kind(path.leaf)
    result.add("signing_key", rep.signing_key == kind,
               f"report says {rep.signing_key}, certificate is a {kind}")
    product = rep.product
    if product is None or path.root_name == SIMULATED_ROOT:
        result.skip("product", f"report v{rep.version} does not name its product; chain is {path.root_name}")
    else:
        result.add("product", product == path.root_name,
                   f"report CPUID says {product}, chain is {path.root_name}")
    try:
        info = amd_extensions(path.leaf)
    except CertError as exc:
        result.add("tcb", False, str(exc))
        return
    reported = rep.reported_tcb.components()
    result.add("tcb", info.tcb == reported, f"certificate {info.tcb}, REPORTED_TCB {reported}")
    _check_chip_id(result, rep, info.hwid, kind)


def _check_chip_id(result: VerificationResult, rep: AttestationReport, hwid: bytes | None, kind: str) -> None:
    if kind == "VLEK":
        result.skip("chip_id", "VLEK certificates carry no hwID")
    elif rep.chip_id_masked:
        result.skip("chip_id", "CHIP_ID is masked (all zero)")
    elif hwid is None:
        result.add("chip_id", False, "VCEK has no hwID extension")
    else:
        # Turin VCEKs carry only the first 8 bytes of CHIP_ID.
        expected = rep.chip_id[: len(hwid)] if len(hwid) == 8 else rep.chip_id
        result.add("chip_id", hmac.compare_digest(hwid, expected), "VCEK hwID vs report CHIP_ID")


def _check_policy(result: VerificationResult, rep: AttestationReport, policy: Policy) -> None:
    result.add("debug", policy.allow_debug or not rep.policy.debug,
               "guest policy allows debugging (host can read guest memory)" if rep.policy.debug
               else "debugging disabled")
    result.add("migrate_ma", policy.allow_migrate_ma or not rep.policy.migrate_ma,
               f"migration agent {'allowed' if rep.policy.migrate_ma else 'disabled'}")
    result.add("vmpl", rep.vmpl <= policy.max_vmpl, f"VMPL {rep.vmpl}, maximum {policy.max_vmpl}")
    if policy.min_tcb is None:
        result.skip("min_tcb", "no minimum TCB configured")
    else:
        have = rep.reported_tcb.components()
        low = {k: (have.get(k), v) for k, v in policy.min_tcb.items() if have.get(k, 0) < v}
        result.add("min_tcb", not low, f"below minimum: {low}" if low else f"REPORTED_TCB {have}")
    if policy.measurements is None:
        result.skip("measurement", f"no allow-list given; measurement {rep.measurement.hex()}")
    else:
        ok = any(hmac.compare_digest(rep.measurement, m) for m in policy.measurements)
        result.add("measurement", ok, f"{rep.measurement.hex()} {'is' if ok else 'is NOT'} on the allow-list")


def _check_report_data(result: VerificationResult, rep: AttestationReport, expected: bytes | None) -> None:
    if expected is None:
        result.skip("report_data", "no expected REPORT_DATA given")
        return
    ok = hmac.compare_digest(rep.report_data, expected)
    result.add("report_data", ok, "matches the expected binding" if ok
               else f"REPORT_DATA {rep.report_data.hex()[:32]}… != expected {expected.hex()[:32]}…")
