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

from app.cli.failures import EXIT_USAGE, CliError
from app.core.labels import LABEL_RULE, is_valid_label

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


def check_request(url: str, exchange: str, label: str, user_uid: str | None, token: str | None) -> None:
    """Everything the user typed on the command line, checked before the server is contacted and before
    any secret is asked for: a typo must not cost a round of typing secrets."""
    from app.cli.attest import split_service_url
    from app.connectors.registry import SUPPORTED_VENUES
    from app.services.auth import USER_UID_FORMATS, is_valid_user_uid

    split_service_url(url)
    if exchange not in SUPPORTED_VENUES:
        raise CliError(f"--exchange {exchange[:32]!r} is not supported; choose one of: {', '.join(SUPPORTED_VENUES)}",
                       exit_code=EXIT_USAGE)
    if not is_valid_label(label):
        raise CliError(f"--label must be {LABEL_RULE}", exit_code=EXIT_USAGE)
    if user_uid is None and token is None:
        raise CliError("give --token (gateway JWT) or, on a development server, --user-uid", exit_code=EXIT_USAGE)
    if user_uid is not None and not is_valid_user_uid(user_uid):
        raise CliError(f"--user-uid must be {USER_UID_FORMATS}", exit_code=EXIT_USAGE)


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
    label: Annotated[str, typer.Option(help=f"your name for this account: {LABEL_RULE}")],
    user_uid: Annotated[str | None, typer.Option(help="your user id, on development servers without gateway "
                                                      "auth: a Clerk id user_<8-64 letters or digits>, a UUID "
                                                      "or a CUID")] = None,
    token: Annotated[str | None, typer.Option(envvar="ZKA_TOKEN", help="gateway JWT (Authorization: Bearer)")]
    = None,
    trust_simulated: Annotated[bool, typer.Option(help="accept development (simulated) attestation")] = False,
    measurement: Annotated[list[str] | None, typer.Option(help="accepted MEASUREMENT (hex); repeatable")] = None,
    exclude_from_report: Annotated[bool, typer.Option(help="keep this account out of reports")] = False,
) -> None:
    """Verify the enclave, then send an API key encrypted to its attested key. Refuses keys that can withdraw."""
    import httpx

    from app.cli.attest import (
        _measurements,
        fetch_document,
        pinned_client,
        print_verdict,
        verify_attestation_document,
    )
    from app.services.crypto import seal_credentials

    check_request(url, exchange, label, user_uid, token)
    nonce = os.urandom(32)
    doc, cert = fetch_document(url, nonce=nonce)
    result = verify_attestation_document(doc, server_cert=cert, nonce=nonce, measurements=_measurements(measurement),
                                         trust_simulated=trust_simulated)
    print_verdict(result, title=f"attestation of {url} (platform {doc.get('platform')})")
    if not result.ok:
        raise CliError("the enclave could not be verified: no credentials were asked for or sent")
    if doc.get("platform") != "sev-snp":
        typer.echo("WARNING: development server (simulated attestation): not protected by AMD hardware", err=True)
    envelope = seal_credentials(doc["keys"]["e2e"]["public_key"], _prompt_secrets(exchange))
    body: dict[str, Any] = {"exchange": exchange, "label": label, "encrypted": envelope,
                            "exclude_from_report": exclude_from_report}
    if user_uid:
        body["user_uid"] = user_uid
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with pinned_client(url.rstrip("/"), cert) as client:
            response = client.post("/api/v1/credentials/connect", json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise CliError(f"the connection to {url} failed while sending ({type(exc).__name__}): nothing was "
                       "stored if the server did not answer; check with GET /api/v1/connections") from None
    if response.status_code != 201:
        error = _error_of(response)
        message = error.get("message", response.text[:300]).splitlines()[0] if response.text else ""
        raise CliError(f"refused ({response.status_code} {error.get('code', '')}): {message}")
    typer.echo(_describe(response.json()))


def _error_of(response: Any) -> dict[str, str]:
    try:
        error = response.json().get("error")
    except ValueError:
        return {}
    return error if isinstance(error, dict) else {}
