"""Prometheus exposition for the operator (no user data in any label).

Scraped with `Authorization: Bearer <ZKA_METRICS_API_KEY>` (Prometheus: `authorization: {credentials: …}`
in the scrape config); with no key configured, only loopback clients are served (a sidecar scraper).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from app.core.metrics import Metrics
from app.core.net import is_loopback
from app.deps import StateDep
from app.errors import Unauthorized

router = APIRouter(tags=["operator"])


async def require_metrics_access(
    request: Request, state: StateDep, authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> None:
    expected = state.settings.auth.metrics_api_key
    if expected is not None:
        given = (authorization or "").removeprefix("Bearer ").strip()
        if given and hmac.compare_digest(given.encode(), expected.get_secret_value().encode()):
            return
        raise Unauthorized("metrics need Authorization: Bearer <ZKA_METRICS_API_KEY>")
    if not is_loopback(request.client.host if request.client else None):
        raise Unauthorized("metrics need ZKA_METRICS_API_KEY; without it only loopback clients are served")


@router.get("/metrics", response_class=Response, include_in_schema=False,
            dependencies=[Depends(require_metrics_access)])
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry: Metrics = request.app.state.metrics
    return Response(registry.render(), media_type=CONTENT_TYPE_LATEST)
