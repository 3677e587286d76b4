"""AMD Key Distribution Service client with an on-disk cache.

A VCEK is immutable for a (product, chip, REPORTED_TCB), so cached certificates never expire. KDS
throttles per client IP (~1 VCEK per 10 s, HTTP 429) and has outages: requests are serialised and
spaced, 429 honours Retry-After, and the server ships the VCEK inside its evidence so that clients
never need KDS. Certificates fetched here are *untrusted input*: the verifier checks them against
the pinned ARK like any host-supplied certificate.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import httpx

from app.attestation.certs import CertError, common_name, der, load_cert, load_pem_bundle
from app.attestation.report import AttestationReport, TcbVersion

DEFAULT_BASE_URL: Final = "https://kdsintf.amd.com"
MIN_INTERVAL_S: Final = 10.0
MAX_RETRY_AFTER_S: Final = 300.0
MAX_ATTEMPTS: Final = 4


class KdsError(RuntimeError):
    pass


def hwid_for(product: str, chip_id: bytes) -> bytes:
    # Turin KDS answers 404 to the 64-byte id; it takes only the first 8 bytes.
    return chip_id[:8] if product == "Turin" else chip_id


def vcek_path(product: str, chip_id: bytes, tcb: TcbVersion) -> str:
    params = "&".join(f"{k}={v}" for k, v in tcb.components().items())  # fmcSPL first on Turin
    return f"/vcek/v1/{product}/{hwid_for(product, chip_id).hex()}?{params}"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class KdsClient:
    def __init__(
        self,
        client_factory: Callable[[], httpx.AsyncClient],  # built on first use (app.core.outbound)
        *,
        cache_dir: Path | None,
        base_url: str = DEFAULT_BASE_URL,
        min_interval: float = MIN_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client, self.cache_dir, self.base_url = client_factory, cache_dir, base_url.rstrip("/")
        self.min_interval, self._clock, self._sleep = min_interval, clock, sleep
        self._lock = asyncio.Lock()
        self._last: float | None = None

    async def vcek(self, report: AttestationReport, *, product: str | None = None) -> bytes:
        """DER VCEK for the report's chip and REPORTED_TCB (cache first)."""
        product = product or report.product
        if product is None:
            raise KdsError(f"report v{report.version} does not name its product; pass product=")
        if report.signing_key != "VCEK":
            raise KdsError("a VLEK cannot be fetched from KDS; it must come from the host")
        if report.chip_id_masked:
            raise KdsError("CHIP_ID is masked in this report; KDS cannot be asked for its VCEK")
        hwid = hwid_for(product, report.chip_id).hex()
        key = f"vcek-{product}-{hwid}-{report.reported_tcb.raw:016x}.der"
        return await self._cached(key, vcek_path(product, report.chip_id, report.reported_tcb), _check_vcek)

    async def cert_chain(self, product: str, *, kind: str = "vcek") -> list[bytes]:
        """[ASK (or ASVK), ARK] as DER, from `/{vcek|vlek}/v1/{product}/cert_chain` (PEM)."""
        if kind not in ("vcek", "vlek"):
            raise ValueError("kind must be 'vcek' or 'vlek'")
        pem = await self._cached(f"{kind}-{product}-cert_chain.pem", f"/{kind}/v1/{product}/cert_chain",
                                 _check_chain)
        return [der(c) for c in load_pem_bundle(pem)]

    async def _cached(self, key: str, path: str, check: Callable[[bytes], None]) -> bytes:
        hit = await asyncio.to_thread(self._read_cache, key)
        if hit is not None:
            return hit
        async with self._lock:  # also coalesces concurrent misses for the same key
            hit = await asyncio.to_thread(self._read_cache, key)
            if hit is not None:
                return hit
            body = await self._fetch(path)
        check(body)
        await asyncio.to_thread(self._write_cache, key, body)
        return body

    async def _fetch(self, path: str) -> bytes:
        url = self.base_url + path
        for attempt in range(MAX_ATTEMPTS):
            await self._space()
            try:
                resp = await self._client().get(url, timeout=30.0)
            except httpx.HTTPError as exc:
                error: str = f"KDS unreachable: {exc.__class__.__name__}"
                delay = 2.0**attempt
            else:
                if resp.status_code == 200:
                    return resp.content
                if resp.status_code == 404:
                    raise KdsError(f"KDS has no certificate at {path.split('?')[0]}")
                error = f"KDS answered HTTP {resp.status_code}"
                if resp.status_code == 429:
                    delay = parse_retry_after(resp.headers.get("retry-after")) or self.min_interval
                elif resp.status_code >= 500:
                    delay = 2.0**attempt
                else:
                    raise KdsError(error)
            if attempt + 1 < MAX_ATTEMPTS:
                await self._sleep(min(delay, MAX_RETRY_AFTER_S))
        raise KdsError(f"{error} after {MAX_ATTEMPTS} attempts")

    async def _space(self) -> None:
        if self._last is not None:
            wait = self._last + self.min_interval - self._clock()
            if wait > 0:
                await self._sleep(wait)
        self._last = self._clock()

    def _read_cache(self, key: str) -> bytes | None:
        if self.cache_dir is None:
            return None
        path = self.cache_dir / key
        return path.read_bytes() if path.is_file() else None

    def _write_cache(self, key: str, body: bytes) -> None:
        if self.cache_dir is None:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_dir / f".{key}.{os.getpid()}.tmp"
        tmp.write_bytes(body)
        os.replace(tmp, self.cache_dir / key)


def _check_vcek(body: bytes) -> None:
    # Refuse to cache garbage (an HTML error page with status 200 would otherwise stick forever).
    try:
        cert = load_cert(body)
    except CertError as exc:
        raise KdsError(f"KDS returned something that is not a certificate: {exc}") from exc
    if common_name(cert) != "SEV-VCEK":
        raise KdsError(f"KDS returned a certificate for {common_name(cert)!r}, not a VCEK")


def _check_chain(body: bytes) -> None:
    try:
        certs = load_pem_bundle(body)
    except CertError as exc:
        raise KdsError(f"KDS cert_chain is not a PEM bundle: {exc}") from exc
    if len(certs) != 2:
        raise KdsError(f"KDS cert_chain should hold 2 certificates, got {len(certs)}")
