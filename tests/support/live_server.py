"""The real app served over HTTPS by uvicorn in a background thread, for tests that need sockets
(SSE streaming, browsers, CLI commands against a URL)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from app.config import Settings
from app.core.http_protocol import uvicorn_options
from app.main import create_app
from app.services.crypto import TlsIdentity, generate_tls_identity, write_tls_files
from app.state import AppState


@dataclass
class LiveServer:
    url: str
    tls: TlsIdentity
    state: AppState


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_server(
    settings: Settings, *, tls: TlsIdentity | None = None, presented_tls: TlsIdentity | None = None,
    **app_kwargs: Any,
) -> Iterator[LiveServer]:
    """`presented_tls` makes the socket show another certificate than the one the app binds (a MITM)."""
    tls = tls or generate_tls_identity()
    states: list[AppState] = []
    app = create_app(settings, tls=tls, on_state=states.append, **app_kwargs)
    port = free_port()
    with write_tls_files(presented_tls or tls) as files:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, ssl_certfile=str(files.certfile),
                                ssl_keyfile=str(files.keyfile), log_config=None, ws="none",
                                timeout_graceful_shutdown=2, lifespan="on", **uvicorn_options(settings.server))
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.01)
    try:
        yield LiveServer(url=f"https://127.0.0.1:{port}", tls=tls, state=states[0])
    finally:
        states[0].hub.close_threadsafe()
        server.should_exit = True
        thread.join(timeout=10)
