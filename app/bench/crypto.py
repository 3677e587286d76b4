"""In-process crypto measure: E2E envelope decrypt + at-rest credential encrypt."""

from __future__ import annotations

from app.bench import Measure


def measure_ecies() -> list[Measure]:
    from app.services.crypto.bench import measure_ecies_decrypt_plus_encrypt

    result = measure_ecies_decrypt_plus_encrypt(5000)
    value = f"p50 {result['p50_ms']:.3f} ms, p99 {result['p99_ms']:.3f} ms (n={result['n']})"
    return [Measure("ECIES decrypt + credential encrypt", "<= 0.2 ms", value, result["p50_ms"] <= 0.2)]
