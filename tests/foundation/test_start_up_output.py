"""What a user reads at start-up and in the logs: configuration errors name the variable and the rule and
never the value; a migration does not announce alembic's plugins; aiosqlite's per-statement debug lines
never surface; a traceback's file paths stay readable while secrets are still removed."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from app.config import ConfigurationError, Settings, load_settings
from app.core.logging import configure_logging, get_logger
from app.core.redaction import Redactor, scrub_text
from app.db import create_engine
from app.errors import StartupRefused
from app.migrate import upgrade
from app.services.logs import LogHub

JWT_SECRET_31 = "Tz8-short-jwt-secret-of-31-char"
MASTER_KEY_63 = "ab" * 31 + "c"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    for name in [n for n in __import__("os").environ if n.startswith("ZKA_") or n == "DATABASE_URL"]:
        monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize(("variable", "value", "rule"), [
    ("ZKA_JWT_SECRET", JWT_SECRET_31, "ZKA_JWT_SECRET: must be at least 32 characters"),
    ("ZKA_MASTER_KEY", MASTER_KEY_63, "ZKA_MASTER_KEY: must be 64 hex characters"),
    ("DATABASE_URL", "mysql://root:hunter2-secret@db/zka", "DATABASE_URL: must be postgresql://"),
    ("ZKA_DATABASE_URL", "oracle://root:hunter2-secret@db/zka", "DATABASE_URL: must be postgresql://"),
    ("ZKA_PORT", "70000", "ZKA_PORT: input should be less than or equal to 65535"),
    ("ZKA_ENV", "prod-secret-typo", "ZKA_ENV: input should be 'development' or 'production'"),
    ("ZKA_RATE_LIMIT_CREDENTIALS", "five-per-hour", "ZKA_RATE_LIMIT_CREDENTIALS: must be a count per period"),
    ("ZKA_RATE_LIMIT_VERIFY", "60/fortnight", "ZKA_RATE_LIMIT_VERIFY: must be a count per period"),
    ("ZKA_VENUE_URLS", '{"binance": "http://hunter2-secret', "ZKA_VENUE_URLS: not valid JSON"),
    ("ZKA_SYNC_CONCURRENCY", "0", "ZKA_SYNC_CONCURRENCY: input should be greater than or equal to 1"),
    ("ZKA_SYNC_RETRY_DELAYS", "5m,soon", "ZKA_SYNC_RETRY_DELAYS: must be \"off\" or increasing delays"),
    ("ZKA_SYNC_RETRY_DELAYS", "30m,5m", "ZKA_SYNC_RETRY_DELAYS: must be \"off\" or increasing delays"),
    ("ZKA_SYNC_RETRY_DELAYS", "5m,24h", "ZKA_SYNC_RETRY_DELAYS: must be \"off\" or increasing delays"),
])
def test_a_configuration_error_is_one_line_with_the_variable_and_rule_only(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, rule: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(rule), message
    assert "\n" not in message
    for leak in (value, value[:12], value[-12:], "hunter2", "input_value", "[type=", "errors.pydantic.dev"):
        assert leak not in message, message


def test_a_short_log_api_key_is_refused_in_production_and_a_weakness_in_development() -> None:
    short = {"log_api_key": "k" * 31}
    development = Settings(auth=short)  # type: ignore[arg-type]
    assert any("ZKA_LOG_API_KEY" in w for w in development.development_weaknesses())
    production = Settings(server={"env": "production"}, db={"url": "postgresql://db/zka"},  # type: ignore[arg-type]
                          auth={"jwt_secret": "s" * 32, **short})  # type: ignore[arg-type]
    with pytest.raises(StartupRefused, match="ZKA_LOG_API_KEY of at least 32"):
        production.check_production()
    long_enough = Settings(server={"env": "production"}, db={"url": "postgresql://db/zka"},  # type: ignore[arg-type]
                           auth={"jwt_secret": "s" * 32, "log_api_key": "k" * 32})  # type: ignore[arg-type]
    long_enough.check_production()
    assert not any("ZKA_LOG_API_KEY" in w for w in long_enough.development_weaknesses())


@pytest.fixture
def hub() -> LogHub:
    hub = LogHub(ring_size=1000)
    configure_logging(hub=hub, redactor=Redactor(production=False, hash_key=b"k"), json_output=True)
    return hub


def _events(hub: LogHub) -> list[str]:
    return [entry.event for entry in hub.recent(limit=1000)]


def test_a_first_migration_does_not_list_alembic_plugins(hub: LogHub, tmp_path: Path) -> None:
    upgrade(f"sqlite+aiosqlite:///{tmp_path / 'zka.db'}")
    events = _events(hub)
    assert any(e.startswith("Running upgrade") for e in events), events  # the useful lines stay
    assert not any("setup plugin" in e for e in events), events


async def test_aiosqlite_debug_lines_stay_out_even_when_the_root_logger_is_at_debug(
    hub: LogHub, tmp_path: Path
) -> None:
    logging.getLogger().setLevel(logging.DEBUG)  # what pytest's caplog.set_level(DEBUG) does
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()
        logging.getLogger().setLevel(logging.INFO)
    assert not [e for e in _events(hub) if "operation" in e or "executing" in e]


def test_traceback_paths_stay_readable_and_secrets_do_not(hub: LogHub) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger("t").exception("failed")
    entry = hub.recent(limit=1)[-1].to_json()
    rendered = str(entry)
    # The public stream gets the event, never the traceback (issue 12): tracebacks go to stderr only, where
    # the file paths below must stay readable.
    assert entry["event"] == "failed" and "Traceback" not in rendered and "boom" not in rendered, rendered
    site = Path(logging.__file__).parent.parent  # …/lib/python3.11
    for path in (f"{site}/site-packages/uvicorn/protocols/http/httptools_impl.py",
                 f"{sys.prefix}/lib/python3.11/site-packages/sqlalchemy/engine/base.py"):
        assert scrub_text(f'File "{path}", line 1') == f'File "{path}", line 1'
    for secret in ("aB3dE6gH9jK2mN5pQ8rS1tU4wX7yZ0bC3dE6/gH9j", "Zm9vYmFyYmF6cXV4/cXV1eHh5enp5MTIzNDU2Nzg5MA=="):
        assert secret not in scrub_text(f"key {secret} end")
