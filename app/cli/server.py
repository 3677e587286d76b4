"""serve, migrate, health."""

from __future__ import annotations

import os
import ssl
import sys
from typing import Annotated, Any, NoReturn

import typer

from app.errors import StartupRefused


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
    cli.command()(migrate)
    cli.command()(health)


def _fail(message: str, code: int = 2) -> None:
    typer.echo(f"zka: {message}", err=True)
    raise typer.Exit(code)


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (ZKA_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="HTTPS port (ZKA_PORT)")] = None,
) -> None:
    """Start the HTTPS service (development mode unless ZKA_ENV=production)."""
    from app.config import load_settings
    from app.services.crypto import generate_tls_identity, harden_process

    try:
        settings = load_settings()
        if host:
            settings.server.host = host
        if port:
            settings.server.port = port
        settings.check_production()
        # Before any secret is loaded: no core dumps, not dumpable, memory locked where allowed.
        hardening = harden_process(require_core_dumps_disabled=settings.server.is_production)
    except (StartupRefused, ValueError) as exc:
        _fail(str(exc))
        return
    tls = generate_tls_identity(settings.server.tls_hostnames)
    _run_uvicorn(settings, tls, hardening)


def _run_uvicorn(settings: Any, tls: Any, hardening: dict[str, Any]) -> None:
    import uvicorn

    from app.main import create_app
    from app.services.crypto import write_tls_files

    states: list[Any] = []
    app = create_app(settings, tls=tls, hardening=hardening, on_state=states.append, on_refused=_refuse)
    files = write_tls_files(tls)

    class _Server(uvicorn.Server):
        async def startup(self, sockets: Any = None) -> None:
            try:
                await super().startup(sockets)
            finally:
                files.cleanup()  # the TLS key was loaded into memory; its file must not linger

        def handle_exit(self, sig: int, frame: Any) -> None:
            # End SSE streams first so the graceful-shutdown wait is not spent on idle listeners.
            for state in states:
                state.hub.close_threadsafe()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app, host=settings.server.host, port=settings.server.port, ssl_certfile=str(files.certfile),
        ssl_keyfile=str(files.keyfile), log_config=None, access_log=False, server_header=False,
        timeout_graceful_shutdown=int(settings.server.shutdown_timeout_s), lifespan="on",
        proxy_headers=False, ws="none", http="httptools", loop="uvloop",
    )
    try:
        _Server(config).run()
    finally:
        files.cleanup()


def _refuse(reason: str) -> NoReturn:
    """A guarantee is missing while the server starts: nothing is serving yet, so leave at once."""
    sys.stderr.write(f"zka: {reason}\n")
    sys.stderr.flush()
    os._exit(2)


def migrate() -> None:
    """Apply database migrations (the only way in production)."""
    from app.config import load_settings
    from app.migrate import upgrade

    settings = load_settings()
    settings.server.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade(settings.database_url)
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


