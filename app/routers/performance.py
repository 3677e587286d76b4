"""Performance analytics over the caller's own snapshots (SPEC §9)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.connectors.registry import Venue
from app.core.http_errors import error_responses
from app.core.types import IsoDate
from app.deps import CurrentUser, SessionDep, StateDep
from app.services.benchmark_cache import benchmark_cache_for
from app.services.benchmarks import Benchmark
from app.services.performance import performance_metrics

router = APIRouter(prefix="/metrics", tags=["analytics"])


@router.get("/performance", responses=error_responses(400, 401, 404, 422))
async def get_performance(
    user: CurrentUser,
    session: SessionDep,
    state: StateDep,
    start: Annotated[IsoDate | None, Query(description="first day (UTC), YYYY-MM-DD")] = None,
    end: Annotated[IsoDate | None, Query(description="last day (UTC), inclusive")] = None,
    exchange: Venue | None = None,
    benchmark: Benchmark | None = None,
) -> dict[str, Any]:
    """Returns, risk, drawdowns, monthly and calendar-year returns, flows and coverage of the caller's accounts
    (at most five years), with the reason for every null figure and the methodology they follow."""
    return await performance_metrics(session, user_uid=user.user_uid, start=start, end=end, exchange=exchange,
                                     benchmark=benchmark, benchmarks=benchmark_cache_for(state))
