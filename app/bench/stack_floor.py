"""The floor under zka's idle RSS: the smallest service on the same stack (SPEC §3).

FastAPI with one route, one SQLModel table on async SQLAlchemy + aiosqlite, pydantic-settings, structlog,
an in-memory cryptography TLS certificate, uvicorn (uvloop, httptools) serving HTTPS; the same modules kept
out of the process as `zka serve` keeps out. None of zka's own code is imported. `zka bench` starts it the way
it starts `zka serve` and reports its idle RSS beside zka's, so the budget can be read against what the
stack itself costs.

Run: python -m app.bench.stack_floor PORT DATA_DIR
"""

from __future__ import annotations

import sys

from app.cli.serve import keep_unused_modules_out

keep_unused_modules_out()

import tempfile  # noqa: E402 (after the exclusions above, as in `zka serve`)
from collections.abc import AsyncIterator  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import structlog  # noqa: E402
import uvicorn  # noqa: E402
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from pydantic_settings import BaseSettings, SettingsConfigDict  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402
from sqlmodel import Field, SQLModel, select  # noqa: E402
from sqlmodel.ext.asyncio.session import AsyncSession  # noqa: E402


class FloorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZKA_FLOOR_")
    port: int = 0
    data_dir: Path = Path(".")


class Item(SQLModel, table=True):
    __tablename__ = "floor_items"
    id: int | None = Field(default=None, primary_key=True)
    name: str


def build_app(settings: FloorSettings) -> FastAPI:
    engine = create_async_engine(f"sqlite+aiosqlite:///{settings.data_dir / 'floor.db'}")
    log = structlog.get_logger("floor")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)
        log.info("ready")
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, int]:
        async with AsyncSession(engine) as session:
            return {"items": len((await session.exec(select(Item))).all())}

    return app


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + timedelta(days=1)).sign(key, hashes.SHA256()))
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return certfile, keyfile


def main(argv: list[str]) -> None:
    settings = FloorSettings(port=int(argv[0]), data_dir=Path(argv[1]))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        certfile, keyfile = _self_signed(Path(tmp))
        uvicorn.run(build_app(settings), host="127.0.0.1", port=settings.port, ssl_certfile=str(certfile),
                    ssl_keyfile=str(keyfile), log_config=None, access_log=False, ws="none", http="httptools",
                    loop="uvloop")


if __name__ == "__main__":
    main(sys.argv[1:])
