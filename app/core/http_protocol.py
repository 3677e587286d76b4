"""The HTTP/1.1 connection protocol `zka serve` runs: uvicorn's httptools protocol with the limits it lacks.

uvicorn with httptools bounds neither the request head nor the time a client may take to send it:
httptools buffers a header line of any length (one client streaming a 100 MB header stalled every
other request for seconds) and a connection that sends nothing stays open forever (a few thousand of
them exhaust the descriptors). This subclass adds, per connection:

- a cap on the request line and headers, in total and per line: 431 in our error format as soon as the
  received part of the head passes it, without reading the rest;
- an idle timeout before each request's first byte (a new connection, and between keep-alive requests);
- a header timeout: the whole head must arrive within it from its first byte (slow-header clients);
- a cap on open connections: one over it gets 503 and is closed at once, freeing its descriptor.

Malformed HTTP gets a 400 in our error format instead of uvicorn's plain text. Every response written
here (before any application code runs) carries the security headers and `Connection: close`.
"""

from __future__ import annotations

import asyncio
import json
import types
import uuid
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from app.config import ServerSettings
from app.core.security_headers import SECURITY_HEADERS

LINGER_S = 1.0
CLOSE_GRACE_S = 1.0
LINGER_BYTES = 256 * 1024
_REASONS = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 503: "Service Unavailable"}


def error_bytes(status: int, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 error response in the API's error format, for the connection to close after."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(body))), ("connection", "close"),
               ("x-request-id", uuid.uuid4().hex[:16]), *SECURITY_HEADERS]
    head = f"HTTP/1.1 {status} {_REASONS[status]}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode("latin-1") + b"\r\n" + body


async def _send_json_500(cycle: RequestResponseCycle) -> None:
    head, _, body = error_bytes(500, "internal_error", "the request could not be completed").partition(b"\r\n\r\n")
    headers = [(name, value) for name, _, value in (line.partition(b": ") for line in head.split(b"\r\n")[1:])]
    start: Any = {"type": "http.response.start", "status": 500, "headers": headers}
    await cycle.send(start)
    await cycle.send({"type": "http.response.body", "body": body, "more_body": False})


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """Limits are class attributes, set by `protocol_class` from the settings."""

    head_limit = 16 * 1024
    line_limit = 8 * 1024
    header_timeout_s = 10.0
    max_connections = 512

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # waiting for (or reading) a request line and headers
        self._head_bytes = 0
        self._line_bytes = 0  # bytes of the head's current, unfinished line
        self._tail = b""  # last bytes of the previous chunk, to find a head's end across chunks
        self._header_timer: asyncio.TimerHandle | None = None
        self._refused = False
        self._discarded = 0

    # --- connection -------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            # Out of the count at once: refused connections must not hold slots while they linger, or a
            # client retrying fast would keep the server full of its own refusals.
            self.connections.discard(self)
            self._refuse(503, "too_many_connections",
                         f"the server holds its maximum of {self.max_connections} connections; retry shortly")
            return
        # Idle before the first request: the same timeout as between keep-alive requests (data_received
        # cancels it on the first byte).
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    # --- reading ----------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._refused:
            self._discard(len(data))
            return
        self._unset_keepalive_if_required()
        if self._in_head and not self._count_head(data):
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()  # no WebSocket here: the request is served as plain HTTP
        except httptools.HttpParserError:
            if not self._refused:
                self._refuse(400, "bad_request", "malformed HTTP request")

    def _count_head(self, data: bytes) -> bool:
        """Count the part of `data` that belongs to the head; False (and 431 sent) once over a limit."""
        if self._header_timer is None and data:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timed_out)
        window = self._tail + data
        end = window.find(b"\r\n\r\n")
        head_part = data if end < 0 else data[: max(0, end + 4 - len(self._tail))]
        self._tail = window[-3:]
        self._head_bytes += len(head_part)
        lines = head_part.split(b"\n")
        longest = max(self._line_bytes + len(lines[0]), *(len(line) for line in lines[1:]))
        self._line_bytes = len(lines[-1]) if len(lines) > 1 else self._line_bytes + len(head_part)
        if self._head_bytes > self.head_limit or longest > self.line_limit:
            self._refuse(431, "headers_too_large",
                         f"request line and headers are limited to {self.head_limit} bytes in total and "
                         f"{self.line_limit} bytes per line")
            return False
        return True

    # --- parser callbacks -------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = self._line_bytes = 0
        self._tail = b""
        self._cancel_header_timer()
        super().on_headers_complete()
        if self.cycle is not None:
            # uvicorn's own last-resort 500 (a request cut by the shutdown timeout, an app that never
            # answered) is plain text: make it our error format.
            self.cycle.send_500_response = types.MethodType(_send_json_500, self.cycle)  # type: ignore[method-assign]

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # a pipelined request may follow in the same chunk

    # --- refusing ---------------------------------------------------------------------------------
    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(408, "request_timeout",
                         f"the request line and headers must arrive within {self.header_timeout_s:g} s")

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer, then close after a short linger: closing with unread input makes the kernel send a
        reset, which can destroy the answer before the client reads it (what nginx's lingering close
        avoids). Input that arrives meanwhile is discarded, within a byte and a time budget."""
        self._refused = True
        self._cancel_header_timer()
        self._unset_keepalive_if_required()
        if not self.transport.is_closing():
            self.transport.write(error_bytes(status, code, message))
            self._discarded = 0
            self.loop.call_later(LINGER_S, self._close)

    def _discard(self, size: int) -> None:
        self._discarded += size
        if self._discarded > LINGER_BYTES:
            self.transport.abort()

    def timeout_keep_alive_handler(self) -> None:
        self._close()

    def _close(self) -> None:
        """Close, and drop the socket soon after even if the peer never answers TLS's close_notify
        (asyncio would otherwise wait 30 s for it, holding the descriptor for an idle client)."""
        if not self.transport.is_closing():
            self.transport.close()
        self.loop.call_later(CLOSE_GRACE_S, self.transport.abort)


# TLS 1.2 suites with forward secrecy and authenticated encryption only (no CBC-SHA1/SHA2 suites); TLS 1.3
# suites are all AEAD and unaffected.
AEAD_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def uvicorn_options(server: ServerSettings) -> dict[str, Any]:
    """The connection limits and client-address rule of `zka serve`, as uvicorn.Config arguments."""
    return {
        "http": protocol_class(head_limit=server.header_limit_bytes, line_limit=server.header_line_limit_bytes,
                               header_timeout_s=server.header_timeout_s, max_connections=server.max_connections),
        "timeout_keep_alive": server.keep_alive_timeout_s,
        # X-Forwarded-For is believed only from these peers (uvicorn's ProxyHeadersMiddleware).
        "proxy_headers": bool(server.trusted_proxies),
        "forwarded_allow_ips": server.trusted_proxies or None,
        "ssl_ciphers": AEAD_CIPHERS,
    }


def protocol_class(*, head_limit: int, line_limit: int, header_timeout_s: float,
                   max_connections: int) -> type[LimitedHttpToolsProtocol]:
    """The protocol with these limits, for `uvicorn.Config(http=...)`."""
    return type("ZkaHttpProtocol", (LimitedHttpToolsProtocol,), {
        "head_limit": head_limit, "line_limit": line_limit, "header_timeout_s": header_timeout_s,
        "max_connections": max_connections,
    })
