"""App factory and lifespan. The router list below is the table of contents of the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from app.config import Settings, load_settings
from app.core import rate_limit
from app.core.http_errors import install_error_handlers, install_openapi_errors
from app.core.middleware import RequestContextMiddleware, SecurityHeadersMiddleware
from app.routers import attestation, connections, health, logs, snapshots, sync
from app.services.crypto.tls_identity import TlsIdentity
from app.services.scheduler import start_scheduler
from app.state import AppState, build_state


def create_app(
    settings: Settings | None = None,
    *,
    tls: TlsIdentity | None = None,
    hardening: dict[str, Any] | None = None,
    on_state: Callable[[AppState], None] | None = None,
) -> FastAPI:
    """tls is the identity the HTTPS server presents (bound into attestation); tests get a fresh one."""
    settings = settings or load_settings()
    limiter = rate_limit.build_rate_limiter(settings.limits)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, object]]:
        state = await build_state(settings, tls=tls, hardening=hardening)
        if on_state is not None:
            on_state(state)
        if settings.sync.scheduler_enabled:
            state.scheduler = start_scheduler(state)
        try:
            yield {"zka": state, rate_limit.STATE_KEY: limiter}
        finally:
            await state.aclose()

    app = FastAPI(
        title="zka",
        summary="Zero-knowledge trading track-record aggregator (AMD SEV-SNP enclave)",
        version="0.1.0",
        lifespan=lifespan,
        max_body_size=settings.server.body_limit_bytes,
        docs_url=None if settings.server.is_production else "/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    install_openapi_errors(app)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(health.router, prefix="/api/v1")
    app.include_router(attestation.router, prefix="/api/v1")
    app.include_router(connections.router, prefix="/api/v1")
    app.include_router(sync.router, prefix="/api/v1")
    app.include_router(snapshots.router, prefix="/api/v1")
    app.include_router(logs.router, prefix="/api/v1")
    return app
