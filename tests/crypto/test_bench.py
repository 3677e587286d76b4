"""The benchmark helper runs and reports its figures (budgets are checked by the benchmark suite)."""

from app.services.crypto.bench import measure_ecies_decrypt_plus_encrypt


def test_bench_helper_reports_percentiles() -> None:
    result = measure_ecies_decrypt_plus_encrypt(60)
    assert result["n"] == 60
    assert 0 < result["p50_ms"] <= result["p99_ms"]
