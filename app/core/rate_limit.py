"""Rate limits, configured by settings (`ZKA_RATE_LIMIT_<NAME>`, `ZKA_RATE_LIMITS_ENABLED`).

Two kinds of budget, both sliding-window counters (the `limits` library's strategy):

- per user (`sub`), for authenticated routes: spent inside the route, after authentication and
  validation, so a request that fails either never costs a user anything, and users behind one
  gateway never share a budget;
- per client address, for anonymous routes, and as a generous flood limit in front of the
  authenticated ones. The address is the TCP peer, or the client a trusted proxy names
  (`ZKA_TRUSTED_PROXIES`, applied by uvicorn's proxy-headers support before the app sees the request);
  headers from any other peer are ignored.

Counters live in this process on SQLite (one process), and in PostgreSQL when it is the database, so
replicas share them (app/core/rate_limit_store.py). One limiter per app, handed to requests through the
lifespan state. Routes opt in:

    @router.post("/attestation", dependencies=[ip_rate_limit("attestation")])
    async def connect(..., budget: UserBudget) -> ...:
        await budget.spend("credentials", user)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import LimitSettings
from app.errors import TooManyRequests
from app.services.auth import Principal

STATE_KEY = "rate_limiter"


class RateLimiter:
    def __init__(self, settings: LimitSettings) -> None:
        self.settings = settings
        self.enabled = settings.rate_limits_enabled
        self._items: dict[str, RateLimitItem] = {}
        self.use_storage(MemoryStorage())

    def use_storage(self, storage: Storage) -> None:
        self.strategy = SlidingWindowCounterRateLimiter(storage)

    def share_through(self, engine: AsyncEngine) -> None:
        """Keep the counters in PostgreSQL, shared with every replica on the same database."""
        from app.core.rate_limit_store import SharedWindowStorage

        self.use_storage(SharedWindowStorage(engine))

    def item(self, name: str) -> RateLimitItem:
        if name not in self._items:
            self._items[name] = parse(getattr(self.settings, f"rate_limit_{name}"))
        return self._items[name]

    async def hit(self, name: str, kind: str, subject: str) -> dict[str, str]:
        """Count one request of `subject` (a user id or an address) and return the X-RateLimit-* headers;
        TooManyRequests (429, Retry-After) once the limit is reached."""
        if not self.enabled:
            return {}
        item = self.item(name)
        allowed = await self.strategy.hit(item, name, kind, subject)
        stats = await self.strategy.get_window_stats(item, name, kind, subject)
        headers = {"X-RateLimit-Limit": str(item.amount), "X-RateLimit-Remaining": str(stats.remaining),
                   "X-RateLimit-Reset": str(math.ceil(stats.reset_time))}
        if allowed:
            return headers
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"too many requests: at most {item.amount} per {_window(item)} per {kind}; retry in {retry_after} s",
            retry_after=retry_after, headers=headers,
        )


def _window(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return f"{item.multiples} {unit}s" if item.multiples != 1 else unit


def build_rate_limiter(settings: LimitSettings) -> RateLimiter:
    for name, value in settings.model_dump().items():
        if name.startswith("rate_limit_") and isinstance(value, str):
            parse(value)  # fail at start on a malformed limit string, not on the first request
    return RateLimiter(settings)


def _check_name(name: str) -> None:
    LimitSettings.model_fields[f"rate_limit_{name}"]  # noqa: B018 - unknown names fail at import


def client_address(request: Request) -> str:
    """The peer, or the client named by a trusted proxy (uvicorn has already applied ZKA_TRUSTED_PROXIES)."""
    return request.client.host if request.client else "unknown"


def ip_rate_limit(name: str) -> Any:
    """Dependency applying the limit `settings.limits.rate_limit_<name>` per client address."""
    _check_name(name)

    async def check(request: Request, response: Response) -> None:
        limiter: RateLimiter = getattr(request.state, STATE_KEY)
        headers = await limiter.hit(name, "client address", client_address(request))
        _remember(request, response, headers)

    return Depends(check)


HEADERS_KEY = "rate_limit_headers"


def _remember(request: Request, response: Response, headers: dict[str, str]) -> None:
    """On the route's response, and on the request for an error response raised later in the route."""
    response.headers.update(headers)
    setattr(request.state, HEADERS_KEY, headers)


@dataclass
class _Budget:
    limiter: RateLimiter
    request: Request
    response: Response

    headers: dict[str, str] = field(default_factory=dict)

    async def spend(self, name: str, user: Principal) -> None:
        """One request of an authenticated (and validated) user against `rate_limit_<name>`. The
        X-RateLimit-* headers go on the route's response (and on `headers`, for routes that build their
        own Response)."""
        self.headers = await self.limiter.hit(name, "user", user.user_uid)
        _remember(self.request, self.response, self.headers)


async def _budget(request: Request, response: Response) -> _Budget:
    return _Budget(getattr(request.state, STATE_KEY), request, response)


UserBudget = Annotated[_Budget, Depends(_budget)]
