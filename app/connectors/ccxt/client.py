"""Building a ccxt async client: lazy import, URL override, per-day market cache."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import weakref
from collections.abc import Awaitable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from app.connectors.base import ConnectorOptions, Credentials
from app.connectors.ccxt.profiles import VenueProfile
from app.connectors.tls import shared_tls_context

MARKETS_KEY = "ccxt-markets"
# Last nonce signed per API key in this process, keyed by a salted hash (never the key itself).
_LAST_NONCE: dict[str, int] = {}
_NONCE_SALT = secrets.token_bytes(16)
# One lock per key per event loop (a lock belongs to one loop), for venues that need serial private calls.
_PRIVATE_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary())
# Requests sent by the call being counted (counted()); tasks a call starts share its counter.
_REQUESTS: ContextVar[list[int] | None] = ContextVar("ccxt_requests", default=None)
T = TypeVar("T")


def new_exchange(profile: VenueProfile, credentials: Credentials, options: ConnectorOptions) -> Any:
    """Import ccxt here (never at app import) and configure one client for one sync."""
    import ccxt.async_support as ccxt_async  # noqa: PLC0415 - heavy import, only when syncing

    silence_ccxt_debug_logs()

    config: dict[str, Any] = {
        # ccxt's throttle is per client (one per sync), so it can't enforce per-IP venue limits
        # across 1,000 connections -- the scheduler does that. It is kept for real venues as a
        # burst guard, and off for loopback replicas where it would only add sleeps.
        "enableRateLimit": not is_loopback(options.base_url),
        "timeout": int(options.timeout_s * 1000),
        "options": {**profile.options},
    }
    if profile.market_types is not None:
        config["options"]["fetchMarkets"] = {"types": list(profile.market_types)}
    if profile.wallet_address:
        config["walletAddress"] = credentials.api_key  # public address: read-only info endpoints
    else:
        config["apiKey"] = credentials.api_key
        config["secret"] = credentials.api_secret
        if credentials.passphrase:
            config["password"] = credentials.passphrase
    exchange = getattr(ccxt_async, profile.ccxt_id)(config)
    if profile.error_codes:  # a fresh dict: never the class-wide table other instances share
        exact = {**exchange.exceptions.get("exact", {})}
        exact.update({code: getattr(ccxt_async, name) for code, name in profile.error_codes.items()})
        exchange.exceptions = {**exchange.exceptions, "exact": exact}
    if profile.wallet_address:
        from app.connectors.ccxt.hyperliquid import share_identical_reads  # noqa: PLC0415 - the one such venue

        share_identical_reads(exchange)
    else:
        strictly_increasing_nonces(exchange, credentials.api_key)
    if profile.serial_private_calls:
        serialize_private_calls(exchange, credentials.api_key)
    count_requests(exchange)
    if not profile.load_currencies:
        # load_markets() calls fetch_currencies() when has['fetchCurrencies'] is True; on these venues
        # that is a private, slow call we don't need for balances (ccxt maps codes without it).
        exchange.has["fetchCurrencies"] = False
    if options.is_paper and exchange.urls.get("test"):
        exchange.set_sandbox_mode(True)
    # ccxt builds a fresh SSLContext (CA bundle parse, ~35 ms, ~1 MB) per client; one per process is enough.
    exchange.ssl_context = shared_tls_context(exchange.cafile)
    if options.base_url:
        exchange.urls["api"] = rewrite_urls(exchange.urls["api"], options.base_url)
        if is_loopback(options.base_url):
            # close() sleeps 250 ms so TLS transports can shut down; plain-HTTP loopback has none.
            exchange.timeout_on_exit = 0
    return exchange




def strictly_increasing_nonces(exchange: Any, api_key: str) -> None:
    """Venues that sign a nonce (kraken) refuse one not above the key's last ("EAPI:Invalid nonce").
    ccxt's nonce is the clock in ms, so parallel calls of one sync, or two syncs of one key, sign the same
    value within a millisecond (with the rate limiter off, always). Every client of a key shares one
    strictly increasing counter in this process, whatever the limiter setting."""
    key_id = _key_id(api_key)
    clock = exchange.nonce

    def nonce() -> int:
        value = max(int(clock()), _LAST_NONCE.get(key_id, 0) + 1)
        _LAST_NONCE[key_id] = value
        return value

    exchange.nonce = nonce


def _key_id(api_key: str) -> str:
    return hashlib.blake2b(api_key.encode(), key=_NONCE_SALT, digest_size=16).hexdigest()


def serialize_private_calls(exchange: Any, api_key: str) -> None:
    """Sign and send one private request of a key at a time, across all its clients: requests sent in
    parallel can reach the venue out of order, and a venue that wants increasing nonces (kraken) then
    refuses the one signed first."""
    key_id = _key_id(api_key)
    send = exchange.fetch2

    async def fetch2(path: Any, api: Any = "public", *args: Any, **kwargs: Any) -> Any:
        if api != "private":
            return await send(path, api, *args, **kwargs)
        locks = _PRIVATE_LOCKS.setdefault(asyncio.get_running_loop(), {})
        async with locks.setdefault(key_id, asyncio.Lock()):
            return await send(path, api, *args, **kwargs)

    exchange.fetch2 = fetch2


def count_requests(exchange: Any) -> None:
    """Count each HTTP request of the client against the counter of the call that sent it (counted())."""
    send = exchange.fetch2

    async def fetch2(*args: Any, **kwargs: Any) -> Any:
        counter = _REQUESTS.get()
        if counter is not None:
            counter[0] += 1
        return await send(*args, **kwargs)

    exchange.fetch2 = fetch2


async def counted(call: Awaitable[T]) -> tuple[T, int]:
    """Run one ccxt call and say how many requests it sent (ccxt's paginators do not say when they stop
    at their call cap). Calls running at once each count their own: a context variable per task."""
    counter = [0]
    token = _REQUESTS.set(counter)
    try:
        return await call, counter[0]
    finally:
        _REQUESTS.reset(token)


def silence_ccxt_debug_logs() -> None:
    """ccxt logs every request at DEBUG with its signed URL and headers (API key, signature): never let
    those records through, whatever level the app configures."""
    logging.getLogger("ccxt").setLevel(logging.WARNING)


def is_loopback(base_url: str | None) -> bool:
    host = urlsplit(base_url).hostname if base_url else None
    return host in ("127.0.0.1", "localhost", "::1")


def rewrite_urls(node: Any, base_url: str) -> Any:
    """Point every URL (nested dicts/lists/strings) at base_url, keeping each URL's path."""
    if isinstance(node, dict):
        return {key: rewrite_urls(value, base_url) for key, value in node.items()}
    if isinstance(node, list):
        return [rewrite_urls(value, base_url) for value in node]
    if isinstance(node, str) and "://" in node:
        parts = urlsplit(node)
        path = parts.path
        if parts.query:
            path += "?" + parts.query
        return base_url.rstrip("/") + path
    return node


def _cache_key(profile: VenueProfile, options: ConnectorOptions, now: datetime) -> str:
    # base_url is part of the key so a replica's markets never leak into a production sync.
    return f"{MARKETS_KEY}|{profile.ccxt_id}|{options.base_url or ''}|{now.date().isoformat()}"


async def load_markets_cached(exchange: Any, profile: VenueProfile, options: ConnectorOptions) -> None:
    """Load markets once per venue per UTC day; concurrent syncs share one in-flight load."""
    key = _cache_key(profile, options, datetime.now(UTC))
    entry = options.cache.get(key)
    if entry is None:
        _drop_stale(options.cache, key)
        entry = asyncio.ensure_future(_load(exchange))
        options.cache[key] = entry
        try:
            await entry
        except BaseException:
            options.cache.pop(key, None)  # next sync retries instead of caching the failure
            raise
        return  # this client loaded them itself
    assert isinstance(entry, asyncio.Future)
    markets, currencies = await asyncio.shield(entry)
    exchange.set_markets(markets, currencies)


async def _load(exchange: Any) -> tuple[Any, Any]:
    await exchange.load_markets()
    return exchange.markets, exchange.currencies


def _drop_stale(cache: dict[str, object], key: str) -> None:
    prefix = key.rsplit("|", 1)[0] + "|"
    for old in [k for k in cache if k.startswith(prefix) and k != key]:
        cache.pop(old, None)
