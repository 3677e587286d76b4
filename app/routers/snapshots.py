"""Daily snapshots and their aggregates, by date range (at most 5 years)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.connectors.registry import Venue
from app.core.api_types import Money, UtcDatetime
from app.core.http_errors import error_responses
from app.core.types import IsoDate, RowId
from app.deps import CurrentUser, SessionDep, StateDep
from app.services import snapshots as service
from app.services.snapshots import Period

router = APIRouter(tags=["snapshots"])

StartDate = Annotated[IsoDate | None, Query(description="first day, inclusive (YYYY-MM-DD); default end - 365 days")]
EndDate = Annotated[IsoDate | None, Query(description="last day, inclusive (YYYY-MM-DD); default today (UTC)")]
Exchange = Annotated[Venue | None, Query()]
UserUid = Annotated[str | None, Query(max_length=128)]


class SnapshotPublic(BaseModel):
    connection_id: int
    exchange: str
    label: str
    day: date
    taken_at: UtcDatetime
    trigger: str
    total_equity: Money
    cash: Money | None = Field(description="null: unknown (a backfilled day whose statement lacks it)")
    unrealized_pnl: Money | None = Field(description="null: unknown (a backfilled day whose statement lacks it)")
    deposits: Money
    withdrawals: Money
    breakdown: dict[str, Any]
    currency: str


class SnapshotList(BaseModel):
    start_date: date
    end_date: date
    count: int
    snapshots: list[SnapshotPublic]


@router.get("/snapshots", responses=error_responses(400, 401, 403))
async def list_snapshots(
    user: CurrentUser, session: SessionDep, state: StateDep, start_date: StartDate = None, end_date: EndDate = None,
    exchange: Exchange = None, connection_id: Annotated[RowId | None, Query(ge=1, le=2**31 - 1)] = None,
    user_uid: UserUid = None,  # noqa: ARG001 - checked by CurrentUser
) -> SnapshotList:
    """The user's daily snapshots (one per connection and day: the equity at that day's close)."""
    period = Period.parse(start_date, end_date, today=state.clock().date())
    rows = await service.list_snapshots(session, user_uid=user.user_uid, period=period, exchange=exchange,
                                        connection_id=connection_id)
    return SnapshotList(start_date=period.start, end_date=period.end, count=len(rows),
                        snapshots=[SnapshotPublic.model_validate(r, from_attributes=True) for r in rows])


@router.get("/metrics/aggregated", responses=error_responses(400, 401, 403))
async def aggregated(
    user: CurrentUser, session: SessionDep, state: StateDep, start_date: StartDate = None, end_date: EndDate = None,
    exchange: Exchange = None, user_uid: UserUid = None,  # noqa: ARG001 - checked by CurrentUser
) -> dict[str, Any]:
    """Totals over the period for connections included in reports (equity at the latest day, flows, volume, fees)."""
    period = Period.parse(start_date, end_date, today=state.clock().date())
    return await service.aggregated_metrics(session, user_uid=user.user_uid, period=period, exchange=exchange)
