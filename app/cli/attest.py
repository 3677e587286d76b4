"""zka attest verify URL|FILE, zka attest verify-report REPORT.bin — verdict tables, non-zero on failure."""

from __future__ import annotations

import json
import os
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from app.cli.failures import EXIT_USAGE, CliError, first_line

attest = typer.Typer(no_args_is_help=True, help="Verify SEV-SNP attestation evidence.")


def register(cli: typer.Typer) -> None:
    cli.add_typer(attest, name="attest")


def print_verdict(result: Any, *, title: str) -> None:
    """One line per check; the last line names the verdict (and the first failed check)."""
    typer.echo(title)
    width = max((len(c.name) for c in result.checks), default=10)
    for check in result.checks:
        mark = "skip" if check.skipped else ("ok" if check.ok else "FAIL")
        typer.echo(f"  {check.name.ljust(width)}  {mark:<4}  {check.detail}")
    if result.ok:
        typer.echo("VERDICT: PASS")
    else:
        typer.echo(f"VERDICT: FAIL ({result.failed})")


def fetch_server_certificate(host: str, port: int, timeout: float = 10.0) -> bytes:
    """The certificate the server presents. Not CA-verified: trust comes from the attestation binding."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw, \
                context.wrap_socket(raw, server_hostname=host) as tls:
            der = tls.getpeercert(binary_form=True)
    except ssl.SSLError as exc:
        raise CliError(f"{host}:{port} does not speak TLS ({exc.reason or 'handshake failed'}): "
                       "give the https:// address of a zka service") from None
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or first_line(str(exc)) or type(exc).__name__
        raise CliError(f"cannot connect to {host}:{port} ({reason}): check the URL and that zka runs there") \
            from None
    if not der:
        raise CliError(f"{host}:{port} presented no TLS certificate: give the address of a zka service")
    return der


def pinned_client(base_url: str, cert_der: bytes, timeout: float = 30.0) -> Any:
    """An HTTPS client that accepts exactly this certificate and nothing else."""
    import httpx

    pem = ssl.DER_cert_to_PEM_cert(cert_der)
    context = ssl.create_default_context(cadata=pem)
    context.check_hostname = False  # the pin is the certificate itself, not a name
    return httpx.Client(base_url=base_url, verify=context, timeout=timeout)


def split_service_url(url: str) -> tuple[str, int]:
    """https://host[:port] -> (host, port), or a usage error naming the rule."""
    try:
        parts = urlsplit(url)
        port = parts.port or 443
    except ValueError:
        parts, port = None, 0
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise CliError("the URL must be https://host:port (a zka service)", exit_code=EXIT_USAGE)
    return parts.hostname, port


def fetch_document(url: str, *, nonce: bytes | None) -> tuple[dict[str, Any], bytes]:
    import httpx

    host, port = split_service_url(url)
    cert = fetch_server_certificate(host, port)
    try:
        with pinned_client(url.rstrip("/"), cert) as client:
            if nonce is None:
                response = client.get("/api/v1/attestation")
            else:
                response = client.post("/api/v1/attestation", json={"nonce": nonce.hex()})
    except httpx.HTTPError as exc:
        raise CliError(f"{host}:{port} failed while sending its attestation ({type(exc).__name__}): "
                       "try again, or check that zka runs there") from None
    if response.status_code != 200:
        raise CliError(f"{host}:{port} answered {response.status_code} to GET /api/v1/attestation: "
                       "is it a zka service?")
    try:
        doc = response.json()
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise CliError(f"{host}:{port} did not answer with an attestation document (JSON object): "
                       "is it a zka service?")
    return doc, cert


def read_document(path: Path) -> dict[str, Any]:
    """A saved attestation document, or one line saying why the file cannot be one."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or type(exc).__name__})") \
            from None
    except ValueError:
        raise CliError(f"{path} is not JSON: give a document saved by zka attest verify --save") from None
    if not isinstance(doc, dict):
        raise CliError(f"{path} is not an attestation document (a JSON object)")
    return doc


def _measurements(values: list[str] | None) -> list[bytes]:
    out = []
    for value in values or []:
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise CliError(f"--measurement {value[:20]}… is not hex: a measurement is 96 hex characters",
                           exit_code=EXIT_USAGE) from None
        if len(raw) != 48:
            raise CliError("--measurement: a measurement is 48 bytes (96 hex characters)", exit_code=EXIT_USAGE)
        out.append(raw)
    return out


def verify_attestation_document(
    doc: dict[str, Any], *, server_cert: bytes | None, nonce: bytes | None, measurements: list[bytes],
    trust_simulated: bool,
) -> Any:
    from app.attestation.document import verify_document

    ark = None
    if trust_simulated and doc.get("platform") == "simulated":
        chain = (doc.get("certificates") or {}).get("chain") or []
        ark = chain[-1] if chain else None  # trusting simulation means trusting the document's own root
    return verify_document(doc, server_cert_der=server_cert, nonce=nonce, measurements=measurements,
                           now=datetime.now(UTC), trust_simulated=trust_simulated, simulated_ark_pem=ark)


@attest.command("verify")
def verify(
    target: Annotated[str, typer.Argument(help="https://host:port of a running zka, or a saved JSON file")],
    nonce: Annotated[bool, typer.Option("--nonce", help="ask for fresh evidence bound to a random nonce")] = False,
    measurement: Annotated[list[str] | None, typer.Option(help="accepted MEASUREMENT (hex); repeatable")] = None,
    trust_simulated: Annotated[bool, typer.Option(help="accept development (simulated) evidence")] = False,
    save: Annotated[Path | None, typer.Option(help="write the fetched document here")] = None,
) -> None:
    """Verify a server's evidence: AMD chain, signature, policy, measurement and the TLS/E2E/signing binding."""
    measurements = _measurements(measurement)
    server_cert: bytes | None = None
    sent_nonce: bytes | None = None
    if target.startswith("https://"):
        sent_nonce = os.urandom(32) if nonce else None
        doc, server_cert = fetch_document(target, nonce=sent_nonce)
        if save:
            save.write_text(json.dumps(doc, indent=2))
    else:
        path = Path(target)
        if not path.is_file():
            raise CliError(f"{target} is neither an https:// URL nor a file", exit_code=EXIT_USAGE)
        doc = read_document(path)
    result = verify_attestation_document(doc, server_cert=server_cert, nonce=sent_nonce,
                                         measurements=measurements, trust_simulated=trust_simulated)
    print_verdict(result, title=f"attestation of {target} (platform {doc.get('platform')})")
    raise typer.Exit(0 if result.ok else 1)


@attest.command("verify-report")
def verify_report(
    report: Annotated[Path, typer.Argument(help="raw ATTESTATION_REPORT (1184 bytes)", exists=True)],
    vcek: Annotated[Path, typer.Option(help="VCEK or VLEK certificate (DER or PEM)", exists=True)],
    chain: Annotated[Path | None, typer.Option(help="ASK/ARK bundle (PEM); AMD's pinned ones otherwise")] = None,
    measurement: Annotated[list[str] | None, typer.Option(help="accepted MEASUREMENT (hex); repeatable")] = None,
    report_data: Annotated[str | None, typer.Option(help="expected REPORT_DATA (hex, 64 bytes)")] = None,
) -> None:
    """Verify a raw report against its VCEK and the pinned AMD roots."""
    from app.attestation.certs import load_pem_bundle
    from app.attestation.verify import Policy, verify_attestation

    chain_certs = load_pem_bundle(chain.read_bytes()) if chain else []
    policy = Policy(measurements=_measurements(measurement) or None)
    try:
        expected = bytes.fromhex(report_data) if report_data else None
    except ValueError:
        raise CliError("--report-data must be hex (64 bytes: 128 hex characters)", exit_code=EXIT_USAGE) from None
    result = verify_attestation(report.read_bytes(), leaf=vcek.read_bytes(), chain=chain_certs,
                                now=datetime.now(UTC), policy=policy, expected_report_data=expected)
    print_verdict(result, title=f"report {report}")
    raise typer.Exit(0 if result.ok else 1)
