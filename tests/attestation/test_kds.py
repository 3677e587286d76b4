from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from app.attestation.kds import KdsClient, KdsError, parse_retry_after, vcek_path
from app.attestation.report import TcbVersion, parse_report
from tests.attestation._data import SEVSNP

GENOA_REPORT = parse_report((SEVSNP / "trustee/az-genoa-snp-report.bin").read_bytes())
GENOA_VCEK = (SEVSNP / "trustee/az-vcek-genoa.pem").read_bytes()
GENOA_CHAIN = b"".join((SEVSNP / f"virtee-sev/{n}_genoa.pem").read_bytes() for n in ("ask", "ark"))


class FakeKds:
    """Local stand-in for kdsintf.amd.com (never the real one)."""

    def __init__(self, *, throttle_first: int = 0, retry_after: str = "7") -> None:
        self.requests: list[httpx.URL] = []
        self.throttle_first, self.retry_after = throttle_first, retry_after

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        if len(self.requests) <= self.throttle_first:
            return httpx.Response(429, headers={"Retry-After": self.retry_after})
        path = request.url.path
        if path.endswith("/cert_chain"):
            return httpx.Response(200, content=GENOA_CHAIN)
        if path == f"/vcek/v1/Genoa/{GENOA_REPORT.chip_id.hex()}":
            return httpx.Response(200, content=GENOA_VCEK)
        return httpx.Response(404)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def _client(fake: FakeKds, cache: Path | None, clock: Clock) -> KdsClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    return KdsClient(lambda: http, cache_dir=cache, base_url="https://kds.test", clock=clock, sleep=clock.sleep)


async def test_vcek_fetch_url_and_cache(tmp_path: Path) -> None:
    fake, clock = FakeKds(), Clock()
    kds = _client(fake, tmp_path, clock)
    body = await kds.vcek(GENOA_REPORT)
    assert body == GENOA_VCEK
    url = fake.requests[0]
    assert url.host == "kds.test"
    assert dict(url.params) == {"blSPL": "10", "teeSPL": "0", "snpSPL": "23", "ucodeSPL": "84"}
    assert await kds.vcek(GENOA_REPORT) == body and len(fake.requests) == 1
    # a fresh client (process restart) still hits the disk cache
    again = _client(fake, tmp_path, Clock())
    assert await again.vcek(GENOA_REPORT) == body and len(fake.requests) == 1
    assert any(n.startswith("vcek-Genoa-") for n in os.listdir(tmp_path))


async def test_429_honours_retry_after(tmp_path: Path) -> None:
    fake, clock = FakeKds(throttle_first=2, retry_after="7"), Clock()
    assert await _client(fake, tmp_path, clock).vcek(GENOA_REPORT) == GENOA_VCEK
    assert len(fake.requests) == 3
    assert clock.slept[0] == 7.0  # Retry-After first; the 10 s spacing then tops it up


async def test_min_interval_between_requests(tmp_path: Path) -> None:
    fake, clock = FakeKds(), Clock()
    kds = _client(fake, tmp_path, clock)
    await kds.vcek(GENOA_REPORT)
    chain = await kds.cert_chain("Genoa")
    assert len(chain) == 2 and clock.slept == [10.0]
    await kds.cert_chain("Genoa")  # cached: no request, no wait
    assert len(fake.requests) == 2 and clock.slept == [10.0]


async def test_gives_up_after_repeated_429(tmp_path: Path) -> None:
    fake, clock = FakeKds(throttle_first=99), Clock()
    with pytest.raises(KdsError, match="429"):
        await _client(fake, tmp_path, clock).vcek(GENOA_REPORT)
    assert not os.listdir(tmp_path)


async def test_not_found_and_v2_and_vlek(tmp_path: Path) -> None:
    kds = _client(FakeKds(), tmp_path, Clock())
    v2 = parse_report((SEVSNP / "trustee/test-report.bin").read_bytes())
    with pytest.raises(KdsError, match="product"):
        await kds.vcek(v2)
    with pytest.raises(KdsError, match="no certificate"):
        await kds.vcek(v2, product="Milan")
    vlek = parse_report((SEVSNP / "trustee/test-vlek-report.bin").read_bytes())
    with pytest.raises(KdsError, match="VLEK"):
        await kds.vcek(vlek)


async def test_garbage_is_not_cached(tmp_path: Path) -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>")))
    kds = KdsClient(lambda: http, cache_dir=tmp_path, base_url="https://kds.test")
    with pytest.raises(KdsError, match="not a certificate"):
        await kds.vcek(GENOA_REPORT)
    assert not os.listdir(tmp_path)


def test_turin_url_uses_8_byte_hwid_and_fmc() -> None:
    tcb = TcbVersion.from_components(bl=1, tee=2, snp=3, ucode=4, fmc=5)
    path = vcek_path("Turin", bytes(range(64)), tcb)
    assert path == "/vcek/v1/Turin/0001020304050607?fmcSPL=5&blSPL=1&teeSPL=2&snpSPL=3&ucodeSPL=4"
    milan = vcek_path("Milan", bytes(range(64)), TcbVersion.from_components(bl=1, tee=2, snp=3, ucode=4))
    assert milan == f"/vcek/v1/Milan/{bytes(range(64)).hex()}?blSPL=1&teeSPL=2&snpSPL=3&ucodeSPL=4"


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30)), now) == 30.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
