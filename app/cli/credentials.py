"""zka credentials connect URL — connect an exchange account from a terminal, end to end encrypted.

1. connect to URL, capture the TLS certificate the server presents, ask for fresh evidence (nonce);
2. verify it (AMD chain, signature, policy, measurement, and that REPORT_DATA binds this TLS
   certificate and the E2E key); stop before any secret is typed if anything fails;
3. prompt for the key, secret and passphrase without echo;
4. encrypt them to the attested E2E key and submit over a connection pinned to the attested certificate.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer

credentials = typer.Typer(no_args_is_help=True, help="Connect exchange accounts (credentials encrypted end to end).")

PROMPTS: dict[str, tuple[str, str]] = {
    "ibkr": ("Flex Web Service token", "Flex query id"),
    "hyperliquid": ("wallet address (0x…)", "unused (type anything)"),
    "tradestation": ("client id", "client secret"),
    "alpaca": ("API key id", "API secret key"),
    "demo": ("any key (built-in demo venue, development only)", "any secret"),
}
NEEDS_PASSPHRASE = {"okx", "bitget", "kucoin", "tradestation"}


def register(cli: typer.Typer) -> None:
    cli.add_typer(credentials, name="credentials")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"zka: {message}", err=True)
    raise typer.Exit(code)


def _prompt_secrets(exchange: str) -> dict[str, str]:
    key_name, secret_name = PROMPTS.get(exchange, ("API key", "API secret"))
    secret: dict[str, str] = {
        "api_key": typer.prompt(key_name, hide_input=True),
        "api_secret": typer.prompt(secret_name, hide_input=True),
    }
    hint = "refresh token" if exchange == "tradestation" else "passphrase"
    required = exchange in NEEDS_PASSPHRASE
    passphrase = typer.prompt(f"{hint}{'' if required else ' (Enter if none)'}", hide_input=True,
                              default="" if not required else None, show_default=False)
    if passphrase:
        secret["passphrase"] = passphrase
    return secret


def _describe(body: dict[str, Any]) -> str:
    conn, snap = body.get("connection") or {}, body.get("initial_snapshot") or {}
    lines = [
        f"connected: {conn.get('exchange')} '{conn.get('label')}' (connection {conn.get('id')})",
        f"  permissions: {', '.join(conn.get('permissions') or [])}"
        + ("  (trading allowed: recorded, never used)" if conn.get("can_trade") else ""),
        f"  initial snapshot: day {snap.get('day')}, equity {snap.get('total_equity')} USD",
    ]
    if body.get("backfilled_days"):
        lines.append(f"  backfilled: {body['backfilled_days']} earlier days")
    lines.append(f"  {body.get('message', '')}")
    return "\n".join(lines)


@credentials.command("connect")
def connect(
    url: Annotated[str, typer.Argument(help="https://host:port of the zka enclave")],
    exchange: Annotated[str, typer.Option(help="venue, e.g. binance, okx, ibkr")],
    label: Annotated[str, typer.Option(help="your name for this account (letters, digits, space . _ -)")],
    user_uid: Annotated[str | None, typer.Option(help="your user id (development servers without gateway auth)")]
    = None,
    token: Annotated[str | None, typer.Option(envvar="ZKA_TOKEN", help="gateway JWT (Authorization: Bearer)")]
    = None,
    trust_simulated: Annotated[bool, typer.Option(help="accept development (simulated) attestation")] = False,
    measurement: Annotated[list[str] | None, typer.Option(help="accepted MEASUREMENT (hex); repeatable")] = None,
    exclude_from_report: Annotated[bool, typer.Option(help="keep this account out of reports")] = False,
) -> None:
    """Verify the enclave, then send an API key encrypted to its attested key. Refuses keys that can withdraw."""
    from app.cli.attest import (
        _measurements,
        fetch_document,
        pinned_client,
        print_verdict,
        verify_attestation_document,
    )
    from app.services.crypto import seal_credentials

    if not url.startswith("https://"):
        _fail("URL must be https://host:port", code=2)
    if user_uid is None and token is None:
        _fail("give --token (gateway JWT) or, on a development server, --user-uid", code=2)
    nonce = os.urandom(32)
    doc, cert = fetch_document(url, nonce=nonce)
    result = verify_attestation_document(doc, server_cert=cert, nonce=nonce, measurements=_measurements(measurement),
                                         trust_simulated=trust_simulated)
    print_verdict(result, title=f"attestation of {url} (platform {doc.get('platform')})")
    if not result.ok:
        _fail("the enclave could not be verified: no credentials were asked for or sent")
    if doc.get("platform") != "sev-snp":
        typer.echo("WARNING: development server (simulated attestation): not protected by AMD hardware", err=True)
    envelope = seal_credentials(doc["keys"]["e2e"]["public_key"], _prompt_secrets(exchange))
    body: dict[str, Any] = {"exchange": exchange, "label": label, "encrypted": envelope,
                            "exclude_from_report": exclude_from_report}
    if user_uid:
        body["user_uid"] = user_uid
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with pinned_client(url.rstrip("/"), cert) as client:
        response = client.post("/api/v1/credentials/connect", json=body, headers=headers)
    if response.status_code != 201:
        error = _error_of(response)
        _fail(f"refused ({response.status_code} {error.get('code', '')}): {error.get('message', response.text[:300])}")
    typer.echo(_describe(response.json()))


def _error_of(response: Any) -> dict[str, str]:
    try:
        error = response.json().get("error")
    except ValueError:
        return {}
    return error if isinstance(error, dict) else {}
