"""`zka bench`: SPEC §13 measures, printed as a table against their budgets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Measure:
    name: str
    budget: str
    value: str
    ok: bool | None  # None: not measured here (with the reason in value), or a reference row
    reference: bool = False  # context for reading the budgets (machine speed, the stack's floor)


MeasureFn = Callable[[], list[Measure]]


def render(measures: list[Measure]) -> str:
    width = max(len(m.name) for m in measures)
    lines = [f"{'measure'.ljust(width)}  {'budget':<28} {'measured':<34} verdict", "-" * (width + 75)]
    for m in measures:
        verdict = "reference" if m.reference else {True: "ok", False: "OVER BUDGET", None: "n/a"}[m.ok]
        lines.append(f"{m.name.ljust(width)}  {m.budget:<28} {m.value:<34} {verdict}")
    return "\n".join(lines)
