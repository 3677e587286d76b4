"""zka keys status | rotate-dek | add-wrapping — key management; never prints key bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from app.cli.failures import CliError

keys = typer.Typer(no_args_is_help=True, help="The key hierarchy: master key → DEK → credentials.")
T = TypeVar("T")


def register(cli: typer.Typer) -> None:
    cli.add_typer(keys, name="keys")


def _run(work: Callable[[Any, Any, bytes, str], Awaitable[T]], *, may_create_master_key: bool = False) -> T:
    """Open the existing database and this instance's master key, run `work` in one transaction.
    Nothing is created on the way: a data directory the service never used is an error, not a new one
    (only add-wrapping may create this instance's key file, which a new instance does not have yet)."""
    from app.config import load_settings
    from app.db import check_reachable, create_engine, create_sessionmaker, unit_of_work
    from app.migrate import current_revision
    from app.services.crypto.master_key import FileMasterKeyProvider
    from app.services.keys import master_key_provider

    settings = load_settings()
    if settings.uses_sqlite and not (database := Path(settings.database_url.split("///", 1)[1])).is_file():
        raise CliError(f"no database at {database}: start the service once (zka serve) or set "
                       "ZKA_DATA_DIR / DATABASE_URL to the service's")
    provider = master_key_provider(settings)

    async def main() -> T:
        engine = create_engine(settings.database_url)
        try:
            await check_reachable(engine)
            if await current_revision(engine) is None:
                raise CliError("the database has no zka schema: run zka migrate (or start the service once)")
            if isinstance(provider, FileMasterKeyProvider) and not may_create_master_key \
                    and not provider.path.is_file():
                raise CliError(f"no master key at {provider.path}: set ZKA_DATA_DIR to the service's data directory")
            master = await provider.load()
            async with unit_of_work(create_sessionmaker(engine)) as session:
                return await work(session, settings, master, provider.source)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@keys.command("status")
def status() -> None:
    """DEK wrappings: ids, sources, ages, and whether this instance can open each."""
    from app.services.crypto import key_status, master_key_id

    async def work(session: Any, _settings: Any, master: bytes, source: str) -> list[dict[str, Any]]:
        typer.echo(f"this instance: master key {master_key_id(master)} (source {source})")
        rows: list[dict[str, Any]] = await key_status(session, current_master_key_id=master_key_id(master))
        return rows

    rows = _run(work)
    if not rows:
        typer.echo("no DEK yet (created on first start)")
        return
    typer.echo(f"{'dek_id':<34} {'wrapping':<12} {'master_key_id':<17} {'active':<7} {'age_days':>8}  opens_here")
    for row in rows:
        typer.echo(f"{row['dek_id']:<34} {row['wrapping']:<12} {row['master_key_id']:<17} "
                   f"{str(row['is_active']):<7} {row['age_days']:>8}  {row['opens_here']}")


@keys.command("rotate-dek")
def rotate(
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    allow_dropping_wrappings: Annotated[bool, typer.Option(help="rotate even if other instances lose access")] = False,
) -> None:
    """New DEK; every stored credential re-encrypted in one transaction; the old DEK kept inactive.
    Stop every running instance first: each keeps the DEK it opened at start."""
    from app.services.crypto import open_or_create_dek, rotate_dek

    if not yes:
        # Running instances keep the DEK they opened at start and would go on encrypting new credentials
        # under the retired one: rotation is an offline operation.
        typer.confirm("Every zka instance using this database must be stopped first. Re-encrypt every stored "
                      "credential under a new DEK?", abort=True)

    async def work(session: Any, _settings: Any, master: bytes, source: str) -> Any:
        current = await open_or_create_dek(session, master, wrapping=source)
        return await rotate_dek(session, current, master, source, allow_dropping_wrappings=allow_dropping_wrappings)

    result = _run(work)
    typer.echo(f"new DEK {result.dek.dek_id}: {result.reencrypted} credential(s) re-encrypted")
    if result.dropped_wrappings:
        typer.echo(f"instances with master key(s) {', '.join(result.dropped_wrappings)} must be re-provisioned")


@keys.command("add-wrapping")
def add(
    from_key_file: Annotated[Path, typer.Option(help="32-byte master key file of an instance that opens the DEK",
                                                exists=True, dir_okay=False)],
) -> None:
    """Wrap the DEK (opened with another master key) for this instance's master key too."""
    from app.services.crypto import add_wrapping, master_key_id, open_or_create_dek
    from app.services.crypto.master_key import load_or_create_key_file

    other = load_or_create_key_file(from_key_file)

    async def work(session: Any, _settings: Any, master: bytes, source: str) -> str:
        dek = await open_or_create_dek(session, other, wrapping="file")
        row = await add_wrapping(session, dek, master, source)
        return f"DEK {dek.dek_id} now also opens with master key {master_key_id(master)} ({row.wrapping})"

    typer.echo(_run(work, may_create_master_key=True))
