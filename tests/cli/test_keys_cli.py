"""zka keys: status, rotate-dek and add-wrapping on a real database; no key bytes are ever printed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from asgi_lifespan import LifespanManager
from sqlmodel import select
from typer.testing import CliRunner, Result

from app.cli.commands import cli
from app.config import Settings
from app.connectors.base import Credentials
from app.db import create_engine, create_sessionmaker, unit_of_work
from app.main import create_app
from app.models import DataEncryptionKey, ExchangeConnection
from app.services.crypto import decrypt_credentials, encrypt_credentials
from app.state import AppState

runner = CliRunner()


async def _zka(*args: str, env: dict[str, str]) -> Result:
    """The CLI runs its own event loop (asyncio.run), so it gets a thread, as a separate process would."""
    return await asyncio.to_thread(runner.invoke, cli, list(args), env=env)
SECRET = Credentials(api_key="AKcli-rotation-key-000001", api_secret="cli-rotation-secret-000001")


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    return {"ZKA_DATA_DIR": str(settings.server.data_dir), "DATABASE_URL": settings.database_url,
            "ZKA_MASTER_KEY": "", **extra}


async def _start(settings: Settings) -> AppState:
    states: list[AppState] = []
    async with LifespanManager(create_app(settings, on_state=states.append), startup_timeout=60):
        pass
    return states[0]


async def _store_credentials(settings: Settings, state: AppState) -> int:
    assert state.keys is not None
    engine = create_engine(settings.database_url)
    async with unit_of_work(create_sessionmaker(engine)) as session:
        conn = ExchangeConnection(user_uid="user_2keysCli0001", exchange="binance", label="main")
        session.add(conn)
        await session.flush()
        assert conn.id is not None
        conn.credentials = encrypt_credentials(state.keys.dek, conn.id, SECRET)
        conn_id = conn.id
    await engine.dispose()
    return conn_id


async def _ciphertext(settings: Settings, conn_id: int) -> str:
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        conn = await session.get(ExchangeConnection, conn_id)
        assert conn is not None and conn.credentials
        value = conn.credentials
    await engine.dispose()
    return value


async def test_rotation_reencrypts_and_the_service_still_reads_every_credential(settings: Settings) -> None:
    first = await _start(settings)
    conn_id = await _store_credentials(settings, first)
    before = await _ciphertext(settings, conn_id)

    rotated = await _zka("keys", "rotate-dek", "--yes", env=_env(settings))
    assert rotated.exit_code == 0, rotated.output
    assert "1 credential(s) re-encrypted" in rotated.output

    after = await _ciphertext(settings, conn_id)
    assert after != before
    second = await _start(settings)
    assert second.keys is not None and first.keys is not None
    assert second.keys.dek.dek_id != first.keys.dek.dek_id
    assert decrypt_credentials(second.keys.dek, conn_id, after) == SECRET

    status = await _zka("keys", "status", env=_env(settings))
    assert status.exit_code == 0
    assert first.keys.dek.dek_id in status.output and second.keys.dek.dek_id in status.output
    assert SECRET.api_secret not in status.output + rotated.output
    master = (settings.server.data_dir / "master.key").read_bytes()
    assert master.hex() not in status.output


async def test_add_wrapping_lets_a_second_master_key_open_the_same_dek(settings: Settings, tmp_path: Path) -> None:
    first = await _start(settings)
    assert first.keys is not None
    other_master = "cd" * 32
    env = _env(settings, ZKA_MASTER_KEY=other_master)
    before = await _zka("keys", "status", env=env)
    assert before.exit_code == 0 and "False" in before.output.splitlines()[-1]  # cannot open the DEK yet
    added = await _zka("keys", "add-wrapping", "--from-key-file", str(settings.server.data_dir / "master.key"),
                       env=env)
    assert added.exit_code == 0, added.output
    assert first.keys.dek.dek_id in added.output

    from pydantic import SecretStr

    moved = settings.model_copy(deep=True)
    moved.keys.master_key = SecretStr(other_master)
    second = await _start(moved)
    assert second.keys is not None and second.keys.dek.dek_id == first.keys.dek.dek_id
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        rows = (await session.exec(select(DataEncryptionKey))).all()
    await engine.dispose()
    assert {row.master_key_id for row in rows} == {first.keys.master_key_id, second.keys.master_key_id}
