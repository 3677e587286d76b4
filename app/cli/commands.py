"""The typer application behind every `zka` command but the server's own start (app.cli.serve).
Sub-commands live in their own modules and import heavy things lazily."""

from __future__ import annotations

import typer

from app.cli import attest, bench, credentials, keys, report, server

# Plain help and errors (no rich panels): rich cuts option names at the terminal's width
# ("--no-trust-simula…"), and a failure is one line from app.cli.failures, never a rendered traceback.
cli = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False,
                  help="zka — zero-knowledge track-record enclave")
server.register(cli)
bench.register(cli)
attest.register(cli)
keys.register(cli)
report.register(cli)
credentials.register(cli)

