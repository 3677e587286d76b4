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
    from app.services.crypto import master_key_id, open_or_create_dek, rotate_dek

    if not yes:
        # Running instances keep the DEK they opened at start and would go on encrypting new credentials
        # under the retired one: rotation is an offline operation.
        typer.confirm("Every zka instance using this database must be stopped first. Re-encrypt every stored "
                      "credential under a new DEK?", abort=True)

    async def work(session: Any, _settings: Any, master: bytes, source: str) -> Any:
        from app.services.keys.events import record

        current = await open_or_create_dek(session, master, wrapping=source)
        result = await rotate_dek(session, current, master, source, allow_dropping_wrappings=allow_dropping_wrappings)
        dropped = ", ".join(result.dropped_wrappings) or "none"
        record(session, action="rotate", outcome="done", instance_master_key_id=master_key_id(master),
               dek_id=result.dek.dek_id, reason=f"DEK {current.dek_id} retired for {result.dek.dek_id}; "
               f"{result.reencrypted} credential(s) re-encrypted; wrappings dropped for: {dropped}")
        return result

    result = _run(work)
    typer.echo(f"new DEK {result.dek.dek_id}: {result.reencrypted} credential(s) re-encrypted")
    if result.dropped_wrappings:
        typer.echo(f"instances with master key(s) {', '.join(result.dropped_wrappings)} no longer open the DEK: "
                   "start this instance as a donor (ZKA_KEY_HANDOFF_ENABLED) and they obtain the new DEK by "
                   "handoff at their next start (ZKA_KEY_PEERS), see docs/key-handoff.md")


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


@keys.command("handoff")
def handoff(
    from_url: Annotated[str, typer.Option("--from", help="a running instance that opens the DEK (donor), "
                                                         "e.g. https://10.0.0.5:8443")],
) -> None:
    """Obtain the active DEK from a running donor by attested handoff and store this instance's wrapping.
    Both sides verify each other's SEV-SNP evidence; see docs/key-handoff.md."""
    import httpx

    from app.config import load_settings
    from app.db import create_engine, create_sessionmaker
    from app.errors import AppError, StartupRefused
    from app.services.evidence import build_evidence_provider, kds_client
    from app.services.keys import master_key_provider
    from app.services.keys.peer import HandoffContext, HandoffRefused
    from app.services.keys.requester import Requester, peer_client

    if not from_url.startswith(("https://", "http://")):
        typer.echo("zka: --from must be a URL such as https://host:8443", err=True)
        raise typer.Exit(2)

    async def main() -> str:
        settings = load_settings()
        settings.check_production()
        provider = master_key_provider(settings)
        master = await provider.load()
        engine = create_engine(settings.database_url)
        try:
            async with peer_client() as client, httpx.AsyncClient(timeout=20.0) as kds_http:
                context = HandoffContext(settings, build_evidence_provider(settings),
                                         kds_client(settings, lambda: kds_http))
                requester = Requester(context, create_sessionmaker(engine), master, provider.source)
                dek = await requester.obtain(from_url.rstrip("/"), client)
            return f"DEK {dek.dek_id} received from {from_url}; it now also opens with master key " \
                   f"{requester.master_key_id} ({provider.source})"
        finally:
            await engine.dispose()

    try:
        typer.echo(asyncio.run(main()))
    except HandoffRefused as exc:
        typer.echo(f"zka: key handoff refused: {exc.reason} (recorded in key_events)", err=True)
        raise typer.Exit(1) from None
    except (AppError, StartupRefused) as exc:
        typer.echo(f"zka: {getattr(exc, 'message', exc)}", err=True)
        raise typer.Exit(2) from None


@keys.command("operator-keygen")
def operator_keygen(
    out: Annotated[Path, typer.Option(help="where to write the operator's Ed25519 private key (PEM, 0600)")],
) -> None:
    """Make the operator's Ed25519 key pair (on the operator's own machine, never in the enclave). Prints the
    public key to put into app/services/keys/trust/builtin.json (operator_ed25519_public_keys)."""
    import base64
    import os

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        typer.echo(f"zka: {out} exists; refusing to overwrite an operator key", err=True)
        raise typer.Exit(2) from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    typer.echo(base64.b64encode(raw).decode())


@keys.command("sign-allowlist")
def sign_allowlist_command(
    allowlist: Annotated[Path, typer.Argument(help="allow-list JSON (format zka-key-allowlist-v1)",
                                              exists=True, dir_okay=False)],
    key: Annotated[Path, typer.Option(help="the operator's Ed25519 private key (PEM)", exists=True, dir_okay=False)],
) -> None:
    """Sign an allow-list with the operator key; prints the file for ZKA_KEY_ALLOWLIST_FILE."""
    import json

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.services.keys.allowlist import AllowListError, sign_allowlist

    try:
        private = serialization.load_pem_private_key(key.read_bytes(), None)
        document = json.loads(allowlist.read_text())
    except ValueError:
        typer.echo("zka: the key must be an unencrypted PEM private key and the list JSON", err=True)
        raise typer.Exit(2) from None
    if not isinstance(private, Ed25519PrivateKey):
        typer.echo("zka: the operator key must be an Ed25519 private key", err=True)
        raise typer.Exit(2)
    try:
        typer.echo(json.dumps(sign_allowlist(document, private), indent=2))
    except AllowListError as exc:
        typer.echo(f"zka: {exc}", err=True)
        raise typer.Exit(2) from None
