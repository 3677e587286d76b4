"""zka report verify FILE — offline: hash, signature, and the embedded hardware evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.failures import EXIT_USAGE, CliError

report = typer.Typer(no_args_is_help=True, help="Verify signed performance reports offline.")


def register(cli: typer.Typer) -> None:
    cli.add_typer(report, name="report")


@report.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="a report JSON as returned by GET/POST /api/v1/reports")],
    measurement: Annotated[list[str] | None, typer.Option(help="accepted MEASUREMENT (hex); repeatable")] = None,
    trust_simulated: Annotated[bool, typer.Option(help="accept development (simulated) evidence")] = False,
    simulated_ark: Annotated[Path | None, typer.Option(help="pin this simulated ARK (PEM) instead of the "
                                                            "report's own")] = None,
) -> None:
    """Exit 0 only if every check passes; otherwise print the table and name the failed check."""
    from app.cli.attest import _measurements, print_verdict
    from app.services.report_verify import verify_report

    measurements = _measurements(measurement)
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"{file}: not a readable JSON file ({type(exc).__name__}): give a report saved from "
                       "GET /api/v1/reports/ID", exit_code=EXIT_USAGE) from None
    ark = simulated_ark.read_text() if simulated_ark else None
    result = verify_report(doc, measurements=measurements, trust_simulated=trust_simulated, simulated_ark_pem=ark)
    facts = result.facts
    where = "no hardware evidence" if not facts.get("evidence") else f"platform {facts.get('platform')}"
    if facts.get("simulated"):
        where += " — SIMULATED evidence, not AMD hardware"
    report_id = doc.get("report_id") if isinstance(doc, dict) else None
    print_verdict(result, title=f"report {report_id or file} ({where})")
    raise typer.Exit(0 if result.ok else 1)
