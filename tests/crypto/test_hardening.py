"""Process hardening: real effect in a child process, decisions with fake system calls."""

from __future__ import annotations

import json
import resource
import subprocess
import sys

import pytest

from app.errors import StartupRefused
from app.services.crypto import harden_process
from app.services.crypto.hardening import HardeningOps


def test_real_process_is_hardened() -> None:
    code = (
        "import json, resource\n"
        "from app.services.crypto import harden_process\n"
        "out = harden_process(require_core_dumps_disabled=True, try_mlock=False)\n"
        "out['rlimit'] = resource.getrlimit(resource.RLIMIT_CORE)\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    outcome = json.loads(result.stdout)
    assert outcome["core_dumps_disabled"] is True and outcome["rlimit"] == [0, 0]
    if sys.platform.startswith("linux"):
        assert outcome["not_dumpable"] is True
    assert outcome["mlockall"].startswith("skipped")


def fake_ops(**overrides: object) -> HardeningOps:
    limits = {resource.RLIMIT_CORE: (0, 0), resource.RLIMIT_MEMLOCK: (8 << 20, 8 << 20)}
    ops = HardeningOps(
        setrlimit=lambda which, value: None,
        getrlimit=lambda which: limits[which],
        prctl=lambda option, arg: 0,
        mlockall=lambda flags: 0,
        has_ipc_lock=lambda: False,
    )
    for name, value in overrides.items():
        setattr(ops, name, value)
    return ops


def test_core_dump_failure_refuses_start_only_when_required() -> None:
    def refuse(which: int, value: tuple[int, int]) -> None:
        raise OSError("EPERM")

    outcome = harden_process(ops=fake_ops(setrlimit=refuse))
    assert outcome["core_dumps_disabled"] is False
    with pytest.raises(StartupRefused, match="core dumps"):
        harden_process(require_core_dumps_disabled=True, ops=fake_ops(setrlimit=refuse))


def test_not_dumpable_reported() -> None:
    assert harden_process(ops=fake_ops(prctl=lambda option, arg: -1))["not_dumpable"] is False
    assert harden_process(ops=fake_ops(prctl=None))["not_dumpable"] == "unsupported"
    # PR_GET_DUMPABLE returning 1 means the setting did not stick.
    assert harden_process(ops=fake_ops(prctl=lambda option, arg: 1 if option == 3 else 0))["not_dumpable"] is False


def test_mlock_decisions() -> None:
    called: list[int] = []

    def mlockall(flags: int) -> int:
        called.append(flags)
        return 0

    skipped = harden_process(ops=fake_ops(mlockall=mlockall))["mlockall"]
    assert skipped.startswith("skipped: RLIMIT_MEMLOCK") and called == []
    locked = harden_process(ops=fake_ops(mlockall=mlockall, has_ipc_lock=lambda: True))["mlockall"]
    assert locked == "locked (on fault)"
    assert called == [7]  # MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT: pages lock as touched, not all at once
    called.clear()

    def old_kernel(flags: int) -> int:
        called.append(flags)
        return -1 if flags & 4 else 0

    assert harden_process(ops=fake_ops(mlockall=old_kernel, has_ipc_lock=lambda: True))["mlockall"] == "locked"
    assert called == [7, 3]
    unlimited = fake_ops(mlockall=lambda flags: -1,
                         getrlimit=lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    assert harden_process(ops=unlimited)["mlockall"].startswith("failed")
    assert harden_process(ops=fake_ops(mlockall=None))["mlockall"] == "unsupported"
    assert harden_process(try_mlock=False, ops=fake_ops())["mlockall"].startswith("skipped")
