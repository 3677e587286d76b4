"""Requester side of the handoff: an instance that can open no wrapping of the active DEK obtains it from
a running donor, verifies the donor's evidence and the DEK's check value, then stores its own wrapping.

TLS to the donor is not relied upon (the donor's certificate is self-signed): the DEK is sealed to an
ephemeral key that only this enclave holds, and the donor's evidence binds the sealed response, so the
network, the host and a fake donor learn nothing and can plant nothing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlmodel import col

from app.attestation.providers import AttestationError
from app.attestation.report import AttestationReport, ReportError, parse_report
from app.db import SessionMaker, unit_of_work
from app.models import ExchangeConnection
from app.services.crypto.check_value import check_value_matches
from app.services.crypto.credentials_cipher import decrypt_credentials
from app.services.crypto.dek import Dek
from app.services.crypto.errors import CredentialDecryptError
from app.services.crypto.keyring import active_dek_rows, add_wrapping
from app.services.crypto.master_key import master_key_id
from app.services.keys import protocol
from app.services.keys.allowlist import AllowList, AllowListError
from app.services.keys.events import record
from app.services.keys.peer import HandoffContext, HandoffRefused

ACTION = "handoff_requester"
HANDOFF_PATH = "/api/v1/keys/handoff"
PEER_WAIT_S = 60.0  # how long a starting instance waits for donors that do not answer yet
_RESPONSE_FIELDS = {"protocol", "dek_id", "donor_master_key_id", "ephemeral_public_key", "iv", "ciphertext",
                    "evidence"}


@dataclass
class Requester:
    context: HandoffContext
    sessionmaker: SessionMaker
    master_key: Any  # bytes; Any keeps it out of dataclass reprs' type noise
    wrapping: str

    @property
    def master_key_id(self) -> str:
        return master_key_id(self.master_key)

    async def obtain(self, peer: str, client: httpx.AsyncClient) -> Dek:
        """Obtain the DEK from `peer` and store this instance's wrapping; every outcome is in `key_events`.
        Raises HandoffRefused (recorded) when anything does not verify: nothing else is stored then."""
        donor_report: AttestationReport | None = None
        donor_id: str | None = None
        dek_id: str | None = None
        try:
            async with unit_of_work(self.sessionmaker) as session:
                rows = await active_dek_rows(session)
            if not rows:
                raise HandoffRefused("keyring: no DEK in the database yet; nothing to hand over")
            dek_id = rows[0].dek_id
            if any(row.master_key_id == self.master_key_id for row in rows):
                raise HandoffRefused("keyring: this instance already has a wrapping of the active DEK")
            dek, donor_report, donor_id = await self._exchange(peer, client, dek_id)
            await self._check(dek, rows)
        except HandoffRefused as exc:
            async with unit_of_work(self.sessionmaker) as session:
                record(session, action=ACTION, outcome="refused", reason=exc.reason, peer=peer,
                       instance_master_key_id=self.master_key_id, peer_master_key_id=donor_id,
                       peer_report=exc.peer_report or donor_report, dek_id=dek_id)
            raise
        async with unit_of_work(self.sessionmaker) as session:
            await add_wrapping(session, dek, self.master_key, self.wrapping)
            record(session, action=ACTION, outcome="received",
                   reason="donor evidence and check value verified; wrapping stored for this master key",
                   peer=peer, instance_master_key_id=self.master_key_id, peer_master_key_id=donor_id,
                   peer_report=donor_report, dek_id=dek.dek_id)
        return dek

    async def _exchange(self, peer: str, client: httpx.AsyncClient, dek_id: str) -> tuple[Dek, AttestationReport, str]:
        try:
            allowlist = await self.context.allowlist()
        except AllowListError as exc:
            raise HandoffRefused(f"allowlist: {exc}") from None
        if allowlist.empty:
            raise HandoffRefused("allowlist: empty; no donor can be verified")
        challenge = await _post(client, f"{peer}{HANDOFF_PATH}/challenge", {})
        try:
            nonce = protocol.hex_field(challenge.get("nonce"), "nonce", protocol.NONCE_LEN)
        except protocol.ProtocolError as exc:
            raise HandoffRefused(f"challenge: {exc}") from None
        ephemeral = ec.generate_private_key(ec.SECP256R1())
        spki = protocol.spki_der(ephemeral.public_key())
        try:
            own = await self.context.provider.get_evidence(
                protocol.request_report_data(spki, nonce, self.master_key_id))
            own_chip = parse_report(own.report).chip_id
        except (AttestationError, ReportError) as exc:
            raise HandoffRefused(f"own evidence unavailable: {exc}") from None
        body = {"protocol": protocol.PROTOCOL, "nonce": nonce.hex(), "ephemeral_public_key": protocol.b64(spki),
                "requester_master_key_id": self.master_key_id, "evidence": protocol.evidence_to_json(own)}
        response = await _post(client, f"{peer}{HANDOFF_PATH}", body)
        return await self._open(response, ephemeral, spki, nonce, own_chip, dek_id, allowlist)

    async def _open(self, response: dict[str, Any], ephemeral: ec.EllipticCurvePrivateKey, spki: bytes,
                    nonce: bytes, own_chip: bytes, dek_id: str, allowlist: AllowList,
                    ) -> tuple[Dek, AttestationReport, str]:
        try:
            if set(response) != _RESPONSE_FIELDS or response["protocol"] != protocol.PROTOCOL:
                raise protocol.ProtocolError("response is not a zka-key-handoff-v1 grant")
            donor_id = str(response["donor_master_key_id"])[:16]
            if response["dek_id"] != dek_id:
                raise HandoffRefused(f"response: donor offers DEK {str(response['dek_id'])[:32]}, "
                                     f"the active DEK is {dek_id}")
            sealed = protocol.Sealed(
                donor_spki=protocol.unb64(response["ephemeral_public_key"], "ephemeral_public_key", max_len=512),
                iv=protocol.hex_field(response["iv"], "iv", protocol.IV_LEN),
                ciphertext=protocol.unb64(response["ciphertext"], "ciphertext", max_len=256))
            evidence = protocol.evidence_from_json(response["evidence"])
            donor_chip = parse_report(evidence.report).chip_id
        except (protocol.ProtocolError, ReportError, KeyError) as exc:
            raise HandoffRefused(f"response: {exc}") from None
        aad = protocol.aad(dek_id, nonce, own_chip, donor_chip)
        expected = protocol.response_report_data(
            requester_spki=spki, donor_spki=sealed.donor_spki, nonce=nonce, iv=sealed.iv,
            ciphertext=sealed.ciphertext, aad_bytes=aad, donor_master_key_id=donor_id)
        try:
            report = await self.context.verify(evidence, expected_report_data=expected, allowlist=allowlist)
        except HandoffRefused as exc:
            raise HandoffRefused(f"donor evidence: {exc.reason}", peer_report=exc.peer_report) from None
        try:
            key = protocol.open_dek(ephemeral, sealed, nonce=nonce, aad_bytes=aad)
        except protocol.ProtocolError as exc:
            raise HandoffRefused(f"response: {exc}", peer_report=report) from None
        return Dek(dek_id, key), report, donor_id

    async def _check(self, dek: Dek, rows: list[Any]) -> None:
        """The DEK must match the check value stored beside it and open a stored credential, if any."""
        values = [row.check_value for row in rows if row.check_value is not None]
        if not values:
            raise HandoffRefused("check_value: none stored for the active DEK (start the donor once on this "
                                 "release so it writes one)")
        if not all(check_value_matches(dek, value) for value in values):
            raise HandoffRefused("check_value: the received DEK does not match the check value stored beside it")
        async with unit_of_work(self.sessionmaker) as session:
            stmt = (select(ExchangeConnection).where(col(ExchangeConnection.credentials).is_not(None))
                    .order_by(col(ExchangeConnection.id)).limit(1))
            connection = (await session.scalars(stmt)).first()
        if connection is not None and connection.id is not None and connection.credentials is not None:
            try:
                decrypt_credentials(dek, connection.id, connection.credentials)
            except CredentialDecryptError:
                raise HandoffRefused("check_value: the received DEK does not open the stored credentials") from None


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        response = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        raise HandoffRefused(f"donor unreachable: {type(exc).__name__}", unreachable=True) from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code != 200 or not isinstance(data, dict):
        message = data.get("error", {}).get("message") if isinstance(data, dict) else None
        raise HandoffRefused(f"donor refused ({response.status_code}): {message or 'no reason given'}")
    return data


def peer_client() -> httpx.AsyncClient:
    # verify=False on purpose: the donor's certificate is self-signed, and the protocol's security comes from
    # the attested ephemeral keys and evidence, not from TLS (see the module docstring).
    return httpx.AsyncClient(verify=False, timeout=30.0)  # noqa: S501


async def obtain_from_peers(
    requester: Requester, peers: list[str], *, wait_s: float = PEER_WAIT_S, first_delay_s: float = 1.0
) -> Dek | None:
    """Start-up: try each configured donor in turn; the first that hands over the DEK wins. Donors that do
    not answer yet (instances starting together) are tried again with growing delays for up to `wait_s`;
    a donor that answered and refused is not asked again."""
    deadline = time.monotonic() + wait_s
    delay, pending = first_delay_s, list(peers)
    async with peer_client() as client:
        while pending:
            for peer in list(pending):
                try:
                    return await requester.obtain(peer, client)
                except HandoffRefused as exc:  # recorded and logged; try the next donor
                    if not exc.unreachable:
                        pending.remove(peer)
            if not pending or time.monotonic() + delay > deadline:
                return None
            await asyncio.sleep(delay)
            delay *= 2
    return None
