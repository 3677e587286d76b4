"""Micro-benchmark for `zka bench`: E2E envelope decrypt + at-rest credential encrypt (SPEC §13, ≤ 0.2 ms)."""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from app.services.crypto.credentials_cipher import encrypt_credentials
from app.services.crypto.dek import Dek
from app.services.crypto.envelope import E2EKey, seal_credentials


def measure_ecies_decrypt_plus_encrypt(n: int = 2000) -> dict[str, Any]:
    """Per-operation latency of open_envelope + encrypt_credentials on fresh envelopes.

    Envelopes are built beforehand (each with its own ephemeral key, as real clients send them) so
    only the server-side work is timed.
    """
    key = E2EKey.generate()
    dek = Dek("bench", os.urandom(32))
    creds = {"api_key": "k" * 64, "api_secret": "s" * 64, "passphrase": "p" * 16}
    envelopes = [seal_credentials(key.public_key_pem, creds) for _ in range(n)]
    for envelope in envelopes[: min(50, n)]:  # warm-up: imports, OpenSSL lazy init
        encrypt_credentials(dek, 1, key.open(envelope))
    samples = []
    for index, envelope in enumerate(envelopes):
        start = time.perf_counter()
        encrypt_credentials(dek, index + 1, key.open(envelope))
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "n": n,
        "p50_ms": round(statistics.median(samples), 4),
        "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))], 4),
        "mean_ms": round(statistics.fmean(samples), 4),
    }
