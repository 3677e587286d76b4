"""Two first connects of one new user at once: both succeed (the user row is created once)."""

from __future__ import annotations

import asyncio

from asgi_lifespan import LifespanManager
from sqlmodel import func, select

from app.config import Settings
from app.db import unit_of_work
from app.main import create_app
from app.models import User
from app.services.connections import _ensure_user
from app.state import AppState


async def test_concurrent_first_requests_create_the_user_once(settings: Settings) -> None:
    states: list[AppState] = []
    async with LifespanManager(create_app(settings, on_state=states.append), startup_timeout=60):
        await _race(states[0])


async def _race(app_state: AppState) -> None:
    async def first_request() -> None:
        async with unit_of_work(app_state.sessionmaker) as session:
            await _ensure_user(session, "user_2raceNewUser0001")
            await asyncio.sleep(0.05)  # hold the transaction open while the other one runs

    await asyncio.gather(first_request(), first_request())
    async with app_state.sessionmaker() as session:
        count = (await session.exec(select(func.count()).select_from(User))).one()
    assert count == 1
