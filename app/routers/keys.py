"""Attested DEK handoff, donor side (docs/key-handoff.md). Disabled unless ZKA_KEY_HANDOFF_ENABLED."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from app.core.http_errors import error_response, error_responses
from app.core.rate_limit import client_address, ip_rate_limit
from app.deps import SessionDep, StateDep
from app.errors import NotFound
from app.services.keys.donor import HandoffDonor

router = APIRouter(tags=["keys"])


class Challenge(BaseModel):
    protocol: str
    nonce: str
    expires_in_s: float
    donor_master_key_id: str


class EmptyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _donor(state: StateDep) -> HandoffDonor:
    if state.key_donor is None:
        raise NotFound("key handoff is not enabled on this instance (ZKA_KEY_HANDOFF_ENABLED)", code="handoff_disabled")
    return state.key_donor


@router.post("/keys/handoff/challenge", dependencies=[ip_rate_limit("key_handoff")],
             responses=error_responses(400, 404, 429))
async def handoff_challenge(state: StateDep, _body: Annotated[EmptyBody | None, Body()] = None) -> Challenge:
    """A one-time nonce (32 bytes, short-lived) that the requester's evidence must bind."""
    return Challenge(**_donor(state).challenge())


@router.post("/keys/handoff", dependencies=[ip_rate_limit("key_handoff")],
             responses={200: {"description": "the DEK sealed to the requester's attested ephemeral key, "
                                             "with the donor's evidence binding the response"},
                        **error_responses(400, 403, 404, 429)})
async def handoff(
    request: Request, state: StateDep, session: SessionDep, body: Annotated[dict[str, Any], Body()],
) -> Response:
    """Verify the requester's evidence and seal the DEK to it; every attempt is recorded in key_events.
    403 `handoff_refused` names the failed check."""
    granted, result = await _donor(state).handle(session, body, peer=client_address(request))
    if not granted:
        return error_response(403, "handoff_refused", f"key handoff refused: {result['reason']}")
    return JSONResponse(result)
