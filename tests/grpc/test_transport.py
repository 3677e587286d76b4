"""The transport: mutual TLS when ZKA_GRPC_CLIENT_CA is set, the pin on the attested certificate, the
per-user rate limits shared with REST, and reflection in development only."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from app.bench.server import free_port, running_server
from tests.grpc.conftest import ALICE, Client, Service, Tls, auth, channel, make_client_ca, token


async def test_mutual_tls_lets_the_gateways_certificate_in_and_nothing_else(
    mtls_service: Service, mtls: tuple[Tls, Path], client_stubs: Client
) -> None:
    pb, grpc_pb = client_stubs.pb, client_stubs.grpc_pb
    async with channel(mtls_service, mtls[0]) as ch:
        answer = await grpc_pb.EnclaveServiceStub(ch).HealthCheck(pb.HealthCheckRequest(), timeout=10)
        assert answer.status == pb.HealthCheckResponse.HEALTHY
        metrics = await grpc_pb.EnclaveServiceStub(ch).GetAggregatedMetrics(
            pb.AggregatedMetricsRequest(user_uid=ALICE), metadata=auth(ALICE), timeout=10)
        assert metrics.total_equity == 0  # a fresh database: authenticated, answered
    for client_tls in (None, make_client_ca()):  # no certificate, or one from another CA
        async with channel(mtls_service, client_tls) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await grpc_pb.EnclaveServiceStub(ch).HealthCheck(pb.HealthCheckRequest(), timeout=10)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_channel_pinned_to_another_certificate_is_refused(service: Service, client_stubs: Client) -> None:
    other = Service(service.url, service.grpc_target, make_client_ca().ca_pem, service.doc, service.database_url)
    async with channel(other) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await client_stubs.grpc_pb.EnclaveServiceStub(ch).HealthCheck(client_stubs.pb.HealthCheckRequest(),
                                                                          timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_reflection_lists_the_service_in_development(service: Service) -> None:
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async with channel(service) as ch:
        stream = reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(timeout=10)
        await stream.write(reflection_pb2.ServerReflectionRequest(list_services=""))
        answer = await stream.read()
        await stream.done_writing()
    names = {s.name for s in answer.list_services_response.service}
    assert {"enclave.EnclaveService", "grpc.health.v1.Health"} <= names


def test_the_report_budget_is_shared_with_rest(tmp_path: Path, client_stubs: Client, migrated_database: str) -> None:
    """ZKA_RATE_LIMIT_REPORTS=2/minute: one report over gRPC and one over REST spend the user's two; the third,
    on either transport, is refused (RESOURCE_EXHAUSTED / 429)."""
    from tests.conftest import private_database
    from tests.grpc.conftest import SECRET, _attested_certificate

    pb, grpc_pb = client_stubs.pb, client_stubs.grpc_pb
    port = free_port()
    env = {"ZKA_DATABASE_URL": private_database(migrated_database, tmp_path), "ZKA_JWT_SECRET": SECRET,
           "ZKA_GRPC_PORT": str(port), "ZKA_RATE_LIMIT_REPORTS": "2/minute"}
    with running_server(env=env, data_dir=tmp_path / "data") as server:
        cert_pem, _ = _attested_certificate(str(server["url"]))
        credentials = grpc.ssl_channel_credentials(root_certificates=cert_pem)
        context = ssl.create_default_context(cadata=cert_pem.decode())
        context.check_hostname = False
        headers = {"Authorization": f"Bearer {token(ALICE)}"}
        with grpc.secure_channel(f"127.0.0.1:{port}", credentials) as ch, \
                httpx.Client(base_url=str(server["url"]), verify=context, headers=headers) as rest:
            stub: Any = grpc_pb.EnclaveServiceStub(ch)
            first = stub.GenerateSignedReport(pb.ReportRequest(), metadata=auth(ALICE), timeout=30)
            assert (first.success, first.error) == (False, "no snapshots yet for this user")  # budget spent
            assert rest.post("/api/v1/reports", json={}).status_code != 429
            with pytest.raises(grpc.RpcError) as info:
                stub.GenerateSignedReport(pb.ReportRequest(), metadata=auth(ALICE), timeout=30)
            assert rest.post("/api/v1/reports", json={}).status_code == 429
    error: Any = info.value
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "retry in" in error.details()
    assert dict(error.trailing_metadata())["retry-after"].isdigit()


def _serve_once(tmp_path: Path, env: dict[str, str], prelude: str = "") -> subprocess.CompletedProcess[str]:
    probe = f"import sys\n{prelude}\nsys.argv = ['zka', 'serve']\nfrom app.cli import main\nmain()\n"
    full = {**os.environ, "ZKA_DATA_DIR": str(tmp_path / "data"), "ZKA_SCHEDULER_ENABLED": "false",
            "ZKA_PORT": str(free_port()), **env}
    full.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, env=full)


@pytest.mark.parametrize(("case", "expected"), [
    ("busy port", "cannot listen for gRPC on 127.0.0.1:{port} (Address already in use): choose another ZKA_GRPC_PORT"),
    ("no grpcio", "ZKA_GRPC_PORT is set but the gRPC libraries cannot be imported (grpc): install the locked"),
    ("unreadable CA", "ZKA_GRPC_CLIENT_CA {ca} cannot be read"),
])
def test_a_start_gRPC_cannot_serve_is_refused_in_one_line(tmp_path: Path, case: str, expected: str) -> None:
    port = free_port()
    env, prelude = {"ZKA_GRPC_PORT": str(port)}, ""
    if case == "no grpcio":
        prelude = "sys.modules['grpc'] = None  # as if grpcio were not installed"
    if case == "unreadable CA":
        env["ZKA_GRPC_CLIENT_CA"] = str(tmp_path / "missing.pem")
    with socket.socket() as busy:
        if case == "busy port":
            busy.bind(("127.0.0.1", port))
            busy.listen()
        result = _serve_once(tmp_path, env, prelude)
    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("zka: " + expected.format(port=port, ca=tmp_path / "missing.pem")), last
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("env", "reflection"), [("production", False), ("development", True)])
async def test_reflection_is_off_in_production(env: str, reflection: bool) -> None:
    """The server as the lifespan starts it, in this process (only settings and the TLS identity matter here)."""
    from types import SimpleNamespace

    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    from app.config import LimitSettings, Settings
    from app.core.rate_limit import RateLimiter
    from app.grpc.server import start_grpc_server
    from app.services.crypto import generate_tls_identity

    port = free_port()
    tls = generate_tls_identity()
    state: Any = SimpleNamespace(settings=Settings(server={"env": env, "grpc_port": port}), tls=tls)  # type: ignore[arg-type]
    server = await start_grpc_server(state, RateLimiter(LimitSettings()))
    try:
        credentials = grpc.ssl_channel_credentials(root_certificates=tls.cert_pem.encode())
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials) as ch:
            health = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            stream = reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(timeout=10)
            try:
                await stream.write(reflection_pb2.ServerReflectionRequest(list_services=""))
                answer = await stream.read()
                listed = {s.name for s in answer.list_services_response.service}
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.UNIMPLEMENTED
                listed = set()
    finally:
        await server.stop(0)
    assert ("enclave.EnclaveService" in listed) is reflection
