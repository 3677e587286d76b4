"""zka demo — the whole product in one command, with no exchange account (development only).

1. use the service answering at the URL, or start `zka serve` and leave it running;
2. verify its attestation as `zka attest verify --nonce --trust-simulated` does;
3. connect an account on the built-in `demo` venue through the real E2E flow (credentials sealed to the
   attested key, sent over a connection pinned to the attested certificate); connecting backfills its
   two years of daily history through the sync path;
4. create a signed report, print its URL, save its JSON and verify it as `zka report verify` does.

Running it again reuses the connection and, over the same data, the same stored report.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from app.cli.demo_server import DemoFailed, Service, ensure_service

DEMO_USER = "user_zkademotrader"
DEMO_LABEL = "demo account"
# The demo venue checks nothing: these only have to be non-empty, and they still travel E2E-encrypted.
DEMO_SECRETS = {"api_key": "demo-key", "api_secret": "demo-secret"}
STEPS = 5


def register(cli: typer.Typer) -> None:
    cli.command()(demo)


def demo(
    benchmark: Annotated[str | None, typer.Option(help="draw SPY, QQQ, BTC-USD or ETH-USD beside the demo "
                                                       "(fetched from the public source)")] = None,
) -> None:
    """Start the service, verify it, connect a demo account, backfill two years, sign and verify a report."""
    from app.config import load_settings
    from app.errors import StartupRefused
    from app.services.benchmarks import SUPPORTED

    if benchmark is not None and benchmark not in SUPPORTED:
        _fail(f"--benchmark {benchmark[:16]!r} is not one of {', '.join(SUPPORTED)}")
    try:
        settings = load_settings()
    except (StartupRefused, ValueError) as exc:
        _fail(f"configuration: {_config_problem(exc)}")
    if settings.server.is_production:
        _fail("the demo is for development only; unset ZKA_ENV=production (a production server refuses the "
              "demo venue)")
    if settings.auth.gateway_configured:
        _fail("the demo needs a development server without gateway authentication; unset ZKA_JWT_SECRET and "
              "ZKA_JWT_PUBLIC_KEY")
    host = "127.0.0.1" if settings.server.host in ("0.0.0.0", "::") else settings.server.host  # noqa: S104
    url = f"https://{host}:{settings.server.port}"
    try:
        _run(url, settings.server.data_dir, benchmark)
    except DemoFailed as exc:  # a service this demo started is stopped again (_run)
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted; a service this demo had started was stopped", code=130)
    except OSError as exc:
        _fail(f"{type(exc).__name__}: {exc.strerror or exc} ({exc.filename or 'no file'})")


def _run(url: str, data_dir: Path, benchmark: str | None) -> None:
    started = time.monotonic()
    _step(1, f"starting the service at {url}")
    service = ensure_service(url, data_dir=data_dir)
    try:
        _done(started, "already running, reused" if service.pid is None else f"pid {service.pid}")
        client, doc = _attest(url, started)
        with client:
            _connect(client, doc, started)
            report = _report(client, benchmark, started)
        path = data_dir / "demo-report.json"  # the data directory exists unless the service was not ours
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1), encoding="utf-8")
        _verify(report, path, started)
    except BaseException:
        service.stop()
        raise
    _summary(url, report, path, service, started)


def _attest(url: str, started: float) -> tuple[Any, dict[str, Any]]:
    import httpx

    from app.cli.attest import fetch_document, pinned_client, print_verdict, verify_attestation_document

    _step(2, "verifying its attestation (zka attest verify --nonce --trust-simulated)")
    nonce = os.urandom(32)
    try:
        doc, cert = fetch_document(url, nonce=nonce)
    except (OSError, httpx.HTTPError, typer.BadParameter) as exc:
        raise DemoFailed(f"could not fetch the attestation from {url}: {type(exc).__name__} {exc}") from None
    result = verify_attestation_document(doc, server_cert=cert, nonce=nonce, measurements=[], trust_simulated=True)
    print_verdict(result, title=f"  attestation of {url} (platform {doc.get('platform')})")
    if not result.ok:
        raise DemoFailed(f"the service's attestation did not verify ({result.failed}): nothing was sent to it")
    _done(started, "TLS, E2E and signing keys bound to the (simulated) hardware report")
    return pinned_client(url, cert, timeout=60.0), doc


def _connect(client: Any, doc: dict[str, Any], started: float) -> None:
    from app.services.crypto import seal_credentials

    _step(3, "connecting a demo account end to end encrypted; backfilling its two years of history")
    existing = _existing_demo_connection(client)
    if existing is not None:
        _done(started, f"connection {existing} from an earlier run: its snapshots are reused")
        return
    envelope = seal_credentials(doc["keys"]["e2e"]["public_key"], DEMO_SECRETS)
    body = {"user_uid": DEMO_USER, "exchange": "demo", "label": DEMO_LABEL, "encrypted": envelope}
    response = _call(client, "POST", "/api/v1/credentials/connect", json=body)
    answer: dict[str, Any] = _ok(response, "connecting the demo account")
    snap = answer.get("initial_snapshot") or {}
    _done(started, f"connection {answer['connection']['id']}, {answer.get('backfilled_days', 0)} days backfilled, "
                   f"opening equity {snap.get('total_equity')} USD on {snap.get('day')}")


def _existing_demo_connection(client: Any) -> int | None:
    """Asked first, so that running the demo again does not spend the connect rate limit."""
    response = _call(client, "GET", "/api/v1/connections", params={"user_uid": DEMO_USER})
    connections = _ok(response, "listing the demo user's connections")
    return next((c["id"] for c in connections if c.get("exchange") == "demo"), None)


def _report(client: Any, benchmark: str | None, started: float) -> dict[str, Any]:
    _step(4, "creating a signed report" + (f" against {benchmark}" if benchmark else ""))
    body: dict[str, Any] = {"user_uid": DEMO_USER, "report_name": "zka demo — two years of a demo account",
                            "manager": "demo venue (generated data, not a real account)"}
    if benchmark:
        body["benchmark"] = benchmark
    report: dict[str, Any] = _ok(_call(client, "POST", "/api/v1/reports", json=body), "creating the report")
    core = report["payload"]["metrics"]["core"]
    _done(started, f"{report['report_id']}: total return {_pct(core.get('total_return'))}, "
                   f"max drawdown {_pct(core.get('max_drawdown'))}")
    return report


def _verify(report: dict[str, Any], path: Path, started: float) -> None:
    from app.cli.attest import print_verdict
    from app.services.report_verify import verify_report

    _step(5, f"verifying the report offline (zka report verify {path} --trust-simulated)")
    result = verify_report(report, measurements=[], trust_simulated=True)
    print_verdict(result, title=f"  report {report['report_id']} (SIMULATED evidence, not AMD hardware)")
    if not result.ok:
        raise DemoFailed(f"the report did not verify ({result.failed})")
    _done(started, "hash, signature, attestation and the signing key's binding all check out")


def _summary(url: str, report: dict[str, Any], path: Path, service: Service, started: float) -> None:
    typer.echo(f"\nReport: {url}/api/v1/reports/{report['report_id']}   (open it in a browser; self-signed TLS)")
    typer.echo(f"Saved:  {path}   (verify again: zka report verify {path} --trust-simulated)")
    typer.echo("Verdict: PASS — signed by the enclave's key, bound to its (simulated) attestation")
    if service.pid is not None:
        typer.echo(f"The service keeps running (pid {service.pid}, log {service.log_file}); stop it: "
                   f"kill {service.pid}")
    typer.echo(f"Done in {time.monotonic() - started:.1f} s.")


def _call(client: Any, method: str, path: str, **kwargs: Any) -> Any:
    import httpx

    try:
        return client.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise DemoFailed(f"{method} {path} failed: {type(exc).__name__}") from None


def _ok(response: Any, what: str) -> Any:
    if response.status_code in (200, 201):
        return response.json()
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    raise DemoFailed(f"{what}: the service answered {response.status_code} "
                     f"{error.get('code', '')}: {error.get('message', response.text[:200])}")


def _config_problem(exc: Exception) -> str:
    """pydantic's multi-line report as one line: ZKA_PORT: Input should be less than or equal to 65535."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        name = "ZKA_" + "_".join(str(part) for part in first.get("loc", ())).upper()
        return f"{name}: {first.get('msg', 'invalid')}"
    return " ".join(str(exc).split())[:300]


def _step(n: int, text: str) -> None:
    typer.echo(f"[{n}/{STEPS}] {text}")


def _done(started: float, text: str) -> None:
    typer.echo(f"      ok ({time.monotonic() - started:.1f} s): {text}")


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{float(value) * 100:+.1f} %"


def _fail(message: str, *, code: int = 1) -> NoReturn:
    typer.echo(f"zka demo: {message}", err=True)
    raise typer.Exit(code)
