"""Plain async factories for rows other engineers' code normally writes (connections, snapshots).

A snapshot's `day` is the UTC day whose close it holds (the run at D 00:00 UTC stores day D-1).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.base import Credentials
from app.models import ExchangeConnection, Snapshot, User
from app.services.crypto import Dek, credentials_hash, encrypt_credentials

USER = "user_reports0001"
OTHER_USER = "user_reports0002"


async def create_user(session: AsyncSession, uid: str = USER) -> User:
    user = User(uid=uid)
    session.add(user)
    await session.flush()
    return user


async def create_connection(
    session: AsyncSession, *, user_uid: str = USER, exchange: str = "binance", label: str = "main", **fields: Any
) -> ExchangeConnection:
    conn = ExchangeConnection(user_uid=user_uid, exchange=exchange, label=label, credentials=None,
                              permissions=["read"], **fields)
    session.add(conn)
    await session.flush()
    return conn


async def create_sealed_connection(
    session: AsyncSession, dek: Dek, credentials: Credentials, *, user_uid: str, created_at: datetime,
    exchange: str = "binance", label: str = "main", **fields: Any,
) -> ExchangeConnection:
    """A connection as the connect flow stores it (credentials encrypted under the service's DEK), but
    without its first snapshot: the state a manual sync exists for."""
    conn = ExchangeConnection(user_uid=user_uid, exchange=exchange, label=label, permissions=["read"],
                              credentials_hash=credentials_hash(dek, credentials), created_at=created_at, **fields)
    session.add(conn)
    await session.flush()  # the id is part of the ciphertext's AAD
    assert conn.id is not None
    conn.credentials = encrypt_credentials(dek, conn.id, credentials)
    return conn


def _money(x: float | Decimal) -> Decimal:
    return x if isinstance(x, Decimal) else Decimal(f"{x:.8f}")


async def create_snapshot(
    session: AsyncSession, conn: ExchangeConnection, day: date, equity: float | Decimal, *,
    deposits: float | Decimal = 0, withdrawals: float | Decimal = 0, trigger: str = "scheduled",
) -> Snapshot:
    assert conn.id is not None
    snap = Snapshot(
        user_uid=conn.user_uid, connection_id=conn.id, exchange=conn.exchange, label=conn.label, day=day,
        taken_at=datetime.combine(day + timedelta(days=1), time(0, 0, 5), tzinfo=UTC), trigger=trigger,
        total_equity=_money(equity), cash=_money(equity), unrealized_pnl=Decimal(0),
        deposits=_money(deposits), withdrawals=_money(withdrawals), breakdown={},
    )
    session.add(snap)
    return snap


async def create_series(
    session: AsyncSession, conn: ExchangeConnection, start: date, equities: Iterable[float | Decimal],
    *, flows: dict[int, float] | None = None,
) -> list[Snapshot]:
    """One snapshot per consecutive day from `start`; flows maps a day index to a net deposit (<0: withdrawal)."""
    out = []
    for i, equity in enumerate(equities):
        f = (flows or {}).get(i, 0.0)
        out.append(await create_snapshot(session, conn, start + timedelta(days=i), equity,
                                         deposits=max(f, 0.0), withdrawals=max(-f, 0.0)))
    await session.flush()
    return out
