"""`zka serve`: start the HTTPS service (development mode unless ZKA_ENV=production).

Reached straight from the console script with argparse, not typer: typer and its help machinery would stay
resident in the server for its whole life (~2 MB of the SPEC §13 idle RSS budget).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Any, NoReturn

# Installed, and never used by the server process, yet imported by libraries it uses unless kept out:
# - structlog imports rich (and pygments) when present; our chain turns exceptions into plain text before
#   redaction, so rich never renders anything;
# - httpx imports its command-line client (click, pygments, rich) when present;
# - FastAPI imports the whole pydantic.v1 package only to reject v1 models, and zka has none.
# Each library treats a failed import as "not installed". A None entry in sys.modules makes `import name`
# raise ImportError (Python's import protocol). Together ~5 MB of idle RSS.
NOT_IN_SERVER = ("rich", "pygments", "httpx._main", "pydantic.v1")
DESCRIPTION = "Start the HTTPS service (development mode unless ZKA_ENV=production)."


def keep_unused_modules_out() -> None:
    """Before anything imports the libraries that would pull NOT_IN_SERVER in."""
    for name in NOT_IN_SERVER:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="zka serve", description=DESCRIPTION)
    parser.add_argument("--host", help="bind address (ZKA_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTPS port (ZKA_PORT, default 8443)")
    args = parser.parse_args(argv)
    run(host=args.host, port=args.port)


def run(*, host: str | None = None, port: int | None = None) -> None:
    # The collector would run over the growing module graph dozens of times while importing, finding
    # little (~100 ms of start-up); app.main.settle_heap turns it on just after start-up.
    gc.disable()
    keep_unused_modules_out()
    from app.config import load_settings
    from app.errors import StartupRefused
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
        sys.stderr.write(f"zka: {exc}\n")
        raise SystemExit(2) from None
    tls = generate_tls_identity(settings.server.tls_hostnames)
    _run_uvicorn(settings, tls, hardening)


def _run_uvicorn(settings: Any, tls: Any, hardening: dict[str, Any]) -> None:
    import uvicorn

    from app.core.http_protocol import uvicorn_options
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
        timeout_graceful_shutdown=int(settings.server.shutdown_timeout_s), lifespan="on", ws="none",
        loop="uvloop", **uvicorn_options(settings.server),
    )
    try:
        _Server(config).run()
    finally:
        files.cleanup()


def _refuse(reason: str) -> NoReturn:
    """A guarantee is missing: one clear line and exit 2, before or while the server starts (nothing is
    serving yet, so leave at once, without a server traceback)."""
    sys.stderr.write(f"zka: {reason}\n")
    sys.stderr.flush()
    os._exit(2)
