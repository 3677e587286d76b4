"""Help is readable in a narrow terminal (rich used to cut option names: "--no-trust-simula…"), and
`zka serve --help` looks like every other command's (it used to be argparse's)."""

from __future__ import annotations

import os
import subprocess
import sys


def _help(*args: str) -> str:
    env = {**os.environ, "COLUMNS": "60", "TERM": "xterm-256color"}
    result = subprocess.run([sys.executable, "-m", "app.cli", *args, "--help"], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_help_never_cuts_option_names() -> None:
    for command in (["attest", "verify"], ["report", "verify"], ["credentials", "connect"]):
        text = _help(*command)
        assert "…" not in text, text
        assert "--trust-simulated" in text and "--no-trust-simulated" in text
    assert "--exclude-from-report" in _help("credentials", "connect")


def test_serve_help_is_in_the_style_of_the_other_commands() -> None:
    serve, migrate = _help("serve"), _help("migrate")
    assert serve.startswith("Usage: zka serve [OPTIONS]") and migrate.startswith("Usage: zka migrate [OPTIONS]")
    for word in ("--host", "--port", "1-65535", "Options:"):
        assert word in serve
    assert "usage: zka serve [-h]" not in serve  # argparse's layout
