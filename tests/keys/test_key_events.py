"""key_events is append-only in the database itself; DEK rows written before check values get one."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.db import create_engine, create_sessionmaker
from app.models import DataEncryptionKey
from app.services.crypto.check_value import check_value_matches
from app.services.crypto.keyring import new_dek, open_or_create_dek, wrap_dek
from app.services.crypto.master_key import master_key_id
from app.services.keys.events import record


async def test_the_database_refuses_to_change_key_events(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            record(session, action="handoff_donor", outcome="refused", reason="nonce: expired",
                   instance_master_key_id="00" * 8)
            await session.commit()
        for statement in ("UPDATE key_events SET outcome = 'granted'", "DELETE FROM key_events"):
            async with create_sessionmaker(engine)() as session:
                with pytest.raises(DBAPIError, match="append-only"):
                    await session.execute(text(statement))
                await session.rollback()
        async with create_sessionmaker(engine)() as session:
            assert (await session.execute(text("SELECT outcome FROM key_events"))).scalars().all() == ["refused"]
    finally:
        await engine.dispose()


async def test_a_dek_row_without_check_value_gets_one_when_opened(database_url: str) -> None:
    master, dek = b"\x07" * 32, new_dek()
    engine = create_engine(database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            session.add(DataEncryptionKey(dek_id=dek.dek_id, wrapping="file", master_key_id=master_key_id(master),
                                          wrapped_dek=wrap_dek(dek, master)))  # as written before check values
            await session.commit()
        async with create_sessionmaker(engine)() as session:
            await open_or_create_dek(session, master, wrapping="file")
            await session.commit()
        async with create_sessionmaker(engine)() as session:
            value = (await session.execute(text("SELECT check_value FROM data_encryption_keys"))).scalar_one()
        assert value is not None and check_value_matches(dek, bytes(value))
    finally:
        await engine.dispose()
