"""What every RPC shares with the routers: the caller from the gateway's JWT, strict request fields, rate
limits, and domain errors turned into gRPC status codes with the same safe messages REST sends."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any, TypeAlias, TypeVar

import grpc
from pydantic import ValidationError

from app.connectors.registry import SUPPORTED_VENUES
from app.core.logging import get_logger
from app.errors import (
    AppError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    UpstreamError,
)
from app.services.auth import Principal, resolve_principal
from app.state import AppState

log = get_logger("zka.grpc")

QUIET = ("HealthCheck",)  # polled by load balancers, as GET /health is not logged either
MAX_USER_UID = 128  # as the REST fields
MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z

_STATUS: list[tuple[type[AppError], grpc.StatusCode]] = [
    (Unauthorized, grpc.StatusCode.UNAUTHENTICATED),
    (Forbidden, grpc.StatusCode.PERMISSION_DENIED),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (Conflict, grpc.StatusCode.FAILED_PRECONDITION),
    (TooManyRequests, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (UpstreamError, grpc.StatusCode.UNAVAILABLE),
    (ServiceUnavailable, grpc.StatusCode.UNAVAILABLE),
    (BadRequest, grpc.StatusCode.INVALID_ARGUMENT),
]


def status_of(exc: AppError) -> grpc.StatusCode:
    for kind, code in _STATUS:
        if isinstance(exc, kind):
            return code
    if exc.status_code == 422:
        return grpc.StatusCode.FAILED_PRECONDITION  # e.g. not enough data for the figures asked for
    return grpc.StatusCode.INTERNAL if exc.status_code >= 500 else grpc.StatusCode.INVALID_ARGUMENT


Ctx: TypeAlias = Any  # grpc.aio.ServicerContext (grpcio ships no type hints)
Req = TypeVar("Req")
Resp = TypeVar("Resp")


def rpc(method: Callable[[Any, Req, Ctx], Awaitable[Resp]]) -> Callable[[Any, Req, Ctx], Awaitable[Resp]]:
    """Domain errors become status codes with their message (written for clients: no SQL, no secrets) and
    the REST error code in the `zka-error-code` trailer; anything else is INTERNAL `internal error`, logged by
    type only (an exception text may quote a venue's answer)."""

    @functools.wraps(method)
    async def handler(self: Any, request: Req, context: Ctx) -> Resp:
        started = time.perf_counter()
        try:
            return await _answer(method, self, request, context)
        finally:
            if method.__name__ not in QUIET:
                code = context.code()
                log.info("grpc call", method=method.__name__, status=(code or grpc.StatusCode.OK).name,
                         duration_ms=round((time.perf_counter() - started) * 1000, 2))

    return handler


async def _answer(method: Callable[[Any, Req, Ctx], Awaitable[Resp]], self: Any, request: Req, context: Ctx) -> Resp:
    """The method's answer, or an abort with the status code its error maps to."""
    try:
        return await method(self, request, context)
    except grpc.aio.AbortError:
        raise
    except AppError as exc:
        trailers: list[tuple[str, str]] = [("zka-error-code", exc.code)]
        if isinstance(exc, TooManyRequests):
            trailers.append(("retry-after", str(exc.retry_after)))
        context.set_trailing_metadata(tuple(trailers))
        await context.abort(status_of(exc), exc.message)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "request"
        context.set_trailing_metadata((("zka-error-code", "validation_error"),))
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{where}: {first['msg']}")
    except Exception as exc:
        log.error("grpc call failed", method=method.__name__, error_class=type(exc).__name__)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


def metadata(context: Ctx, name: str) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == name:
            return value if isinstance(value, str) else None
    return None


def caller(state: AppState, context: Ctx, user_uid: str) -> Principal:
    """The gateway's JWT in `authorization` metadata, checked exactly as REST's Authorization header: the
    user is the token's `sub`, and a `user_uid` field naming someone else is PERMISSION_DENIED."""
    if len(user_uid) > MAX_USER_UID:
        raise BadRequest(f"user_uid: at most {MAX_USER_UID} characters", code="validation_error")
    return resolve_principal(state.verifier, metadata(context, "authorization"), user_uid or None)


def peer_address(context: Ctx) -> str:
    """`ipv4:1.2.3.4:5678` / `ipv6:[::1]:5678` -> the address, for the per-address limits."""
    peer = context.peer() or "unknown"
    kind, _, rest = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        return rest.rsplit(":", 1)[0].strip("[]")
    return peer


def exchange_or_none(value: str) -> str | None:
    """'' means every exchange (the original's convention); anything else must be a venue zka supports."""
    if not value:
        return None
    if value not in SUPPORTED_VENUES:
        raise BadRequest(f"exchange {value[:32]!r} is not supported; one of: {', '.join(SUPPORTED_VENUES)}",
                         code="validation_error")
    return value


def day_of_ms(value: int, field: str) -> date | None:
    """Epoch milliseconds (UTC) -> its UTC day; 0 means unset (the original's convention)."""
    if value == 0:
        return None
    if not 0 < value <= MAX_MS:
        raise BadRequest(f"{field}: epoch milliseconds from 1 to {MAX_MS}", code="validation_error")
    return datetime.fromtimestamp(value / 1000, tz=UTC).date()


def iso_day(value: str, field: str) -> date | None:
    """'' means unset; otherwise YYYY-MM-DD exactly (as REST's IsoDate)."""
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{field}: a date as YYYY-MM-DD", code="validation_error") from None


def ms_of_day(day: date | None) -> int:
    """A snapshot day as the original's timestamp: 00:00 UTC of that day, epoch milliseconds; 0 for none."""
    if day is None:
        return 0
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def number(value: Any) -> float:
    """A figure for a proto3 double: null (unknown/undefined) travels as 0, named in the `zka-undefined`
    trailer; zka never produces NaN or infinity."""
    return 0.0 if value is None else float(value)


def set_undefined(context: Ctx, reasons: dict[str, str]) -> None:
    """The fields sent as 0 because zka has no value for them (proto3 has no null), with the reason."""
    if reasons:
        context.set_trailing_metadata((("zka-undefined", json.dumps(reasons, sort_keys=True)),))
