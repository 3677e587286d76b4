"""Liveness and readiness. Both state the mode and every development-only weakness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.deps import StateDep

router = APIRouter(tags=["health"])


def _mode(state: StateDep) -> dict[str, Any]:
    settings = state.settings
    return {"mode": settings.server.env, "weaknesses": settings.development_weaknesses()}


@router.get("/health")
async def health(state: StateDep) -> dict[str, Any]:
    """Liveness: the process answers."""
    return {"status": "ok", **_mode(state)}


@router.get("/ready", responses={503: {"description": "not ready"}})
async def ready(state: StateDep) -> JSONResponse:
    """Readiness: database reachable, keys loaded, attestation provider available."""
    checks: dict[str, Any] = {"database": await _database_ok(state)}
    for name in ("keys", "attestation"):
        component = getattr(state, name, None)
        checks[name] = component.readiness() if component is not None else {"ok": False, "detail": "not loaded"}
    checks["hardening"] = state.hardening
    checks["key_handoff"] = {"donor": state.key_donor is not None,
                             "peers": len(state.settings.keys.peer_urls)}  # operators: is redundancy configured?
    ok = checks["database"]["ok"] and all(checks[n]["ok"] for n in ("keys", "attestation"))
    body = {"status": "ready" if ok else "not_ready", **_mode(state), "checks": checks}
    return JSONResponse(body, status_code=200 if ok else 503)


async def _database_ok(state: StateDep) -> dict[str, Any]:
    try:
        async with state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return {"ok": True, "dialect": state.engine.dialect.name}
    except Exception as exc:  # readiness reports, it does not raise
        return {"ok": False, "detail": type(exc).__name__}
