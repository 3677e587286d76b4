"""Annotated dependency aliases used by the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.errors import BadRequest
from app.services.auth import Principal, resolve_principal
from app.services.sync import SyncContext, SyncRuntime, sync_context, sync_runtime
from app.state import AppState


async def get_state(request: Request) -> AppState:
    state: AppState = request.state.zka
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_settings(state: StateDep) -> Settings:
    return state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit before the response leaves, roll back on error."""
    async with state.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


_bearer = HTTPBearer(auto_error=False, description="Gateway JWT (audience zka); the user is its `sub`")


async def _claimed_user_uid(request: Request) -> str | None:
    """A user_uid the request names, in the query or a JSON body: it must match the token's user."""
    claimed = request.query_params.get("user_uid")
    if claimed is None and request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError as exc:
            raise BadRequest("request body is not valid JSON", code="invalid_json") from exc
        if isinstance(body, dict) and isinstance(body.get("user_uid"), str):
            claimed = body["user_uid"]
    return claimed


async def get_principal(
    request: Request,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    authorization = f"Bearer {credentials.credentials}" if credentials else None
    return resolve_principal(state.verifier, authorization, await _claimed_user_uid(request))


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def get_sync_context(state: StateDep) -> SyncContext:
    return sync_context(state)


async def get_sync_runtime(state: StateDep) -> SyncRuntime:
    return sync_runtime(state)


SyncContextDep = Annotated[SyncContext, Depends(get_sync_context)]
SyncRuntimeDep = Annotated[SyncRuntime, Depends(get_sync_runtime)]
