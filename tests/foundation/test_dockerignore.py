"""`.dockerignore` keeps secrets and bulk out of the build context and lets in everything the Dockerfile
copies. Docker's rules: patterns in order, the last match wins, `!` re-includes, a pattern that matches a
directory matches everything under it, `*` stays within one path segment and `**` crosses them."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import REPO_ROOT


def _regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + "(?:/.*)?")  # a matched directory takes its contents along


def _rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (REPO_ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _regex(line.lstrip("!").strip("/"))))
    return rules


def sent_to_daemon(path: str) -> bool:
    excluded = False
    for negated, regex in _rules():
        if regex.fullmatch(path):
            excluded = not negated
    return not excluded


@pytest.mark.parametrize("path", [
    ".venv/bin/python", ".git/HEAD", ".git/objects/ab/cdef", ".zka/master.key", ".zka/zka.db", ".env",
    "tests/conftest.py", "tests/data/PROVENANCE.md", "app/__pycache__/main.cpython-311.pyc", ".mypy_cache/x",
    "data/master.key", "notes.txt",
])
def test_secrets_and_bulk_stay_out_of_the_build_context(path: str) -> None:
    assert not sent_to_daemon(path)


def test_everything_the_dockerfile_copies_is_sent() -> None:
    sources: list[str] = []
    for line in (REPO_ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += [w.rstrip("/") for w in words[1:-1]]
    assert {"app", "migrations", "pyproject.toml", "requirements-runtime.lock"} <= set(sources)
    tracked = subprocess.run(["git", "ls-files", *sources], cwd=REPO_ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    assert tracked
    missing = [path for path in tracked if not sent_to_daemon(path)]
    assert not missing
