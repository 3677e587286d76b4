"""The real app, lifespan included, behind an httpx client over ASGI (no sockets)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from app.config import Settings
from app.main import create_app


@asynccontextmanager
async def asgi_client(
    settings: Settings, *, client_ip: str = "127.0.0.1", **app_kwargs: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """`client_ip` is what the app sees as the caller (loopback by default; rate limits and log access
    depend on it). `app_kwargs` go to create_app (e.g. on_state, to reach the app's state)."""
    app = create_app(settings, **app_kwargs)
    async with LifespanManager(app, startup_timeout=60) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=(client_ip, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            yield client
