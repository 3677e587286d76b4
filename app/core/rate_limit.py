"""Per-client rate limits, configured by settings (`ZKA_RATE_LIMIT_<NAME>`, `ZKA_RATE_LIMITS_ENABLED`).

One slowapi `Limiter` per app (built in create_app, handed to requests through the lifespan state), so
tests get fresh counters and their own limits. Routes opt in with a dependency:

    @router.post("/credentials/connect", dependencies=[rate_limit("credentials")])

which counts every request (success or failure) per client IP and answers 429 in our error format with
`Retry-After`. Counters live in this process: each replica limits on its own.
"""

from __future__ import annotations

import math
import time
from typing import Any

from fastapi import Depends, Request, Response
from limits import RateLimitItem, parse
from slowapi import Limiter
from slowapi.util import get_remote_address

from app.config import LimitSettings
from app.errors import TooManyRequests

STATE_KEY = "rate_limiter"


class RateLimiter:
    def __init__(self, settings: LimitSettings) -> None:
        self.settings = settings
        self.limiter = Limiter(key_func=get_remote_address, enabled=settings.rate_limits_enabled,
                               storage_uri="memory://", strategy="moving-window")
        self._items: dict[str, RateLimitItem] = {}

    def item(self, name: str) -> RateLimitItem:
        if name not in self._items:
            self._items[name] = parse(getattr(self.settings, f"rate_limit_{name}"))
        return self._items[name]

    def hit(self, name: str, client: str) -> dict[str, str]:
        """Count one request and return the X-RateLimit-* headers; TooManyRequests (429, Retry-After)
        once the limit is reached."""
        if not self.limiter.enabled:
            return {}
        item = self.item(name)
        strategy = self.limiter.limiter
        allowed = strategy.hit(item, name, client)
        stats = strategy.get_window_stats(item, name, client)
        headers = {"X-RateLimit-Limit": str(item.amount), "X-RateLimit-Remaining": str(stats.remaining),
                   "X-RateLimit-Reset": str(math.ceil(stats.reset_time))}
        if allowed:
            return headers
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise TooManyRequests(
            f"too many requests: at most {item.amount} per {_window(item)} per client; retry in {retry_after} s",
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


def rate_limit(name: str) -> Any:
    """Dependency applying the limit `settings.limits.rate_limit_<name>` to a route."""
    LimitSettings.model_fields[f"rate_limit_{name}"]  # noqa: B018 - unknown names fail at import

    async def check(request: Request, response: Response) -> None:
        limiter: RateLimiter = getattr(request.state, STATE_KEY)
        response.headers.update(limiter.hit(name, get_remote_address(request)))

    return Depends(check)
