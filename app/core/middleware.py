"""Pure ASGI middleware: request id + canonical access line, security headers."""

from __future__ import annotations

import time
import uuid

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import get_logger
from app.core.security_headers import SECURITY_HEADERS

log = get_logger("zka.http")

# Hot public reads are counted by the Prometheus middleware instead of a log line each: at thousands
# of requests a second the redacted access line would cost more than serving the cached bytes.
_QUIET_PATHS = {"/health", "/ready", "/metrics", "/api/v1/health", "/api/v1/ready", "/api/v1/attestation",
                "/api/v1/tls/fingerprint"}


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                MutableHeaders(scope=message).append("X-Request-Id", request_id)
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            path = scope.get("path", "")
            if not (path in _QUIET_PATHS and scope.get("method") == "GET"):
                route = scope.get("route")
                log.info(
                    "request", method=scope.get("method"), route=getattr(route, "path", "unmatched"),
                    status=status["code"], duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id")


# Pages run no script unless they name it by hash in their own policy (the log page does); inline styles
# (the report page's charts) are allowed.
HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("Content-Security-Policy", HTML_CSP)
            await send(message)

        await self.app(scope, receive, send_wrapper)


class ErrorBoundaryMiddleware:
    """Unhandled errors become a 500 in our error format here, inside the request-id and security-header
    middleware (Starlette's own last-resort handler sits outside every middleware, so its 500 carried
    neither) and with `Connection: close`, since the connection's state is unknown after such an error.

    Logged once: the type and the first line of the message for the public log stream, the traceback to
    stderr only (app/core/logging.py keeps `exception` out of the stream)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            first_line = (str(exc).splitlines() or [""])[0][:120]
            log.error("unhandled error", error_class=type(exc).__name__, error=first_line, exc_info=exc)
            if started:
                return  # too late for a status: the server closes the unfinished response
            from app.core.http_errors import error_response

            response = error_response(500, "internal_error", "internal error", headers={"Connection": "close"})
            await response(scope, receive, send)


class _BodyTooLarge(BaseException):
    """BaseException on purpose: FastAPI turns any Exception raised while reading a body into a 400."""


class BodyLimitMiddleware:
    """413 in our error format for bodies over the limit: declared (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int, path_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.path_limits = path_limits or {}  # exact paths with their own limit (e.g. report verification)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope.get("path", ""), self.max_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._reject(send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._reject(send, limit)

    async def _reject(self, send: Send, limit: int) -> None:
        from app.core.http_errors import error_response

        response = error_response(413, "payload_too_large", f"request body over {limit} bytes")
        await response({"type": "http"}, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
