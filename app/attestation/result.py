"""Verification result: an ordered list of named checks, so a CLI can print a verdict table and exit
naming the first failed check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    skipped: bool = False  # ok but nothing was actually checked (e.g. no allow-list given)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "skipped": self.skipped, "detail": self.detail}


@dataclass
class VerificationResult:
    checks: list[Check] = field(default_factory=list)
    # Extra facts for callers (document builder, CLI): what was verified against what.
    facts: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, ok: bool, detail: str = "", *, skipped: bool = False) -> bool:
        self.checks.append(Check(name, ok, detail, skipped))
        return ok

    def skip(self, name: str, detail: str) -> None:
        self.add(name, True, detail, skipped=True)

    def extend(self, other: VerificationResult) -> None:
        self.checks.extend(other.checks)
        self.facts.update(other.facts)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> str | None:
        """Name of the first failed check (None when everything passed)."""
        return next((c.name for c in self.checks if not c.ok), None)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "failed": self.failed,
            "checks": [c.to_dict() for c in self.checks],
            "facts": self.facts,
        }
