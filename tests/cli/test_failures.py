"""explain(): any exception becomes one line; an unforeseen one is named by its type, its message scrubbed
of anything that looks like a secret, and never its traceback."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from app.cli.failures import CliError, explain, fail, guarded
from app.config import ConfigurationError

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEyMyJ9.c2lnbmF0dXJlLXZhbHVl"


def test_an_unforeseen_error_is_one_scrubbed_line() -> None:
    line = explain(RuntimeError(f"call failed with Authorization: Bearer {TOKEN}\nsecond line\nthird"))
    assert line.startswith("unexpected RuntimeError: call failed") and "\n" not in line
    assert TOKEN not in line


def test_a_database_error_names_the_database_without_its_password_or_statement() -> None:
    error = OperationalError("SELECT secret_column FROM t WHERE x = %(p)s", {"p": "param-value"},
                             Exception('password authentication failed for user "zka"\nDETAIL: more'))
    from app.db import describe_database_error

    line = describe_database_error(error, "postgresql+psycopg://zka:pw-in-url@db:5432/zka")
    assert line is not None and "\n" not in line
    assert "password authentication failed" in line and "db:5432/zka" in line
    for leak in ("pw-in-url", "SELECT", "param-value"):
        assert leak not in line


def test_guarded_turns_every_failure_into_one_line_and_an_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    def boom(exc: BaseException) -> None:
        raise exc

    for exc, code in ((CliError("nope", exit_code=2), 2), (ConfigurationError("ZKA_PORT: bad"), 2),
                      (ValueError("odd"), 1), (KeyboardInterrupt(), 130)):
        with pytest.raises(SystemExit) as ended:
            guarded(lambda e=exc: boom(e))  # type: ignore[misc]
        assert ended.value.code == code
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("zka: ") and "Traceback" not in err
    with pytest.raises(SystemExit):
        fail("x")
