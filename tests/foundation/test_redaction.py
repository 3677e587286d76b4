"""Secrets pushed through every logging path must not survive in the output or the stream."""

from __future__ import annotations

import logging

import pytest

from app.core.logging import configure_logging, get_logger
from app.core.redaction import Redactor, secret_values
from app.services.logs import LogHub

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
PASSPHRASE = "correct-horse-battery"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEyMyJ9.c2lnbmF0dXJlLXZhbHVl"
ALL = (API_KEY, SECRET, PASSPHRASE, JWT)


@pytest.fixture
def hub(capsys: pytest.CaptureFixture[str]) -> LogHub:
    hub = LogHub()
    configure_logging(hub=hub, redactor=Redactor(production=False, hash_key=b"k"), json_output=True)
    return hub


def _everything(hub: LogHub, capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err + repr([e.to_json() for e in hub.recent(limit=1000)])


def test_secret_fields_are_removed_at_any_depth(hub: LogHub, capsys: pytest.CaptureFixture[str]) -> None:
    get_logger("t").info(
        "connect", api_key=API_KEY, api_secret=SECRET,
        nested={"creds": {"passphrase": PASSPHRASE, "list": [{"token": JWT}]}},
    )
    out = _everything(hub, capsys)
    leaked = [s for s in ALL if s in out]
    assert not leaked, out
    assert "[redacted]" in out


def test_secrets_in_message_text_are_removed(hub: LogHub, capsys: pytest.CaptureFixture[str]) -> None:
    get_logger("t").warning(f"calling with {API_KEY} and Bearer {JWT} and ?signature={SECRET}&t=abc")
    out = _everything(hub, capsys)
    leaked = [s for s in ALL if s in out]
    assert not leaked, out


def test_exception_messages_and_tracebacks_are_scrubbed(hub: LogHub, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        raise RuntimeError(f"venue said: invalid key {API_KEY} secret={SECRET}")
    except RuntimeError:
        get_logger("t").exception("sync failed")
    out = _everything(hub, capsys)
    assert "RuntimeError" in out
    leaked = [s for s in ALL if s in out]
    assert not leaked, out


def test_stdlib_loggers_go_through_the_same_layer(hub: LogHub, capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("ccxt.base").error("request failed: apiKey=%s", API_KEY)
    try:
        raise ValueError(PASSPHRASE)
    except ValueError:
        with secret_values(PASSPHRASE):
            logging.getLogger("somelib").exception("boom")
    out = _everything(hub, capsys)
    leaked = [s for s in ALL if s in out]
    assert not leaked, out


def test_registered_decrypted_values_are_removed_exactly(hub: LogHub, capsys: pytest.CaptureFixture[str]) -> None:
    short_secret = "pw-1234"
    with secret_values(short_secret):
        get_logger("t").info(f"odd text {short_secret}!", detail={"x": f"again {short_secret}"})
    out = _everything(hub, capsys)
    assert short_secret not in out


def test_production_hides_user_scoped_values_and_hashes_user_ids(capsys: pytest.CaptureFixture[str]) -> None:
    hub = LogHub()
    configure_logging(hub=hub, redactor=Redactor(production=True, hash_key=b"k"), json_output=True)
    get_logger("t").info("snapshot user_2abcdefghijkl stored", user_uid="user_2abcdefghijkl",
                         total_equity="12345.67", label="my main account", exchange="binance")
    out = _everything(hub, capsys)
    assert "user_2abcdefghijkl" not in out
    assert "12345.67" not in out and "my main account" not in out
    assert "binance" in out  # the venue name alone is not user data
    entry = hub.recent()[-1]
    assert entry.fields["user_uid"].startswith("u_")
    assert entry.fields["user_uid"] in entry.event


def test_public_identifiers_are_kept(hub: LogHub, capsys: pytest.CaptureFixture[str]) -> None:
    get_logger("t").info("keys loaded", master_key_id="0011223344556677", public_key_fingerprint="AA:BB")
    entry = hub.recent()[-1]
    assert entry.fields == {"master_key_id": "0011223344556677", "public_key_fingerprint": "AA:BB"}
