"""Connecting exchange accounts (E2E-encrypted credentials only), listing and deleting connections."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.connectors.registry import Venue
from app.core.api_types import Money, UtcDatetime
from app.core.http_errors import error_responses
from app.core.labels import Label
from app.core.rate_limit import UserBudget, ip_rate_limit
from app.core.types import QueryFlag, RowId
from app.deps import CurrentUser, SessionDep, StateDep, SyncContextDep, json_body
from app.errors import BadRequest, ServiceUnavailable
from app.models import ExchangeConnection, Snapshot
from app.services import connections as service
from app.services.crypto.envelope import MAX_CIPHERTEXT_BYTES, MAX_PEM_CHARS
from app.services.snapshots import last_snapshots

router = APIRouter(tags=["connections"])

PLAINTEXT_FIELDS = ("api_key", "api_secret", "apiKey", "apiSecret", "secret", "passphrase", "password")
E2E_HINT = (
    "E2E encryption required: plaintext credentials are not accepted. Fetch GET /api/v1/attestation, verify it, "
    "encrypt {\"api_key\", \"api_secret\", \"passphrase\"?} to its e2eEncryption.publicKey (ECIES: P-256 ECDH, "
    "HKDF-SHA256, AES-256-GCM) and send the result as `encrypted`; `zka credentials connect` does all of this"
)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ephemeralPublicKey: Annotated[str, Field(min_length=1, max_length=MAX_PEM_CHARS)]  # noqa: N815 - wire name
    iv: Annotated[str, Field(min_length=1, max_length=64)]
    ciphertext: Annotated[str, Field(min_length=1, max_length=2 * MAX_CIPHERTEXT_BYTES)]
    tag: Annotated[str, Field(min_length=1, max_length=64)]


class ConnectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_uid: str | None = Field(default=None, max_length=128, description="must match the token's user")
    exchange: Annotated[Venue, Field(description="the venue; `demo` is the built-in demo account (generated "
                                                 "data, development only: a production server refuses it)")]
    label: Label | None = None
    encrypted: Envelope
    exclude_from_report: StrictBool = False  # true/false only: "yes" or 1 is refused


class SnapshotRef(BaseModel):
    day: date
    trigger: str
    taken_at: UtcDatetime
    total_equity: Money


class ConnectionPublic(BaseModel):
    id: int
    exchange: str
    label: str
    status: str
    permissions: list[str]
    can_trade: bool
    is_paper: bool
    exclude_from_report: bool
    created_at: UtcDatetime
    last_snapshot: SnapshotRef | None


class ConnectResponse(BaseModel):
    connection: ConnectionPublic
    initial_snapshot: SnapshotRef
    backfilled_days: int
    message: str


def to_public(conn: ExchangeConnection, last: Snapshot | None) -> ConnectionPublic:
    assert conn.id is not None
    ref = None if last is None else SnapshotRef(day=last.day, trigger=last.trigger, taken_at=last.taken_at,
                                                total_equity=last.total_equity)
    return ConnectionPublic(
        id=conn.id, exchange=conn.exchange, label=conn.label, status="active" if conn.is_active else "deleted",
        permissions=conn.permissions, can_trade="trade" in conn.permissions, is_paper=conn.is_paper,
        exclude_from_report=conn.exclude_from_report, created_at=conn.created_at, last_snapshot=ref,
    )


async def refuse_plaintext(request: Request) -> None:
    """Before validation, so a plaintext submission gets the hint rather than an 'unknown field' error."""
    body = await json_body(request)
    if isinstance(body, dict) and (any(f in body for f in PLAINTEXT_FIELDS) or not body.get("encrypted")):
        raise BadRequest(E2E_HINT, code="plaintext_credentials")


@router.post(
    "/credentials/connect", status_code=201,
    dependencies=[ip_rate_limit("per_address"), Depends(refuse_plaintext)],
    responses=error_responses(400, 401, 403, 409, 429, 502, 503),
)
async def connect(body: ConnectRequest, user: CurrentUser, session: SessionDep, ctx: SyncContextDep,
                  state: StateDep, budget: UserBudget) -> ConnectResponse:
    """Connect an exchange account: decrypt, check live, refuse withdrawal keys, store encrypted, first snapshot."""
    await budget.spend("credentials", user)
    if state.keys is None:
        raise ServiceUnavailable("keys are not loaded", code="keys_unavailable")
    done = await service.connect(
        session, ctx, e2e=state.keys.e2e, user_uid=user.user_uid, exchange=body.exchange,
        label=body.label or f"{body.exchange} account", envelope=body.encrypted.model_dump(),
        exclude_from_report=body.exclude_from_report,
    )
    public = to_public(done.connection, done.snapshot)
    assert public.last_snapshot is not None
    return ConnectResponse(connection=public, initial_snapshot=public.last_snapshot, backfilled_days=done.backfilled,
                           message="connected; snapshots are taken automatically every day at 00:00 UTC")


@router.get("/connections", responses=error_responses(400, 401, 403))
async def list_connections(
    user: CurrentUser, session: SessionDep,
    include_deleted: Annotated[QueryFlag, Query(description="also list deleted connections")] = False,
    user_uid: Annotated[str | None, Query(max_length=128)] = None,  # noqa: ARG001 - checked by CurrentUser
) -> list[ConnectionPublic]:
    """The user's connections with their permissions and last snapshot; never credentials."""
    conns = await service.list_connections(session, user.user_uid, include_deleted=include_deleted)
    latest = await last_snapshots(session, [c.id for c in conns if c.id is not None])
    return [to_public(c, latest.get(c.id or 0)) for c in conns]


@router.delete("/connections/{connection_id}", status_code=204, responses=error_responses(400, 401, 403, 404))
async def delete_connection(
    connection_id: Annotated[RowId, Path(ge=1, le=2**31 - 1)], user: CurrentUser, session: SessionDep,
    ctx: SyncContextDep,
    user_uid: Annotated[str | None, Query(max_length=128)] = None,  # noqa: ARG001 - checked by CurrentUser
) -> Response:
    """Deactivate a connection and wipe its encrypted credentials; its snapshots stay."""
    await service.delete_connection(session, ctx, user_uid=user.user_uid, connection_id=connection_id)
    return Response(status_code=204)
