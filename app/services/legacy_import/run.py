"""One `zka import-legacy` run: open the keys, then import the source's users batch by batch.

Order of refusals, all before anything is written: the source must be a database of the original, the
legacy key must open its active DEK, zka's schema must be current, zka's DEK must open here, and a
previous run that stopped part-way is continued only with --resume (so two operators' runs never
interleave unnoticed). Each batch is one transaction (writer.py); --dry-run runs the same code and rolls
every batch back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import inspect
from sqlmodel.ext.asyncio.session import AsyncSession

from app.core.logging import get_logger
from app.db import check_reachable, create_engine, create_sessionmaker, unit_of_work
from app.services.crypto.dek import Dek
from app.services.crypto.keyring import open_or_create_dek
from app.services.legacy_import.keys import unwrap_active_dek
from app.services.legacy_import.source import LegacySource, batched
from app.services.legacy_import.writer import Batch, Summary, imported_user_ids, mark, marker, write_batch

log = get_logger("zka.legacy_import")
FINISHED = ("run", "finished")


class ImportRefused(Exception):
    """A refusal before anything is written; the message is the operator's one line."""


@dataclass
class Progress:
    batch: int
    batches: int
    users_done: int
    users_total: int


@dataclass
class ImportRequest:
    source_url: str
    target_url: str
    legacy_master_key: bytes
    zka_master_key: bytes
    zka_wrapping: str
    dry_run: bool = False
    resume: bool = False
    batch_size: int = 50
    pause_seconds: float = 0.0
    on_progress: Callable[[Progress], None] | None = None


@dataclass
class ImportResult:
    summary: Summary
    source_counts: dict[str, int]
    users_total: int
    users_already: int
    dry_run: bool


async def run_import(req: ImportRequest) -> ImportResult:
    source = await asyncio.to_thread(LegacySource, req.source_url)
    try:
        return await _run(req, source)
    finally:
        await asyncio.to_thread(source.close)


async def _run(req: ImportRequest, source: LegacySource) -> ImportResult:
    legacy_dek = unwrap_active_dek(await asyncio.to_thread(source.active_deks), req.legacy_master_key)
    counts = await asyncio.to_thread(source.counts)
    engine = create_engine(req.target_url)
    try:
        await check_reachable(engine)
        await _check_schema(engine)
        sessions = create_sessionmaker(engine)
        dek = await _zka_dek(sessions, req)
        async with sessions() as session:
            done = await imported_user_ids(session)
            finished = await marker(session, *FINISHED) is not None
        if done and not finished and not req.resume:
            raise ImportRefused(f"a previous import stopped part-way ({len(done)} users imported): rerun with "
                                "--resume to continue it")
        users = await asyncio.to_thread(source.users)
        pending = [u for u in users if u.id not in done]
        log.info("legacy import started", dry_run=req.dry_run, resume=req.resume, users_pending=len(pending),
                 users_already=len(done), **{f"source_{k}": v for k, v in counts.items()})
        summary = Summary()
        batches = list(batched(pending, max(1, req.batch_size)))
        for index, group in enumerate(batches, start=1):
            uids = [u.uid for u in group]
            batch = Batch(group, *await asyncio.gather(
                asyncio.to_thread(source.connections, uids), asyncio.to_thread(source.snapshots, uids),
                asyncio.to_thread(source.sync_records, uids), asyncio.to_thread(source.signed_reports, uids)))
            await _write(sessions, batch, legacy_dek=legacy_dek, dek=dek, summary=summary, dry_run=req.dry_run)
            log.info("legacy import batch committed" if not req.dry_run else "legacy import batch checked",
                     batch=index, batches=len(batches), users=len(group))
            if req.on_progress:
                req.on_progress(Progress(index, len(batches), sum(len(b) for b in batches[:index]), len(pending)))
            if req.pause_seconds and index < len(batches):
                await asyncio.sleep(req.pause_seconds)
        if not req.dry_run and not finished:
            async with unit_of_work(sessions) as session:
                mark(session, *FINISHED, None)
        log.info("legacy import finished", dry_run=req.dry_run, **summary.log_fields())
        return ImportResult(summary, counts, len(users), len(done), req.dry_run)
    finally:
        await engine.dispose()


async def _write(sessions: Callable[[], AsyncSession], batch: Batch, *, legacy_dek: bytes, dek: Dek,
                 summary: Summary, dry_run: bool) -> None:
    if not dry_run:
        async with unit_of_work(sessions) as session:  # type: ignore[arg-type]
            await write_batch(session, batch, legacy_dek=legacy_dek, dek=dek, summary=summary)
        return
    async with sessions() as session:
        try:
            await write_batch(session, batch, legacy_dek=legacy_dek, dek=dek, summary=summary)
        finally:
            await session.rollback()


async def _zka_dek(sessions: Callable[[], AsyncSession], req: ImportRequest) -> Dek:
    """zka's DEK, opened (or, on a database that never had one, created) with this instance's master key.
    A dry run rolls the creation back: its encryptions are thrown away with its batches."""
    async with sessions() as session:
        try:
            dek = await open_or_create_dek(session, req.zka_master_key, wrapping=req.zka_wrapping)
            if req.dry_run:
                await session.rollback()
            else:
                await session.commit()
        except BaseException:
            await session.rollback()
            raise
    return dek


async def _check_schema(engine: object) -> None:
    from sqlalchemy.ext.asyncio import AsyncEngine

    assert isinstance(engine, AsyncEngine)
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    if "legacy_import_rows" not in tables:
        raise ImportRefused("zka's database schema is not current (no legacy_import_rows): run zka migrate first")
