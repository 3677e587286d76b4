"""The attested DEK handoff between a donor (the real app) and a requester (the real requester service):
the happy path, then every refusal, each recorded in key_events with its reason and nothing else stored."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from app.attestation.certs import der
from app.attestation.measurement import code_measurement
from app.attestation.providers import Evidence
from app.attestation.report import parse_report
from app.attestation.simulation import SIM_POLICY, SimulatedAuthority
from app.connectors.base import Credentials
from app.models import ExchangeConnection
from app.services.crypto import Dek, decrypt_credentials, encrypt_credentials, master_key_id
from app.services.crypto.keyring import open_or_create_dek
from app.services.crypto.master_key import load_or_create_key_file
from app.services.keys import protocol
from app.services.keys.peer import HandoffRefused
from tests.keys.conftest import DONOR_URL, Pair, operator_key, write_signed_list

DEBUG_POLICY = SIM_POLICY | (1 << 19)


def _evidence(authority: SimulatedAuthority, report_data: bytes, *, measurement: bytes | None = None,
              policy: int = SIM_POLICY) -> Evidence:
    report = authority.build_report(report_data, measurement or code_measurement(), policy=policy)
    return Evidence("simulated", "simulated", report,
                    {"VCEK": der(authority.vcek), "ASK": der(authority.ask), "ARK": der(authority.ark)})


async def _store_credential(pair: Pair) -> int:
    """A credential stored by the donor, under its DEK."""
    assert pair.donor_state.keys is not None
    async with pair.sessionmaker() as session:
        conn = ExchangeConnection(user_uid="user_handoff0001", exchange="binance", label="main", permissions=["read"])
        session.add(conn)
        await session.flush()
        assert conn.id is not None
        conn.credentials = encrypt_credentials(pair.donor_state.keys.dek, conn.id,
                                               Credentials(api_key="handoff-key-0001",
                                                           api_secret="handoff-secret-0001"))
        await session.commit()
        return conn.id


async def _assert_refused_and_nothing_stored(pair: Pair, before: int, *, side: str, reason: str) -> None:
    assert await pair.wrappings() == before
    events = await pair.events()
    refused = [e for e in events if e.outcome == "refused" and e.action == f"handoff_{side}"]
    assert refused, [(e.action, e.outcome, e.reason) for e in events]
    assert reason in refused[-1].reason, refused[-1].reason
    assert not [e for e in events if e.outcome == "received" or (side == "donor" and e.outcome == "granted")]


async def test_requester_obtains_the_dek_and_opens_the_donors_credentials(pair: Pair) -> None:
    connection_id = await _store_credential(pair)
    requester = pair.requester()
    before = await pair.wrappings()
    dek = await requester.obtain(DONOR_URL, pair.donor)
    assert pair.donor_state.keys is not None and dek.dek_id == pair.donor_state.keys.dek.dek_id
    assert await pair.wrappings() == before + 1
    # The requester now opens its own wrapping with its own master key, and the donor's credential with it.
    async with pair.sessionmaker() as session:
        opened = await open_or_create_dek(session, requester.master_key, wrapping="file")
        row = await session.get(ExchangeConnection, connection_id)
        assert row is not None and row.credentials is not None
        assert decrypt_credentials(opened, connection_id, row.credentials).api_key == "handoff-key-0001"
    events = await pair.events()
    assert [(e.action, e.outcome) for e in events] == [("handoff_donor", "granted"), ("handoff_requester", "received")]
    donor_event, requester_event = events
    assert donor_event.peer_master_key_id == requester.master_key_id
    assert requester_event.peer_master_key_id == pair.donor_state.keys.master_key_id
    assert donor_event.peer_chip_id != requester_event.peer_chip_id  # two distinct simulated chips
    assert donor_event.peer_measurement == code_measurement().hex()
    # A second attempt has nothing to do and says so.
    with pytest.raises(HandoffRefused, match="already has a wrapping"):
        await requester.obtain(DONOR_URL, pair.donor)


@pytest.mark.parametrize("donor_keys", [{"key_dev_measurements": "00" * 48}])
async def test_measurement_not_on_the_donors_allow_list(pair: Pair) -> None:
    before = await pair.wrappings()
    with pytest.raises(HandoffRefused, match="measurement"):
        await pair.requester().obtain(DONOR_URL, pair.donor)
    await _assert_refused_and_nothing_stored(pair, before, side="donor", reason="is NOT on the allow-list")
    await _assert_refused_and_nothing_stored(pair, before, side="requester", reason="donor refused (403)")


@pytest.mark.parametrize("donor_keys", [{"key_handoff_min_tcb": {"snpSPL": 9}}])
async def test_tcb_below_the_minimum(pair: Pair) -> None:
    before = await pair.wrappings()
    with pytest.raises(HandoffRefused, match="min_tcb"):
        await pair.requester().obtain(DONOR_URL, pair.donor)
    await _assert_refused_and_nothing_stored(pair, before, side="donor", reason="min_tcb: below minimum")


OPERATOR, OPERATOR_PUBLIC = operator_key()


def _signed_only(tmp_path: Path) -> dict[str, Any]:
    signed = write_signed_list(tmp_path / "allowlist.json", OPERATOR, [code_measurement().hex()])
    return {"key_dev_measurements": "", "key_operator_public_key": OPERATOR_PUBLIC, "key_allowlist_file": signed}


@pytest.mark.parametrize("donor_keys", [_signed_only], indirect=True)
async def test_operator_signed_list_allows_and_a_tampered_one_refuses(pair: Pair) -> None:
    # The donor reads the signed file at every attempt: a valid list allows, a tampered one refuses.
    signed_list = pair.donor_settings.keys.key_allowlist_file
    assert signed_list is not None
    signed = json.loads(signed_list.read_text())
    signed["allowlist"]["entries"].append({"measurement": "11" * 48})  # e.g. the host adds its own image
    signed_list.write_text(json.dumps(signed))
    before = await pair.wrappings()
    with pytest.raises(HandoffRefused, match="signature invalid"):
        await pair.requester().obtain(DONOR_URL, pair.donor)
    await _assert_refused_and_nothing_stored(pair, before, side="donor", reason="allowlist: operator-signed")
    # Re-signed by the operator: the same requester is served.
    write_signed_list(signed_list, OPERATOR, [code_measurement().hex()])
    await pair.requester().obtain(DONOR_URL, pair.donor)
    assert await pair.wrappings() == before + 1


class ManualRequester:
    """Builds requests by hand (the attacker's view): chosen policy, binding, nonce."""

    def __init__(self, pair: Pair, tmp_path: Path) -> None:
        self.pair = pair
        self.authority = SimulatedAuthority.load_or_issue(pair.root, tmp_path / "manual-chip")
        self.master_key_id = secrets.token_hex(8)

    async def nonce(self) -> bytes:
        response = await self.pair.donor.post("/api/v1/keys/handoff/challenge", json={})
        assert response.status_code == 200, response.text
        return bytes.fromhex(response.json()["nonce"])

    def body(self, nonce: bytes, *, policy: int = SIM_POLICY, bind_other_key: bool = False) -> dict[str, Any]:
        spki = protocol.spki_der(ec.generate_private_key(ec.SECP256R1()).public_key())
        bound = protocol.spki_der(ec.generate_private_key(ec.SECP256R1()).public_key()) if bind_other_key else spki
        evidence = _evidence(self.authority, protocol.request_report_data(bound, nonce, self.master_key_id),
                             policy=policy)
        return {"protocol": protocol.PROTOCOL, "nonce": nonce.hex(), "ephemeral_public_key": protocol.b64(spki),
                "requester_master_key_id": self.master_key_id, "evidence": protocol.evidence_to_json(evidence)}

    async def send(self, body: dict[str, Any]) -> httpx.Response:
        return await self.pair.donor.post("/api/v1/keys/handoff", json=body)


async def _refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "handoff_refused" and reason in error["message"], error
    assert "ciphertext" not in response.json()


async def test_debug_policy_is_refused(pair: Pair, tmp_path: Path) -> None:
    manual, before = ManualRequester(pair, tmp_path), await pair.wrappings()
    await _refused(await manual.send(manual.body(await manual.nonce(), policy=DEBUG_POLICY)), "debug")
    await _assert_refused_and_nothing_stored(pair, before, side="donor", reason="debug: guest policy allows debugging")


async def test_report_data_must_bind_the_ephemeral_key(pair: Pair, tmp_path: Path) -> None:
    manual, before = ManualRequester(pair, tmp_path), await pair.wrappings()
    await _refused(await manual.send(manual.body(await manual.nonce(), bind_other_key=True)), "report_data")
    await _assert_refused_and_nothing_stored(pair, before, side="donor", reason="report_data")


async def test_replayed_nonce_is_refused(pair: Pair, tmp_path: Path) -> None:
    manual = ManualRequester(pair, tmp_path)
    body = manual.body(await manual.nonce())
    first = await manual.send(body)
    assert first.status_code == 200, first.text  # a genuine request (sealed to a key nobody stores)
    assert pair.donor_state.keys is not None
    dek = pair.donor_state.keys.dek.key
    assert dek.hex() not in first.text and base64.b64encode(dek).decode() not in first.text  # sealed only
    await _refused(await manual.send(body), "nonce: unknown or already used (replay)")
    unknown = manual.body(os.urandom(32))
    await _refused(await manual.send(unknown), "nonce: unknown")
    reasons = [e.reason for e in await pair.events() if e.outcome == "refused"]
    assert reasons == ["nonce: unknown or already used (replay)"] * 2


async def test_expired_nonce_is_refused(pair: Pair, tmp_path: Path) -> None:
    assert pair.donor_state.key_donor is not None
    pair.donor_state.key_donor.nonces.ttl_s = 0.05
    manual, before = ManualRequester(pair, tmp_path), await pair.wrappings()
    nonce = await manual.nonce()
    await asyncio.sleep(0.1)
    await _refused(await manual.send(manual.body(nonce)), "nonce: expired")
    await _assert_refused_and_nothing_stored(pair, before, side="donor", reason="nonce: expired")


async def test_malformed_request_is_refused_and_recorded(pair: Pair) -> None:
    response = await pair.donor.post("/api/v1/keys/handoff", json={"protocol": protocol.PROTOCOL, "extra": 1})
    await _refused(response, "request:")
    assert [e.outcome for e in await pair.events()] == ["refused"]


class FakeDonor:
    """A donor the attacker runs: it seals a DEK of its choosing to the requester's key (correct protocol),
    with evidence from a simulated chip under the same root (a genuine chip running other code, say)."""

    def __init__(self, pair: Pair, tmp_path: Path, *, measurement: bytes | None = None, bind: bool = True) -> None:
        self.authority = SimulatedAuthority.load_or_issue(pair.root, tmp_path / "fake-donor-chip")
        self.measurement, self.bind = measurement, bind
        self.nonce = os.urandom(32)
        self.master_key_id = secrets.token_hex(8)
        assert pair.donor_state.keys is not None
        self.dek_id = pair.donor_state.keys.dek.dek_id
        self.planted = os.urandom(32)

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/challenge"):
            return httpx.Response(200, json={"protocol": protocol.PROTOCOL, "nonce": self.nonce.hex(),
                                             "expires_in_s": 60, "donor_master_key_id": self.master_key_id})
        body = json.loads(request.content)
        spki = protocol.unb64(body["ephemeral_public_key"], "k")
        requester_chip = parse_report(protocol.evidence_from_json(body["evidence"]).report).chip_id
        aad = protocol.aad(self.dek_id, self.nonce, requester_chip, self.authority.chip_id)
        sealed = protocol.seal_dek(self.planted, requester_spki=spki, nonce=self.nonce, aad_bytes=aad)
        binding = protocol.response_report_data(
            requester_spki=spki, donor_spki=sealed.donor_spki, nonce=self.nonce, iv=sealed.iv,
            ciphertext=sealed.ciphertext, aad_bytes=aad, donor_master_key_id=self.master_key_id)
        evidence = _evidence(self.authority, binding if self.bind else bytes(64), measurement=self.measurement)
        return httpx.Response(200, json={
            "protocol": protocol.PROTOCOL, "dek_id": self.dek_id, "donor_master_key_id": self.master_key_id,
            "ephemeral_public_key": protocol.b64(sealed.donor_spki), "iv": sealed.iv.hex(),
            "ciphertext": protocol.b64(sealed.ciphertext), "evidence": protocol.evidence_to_json(evidence)})


@pytest.mark.parametrize(("fake", "reason"), [
    ({"measurement": b"\x22" * 48}, "donor evidence: measurement"),
    ({"bind": False}, "donor evidence: report_data"),
    ({}, "check_value: the received DEK does not match"),  # attested, allowed, but a planted DEK
])
async def test_requester_refuses_a_dek_it_cannot_trust(
    pair: Pair, tmp_path: Path, fake: dict[str, Any], reason: str
) -> None:
    donor = FakeDonor(pair, tmp_path, **fake)
    before = await pair.wrappings()
    async with httpx.AsyncClient(transport=httpx.MockTransport(donor.handler)) as client:
        with pytest.raises(HandoffRefused, match=reason.split(": ", 1)[0]):
            await pair.requester().obtain("https://fake-donor", client)
    await _assert_refused_and_nothing_stored(pair, before, side="requester", reason=reason)


async def test_a_dek_that_does_not_open_the_stored_credentials_is_refused(pair: Pair, tmp_path: Path) -> None:
    """The check value is not the only check: a stored credential must decrypt too."""
    connection_id = await _store_credential(pair)
    assert pair.donor_state.keys is not None
    async with pair.sessionmaker() as session:  # a credential under some other key (e.g. restored from elsewhere)
        row = await session.get(ExchangeConnection, connection_id)
        assert row is not None
        row.credentials = encrypt_credentials(Dek("other", os.urandom(32)), connection_id,
                                              Credentials(api_key="k", api_secret="s"))
        await session.commit()
    before = await pair.wrappings()
    with pytest.raises(HandoffRefused, match="does not open the stored credentials"):
        await pair.requester().obtain(DONOR_URL, pair.donor)
    await _assert_refused_and_nothing_stored(pair, before, side="requester", reason="does not open")


async def test_readiness_shows_the_donor(pair: Pair) -> None:
    assert (await pair.donor.get("/ready")).json()["checks"]["key_handoff"] == {"donor": True, "peers": 0}


async def test_handoff_is_disabled_unless_configured(database_url: str, tmp_path: Path, root: Path) -> None:
    from tests.keys.conftest import instance_settings
    from tests.support.asgi import asgi_client

    settings = instance_settings(database_url, tmp_path / "plain", root)
    async with asgi_client(settings) as client:
        assert (await client.get("/ready")).json()["checks"]["key_handoff"] == {"donor": False, "peers": 0}
        for path in ("/api/v1/keys/handoff/challenge", "/api/v1/keys/handoff"):
            response = await client.post(path, json={})
            assert response.status_code == 404 and response.json()["error"]["code"] == "handoff_disabled"


async def test_a_donor_refuses_to_start_with_an_empty_allow_list(database_url: str, tmp_path: Path, root: Path) -> None:
    from app.errors import StartupRefused
    from tests.keys.conftest import instance_settings
    from tests.support.asgi import asgi_client

    settings = instance_settings(database_url, tmp_path / "empty", root, key_handoff_enabled=True,
                                 key_dev_measurements="")
    with pytest.raises(StartupRefused, match="empty allow-list"):
        async with asgi_client(settings):
            pass


def test_the_check_value_identifies_the_dek(tmp_path: Path) -> None:
    from app.services.crypto.check_value import check_value_matches, make_check_value

    dek = Dek("abc", os.urandom(32))
    value = make_check_value(dek)
    assert check_value_matches(dek, value)
    assert not check_value_matches(Dek("abc", os.urandom(32)), value)
    assert not check_value_matches(Dek("abd", dek.key), value)  # bound to the DEK id
    assert dek.key not in value and dek.key.hex().encode() not in value
    key = load_or_create_key_file(tmp_path / "k")
    assert len(master_key_id(key)) == 16


async def test_start_up_waits_for_donors_that_do_not_answer_yet_then_gives_up(pair: Pair) -> None:
    from app.services.keys.requester import obtain_from_peers
    from tests.support.live_server import free_port

    dead = f"https://127.0.0.1:{free_port()}"
    before = await pair.wrappings()
    assert await obtain_from_peers(pair.requester(), [dead], wait_s=5.0, first_delay_s=0.2) is None
    refused = [e for e in await pair.events() if e.outcome == "refused"]
    assert len(refused) >= 2 and all(e.reason.startswith("donor unreachable") and e.peer == dead for e in refused)
    assert await pair.wrappings() == before
