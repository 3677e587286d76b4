"""serve (see app.cli.serve), migrate, health."""

from __future__ import annotations

import ssl
from typing import Annotated

import typer

from app.cli.serve import DESCRIPTION  # argparse only: as light as this module


def register(cli: typer.Typer) -> None:
    cli.command(help=DESCRIPTION)(serve)
    cli.command()(migrate)
    cli.command()(health)


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (ZKA_HOST, default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="HTTPS port, 1-65535 (ZKA_PORT, default 8443)")] = None,
) -> None:
    from app.cli.serve import run  # the console script goes there directly; this entry is for --help

    run(host=host, port=port)


def migrate() -> None:
    """Apply database migrations (the only way in production)."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.cli.failures import CliError
    from app.config import ensure_data_dir, load_settings
    from app.db import describe_database_error
    from app.migrate import upgrade

    settings = load_settings()
    settings.check_production_database()  # as `zka serve`: never a SQLite database in production
    if settings.uses_sqlite:
        ensure_data_dir(settings.server.data_dir)
    try:
        upgrade(settings.database_url)
    except SQLAlchemyError as exc:
        raise CliError(describe_database_error(exc, settings.database_url) or "migration failed") from None
    typer.echo("migrations applied")


def health(
    url: Annotated[str | None, typer.Option(help="default https://127.0.0.1:$ZKA_PORT/health")] = None,
    timeout: Annotated[float, typer.Option()] = 3.0,
) -> None:
    """Exit 0 when the service answers /health with 200, else 1 (container HEALTHCHECK)."""
    import httpx

    from app.config import load_settings

    if url is None:
        url = f"https://127.0.0.1:{load_settings().server.port}/health"
    try:
        # The certificate is self-signed and pinned through attestation, not a CA: liveness only.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        ok = httpx.get(url, verify=context, timeout=timeout).status_code == 200
    except httpx.HTTPError:
        ok = False
    typer.echo("healthy" if ok else "unhealthy")
    raise typer.Exit(0 if ok else 1)


