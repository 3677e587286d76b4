"""`zka serve`: start the HTTPS service (development mode unless ZKA_ENV=production).

Reached straight from the console script with argparse, not typer: typer and its help machinery would stay
resident in the server for its whole life (~2 MB of the SPEC §13 idle RSS budget).
"""

from __future__ import annotations

import argparse
import errno
import gc
import ipaddress
import os
import socket
import sys
from typing import Any, NoReturn

from app.cli.failures import EXIT_USAGE, explain, fail, guarded

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


class _Parser(argparse.ArgumentParser):
    """A usage error is one line too (argparse prints the usage block first); help is typer's
    (`zka serve --help` is routed there by app.cli.main, in the style of every other command)."""

    def error(self, message: str) -> NoReturn:
        fail(f"serve: {message} (see zka serve --help)", exit_code=EXIT_USAGE)


def port_number(value: str) -> int:
    """1-65535: 0 would pick a random port, and a larger number would be reduced modulo 65536 by the OS."""
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value[:20]!r} is not a port: give a whole number from 1 to 65535")
    return int(value)


def main(argv: list[str]) -> None:
    parser = _Parser(prog="zka serve", description=DESCRIPTION, add_help=False)
    parser.add_argument("--host", help="bind address (ZKA_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=port_number, help="HTTPS port (ZKA_PORT, default 8443)")
    args = parser.parse_args(argv)
    guarded(lambda: run(host=args.host, port=args.port))


def check_listen_address(host: str, port: int) -> None:
    """Before any start-up work: the address must be one this machine can listen on, and free."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            fail(f"--host/ZKA_HOST {host[:64]!r} is neither an IP address nor a name this machine resolves",
                 exit_code=EXIT_USAGE)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
            probe.bind((host, port))
    except OSError as exc:
        hint = "choose another --port or stop what uses it" if exc.errno == errno.EADDRINUSE \
            else "choose an address of this machine (--host) and a port it may use (--port)"
        fail(f"cannot listen on {host}:{port} ({exc.strerror}): {hint}", exit_code=EXIT_USAGE)


def run(*, host: str | None = None, port: int | None = None) -> None:
    # The collector would run over the growing module graph dozens of times while importing, finding
    # little (~100 ms of start-up); app.main.settle_heap turns it on just after start-up.
    gc.disable()
    keep_unused_modules_out()
    from app.config import load_settings
    from app.services.crypto import generate_tls_identity, harden_process

    settings = load_settings()
    if host is not None:
        settings.server.host = host
    if port is not None:
        settings.server.port = port
    check_listen_address(settings.server.host, settings.server.port)
    settings.check_production()
    # Before any secret is loaded: no core dumps, not dumpable, memory locked where allowed.
    hardening = harden_process(require_core_dumps_disabled=settings.server.is_production)
    tls = generate_tls_identity(settings.server.tls_hostnames)
    _run_uvicorn(settings, tls, hardening)


def _run_uvicorn(settings: Any, tls: Any, hardening: dict[str, Any]) -> None:
    import uvicorn

    from app.core.http_protocol import uvicorn_options
    from app.main import create_app
    from app.services.crypto import write_tls_files

    states: list[Any] = []
    files = write_tls_files(tls)

    def refuse(exc: BaseException) -> NoReturn:
        files.cleanup()  # os._exit skips every `finally`: the TLS key file must not outlive the process
        _refuse(exc)

    app = create_app(settings, tls=tls, hardening=hardening, on_state=states.append, on_refused=refuse)

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
    except KeyboardInterrupt:
        # uvicorn has already shut down gracefully on Ctrl-C and raises the signal again; a stop the
        # user asked for is not a failure (no traceback, exit 0).
        sys.stderr.write("zka: stopped\n")
    finally:
        files.cleanup()


def _refuse(exc: BaseException) -> NoReturn:
    """Start-up failed (a missing guarantee, an unreachable database…): one clear line and exit 2 (nothing
    is serving yet, so leave at once, without a server traceback)."""
    sys.stderr.write(f"zka: {explain(exc)}\n")
    sys.stderr.flush()
    os._exit(EXIT_USAGE)
