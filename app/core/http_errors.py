"""One error format for every 4xx/5xx: {"error": {"code", "message"}}. Nothing internal reaches a client."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.core.logging import get_logger
from app.errors import AppError, TooManyRequests

log = get_logger(__name__)

_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "validation_error", 429: "rate_limited", 503: "unavailable",
}


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = err.get("loc", ())
        if err.get("type") == "extra_forbidden":
            # The name came from the client (it may even be a mislabelled secret): never echo it.
            loc = loc[:-1]
            err = {**err, "msg": "unknown fields are not accepted"}
        where = ".".join(str(p) for p in loc if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    # The rate-limit headers of a budget the request spent before failing (app/core/rate_limit.py).
    headers = dict(getattr(request.state, "rate_limit_headers", {}))
    if isinstance(exc, TooManyRequests):
        headers.update(exc.headers)
    if exc.status_code >= 500:
        log.warning("request failed", error_code=exc.code, status=exc.status_code)
    return error_response(exc.status_code, exc.code, exc.message, headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """Malformed input is a 400 like every other bad input (the issues ask for 400, not FastAPI's 422)."""
    assert isinstance(exc, RequestValidationError)
    return error_response(400, "validation_error", _validation_message(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) and exc.status_code < 500 else code.replace("_", " ")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(exc.status_code, code, message, headers)


_CANDIDATE_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    """The methods the API documents for this path (Starlette names only the first matching route's).

    Literal paths (`/reports/verify`) win over templates (`/reports/{report_id}`), as in OpenAPI."""
    path = request.url.path
    for template, methods in _documented_paths(request.app):
        if template.fullmatch(path):
            return methods
    routes = request.app.router.routes  # paths left out of the schema (docs, /metrics)
    return [m for m in _CANDIDATE_METHODS
            if any(route.matches({**request.scope, "method": m})[0] == Match.FULL for route in routes)]


def _documented_paths(app: FastAPI) -> list[tuple[re.Pattern[str], list[str]]]:
    cached: list[tuple[re.Pattern[str], list[str]]] | None = getattr(app.state, "allow_table", None)
    if cached is None:
        table = []
        for path, item in app.openapi().get("paths", {}).items():
            pattern = re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)))
            table.append(("{" in path, pattern, sorted(m.upper() for m in item)))
        cached = [(pattern, methods) for _, pattern, methods in sorted(table, key=lambda row: row[0])]
        app.state.allow_table = cached
    return cached


async def _integrity_error(_request: Request, _exc: Exception) -> JSONResponse:
    return error_response(409, "conflict", "the request conflicts with existing data")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(IntegrityError, _integrity_error)


def install_openapi_errors(app: FastAPI) -> None:
    """Document what clients really get: our error body, and 400 where FastAPI would say 422."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})
        schema["components"]["schemas"]["ErrorDetail"] = ErrorDetail.model_json_schema()
        schema["components"]["schemas"]["ErrorBody"] = {
            "type": "object", "required": ["error"],
            "properties": {"error": {"$ref": "#/components/schemas/ErrorDetail"}},
        }
        ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.get("responses", {})
                if responses.pop("422", None) is not None:
                    responses["400"] = {"description": "invalid request", **ref}
                if "requestBody" in operation:
                    responses.setdefault("413", {"description": "request body over the size limit", **ref})
                if operation.get("security"):
                    responses.setdefault("401", {"description": "missing or invalid gateway token", **ref})
                    responses.setdefault("403", {"description": "user_uid differs from the token's user", **ref})
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For `responses=` on routes, so the OpenAPI schema documents our error body."""
    return {s: {"model": ErrorBody, "description": _HTTP_CODES.get(s, "error")} for s in statuses}
