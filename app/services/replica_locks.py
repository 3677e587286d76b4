"""Work distribution between replicas sharing one PostgreSQL: one session advisory lock per connection.

A replica syncs a connection only while it holds that connection's lock, and checks under the lock
whether the day's snapshot already exists; the holder commits before it unlocks. With the unique
(connection_id, day) constraint as the last guard, a connection's day is snapshotted exactly once
however many replicas run the job, and no database connection is held while venues are called: the
locks live on one dedicated connection per job run.

SQLite serves one process only, so there the locks are no-ops.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

LOCK_NAMESPACE = 0x7A6B61  # "zka": first key of the two-int advisory lock, the connection id is the second


class ConnectionLocks:
    def __init__(self, conn: AsyncConnection | None) -> None:
        self._conn = conn
        self._mutex = asyncio.Lock()  # one connection, one statement at a time

    @classmethod
    @asynccontextmanager
    async def open(cls, engine: AsyncEngine) -> AsyncIterator[ConnectionLocks]:
        if engine.dialect.name != "postgresql":
            yield cls(None)
            return
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                yield cls(conn)
            finally:
                # Session locks survive a return to the pool: drop them all before the connection goes back.
                await conn.execute(text("SELECT pg_advisory_unlock_all()"))

    @asynccontextmanager
    async def hold(self, connection_id: int) -> AsyncIterator[bool]:
        """Yields False when another replica (or job) holds the lock: skip the connection then."""
        if self._conn is None:
            yield True
            return
        got = await self._call("SELECT pg_try_advisory_lock(:ns, :id)", connection_id)
        try:
            yield bool(got)
        finally:
            if got:
                await self._call("SELECT pg_advisory_unlock(:ns, :id)", connection_id)

    async def _call(self, sql: str, connection_id: int) -> object:
        assert self._conn is not None
        async with self._mutex:
            result = await self._conn.execute(text(sql), {"ns": LOCK_NAMESPACE, "id": connection_id})
            return result.scalar()
