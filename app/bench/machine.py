"""How fast this machine runs Python, printed above the budgets: every figure below scales with it.

Two runs of `zka bench` a day apart on the same kind of machine differed ~2x on everything CPU-bound
(ECIES 0.054 -> 0.158 ms, the 5-year report 25 -> 42 ms); without a reference, a budget verdict can't
tell a slower host from a regression.
"""

from __future__ import annotations

import time

from app.bench import Measure


def _reference_loop() -> float:
    started = time.perf_counter()
    total = 0
    for i in range(1_000_000):
        total += i * i % 7
    return (time.perf_counter() - started) * 1000


def measure_machine(runs: int = 7) -> list[Measure]:
    best = min(_reference_loop() for _ in range(runs))
    return [Measure("machine: pure-Python reference loop", "(reference)", f"{best:.1f} ms best of {runs}", None,
                    reference=True)]
