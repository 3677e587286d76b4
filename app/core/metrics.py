"""Prometheus metrics. Labels are route templates, methods, statuses, venues, triggers and outcomes:
never a user id, label, amount or anything else user-scoped (SPEC §11).

One registry per app instance (tests build many apps in one process).
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/api/v1"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("zka_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram(
            "zka_http_request_duration_seconds", "HTTP request latency", ["method", "route"], registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.sync_outcomes = Counter("zka_sync_outcomes_total", "Sync attempts by outcome",
                                     ["venue", "trigger", "outcome"], registry=self.registry)
        self.snapshots = Counter("zka_snapshots_taken_total", "Snapshots stored", ["trigger"], registry=self.registry)
        self.attestation = Counter("zka_attestation_evidence_total", "Attestation evidence requests",
                                   ["kind", "outcome"], registry=self.registry)
        self.reports = Counter("zka_reports_total", "Signed reports", ["outcome"], registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def route_template(scope: Scope) -> str:
    """The matched route's template (bounded cardinality); 'unmatched' for 404s."""
    route = scope.get("route")
    path_format = getattr(route, "path_format", None)
    if path_format is None:
        return "unmatched"
    prefix = API_PREFIX if scope.get("path", "").startswith(API_PREFIX + "/") else ""
    return prefix + path_format


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route, method = route_template(scope), scope.get("method", "")
            self.metrics.requests.labels(method, route, str(status["code"])).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
