"""Verification result: an ordered list of named checks, so a CLI can print a verdict table and exit
naming the first failed check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.attestation.report import AttestationReport


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
    # JSON-safe facts for callers (CLI, document): root, signing key, simulated or not.
    facts: dict[str, Any] = field(default_factory=dict)
    report: AttestationReport | None = None  # the parsed report, when it parsed
    chain_der: list[bytes] = field(default_factory=list)  # leaf, intermediate, root actually used

    def add(self, name: str, ok: bool, detail: str = "", *, skipped: bool = False) -> bool:
        self.checks.append(Check(name, ok, detail, skipped))
        return ok

    def skip(self, name: str, detail: str) -> None:
        self.add(name, True, detail, skipped=True)

    def extend(self, other: VerificationResult) -> None:
        self.checks.extend(other.checks)
        self.facts.update(other.facts)
        self.report = other.report or self.report
        self.chain_der = other.chain_der or self.chain_der

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
