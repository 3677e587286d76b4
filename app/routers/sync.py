"""Manual sync (first snapshot only, SPEC §8) and sync status."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from app.core.api_types import UtcDatetime
from app.core.http_errors import error_responses
from app.core.types import RowId
from app.deps import CurrentUser, SessionDep, StateDep, SyncRuntimeDep
from app.services.manual_sync import manual_sync, sync_status
from app.services.scheduler import next_midnight

router = APIRouter(prefix="/sync", tags=["sync"])


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_uid: str | None = Field(default=None, max_length=128, description="must match the token's user")
    connection_id: Annotated[RowId, Field(ge=1, le=2**31 - 1)]


class SyncResponse(BaseModel):
    connection_id: int
    day: date
    trigger: str
    taken_at: UtcDatetime
    backfilled_days: int


@router.post("", responses=error_responses(400, 401, 403, 404, 409, 429, 502))
async def sync_now(body: SyncRequest, user: CurrentUser, rt: SyncRuntimeDep) -> SyncResponse:
    """Take a connection's first snapshot now; refused once it has one, and more than once per 23 h."""
    done = await manual_sync(rt, user_uid=user.user_uid, connection_id=body.connection_id)
    snap = done.snapshot
    return SyncResponse(connection_id=snap.connection_id, day=snap.day, trigger=snap.trigger, taken_at=snap.taken_at,
                        backfilled_days=done.backfilled)


@router.get("/status", responses=error_responses(400, 401, 403))
async def status(
    user: CurrentUser, session: SessionDep, state: StateDep,
    user_uid: Annotated[str | None, Query(max_length=128)] = None,  # noqa: ARG001 - checked by CurrentUser
) -> dict[str, Any]:
    """Per connection: last snapshot, last attempt, whether a manual sync is allowed; the next scheduled run."""
    now = state.clock()
    scheduled = state.scheduler.next_run() if state.scheduler is not None else None
    return {
        "scheduler": {"enabled": state.scheduler is not None, "schedule": "daily at 00:00 UTC",
                      "next_run": scheduled or next_midnight(now)},
        "connections": await sync_status(session, user_uid=user.user_uid, now=now),
    }
