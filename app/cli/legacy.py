"""zka import-legacy — take over a deployment of the TypeScript original (app/services/legacy_import)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.failures import EXIT_USAGE, CliError


def register(cli: typer.Typer) -> None:
    cli.command("import-legacy")(import_legacy)


def import_legacy(
    from_url: Annotated[str, typer.Option("--from", help="the original's PostgreSQL database (read only), e.g. "
                                                         "postgresql://reader@10.0.0.7:5432/aggregator")],
    legacy_measurement: Annotated[str | None, typer.Option(
        help="the original's launch measurement (hex): its master key is derived from it as the original did")] = None,
    legacy_platform_version: Annotated[str, typer.Option(help="the original's platformVersion (its HKDF salt), if "
                                                              "its attestation reported one")] = "",
    legacy_master_key_file: Annotated[Path | None, typer.Option(help="the original's 32-byte master key (raw or hex)",
                                                                dir_okay=False)] = None,
    dry_run: Annotated[bool, typer.Option(help="print what would be imported; change nothing")] = False,
    resume: Annotated[bool, typer.Option(help="continue a run that stopped part-way")] = False,
    verify: Annotated[bool, typer.Option(help="compare zka's rows with the source and list differences; "
                                              "change nothing")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="users per transaction")] = 50,
    pause: Annotated[float, typer.Option(min=0.0, help="seconds to wait between batches (spares a source that "
                                                       "still serves)")] = 0.0,
) -> None:
    """Import the original's users, connections (credentials re-encrypted), daily history, sync history and
    signed reports into this zka's database. See README: Moving from the TypeScript original."""
    legacy_key = _legacy_master_key(legacy_measurement, legacy_platform_version, legacy_master_key_file)
    settings, master, wrapping = _zka_keys()
    if verify:
        _verify(from_url, settings.database_url, legacy_key, master, wrapping, batch_size)
        return
    from app.services.legacy_import.run import ImportRequest

    request = ImportRequest(source_url=from_url, target_url=settings.database_url, legacy_master_key=legacy_key,
                            zka_master_key=master, zka_wrapping=wrapping, dry_run=dry_run, resume=resume,
                            batch_size=batch_size, pause_seconds=pause, on_progress=_progress_bar())
    result = _guard(lambda: _import(request))
    sys.stderr.write("\n" if sys.stderr.isatty() else "")
    for line in summary_lines(result):
        typer.echo(line)


def _import(request: Any) -> Any:
    from app.services.legacy_import.run import run_import

    return asyncio.run(run_import(request))


def _verify(from_url: str, target_url: str, legacy_key: bytes, master: bytes, wrapping: str, batch_size: int) -> None:
    from app.services.legacy_import.verify import verify_import

    result = _guard(lambda: asyncio.run(verify_import(from_url, target_url, legacy_master_key=legacy_key,
                                                      zka_master_key=master, zka_wrapping=wrapping,
                                                      batch_size=batch_size)))
    typer.echo(f"verified {result.users} imported users, {result.days} days, {result.connections} connections: "
               f"{len(result.differences)} difference(s)")
    for line in result.differences:
        typer.echo(f"  {line}")
    if result.differences:
        raise typer.Exit(1)


def _guard(work: Any) -> Any:
    """The import's own refusals become the one line of app/cli/failures.py."""
    from app.services.legacy_import.keys import LegacyKeyError
    from app.services.legacy_import.run import ImportRefused
    from app.services.legacy_import.source import SourceError

    try:
        return work()
    except (LegacyKeyError, ImportRefused, SourceError) as exc:
        raise CliError(str(exc)) from None


def _legacy_master_key(measurement: str | None, platform_version: str, key_file: Path | None) -> bytes:
    from app.services.legacy_import.keys import LegacyKeyError, master_key_from_file, master_key_from_measurement

    if (measurement is None) == (key_file is None):
        raise CliError("give exactly one of --legacy-measurement HEX or --legacy-master-key-file FILE",
                       exit_code=EXIT_USAGE)
    try:
        if measurement is not None:
            return master_key_from_measurement(measurement, platform_version)
        assert key_file is not None
        return master_key_from_file(key_file)
    except LegacyKeyError as exc:
        raise CliError(str(exc), exit_code=EXIT_USAGE) from None


def _zka_keys() -> tuple[Any, bytes, str]:
    """This instance's settings and master key (the file key in development, created with the data directory
    on a fresh install; the SEV-SNP derived key in production)."""
    from app.config import ensure_data_dir, load_settings
    from app.services.keys import master_key_provider
    from app.state import build_logging

    settings = load_settings()
    settings.check_production_database()
    # The run is recorded in the service's log format, on stderr (stdout carries the summary), counts only.
    build_logging(settings)
    if settings.uses_sqlite:
        ensure_data_dir(settings.server.data_dir)
    provider = master_key_provider(settings)
    return settings, asyncio.run(provider.load()), provider.source


def _progress_bar() -> Any:
    """A bar on a terminal; one line per batch otherwise (logs, CI). stderr: stdout carries the summary."""
    tty = sys.stderr.isatty()

    def show(p: Any) -> None:
        if tty:
            filled = int(30 * p.users_done / max(1, p.users_total))
            sys.stderr.write(f"\r[{'#' * filled}{' ' * (30 - filled)}] {p.users_done}/{p.users_total} users, "
                             f"batch {p.batch}/{p.batches}")
        else:
            sys.stderr.write(f"import-legacy: batch {p.batch}/{p.batches} done "
                             f"({p.users_done}/{p.users_total} users)\n")
        sys.stderr.flush()

    return show


def summary_lines(result: Any) -> list[str]:
    s = result.summary
    head = "dry run: nothing was written; this run would import" if result.dry_run else "imported"
    lines = [
        "source: " + ", ".join(f"{k} {v}" for k, v in result.source_counts.items()),
        f"{head}: users {s.imported['users']}, connections {s.imported['connections']} "
        f"({s.imported['inactive_connections']} inactive), daily rows {s.imported['snapshots']}, "
        f"sync events {s.imported['sync_events']}, legacy reports {s.imported['legacy_reports']}"
        + (f"; {result.users_already} users were imported by an earlier run" if result.users_already else ""),
        "snapshot rows by class: " + (", ".join(f"{k} {v}" for k, v in sorted(s.classes.items())) or "none"),
        f"flows moved from dropped rows to the next close: {s.carried_flows}; with no later close: {len(s.uncarried)}",
    ]
    for title, items in (("unsupported venues (imported inactive)", s.unsupported),
                         ("connections deleted in the original", s.deleted),
                         ("imported inactive (conflict)", s.inactive_conflicts),
                         ("credentials", s.unreadable),
                         ("rows not imported", s.rejected),
                         ("flows not carried", s.uncarried),
                         ("equity jumps with no recorded flow (not corrected; zka's gap rules apply)", s.jumps)):
        if items:
            lines.append(f"{title}: {len(items)}")
            lines += [f"  {item}" for item in items]
    return lines
