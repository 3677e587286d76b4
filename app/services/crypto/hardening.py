"""Process hardening before any secret is loaded (SPEC §2): no core dumps, not dumpable/ptrace-able by
the same user, memory locked where that is safe. Outcomes are reported on /ready.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.errors import StartupRefused

PR_GET_DUMPABLE = 3
PR_SET_DUMPABLE = 4
MCL_CURRENT = 1
MCL_FUTURE = 2
MCL_ONFAULT = 4  # Linux >= 4.4
CAP_IPC_LOCK = 14


@dataclass
class HardeningOps:
    """System calls used here, replaceable in tests."""

    setrlimit: Callable[[int, tuple[int, int]], None] = resource.setrlimit
    getrlimit: Callable[[int], tuple[int, int]] = resource.getrlimit
    prctl: Callable[[int, int], int] | None = None
    mlockall: Callable[[int], int] | None = None
    has_ipc_lock: Callable[[], bool] | None = None


def harden_process(
    *, require_core_dumps_disabled: bool = False, try_mlock: bool = True, ops: HardeningOps | None = None
) -> dict[str, Any]:
    ops = ops or _linux_ops()
    outcome: dict[str, Any] = {
        "core_dumps_disabled": _disable_core_dumps(ops),
        "not_dumpable": _set_not_dumpable(ops),
        "mlockall": _lock_memory(ops) if try_mlock else "skipped: disabled by configuration",
    }
    if require_core_dumps_disabled and outcome["core_dumps_disabled"] is not True:
        raise StartupRefused("core dumps could not be disabled (RLIMIT_CORE); refusing to handle secrets")
    return outcome


def _disable_core_dumps(ops: HardeningOps) -> bool:
    try:
        ops.setrlimit(resource.RLIMIT_CORE, (0, 0))
        return tuple(ops.getrlimit(resource.RLIMIT_CORE)) == (0, 0)
    except (OSError, ValueError):
        return False


def _set_not_dumpable(ops: HardeningOps) -> bool | str:
    # Not dumpable also means no core dump even if RLIMIT_CORE is raised again, and no ptrace or
    # /proc/<pid>/mem access by other processes of the same user.
    if ops.prctl is None:
        return "unsupported"
    if ops.prctl(PR_SET_DUMPABLE, 0) != 0:
        return False
    return ops.prctl(PR_GET_DUMPABLE, 0) == 0


def _lock_memory(ops: HardeningOps) -> str:
    if ops.mlockall is None:
        return "unsupported"
    soft, _hard = ops.getrlimit(resource.RLIMIT_MEMLOCK)
    privileged = ops.has_ipc_lock() if ops.has_ipc_lock else False
    if soft != resource.RLIM_INFINITY and not privileged:
        # With MCL_FUTURE under a finite RLIMIT_MEMLOCK, any later allocation past the limit fails
        # (MemoryError at random places). Not worth it: skip and report.
        return f"skipped: RLIMIT_MEMLOCK is {soft} bytes and CAP_IPC_LOCK is missing"
    # MCL_ONFAULT locks pages as they are touched instead of faulting in every mapping at once:
    # without it each thread's 8 MB stack and every reserved arena become resident (+30 MB idle RSS,
    # and far more with a worker pool), for no gain in secrecy: untouched pages hold no secret.
    if ops.mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0:
        return "locked (on fault)"
    if ops.mlockall(MCL_CURRENT | MCL_FUTURE) != 0:  # kernels without MCL_ONFAULT
        return f"failed: errno {ctypes.get_errno()}"
    return "locked"


def _linux_ops() -> HardeningOps:
    if not sys.platform.startswith("linux"):
        return HardeningOps()
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prctl = libc.prctl
    prctl.restype = ctypes.c_int
    mlockall = libc.mlockall
    mlockall.restype = ctypes.c_int
    return HardeningOps(
        prctl=lambda option, arg: int(prctl(option, ctypes.c_ulong(arg), 0, 0, 0)),
        mlockall=lambda flags: int(mlockall(flags)),
        has_ipc_lock=_has_cap_ipc_lock,
    )


def _has_cap_ipc_lock() -> bool:
    try:
        with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_IPC_LOCK & 1)
    except OSError:
        pass
    return False
