from pathlib import Path

import app.bench
from app.bench import Measure, render
from app.bench.load import parse_wrk
from app.bench.server import rss_mb, running_server

WRK_OUTPUT = """Running 10s test @ https://127.0.0.1:8443/api/v1/attestation
  1 threads and 50 connections
  Latency Distribution
     50%    6.19ms
     75%    6.90ms
     90%    7.89ms
     99%   12.02ms
  75873 requests in 10.00s, 1.16GB read
Requests/sec:   7587.28
Transfer/sec:    118.43MB
"""


def test_wrk_output_is_parsed_in_milliseconds() -> None:
    rate, latency = parse_wrk(WRK_OUTPUT)
    assert rate == 7587.28
    assert latency == {"p50": 6.19, "p90": 7.89, "p99": 12.02}
    assert parse_wrk(WRK_OUTPUT.replace("12.02ms", "850.00us"))[1]["p99"] == 0.85


def test_render_marks_budget_verdicts() -> None:
    table = render([
        Measure("a", "<= 1", "0.5", True), Measure("b", "<= 1", "2", False), Measure("c", "x", "n/a", None),
        Measure("d", "(reference)", "90 ms", None, reference=True),
    ])
    assert "ok" in table and "OVER BUDGET" in table and "n/a" in table
    assert table.splitlines()[-1].endswith("reference")


def test_the_stack_floor_reference_serves_health_without_zka_code(tmp_path: Path) -> None:
    """`zka bench` compares zka's idle RSS with this app: it must run, and must not import zka itself."""
    with running_server(data_dir=tmp_path / "floor", stack_floor=True) as server:
        assert rss_mb(int(server["pid"])) > 0  # type: ignore[call-overload]
    source = (Path(app.bench.__file__).parent / "stack_floor.py").read_text()  # importing it would block modules here
    assert [line for line in source.splitlines() if line.startswith(("from app", "import app"))] == [
        "from app.cli.serve import keep_unused_modules_out"
    ]
