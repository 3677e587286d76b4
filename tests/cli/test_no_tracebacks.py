"""Every way a user can make a `zka` command fail ends as one line on stderr naming the problem, a non-zero
exit, no Python traceback, and no file left behind. Each command runs as a real process, as a user runs
it, from an empty working directory with none of the developer's ZKA_* variables."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.bench.server import free_port

# The service's own log lines (timestamped text in development, JSON objects in production) may precede a
# start-up failure; the failure itself is one line.
LOG_LINE = re.compile(r'^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}|\{".*"timestamp": ".*\}$)')
JWT_SECRET_31 = "s3cr3t-jwt-value-of-31-chars-xx"
MASTER_KEY_BAD = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeZ"
LOG_KEY_SHORT = "abc"
PROD = {"ZKA_ENV": "production", "ZKA_JWT_SECRET": "j" * 40}


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ZKA_") and k not in ("DATABASE_URL", "COLUMNS", "TYPER_USE_RICH")}
    return {**env, "ZKA_SCHEDULER_ENABLED": "false", **extra}


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _unreachable_postgres() -> str:
    return f"postgresql://postgres:pw-not-shown@127.0.0.1:{free_port()}/zka"


def _run(cwd: Path, args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=cwd, env=_clean_env(**env), input=stdin,
                          capture_output=True, text=True, timeout=90)


def _missing_database_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    base, _, _ = url.rpartition("/")
    return f"{base}/zka_never_created_{os.getpid()}"


# (id, arguments, environment, what the line must say)
CASES: list[tuple[str, list[str], dict[str, str], str]] = [
    ("keys-status-fresh-dir", ["keys", "status"], {}, "no database at"),
    ("keys-rotate-fresh-dir", ["keys", "rotate-dek", "--yes"], {}, "no database at"),
    ("keys-status-unreachable-pg", ["keys", "status"], {"DATABASE_URL": "@PG_DOWN"}, "cannot reach the database"),
    ("attest-unreachable", ["attest", "verify", "https://127.0.0.1:@PORT"], {}, "cannot connect to 127.0.0.1"),
    ("attest-not-json", ["attest", "verify", "doc.json"], {}, "is not JSON"),
    ("attest-not-an-object", ["attest", "verify", "list.json"], {}, "not an attestation document"),
    ("attest-bad-url", ["attest", "verify", "https://127.0.0.1:99999"], {}, "must be https://host:port"),
    ("connect-unreachable", ["credentials", "connect", "https://127.0.0.1:@PORT", "--exchange", "binance",
                             "--label", "main", "--user-uid", "user_abcdefgh12"], {}, "cannot connect"),
    ("serve-unreachable-pg", ["serve", "--port", "@PORT"], {"DATABASE_URL": "@PG_DOWN"},
     "cannot reach the database"),
    ("serve-production-unreachable-pg", ["serve", "--port", "@PORT"], {**PROD, "DATABASE_URL": "@PG_DOWN"},
     "cannot reach the database"),
    ("serve-production-without-pg", ["serve", "--port", "@PORT"], PROD, "production requires PostgreSQL"),
    ("serve-mysql", ["serve"], {"DATABASE_URL": "mysql://root:pw-not-shown@db/zka"}, "DATABASE_URL: must be"),
    ("serve-data-dir-is-a-file", ["serve", "--port", "@PORT"], {"ZKA_DATA_DIR": "a-file"}, "is a file"),
    ("serve-data-dir-impossible", ["serve", "--port", "@PORT"], {"ZKA_DATA_DIR": "a-file/sub"},
     "cannot be created"),
    ("serve-port-too-big", ["serve", "--port", "99999"], {}, "'99999' is not a port"),
    ("serve-port-zero", ["serve", "--port", "0"], {}, "'0' is not a port"),
    ("serve-port-negative", ["serve", "--port", "-1"], {}, "'-1' is not a port"),
    ("serve-port-env", ["serve"], {"ZKA_PORT": "99999"}, "ZKA_PORT"),
    ("serve-host-invalid", ["serve", "--host", "999.1.1.1", "--port", "@PORT"], {}, "'999.1.1.1'"),
    ("serve-host-not-here", ["serve", "--host", "192.0.2.1", "--port", "@PORT"], {}, "cannot listen on 192.0.2.1"),
    ("serve-port-in-use", ["serve", "--port", "@BUSY"], {}, "Address already in use"),
    ("serve-unknown-option", ["serve", "--prot", "8443"], {}, "unrecognized arguments"),
    ("migrate-mysql", ["migrate"], {"DATABASE_URL": "mysql://root:pw-not-shown@db/zka"}, "DATABASE_URL: must be"),
    ("migrate-unreachable-pg", ["migrate"], {"DATABASE_URL": "@PG_DOWN"}, "cannot reach the database"),
    ("migrate-production-without-pg", ["migrate"], {"ZKA_ENV": "production"}, "production requires PostgreSQL"),
    ("rate-limit-malformed", ["serve"], {"ZKA_RATE_LIMIT_REPORTS": "lots"}, "ZKA_RATE_LIMIT_REPORTS: must be"),
    ("jwt-secret-short", ["serve"], {"ZKA_JWT_SECRET": JWT_SECRET_31}, "ZKA_JWT_SECRET: must be at least 32"),
    ("master-key-malformed", ["keys", "status"], {"ZKA_MASTER_KEY": MASTER_KEY_BAD}, "ZKA_MASTER_KEY: must be 64"),
    ("venue-urls-not-json", ["serve"], {"ZKA_VENUE_URLS": "{binance"}, "ZKA_VENUE_URLS: not valid JSON"),
    ("usage-unknown-option", ["keys", "status", "--bogus"], {}, "No such option: --bogus (see zka keys status"),
    ("usage-missing-argument", ["attest", "verify"], {}, "Missing argument"),
    ("usage-missing-file", ["keys", "add-wrapping", "--from-key-file", "nowhere.key"], {}, "does not exist"),
    ("usage-unknown-command", ["attset", "verify"], {}, "No such command 'attset'"),
    ("log-key-short-production", ["serve", "--port", "@PORT"],
     {**PROD, "DATABASE_URL": "@PG_DOWN", "ZKA_LOG_API_KEY": LOG_KEY_SHORT}, "ZKA_LOG_API_KEY of at least 32"),
]
SECRETS = ("pw-not-shown", JWT_SECRET_31, MASTER_KEY_BAD[:16], MASTER_KEY_BAD[-16:])


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "doc.json").write_text("this is not json\n")
    (cwd / "list.json").write_text("[1, 2]\n")
    (cwd / "a-file").write_text("")
    return cwd


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _substitute(values: list[str] | dict[str, str], busy: int) -> list[str] | dict[str, str]:
    def one(value: str) -> str:
        return (value.replace("@PG_DOWN", _unreachable_postgres()).replace("@PORT", str(free_port()))
                .replace("@BUSY", str(busy)))

    if isinstance(values, dict):
        return {k: one(v) for k, v in values.items()}
    return [one(v) for v in values]


def assert_one_line_failure(result: subprocess.CompletedProcess[str], says: str) -> str:
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip() and not LOG_LINE.match(line)]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("zka: ") and says in lines[0], lines[0]
    for secret in SECRETS:
        assert secret not in result.stderr + result.stdout
    return lines[0]


@pytest.mark.parametrize(("args", "env", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_failing_command_prints_one_line_and_creates_nothing(
    workdir: Path, busy_port: int, args: list[str], env: dict[str, str], says: str
) -> None:
    before = _files(workdir)
    result = _run(workdir, _substitute(args, busy_port), _substitute(env, busy_port))  # type: ignore[arg-type]
    assert_one_line_failure(result, says)
    assert _files(workdir) == before


def test_a_missing_postgres_database_is_one_line(workdir: Path) -> None:
    url = _missing_database_url()
    if url is None:
        pytest.skip("needs TEST_DATABASE_URL (a PostgreSQL server)")
    for args in (["serve", "--port", str(free_port())], ["migrate"], ["keys", "status"]):
        result = _run(workdir, args, {"DATABASE_URL": url, "ZKA_MASTER_KEY": "ab" * 32})
        assert_one_line_failure(result, "does not exist")
    assert _files(workdir) == {"doc.json", "list.json", "a-file"}


def test_credentials_connect_checks_its_arguments_before_asking_for_secrets(workdir: Path) -> None:
    """A typo is reported before the server is contacted (none runs here) and before any prompt."""
    base = ["credentials", "connect", "https://127.0.0.1:1"]
    for extra, says in (
        (["--exchange", "binanse", "--label", "main", "--user-uid", "user_abcdefgh12"], "'binanse' is not supported"),
        (["--exchange", "binance", "--label", "main ", "--user-uid", "user_abcdefgh12"], "letters, digits, spaces"),
        (["--exchange", "binance", "--label", "a/b", "--user-uid", "user_abcdefgh12"], "letters, digits, spaces"),
        (["--exchange", "binance", "--label", "main", "--user-uid", "alice"], "a Clerk id (user_"),
        (["--exchange", "binance", "--label", "main"], "give --token"),
    ):
        result = _run(workdir, [*base, *extra], {}, stdin="typed-secret\n" * 3)
        line = assert_one_line_failure(result, says)
        assert "API key" not in result.stdout + result.stderr and "^[" not in line  # no prompt, no regex


def test_keys_status_on_an_existing_data_dir_still_works(workdir: Path) -> None:
    """The read-only guard must not refuse a real data directory: migrate, then status."""
    env = {"ZKA_MASTER_KEY": "cd" * 32}
    assert _run(workdir, ["migrate"], env).returncode == 0
    result = _run(workdir, ["keys", "status"], env)
    assert result.returncode == 0, result.stderr
    assert "no DEK yet" in result.stdout


def test_ctrl_c_on_serve_stops_cleanly(tmp_path: Path) -> None:
    """Ctrl-C (SIGINT to the foreground process) after start-up: graceful stop, exit 0, no traceback."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)], cwd=tmp_path, env=_clean_env(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A background test runner may ignore SIGINT; a terminal's foreground process does not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        _wait_healthy(f"https://127.0.0.1:{port}/health", proc)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err + out and "CancelledError" not in err
    assert err.splitlines()[-1] == "zka: stopped"


def _wait_healthy(url: str, proc: subprocess.Popen[str]) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            if httpx.get(url, verify=context, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("zka serve did not become healthy")


def test_a_refused_start_leaves_no_tls_key_behind(workdir: Path) -> None:
    """The TLS key is written to a private temporary directory (/dev/shm) for uvicorn; a start-up refused
    after that (here: production, and the database is unreachable) leaves with os._exit, which skips every
    `finally`: the directory and its private key used to stay. The command runs with a /dev/shm of its own
    (a private mount namespace), so other processes' files cannot be mistaken for its own."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                                                        capture_output=True).returncode:
        pytest.skip("needs unshare -m (a private mount namespace) to give the command its own /dev/shm")
    command = (f"mount -t tmpfs tmpfs /dev/shm || exit 99; {sys.executable} -m app.cli serve --port {free_port()}; "
               "code=$?; echo \"left in /dev/shm: $(ls -A /dev/shm | tr '\\n' ' ')\"; exit $code")
    result = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", command], cwd=workdir,
                            env=_clean_env(**PROD, DATABASE_URL=_unreachable_postgres()), capture_output=True,
                            text=True, timeout=90)
    assert result.stdout.strip() == "left in /dev/shm:", result.stdout
    assert_one_line_failure(result, "cannot reach the database")
