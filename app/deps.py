"""Annotated dependency aliases used by the routers."""

from __future__ import annotations

import email.message
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from app.config import Settings
from app.db import unit_of_work
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
    async with unit_of_work(state.sessionmaker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


_bearer = HTTPBearer(auto_error=False, description="Gateway JWT (audience zka); the user is its `sub`")


async def json_body(request: Request) -> Any:
    """The body as JSON whenever FastAPI will parse it as JSON (no content type, application/json or
    application/*+json), else None. Checks that read the body before validation must see the same body
    the route gets, whatever content type the client sent."""
    body = await request.body()
    if not body:
        return None
    content_type = request.headers.get("content-type")
    if content_type:
        message = email.message.Message()
        message["content-type"] = content_type
        subtype = message.get_content_subtype()
        if message.get_content_maintype() != "application" or not (subtype == "json" or subtype.endswith("+json")):
            return None
    try:
        return await request.json()
    except ValueError as exc:
        raise BadRequest("request body is not valid JSON", code="invalid_json") from exc


async def _claimed_user_uid(request: Request) -> str | None:
    """A user_uid the request names, in the query or a JSON body: it must match the token's user."""
    claimed = request.query_params.get("user_uid")
    if claimed is None:
        body = await json_body(request)
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
