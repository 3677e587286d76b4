"""Signed reports: create (user), fetch by id (anyone holding the unguessable id), verify (anyone)."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from app.core.http_errors import error_responses
from app.core.rate_limit import UserBudget, ip_rate_limit
from app.core.types import IsoDate, QueryFlag
from app.deps import CurrentUser, SessionDep, StateDep
from app.errors import BadRequest, ServiceUnavailable
from app.services.benchmark_cache import benchmark_cache_for
from app.services.benchmarks import Benchmark
from app.services.legacy_import.reports import legacy_reports
from app.services.report_html import render_report_html
from app.services.report_verify import verify_report
from app.services.reports import (
    ReportSpec,
    Signer,
    create_report,
    get_report,
    json_safe_evidence,
    report_document,
)
from app.state import AppState

router = APIRouter(prefix="/reports", tags=["reports"])

# A 5-year report is ~0.4 MB of JSON; verification must accept it whatever the global body limit.
VERIFY_MAX_BODY = 4 * 1024 * 1024


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_uid: str | None = Field(default=None, max_length=128, description="if given, must be the token's user")
    start_date: IsoDate | None = Field(default=None, description="first day (UTC); default: first snapshot")
    end_date: IsoDate | None = Field(default=None, description="last day (UTC), inclusive; default: last snapshot")
    benchmark: Benchmark | None = None
    include_risk_metrics: StrictBool = True  # true/false only: "yes" or 1 is refused
    include_drawdown: StrictBool = True
    base_currency: str = Field(default="USD", max_length=8)
    report_name: str | None = Field(default=None, max_length=200, description="display only, not signed")
    manager: str | None = Field(default=None, max_length=120, description="display only, not signed")
    firm: str | None = Field(default=None, max_length=120, description="display only, not signed")


def _signer(state: AppState) -> Signer:
    if state.keys is None:
        raise ServiceUnavailable("the report-signing key is not loaded", code="keys_unavailable")
    return Signer(state.keys.signing_key, state.keys.signing_public_key_b64)


def _evidence(state: AppState) -> dict[str, Any] | None:
    if state.attestation is None:
        return None
    cached = state.extras.get("report_evidence")
    if cached is None:
        cached = state.extras["report_evidence"] = json_safe_evidence(state.attestation.boot_document)
    return dict(cached)


@router.post("", status_code=201, dependencies=[ip_rate_limit("per_address")],
             responses={200: {"description": "the stored report for the same request"},
                        **error_responses(400, 401, 404, 422, 429, 503)})
async def create(body: ReportCreate, user: CurrentUser, session: SessionDep, state: StateDep,
                 budget: UserBudget) -> Response:
    """Sign a performance report over the caller's snapshots (the same request returns the stored one)."""
    await budget.spend("reports", user)
    spec = ReportSpec(**body.model_dump(exclude={"user_uid"}))
    row, created = await create_report(session, user_uid=user.user_uid, spec=spec, signer=_signer(state),
                                       benchmarks=benchmark_cache_for(state), evidence=_evidence(state))
    state.metrics.reports.labels("created" if created else "reused").inc()
    response = await _json_response(report_document(row), status_code=201 if created else 200)
    response.headers.update(budget.headers)
    return response


Measurement = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{96}$")]


@router.post("/verify", dependencies=[ip_rate_limit("verify")], max_body_size=VERIFY_MAX_BODY,
             responses=error_responses(400, 413, 422, 429))
async def verify(
    state: StateDep,
    report: Annotated[dict[str, Any], Body(description="a report as returned by GET/POST /reports")],
    measurement: Annotated[list[Measurement] | None, Query(description="allowed measurements (48 bytes, hex); "
                                                           "default: ZKA_EXPECTED_MEASUREMENTS")] = None,
    trust_simulated: Annotated[QueryFlag, Query(description="accept simulated (development) evidence")] = False,
) -> dict[str, Any]:
    """Verify hash, signature and embedded hardware evidence; the verdict names each check."""
    try:
        allowed = [bytes.fromhex(m) for m in (measurement or state.settings.attestation.expected_measurements)]
    except ValueError as exc:  # a malformed ZKA_EXPECTED_MEASUREMENTS; query values are checked by the schema
        raise BadRequest("measurement must be hex", code="invalid_measurement") from exc
    result = await asyncio.to_thread(verify_report, report, measurements=allowed, trust_simulated=trust_simulated)
    return {"valid": result.ok, **result.to_dict()}


@router.get("/legacy", responses=error_responses(401))
async def legacy(user: CurrentUser, session: SessionDep) -> Response:
    """The caller's reports signed by the TypeScript original (imported by `zka import-legacy`), each exactly as
    it was signed (legacy form: POST /reports/verify checks its hash and signature; it has no hardware
    evidence). Only to their owner: the original's report ids are not unguessable capabilities."""
    return await _json_response({"reports": await legacy_reports(session, user.user_uid)})


@router.get("/{report_id}", responses={200: {"content": {"application/json": {}, "text/html": {}}},
                                       **error_responses(404)})
async def read(report_id: Annotated[str, Path(max_length=64)], request: Request, session: SessionDep) -> Any:
    """The signed report as JSON, or as an HTML page for browsers (Accept: text/html)."""
    document = report_document(await get_report(session, report_id))
    if _wants_html(request.headers.get("accept", "")):
        return HTMLResponse(await asyncio.to_thread(render_report_html, document))
    return await _json_response(document)


async def _json_response(document: dict[str, Any], *, status_code: int = 200) -> Response:
    """A five-year report is ~100 kB of JSON (~12 ms to encode): off the event loop."""
    body = await asyncio.to_thread(lambda: json.dumps(jsonable_encoder(document), separators=(",", ":")).encode())
    return Response(body, status_code=status_code, media_type="application/json")


def _wants_html(accept: str) -> bool:
    html, js = accept.find("text/html"), accept.find("application/json")
    return html >= 0 and (js < 0 or html < js)
