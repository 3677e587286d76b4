"""The typer application behind every `zka` command but the server's own start (app.cli.serve).
Sub-commands live in their own modules and import heavy things lazily."""

from __future__ import annotations

import sys
from typing import Any

import typer
from typer._click import exceptions as click_errors  # typer >= 0.20 vendors click here
from typer.core import TyperGroup

from app.cli import attest, bench, credentials, demo, keys, legacy, report, server
from app.cli.failures import EXIT_FAILURE, EXIT_USAGE, CliError, explain
from app.errors import AppError, StartupRefused


class _ExpectedFailures(TyperGroup):
    """A failure a command reports (CliError) or a refusal (configuration, start-up checks, domain errors)
    becomes a click error: one line however the command is run (the console script, or a CliRunner)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (CliError, StartupRefused, AppError) as exc:
            error = click_errors.ClickException(explain(exc))
            error.exit_code = exc.exit_code if isinstance(exc, CliError) else (
                EXIT_USAGE if isinstance(exc, StartupRefused) else EXIT_FAILURE)
            raise error from None


# Plain help and errors (no rich panels): rich cuts option names at the terminal's width
# ("--no-trust-simula…"), and a failure is one line from app.cli.failures, never a rendered traceback.
cli = typer.Typer(cls=_ExpectedFailures, no_args_is_help=True, add_completion=False, rich_markup_mode=None,
                  pretty_exceptions_enable=False, help="zka — zero-knowledge track-record enclave")
server.register(cli)
bench.register(cli)
attest.register(cli)
keys.register(cli)
report.register(cli)
credentials.register(cli)
demo.register(cli)
legacy.register(cli)



def run() -> None:
    """The typer application, with usage errors in one line too (click prints a usage block, a hint and
    the error on four): `zka: <error> (see zka keys status --help)`, exit 2."""
    from app.cli.failures import EXIT_USAGE, fail

    try:
        code = cli(standalone_mode=False, prog_name="zka")
    except click_errors.NoArgsIsHelpError as exc:  # `zka` or `zka keys` alone: the help, as asked
        exc.show()
        raise SystemExit(EXIT_USAGE) from None
    except click_errors.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "zka"
        fail(f"{exc.format_message()} (see {where} --help)", exit_code=EXIT_USAGE)
    except typer.Abort:  # a prompt answered with Ctrl-D or "no"
        fail("aborted: nothing was changed", exit_code=1)
    except click_errors.ClickException as exc:
        fail(exc.format_message(), exit_code=exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
