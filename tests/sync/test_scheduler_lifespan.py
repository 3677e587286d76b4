"""The lifespan starts the APScheduler job at 00:00 UTC when enabled, and stops it on shutdown."""

from __future__ import annotations

from datetime import UTC, datetime

from app.config import Settings
from app.services.scheduler import JOB_ID, next_midnight
from tests.sync.conftest import Clock, running_app, sync_settings


async def test_enabled_scheduler_runs_daily_at_midnight_utc(settings: Settings, clock: Clock) -> None:
    settings.sync.scheduler_enabled = True
    async with running_app(sync_settings(settings, {}), clock) as app:
        scheduler = app.state.scheduler
        assert scheduler is not None
        upcoming = scheduler.next_run()
        assert upcoming is not None and upcoming == next_midnight(datetime.now(UTC))
        assert str(scheduler._scheduler.get_job(JOB_ID).trigger) == "cron[hour='0', minute='0', second='0']"
        # The same-day retries of ZKA_SYNC_RETRY_DELAYS (default 5m,30m,2h,6h) are scheduled too.
        assert [str(job.trigger) for job in scheduler.retry_jobs()] == [
            "cron[hour='0', minute='5', second='0']", "cron[hour='0', minute='30', second='0']",
            "cron[hour='2', minute='0', second='0']", "cron[hour='6', minute='0', second='0']"]
        status = (await app.client.get("/api/v1/sync/status", params={"user_uid": "user_synctest0001"})).json()
        assert status["scheduler"]["enabled"] is True
    assert not scheduler._scheduler.running


async def test_disabled_scheduler_is_not_started(settings: Settings, clock: Clock) -> None:
    async with running_app(sync_settings(settings, {}), clock) as app:
        assert app.state.scheduler is None
