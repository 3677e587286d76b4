"""Where a failed `zka` command becomes what its user reads: one line on stderr naming the problem and the
fix, a non-zero exit, never a Python traceback (a traceback tells an operator nothing they can act on, and
may carry values that do not belong in a terminal or a container log).

Commands raise CliError for what they detect themselves; everything else reaching `guarded` is described
by `explain`, which knows the failures a user can cause (configuration, database, files, network).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell convention for "stopped by Ctrl-C"


class CliError(Exception):
    """A failure the command detected: `message` is the one line the user sees."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def fail(message: str, *, exit_code: int = EXIT_FAILURE) -> NoReturn:
    """Print the one line and leave (for paths where raising through a framework is not possible)."""
    sys.stderr.write(f"zka: {message}\n")
    sys.stderr.flush()
    raise SystemExit(exit_code)


def guarded(command: Callable[[], object]) -> None:
    """Run a whole command; any failure ends as one line and an exit code."""
    try:
        command()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        fail("interrupted", exit_code=EXIT_INTERRUPTED)
    except CliError as exc:
        fail(exc.message, exit_code=exc.exit_code)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: describe, never dump
        fail(explain(exc), exit_code=EXIT_USAGE if _is_configuration(exc) else EXIT_FAILURE)


def _is_configuration(exc: BaseException) -> bool:
    from app.config import ConfigurationError
    from app.errors import StartupRefused

    return isinstance(exc, ConfigurationError | StartupRefused)


def explain(exc: BaseException) -> str:
    """One line for any exception, without its traceback."""
    from pydantic import ValidationError

    from app.config import describe_settings_error
    from app.db import describe_database_error
    from app.errors import AppError, StartupRefused

    if isinstance(exc, CliError | AppError):
        return exc.message
    if isinstance(exc, StartupRefused):  # configuration and start-up checks: already one clear line
        return str(exc)
    if isinstance(exc, ValidationError | ValueError) and (described := describe_settings_error(exc)):
        return described
    if (described := describe_database_error(exc)) is not None:
        return described
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    from app.core.redaction import scrub_text  # an unforeseen message may quote a token or a key

    return f"unexpected {type(exc).__name__}: {scrub_text(first_line(str(exc))) or 'no detail'}"


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
