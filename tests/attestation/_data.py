"""Shared test data for the attestation tests. Fixture files live in tests/data/fixtures/sevsnp
(tests never touch the network)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.attestation.certs import load_cert, load_pem_bundle
from tests.paths import SEVSNP

# Most VCEKs were issued 2022-2025; the live Genoa VCEK only on 2026-02-17, and the trustee VLEK
# expired 2025-12-10, so no single date fits all: each case pins its own "now".
NOW = datetime(2025, 6, 1, tzinfo=UTC)
NOW_2026 = datetime(2026, 6, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RealCase:
    report: str
    leaf: str
    chain: str
    now: datetime
    product: str
    kind: str = "VCEK"

    @property
    def id(self) -> str:
        return self.report.split("/")[-1]

    def report_bytes(self) -> bytes:
        return (SEVSNP / self.report).read_bytes()

    def leaf_cert(self) -> Any:
        return load_cert((SEVSNP / self.leaf).read_bytes())

    def chain_certs(self) -> list[Any]:
        return load_pem_bundle((SEVSNP / self.chain).read_bytes())

    def decoded(self) -> dict[str, Any]:
        p = SEVSNP / self.report.replace(".bin", ".decoded.json")
        return dict(json.loads(p.read_text()))


REAL_CASES = [
    RealCase("go-sev-guest/attestation.bin", "go-sev-guest/vcek.testcer", "go-sev-guest/ask_ark_milan.pem",
             NOW, "Milan"),
    RealCase("virtee-sev/report_milan.bin", "virtee-sev/vcek_milan.der", "virtee-sev/cert_chain_milan.pem",
             NOW, "Milan"),
    RealCase("trustee/test-report.bin", "trustee/test-vcek.der", "trustee/milan_ask_ark_asvk.pem",
             NOW, "Milan"),
    RealCase("trustee/test-vlek-report.bin", "trustee/test-vlek.der", "trustee/milan_ask_ark_asvk.pem", NOW,
             "Milan", "VLEK"),
    RealCase("trustee/az-milan-snp-report.bin", "trustee/az-vcek.pem", "trustee/milan_ask_ark_asvk.pem", NOW,
             "Milan"),
    RealCase("trustee/az-genoa-snp-report.bin", "trustee/az-vcek-genoa.pem", "trustee/genoa_ask_ark_asvk.pem",
             NOW, "Genoa"),
    RealCase("lunal-attestation-rs/live-report-v5-genoa.bin", "lunal-attestation-rs/live-vcek-genoa.der",
             "trustee/genoa_ask_ark_asvk.pem", NOW_2026, "Genoa"),
    RealCase("lunal-attestation-rs/live-evidence-genoa.report.bin",
             "lunal-attestation-rs/live-vcek-genoa.der",
             "trustee/genoa_ask_ark_asvk.pem", NOW_2026, "Genoa"),
]
