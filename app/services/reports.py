"""Signed performance reports (SPEC §10).

What is signed: `payload` — every figure, the daily and monthly returns, the exchanges, the coverage,
the signing key, and the enclave's boot attestation document (raw SEV-SNP report, VCEK and chain,
the REPORT_DATA binding inputs: TLS, E2E and *this signing key*). What is not signed: `display`
(report name, manager, firm) — free text a user may change, never a number.

report_hash = SHA-256 hex of RFC 8785 canonical JSON of `payload`; signature = ECDSA P-256/SHA-256
over the ASCII bytes of report_hash (DER, base64) — the TypeScript original's form.

Report ids are 128-bit random: GET /reports/{id} is public (investors get the link), so the id is
the capability. The same request over the same data returns the stored report (dedup key).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.errors import BadRequest, NotFound
from app.models import SignedReport
from app.services.benchmark_cache import BenchmarkCache, BenchmarkSeries, check_symbol
from app.services.performance import SnapshotSet, analyse, exchanges, load_snapshots
from app.services.report_signing import ALGORITHM, report_hash, sign_hash

PAYLOAD_VERSION: Final = "zka-report-v1"
SUPPORTED_CURRENCIES: Final = ("USD",)
REPORT_ID_PREFIX: Final = "rpt_"


@dataclass(frozen=True)
class ReportSpec:
    """What a report request asks for; everything here is part of the dedup key."""

    start_date: date | None = None
    end_date: date | None = None
    benchmark: str | None = None
    include_risk_metrics: bool = True
    include_drawdown: bool = True
    base_currency: str = "USD"
    report_name: str | None = None
    manager: str | None = None
    firm: str | None = None

    def check(self) -> None:
        if self.base_currency not in SUPPORTED_CURRENCIES:
            raise BadRequest(f"base_currency {self.base_currency[:8]!r} is not supported; reports are in USD "
                             "(snapshots are valued in USD, no FX conversion)", code="unsupported_currency")
        if self.benchmark is not None:
            check_symbol(self.benchmark)

    @property
    def display(self) -> dict[str, str]:
        return {k: v for k, v in (("report_name", self.report_name), ("manager", self.manager),
                                  ("firm", self.firm)) if v}


@dataclass(frozen=True)
class Signer:
    key: ec.EllipticCurvePrivateKey
    public_key_b64: str


@dataclass(frozen=True)
class Built:
    payload: dict[str, Any]
    report_hash: str
    signature: str


def json_safe_evidence(node: Any) -> Any:
    """The attestation document as RFC 8785 can sign it: integers beyond ±(2^53 − 1) (raw 64-bit
    fields in `report.decoded`, which verifiers never trust anyway) become decimal strings."""
    if isinstance(node, dict):
        return {k: json_safe_evidence(v) for k, v in node.items()}
    if isinstance(node, list):
        return [json_safe_evidence(v) for v in node]
    if isinstance(node, int) and not isinstance(node, bool) and abs(node) > 2**53 - 1:
        return str(node)
    return node


def new_report_id() -> str:
    return REPORT_ID_PREFIX + secrets.token_hex(16)


# Per day, what a reader needs: the return and the NAV it compounds to. Absolute values and flows are
# summarised once (metrics.flows); drawdown follows from NAV. Fewer numbers to disclose, and to
# canonicalise and to sign.
SIGNED_DAILY_COLUMNS = ("date", "return", "nav")


def build_payload(
    data: SnapshotSet, spec: ReportSpec, *, report_id: str, generated_at: datetime,
    bench: BenchmarkSeries | None, evidence: dict[str, Any] | None, public_key_b64: str,
) -> dict[str, Any]:
    """What is signed. No user id: reports are read by anyone holding the link (signed_reports keeps
    the owner)."""
    available = bench is not None and bench.available
    a = analyse(data, bench.symbol if bench and available else None, bench.closes if bench and available else None,
                daily_columns=SIGNED_DAILY_COLUMNS)
    metrics = {k: a[k] for k in ("period", "core", "trading", "flows", "monthly_returns", "yearly_returns",
                                 "depends_on_unknown_flows")}
    metrics["daily"] = a["daily"]
    if spec.include_risk_metrics:
        metrics["risk"] = a["risk"]
    if spec.include_drawdown:
        metrics["drawdown"] = a["drawdown"]
    if a["benchmark"] is not None:
        metrics["benchmark"] = a["benchmark"]
    included = tuple(metrics)  # the reasons for the figures this payload carries, no others
    metrics["undefined"] = {path: why for path, why in a["undefined"].items()
                            if re.split(r"[.\[]", path, maxsplit=1)[0] in included}
    bench_info = None
    if bench is not None:
        bench_info = bench.describe()
        if bench.available and a["benchmark"] is None:
            bench_info.update(available=False, reason="too few dates shared with the benchmark")
    return {
        "version": PAYLOAD_VERSION,
        "report_id": report_id,
        "generated_at": generated_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "period_start": data.start.isoformat(),
        "period_end": data.end.isoformat(),
        "base_currency": spec.base_currency,
        "benchmark": bench_info,
        "options": {"include_risk_metrics": spec.include_risk_metrics, "include_drawdown": spec.include_drawdown,
                    **a["options"]},
        "methodology": a["methodology"],
        "exchanges": exchanges(data),
        "coverage": a["coverage"],
        "metrics": metrics,
        "signing": {"algorithm": ALGORITHM, "public_key": public_key_b64},
        "attestation": evidence,
    }


def sign_payload(payload: dict[str, Any], signer: Signer) -> Built:
    digest = report_hash(payload)
    return Built(payload, digest, sign_hash(signer.key, digest))


def build_signed(data: SnapshotSet, spec: ReportSpec, *, signer: Signer, **kw: Any) -> Built:
    """CPU-bound (analytics, canonical JSON, hash, ECDSA): run it in a worker thread."""
    return sign_payload(build_payload(data, spec, public_key_b64=signer.public_key_b64, **kw), signer)


def _dedup_key(user_uid: str, spec: ReportSpec, data: SnapshotSet, data_digest: str) -> str:
    from app.services.analytics.methodology import METHODOLOGY_VERSION  # with the analytics, on first use

    # The methodology version too: a request after a rule change gets figures under the new rules.
    parts = {"user": user_uid, "spec": asdict(spec), "start": data.start.isoformat(), "end": data.end.isoformat(),
             "data": data_digest, "methodology": METHODOLOGY_VERSION}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


async def _find(session: AsyncSession, dedup_key: str) -> SignedReport | None:
    found = await session.exec(select(SignedReport).where(SignedReport.dedup_key == dedup_key))
    return found.first()


async def create_report(
    session: AsyncSession, *, user_uid: str, spec: ReportSpec, signer: Signer, benchmarks: BenchmarkCache,
    evidence: dict[str, Any] | None,
) -> tuple[SignedReport, bool]:
    """The stored report for this request and data (created=False), or a new signed one."""
    spec.check()
    data = await load_snapshots(session, user_uid, start=spec.start_date, end=spec.end_date)
    key = _dedup_key(user_uid, spec, data, await asyncio.to_thread(data.digest))
    if (existing := await _find(session, key)) is not None:
        return existing, False
    bench = await benchmarks.series(session, spec.benchmark, data.start, data.end) if spec.benchmark else None
    report_id = new_report_id()
    built = await asyncio.to_thread(
        build_signed, data, spec, signer=signer, report_id=report_id,
        generated_at=datetime.now(UTC), bench=bench, evidence=evidence,
    )
    if bench is not None and not bench.available:
        key = hashlib.sha256(f"{key}|{report_id}".encode()).hexdigest()  # retried next time, not reused
    row = SignedReport(
        report_id=report_id, user_uid=user_uid, period_start=data.start, period_end=data.end,
        benchmark=spec.benchmark, dedup_key=key, payload=built.payload, display=spec.display,
        hash=built.report_hash, signature=built.signature, public_key=signer.public_key_b64,
    )
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:  # the same request raced us: theirs is stored, return it
        if (existing := await _find(session, key)) is not None:
            return existing, False
        raise
    return row, True


async def get_report(session: AsyncSession, report_id: str) -> SignedReport:
    if not report_id.startswith(REPORT_ID_PREFIX) or len(report_id) > 64:
        raise NotFound("report not found")
    found = await session.exec(select(SignedReport).where(SignedReport.report_id == report_id))
    row = found.first()
    if row is None:
        raise NotFound("report not found")
    return row


def report_document(row: SignedReport) -> dict[str, Any]:
    """The report as served and as verified offline (`zka report verify FILE`)."""
    return {
        "report_id": row.report_id,
        "report_hash": row.hash,
        "signature": row.signature,
        "public_key": row.public_key,
        "signature_algorithm": ALGORITHM,
        "signed_fields": "payload",
        "display": row.display,
        "payload": row.payload,
    }
