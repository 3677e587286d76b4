"""Work distribution between replicas sharing one PostgreSQL: one session advisory lock per connection.

A replica syncs a connection only while it holds that connection's lock, and checks under the lock
whether the day's snapshot already exists; the holder commits before it unlocks. With the unique
(connection_id, day) constraint as the last guard, a connection's day is snapshotted exactly once
however many replicas run the job, and no database connection is held while venues are called: the
locks live on one dedicated connection per job run.

Within one process a per-connection asyncio.Lock comes first, on every database: SQLite serves one
process only and has no advisory locks, and on PostgreSQL it spares a round trip when two tasks of the
same replica (the 00:00 job and a manual sync, or two manual requests) want the same connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

LOCK_NAMESPACE = 0x7A6B61  # "zka": first key of the two-int advisory lock, the connection id is the second
# (database, connection id) -> the lock of the task syncing it in this process. Entries leave on release,
# and nobody ever waits on them (a busy connection is skipped), so they never outlive an event loop.
_IN_PROCESS: dict[tuple[str, int], asyncio.Lock] = {}


@asynccontextmanager
async def _in_process(database: str, connection_id: int) -> AsyncIterator[bool]:
    key = (database, connection_id)
    lock = _IN_PROCESS.setdefault(key, asyncio.Lock())
    if lock.locked():
        yield False
        return
    async with lock:  # an unlocked asyncio.Lock is taken without yielding to the loop: no race
        try:
            yield True
        finally:
            _IN_PROCESS.pop(key, None)


class ConnectionLocks:
    def __init__(self, conn: AsyncConnection | None, database: str) -> None:
        self._conn = conn
        self._database = database
        self._mutex = asyncio.Lock()  # one connection, one statement at a time

    @classmethod
    @asynccontextmanager
    async def open(cls, engine: AsyncEngine) -> AsyncIterator[ConnectionLocks]:
        database = engine.url.render_as_string(hide_password=True)
        if engine.dialect.name != "postgresql":
            yield cls(None, database)
            return
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                yield cls(conn, database)
            finally:
                # Session locks survive a return to the pool: drop them all before the connection goes back.
                await conn.execute(text("SELECT pg_advisory_unlock_all()"))

    @asynccontextmanager
    async def hold(self, connection_id: int) -> AsyncIterator[bool]:
        """Yields False when another task, replica or job holds the lock: skip the connection then."""
        async with _in_process(self._database, connection_id) as here:
            if not here or self._conn is None:
                yield here
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
