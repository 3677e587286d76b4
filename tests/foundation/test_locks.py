"""The two lock files agree: every runtime pin is the same version in the development lock."""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", re.MULTILINE)


def _pins(name: str) -> dict[str, str]:
    return {k.lower(): v for k, v in _PIN.findall((REPO_ROOT / name).read_text())}


def test_runtime_lock_is_a_subset_of_the_development_lock() -> None:
    runtime, development = _pins("requirements-runtime.lock"), _pins("requirements.lock")
    assert runtime, "requirements-runtime.lock is empty"
    assert {k: v for k, v in runtime.items() if development.get(k) != v} == {}
    assert not {"pytest", "schemathesis", "playwright", "ruff", "mypy"} & runtime.keys()
