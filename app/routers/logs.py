"""Live, redacted logs: recent entries, an SSE stream and a page that shows it."""

from __future__ import annotations

import functools
import hmac
from collections.abc import AsyncIterable, AsyncIterator
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.core.http_errors import error_responses
from app.core.middleware import HTML_CSP
from app.core.net import is_loopback
from app.deps import StateDep
from app.errors import Unauthorized
from app.services.logs import Subscription

router = APIRouter(prefix="/logs", tags=["logs"])


async def require_log_access(
    request: Request,
    state: StateDep,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    api_key: Annotated[str | None, Query(include_in_schema=False, max_length=256)] = None,
) -> None:
    """X-Api-Key header or api_key query must match ZKA_LOG_API_KEY; with no key set, loopback only."""
    expected = state.settings.auth.log_api_key
    given = x_api_key or api_key
    if expected is not None:
        if given and hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            return
        raise Unauthorized("a valid log API key is required (X-Api-Key header or api_key query)")
    if not is_loopback(request.client.host if request.client else None):
        raise Unauthorized("log access needs ZKA_LOG_API_KEY; without it only loopback clients are served")


LogAccess = Depends(require_log_access)


@router.get("", dependencies=[LogAccess], responses=error_responses(401))
async def recent_logs(
    state: StateDep,
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Recent redacted log entries from the ring buffer."""
    return {"entries": [e.to_json() for e in state.hub.recent(after_id=after_id, limit=limit)]}


async def stream_slot(state: StateDep) -> AsyncIterator[Subscription]:
    """A client slot, taken before the response starts (503 at the cap) and given back when it ends."""
    subscription = state.hub.subscribe()
    try:
        yield subscription
    finally:
        state.hub.unsubscribe(subscription)


@router.get("/stream", response_class=EventSourceResponse, dependencies=[LogAccess],
            responses=error_responses(401, 503))
async def stream_logs(
    state: StateDep,
    subscription: Annotated[Subscription, Depends(stream_slot)],
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
) -> AsyncIterable[ServerSentEvent]:
    """SSE: replays after Last-Event-ID, then live entries; `dropped` events tell a slow client what it lost."""
    async for item in state.hub.stream(last_event_id=last_event_id, subscription=subscription):
        if item.kind == "log" and item.entry is not None:
            yield ServerSentEvent(id=str(item.entry.id), event="log", data=item.entry.to_json())
        elif item.kind == "dropped":
            yield ServerSentEvent(event="dropped", data={"dropped": item.dropped})
        else:
            yield ServerSentEvent(comment="ping")


@router.get("/view", response_class=HTMLResponse, dependencies=[LogAccess], responses=error_responses(401))
async def view_logs() -> HTMLResponse:
    """A page that shows the stream live in a browser. Its script is a file of this origin (no inline
    script), and it reads the stream from this origin only."""
    return HTMLResponse(_template("logs.html"), headers={"Content-Security-Policy": LOG_PAGE_CSP})


@router.get("/view.js", include_in_schema=False)
async def view_logs_script() -> Response:
    """The page's script (public: it holds no data), a file so the page needs no inline script."""
    return Response(_template("logs.js"), media_type="text/javascript")


LOG_PAGE_CSP = f"{HTML_CSP}; script-src 'self'; connect-src 'self'"


@functools.cache
def _template(name: str) -> str:
    """Read once (the first view), not on every request inside the event loop."""
    return resources.files("app").joinpath(f"templates/{name}").read_text(encoding="utf-8")
